#include "state/store.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>

#include <algorithm>
#include <vector>

namespace tw::state {

const char* cf_name(cf c) {
  switch (c) {
    case cf::sessions: return "sessions";
    case cf::events: return "events";
    case cf::pending: return "pending";
    case cf::traces: return "traces";
    case cf::session_traces: return "session_traces";
    case cf::timers: return "timers";
    case cf::offsets: return "offsets";
    case cf::outbox: return "outbox";
    case cf::meta: return "meta";
    case cf::mailbox: return "mailbox";
    case cf::alerts: return "alerts";
    case cf::results: return "results";
    case cf::count_: break;
  }
  return "?";
}

store_status store_status::from(const rocksdb::Status& s, const std::string& context) {
  if (s.ok()) return {};
  store_errc code = store_errc::io_error;
  if (s.IsCorruption()) code = store_errc::corruption;
  else if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsIncomplete()) code = store_errc::busy;
  else if (s.IsInvalidArgument() || s.IsNotSupported()) code = store_errc::invalid;
  return {code, context + ": " + s.ToString()};
}

store_status store::open(const store_options& opts, std::unique_ptr<store>& out) {
  rocksdb::Options db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.IncreaseParallelism(2);
  db_opts.max_open_files = 512;
  db_opts.keep_log_file_num = 4;
  // One budget for all memtables: memory is bounded by configuration, not by how many column
  // families happen to be busy.
  db_opts.db_write_buffer_size = opts.write_buffer_mb << 20;

  auto cache = rocksdb::NewLRUCache(opts.block_cache_mb << 20);
  auto cf_options = [&](bool point_lookups) {
    rocksdb::ColumnFamilyOptions o;
    o.write_buffer_size = std::max<size_t>(1, opts.write_buffer_mb / 4) << 20;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    // Index and filter blocks count against the block cache too, so memory stays bounded as the
    // data (and the number of sessions in it) grows; level-0 ones stay pinned for speed.
    t.cache_index_and_filter_blocks = true;
    t.pin_l0_filter_and_index_blocks_in_cache = true;
    // Point lookups on absent keys (dedup checks, unknown traces) are the common case: a bloom
    // filter answers most of them without reading a block.
    if (point_lookups) {
      t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      // ... and in the memtable too, where a new trace's lookup would otherwise search the skiplist.
      o.memtable_prefix_bloom_size_ratio = 0.05;
      o.memtable_whole_key_filtering = true;
    }
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    // Hot data is not compressed: most of what a flush writes (event chunks, queue and outbox
    // entries, timers) is deleted before it leaves the first levels, and compressing it was 70% of
    // the flush's instructions (issue 9). Data that lives on (kept results, bindings of open
    // sessions) is compressed when compaction takes it to level 2 and below.
    o.compression = rocksdb::kLZ4Compression;
    o.compression_per_level.assign(static_cast<size_t>(o.num_levels), rocksdb::kLZ4Compression);
    o.compression_per_level[0] = o.compression_per_level[1] = rocksdb::kNoCompression;
    return o;
  };

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (size_t i = 0; i < static_cast<size_t>(cf::count_); ++i) {
    cf c = static_cast<cf>(i);
    bool lookups = c == cf::sessions || c == cf::events || c == cf::traces || c == cf::pending || c == cf::results;
    auto o = cf_options(lookups);
    // Retention deletes results in time order, so their tombstones gather at the old end of the
    // key space: compact a file as soon as a window of it is mostly deletions, rather than have
    // the next sweep and queries step over them.
    if (c == cf::results) o.table_properties_collector_factories.push_back(rocksdb::NewCompactOnDeletionCollectorFactory(1024, 512));
    descriptors.emplace_back(cf_name(c), o);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_opts, opts.dir, descriptors, &handles, &raw);
  if (!s.ok()) return store_status::from(s, "opening state directory " + opts.dir);
  std::unique_ptr<store> st(new store());
  st->dir_ = opts.dir;
  st->db_.reset(raw);
  // handles[0] is the default column family, which tracewatch does not use.
  st->db_->DestroyColumnFamilyHandle(handles[0]);
  for (size_t i = 0; i < static_cast<size_t>(cf::count_); ++i) {
    auto* h = handles[i + 1];
    st->handles_[i] = h;
    if (st->by_id_.size() <= h->GetID()) st->by_id_.resize(h->GetID() + 1, nullptr);
    st->by_id_[h->GetID()] = h;
  }
  st->write_options_.sync = opts.sync_writes;
  out = std::move(st);
  return {};
}

