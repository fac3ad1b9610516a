// The RocksDB database behind the state stage, and the state module's error type.
//
// Column families and their layouts (every value starts with a version byte; see the codec
// headers for the values):
//   sessions        key := session_id                                   value := session_header
//   events          key := varint(len) session_id fixed64(chunk)        value := event_chunk
//   pending         key := varint(len) trace_id 0x00                    value := pending_trace
//                   key := varint(len) trace_id 0x01 fixed64(chunk)     value := held_chunk
//   traces          key := trace_id                                     value := session_id
//   session_traces  key := varint(len) session_id trace_id              value := (empty)
//                   (a session's traces past the 64 its header lists: session_header.hpp)
//   timers          key := fixed64(sortable due) u8(kind) id            value := (empty)
//   offsets         key := varint(len) topic fixed32(partition)         value := partition_progress
//   outbox          key := u8(lane) fixed64(sequence)                   value := outbox_entry (outbox.hpp)
//   mailbox         key := u8(lane) fixed64(sequence)                   value := mailbox item (mailbox.hpp)
//   meta            key := name                                         value := per key (session_engine.cpp)
//   alerts          key := per entry (alerts/alert_engine.cpp)          value := alert engine state
//   results         key := per kind (state/results.hpp)                 value := per kind: completed
//                   results kept for queries, their index and retention list, firing alerts
// A chunk is the events one batch added to one session (or held for one trace): one key per
// session per batch, not per event, which is most of what makes the state stage fast. Chunk
// numbers increase with every batch.
// These layouts are on disk: never change a key grammar or reuse a kind byte.
//
// Thread-safety: RocksDB is thread-safe. The state stage is the only writer of every column
// family except `outbox` (each lane has one writer; the output stage deletes delivered entries),
// `mailbox` (likewise; each reader deletes what it is done with), `alerts` (the alert stage's) and
// `results` (each kind of result has one writer, its stage; the state stage deletes expired ones).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace tw::state {

enum class store_errc {
  ok,
  corruption,    // stored bytes do not decode: fatal, needs an operator
  io_error,      // disk trouble: fatal for this process, a restart may succeed
  busy,          // transient (e.g. write stall timeout): retriable
  invalid,       // bad arguments or options: a programming or configuration error
};

// An error as a value. Created from rocksdb::Status at this boundary only.
struct store_status {
  store_errc code = store_errc::ok;
  std::string message;
  bool ok() const { return code == store_errc::ok; }
  static store_status from(const rocksdb::Status& s, const std::string& context);
  static store_status corrupt(const std::string& what) { return {store_errc::corruption, what}; }
};

enum class cf : size_t {
  sessions, events, pending, traces, session_traces, timers, offsets, outbox, meta, mailbox, alerts, results, count_
};

// What RocksDB says of its size and compaction backlog (its properties; estimates where RocksDB
// says so). For /metrics.
struct store_stats {
  std::array<uint64_t, static_cast<size_t>(cf::count_)> sst_bytes{};  // per column family: rocksdb.total-sst-files-size
  uint64_t live_data_bytes = 0;           // rocksdb.estimate-live-data-size, all column families
  uint64_t memtable_bytes = 0;            // rocksdb.cur-size-all-mem-tables, all column families
  uint64_t pending_compaction_bytes = 0;  // rocksdb.estimate-pending-compaction-bytes, all column families
  uint64_t running_compactions = 0;       // rocksdb.num-running-compactions
};

struct store_options {
  std::string dir;
  bool sync_writes = false;
  size_t block_cache_mb = 64;
  size_t write_buffer_mb = 64;  // all memtables together
};

class store {
 public:
  static store_status open(const store_options& opts, std::unique_ptr<store>& out);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(cf c) { return handles_[static_cast<size_t>(c)]; }
  const rocksdb::WriteOptions& write_options() const { return write_options_; }
  // Writes a batch atomically, as db()->Write does, with its entries in key order per column
  // family (a stable sort: what one key gets keeps its order, and a range deletion stays between
  // what came before and after it). The memtable is a skiplist that remembers where the last
  // insert went: inserted in key order, each entry is found from its neighbour instead of from the
  // top, and a batch of a few thousand entries costs a fraction of the comparisons (issue 9:
  // memtable inserts were a third of the pipeline's instructions). Small batches are written as
  // they are. `context` names the write in an error.
  store_status write(rocksdb::WriteBatch& batch, const std::string& context);
  const std::string& dir() const { return dir_; }

  // Approximate live keys in a column family (RocksDB's estimate), for metrics and status.
  uint64_t estimate_keys(cf c);
  // Thread-safe (RocksDB's properties may be read from any thread while the stages write).
  store_stats stats();

 private:
  store() = default;
  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<size_t>(cf::count_)> handles_{};
  std::vector<rocksdb::ColumnFamilyHandle*> by_id_;  // column family id -> handle (write())
  rocksdb::WriteOptions write_options_;
};

const char* cf_name(cf c);

}  // namespace tw::state
