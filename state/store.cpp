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
    o.compression = rocksdb::kLZ4Compression;
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
  for (size_t i = 0; i < static_cast<size_t>(cf::count_); ++i) st->handles_[i] = handles[i + 1];
  st->write_options_.sync = opts.sync_writes;
  out = std::move(st);
  return {};
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