namespace {

// The entries of a batch, as views into it.
class batch_entries : public rocksdb::WriteBatch::Handler {
 public:
  enum class kind : uint8_t { put, erase, single_erase, erase_range };
  struct entry {
    uint32_t cf;
    kind what;
    rocksdb::Slice key;    // the range's start for erase_range
    rocksdb::Slice value;  // the range's end for erase_range
  };
  std::vector<entry> entries;
  bool other = false;  // something this does not copy (merges, log data, transactions)

  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& k, const rocksdb::Slice& v) override { return add(cf, kind::put, k, v); }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& k) override { return add(cf, kind::erase, k, {}); }
  rocksdb::Status SingleDeleteCF(uint32_t cf, const rocksdb::Slice& k) override { return add(cf, kind::single_erase, k, {}); }
  rocksdb::Status DeleteRangeCF(uint32_t cf, const rocksdb::Slice& b, const rocksdb::Slice& e) override {
    return add(cf, kind::erase_range, b, e);
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override { return stop(); }
  rocksdb::Status PutBlobIndexCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override { return stop(); }
  rocksdb::Status PutEntityCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override { return stop(); }
  void LogData(const rocksdb::Slice&) override { other = true; }
  rocksdb::Status MarkBeginPrepare(bool) override { return stop(); }
  rocksdb::Status MarkEndPrepare(const rocksdb::Slice&) override { return stop(); }
  rocksdb::Status MarkNoop(bool) override { return stop(); }
  rocksdb::Status MarkRollback(const rocksdb::Slice&) override { return stop(); }
  rocksdb::Status MarkCommit(const rocksdb::Slice&) override { return stop(); }
  rocksdb::Status MarkCommitWithTimestamp(const rocksdb::Slice&, const rocksdb::Slice&) override { return stop(); }
  bool Continue() override { return !other; }

 private:
  rocksdb::Status add(uint32_t cf, kind what, const rocksdb::Slice& k, const rocksdb::Slice& v) {
    entries.push_back({cf, what, k, v});
    return rocksdb::Status::OK();
  }
  rocksdb::Status stop() {
    other = true;
    return rocksdb::Status::OK();
  }
};

// Batches smaller than this are written as they are: sorting them saves little.
constexpr uint32_t sort_from_entries = 64;

}  // namespace

store_status store::write(rocksdb::WriteBatch& batch, const std::string& context) {
  if (batch.Count() < sort_from_entries) return store_status::from(db_->Write(write_options_, &batch), context);
  batch_entries seen;
  seen.entries.reserve(batch.Count());
  if (auto s = batch.Iterate(&seen); !s.ok()) return store_status::from(s, context);
  bool known = !seen.other;
  for (const auto& e : seen.entries) known = known && e.cf < by_id_.size() && by_id_[e.cf] != nullptr;
  if (!known) return store_status::from(db_->Write(write_options_, &batch), context);
  // Sorted between range deletions, which stay where they were.
  auto by_key = [](const batch_entries::entry& a, const batch_entries::entry& b) {
    return a.cf != b.cf ? a.cf < b.cf : a.key.compare(b.key) < 0;
  };
  for (auto from = seen.entries.begin(); from != seen.entries.end();) {
    auto to = std::find_if(from, seen.entries.end(), [](const auto& e) { return e.what == batch_entries::kind::erase_range; });
    std::stable_sort(from, to, by_key);
    from = to == seen.entries.end() ? to : to + 1;
  }
  rocksdb::WriteBatch sorted(batch.GetDataSize());
  for (const auto& e : seen.entries) {
    auto* h = by_id_[e.cf];
    rocksdb::Status s;
    switch (e.what) {
      case batch_entries::kind::put: s = sorted.Put(h, e.key, e.value); break;
      case batch_entries::kind::erase: s = sorted.Delete(h, e.key); break;
      case batch_entries::kind::single_erase: s = sorted.SingleDelete(h, e.key); break;
      case batch_entries::kind::erase_range: s = sorted.DeleteRange(h, e.key, e.value); break;
    }
    if (!s.ok()) return store_status::from(s, context);
  }
  return store_status::from(db_->Write(write_options_, &sorted), context);
}

store::~store() {
  if (!db_) return;
  for (auto* h : handles_)
    if (h) db_->DestroyColumnFamilyHandle(h);
  // Close flushes nothing we rely on (the WAL holds every write) but releases the lock cleanly.
  db_->Close().PermitUncheckedError();
}

store_stats store::stats() {
  store_stats s;
  // A property RocksDB cannot give stays 0: these are statistics, and nothing depends on them.
  for (size_t i = 0; i < static_cast<size_t>(cf::count_); ++i)
    db_->GetIntProperty(handles_[i], "rocksdb.total-sst-files-size", &s.sst_bytes[i]);
  db_->GetAggregatedIntProperty("rocksdb.estimate-live-data-size", &s.live_data_bytes);
  db_->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables", &s.memtable_bytes);
  db_->GetAggregatedIntProperty("rocksdb.estimate-pending-compaction-bytes", &s.pending_compaction_bytes);
  db_->GetIntProperty("rocksdb.num-running-compactions", &s.running_compactions);
  return s;
}

uint64_t store::estimate_keys(cf c) {
  uint64_t n = 0;
  db_->GetIntProperty(handle(c), "rocksdb.estimate-num-keys", &n);
  return n;
}

}  // namespace tw::state
