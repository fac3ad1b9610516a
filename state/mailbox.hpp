// The rate-limited mailbox: work items (a session to judge, a failure to diagnose) that must not
// be lost and must not flood what is behind them.
//
//   - Durable FIFO backlog: the producer appends each item to a mailbox lane (state/lane.hpp) in
//     the same RocksDB batch as the state change that caused it, so an item exists exactly when
//     its cause does, and survives any restart. The consumer deletes it in the same batch as the
//     result it produced.
//   - Bounded in-memory queue: the producer also hands the item over in memory; the consumer
//     keeps it there when there is room and nothing older waits on disk. Otherwise the item is
//     "spilled": it stays only in RocksDB and is read back, in order, when the queue has room.
//   - Token bucket in front: at most one item per `interval`, bursts of `burst`.
//
//   value := u8(version = 1) svarint(enqueued_at, wall us) bytes(payload)
//   lanes (on disk, never renumber): judge = 0 (written by the state stage),
//                                    diagnostics = 1 (written by the judge stage)
//                                    alerts = 2 (written by the judge stage: facts and marks)
//                                    notifications = 3 (written by the alert stage)
//
// Thread-safety: a mailbox_writer belongs to its producer's thread, a rate_limited_mailbox to its
// consumer's thread; the probe may be read from anywhere.
#pragma once

#include <rocksdb/write_batch.h>

#include <atomic>
#include <deque>
#include <optional>
#include <string>

#include "model/probe.hpp"
#include "model/time.hpp"
#include "state/lane.hpp"
#include "state/store.hpp"
#include "state/token_bucket.hpp"

namespace tw::state {

enum class mailbox_lane : uint8_t { judge = 0, diagnostics = 1, alerts = 2, notifications = 3 };

struct mailbox_item {
  uint64_t seq = 0;
  wall_time enqueued_at;
  std::string payload;
};

std::string encode_mailbox_value(wall_time enqueued_at, const std::string& payload);
std::optional<mailbox_item> decode_mailbox_value(uint64_t seq, std::string_view value);

class mailbox_writer {
 public:
  mailbox_writer(store& s, mailbox_lane lane) : lane_(s, cf::mailbox, static_cast<uint8_t>(lane)) {}
  store_status open() { return lane_.open(); }
  // Appends to `batch`; the item exists once the batch is written.
  mailbox_item put(rocksdb::WriteBatch& batch, std::string payload, wall_time now);
  void save(rocksdb::WriteBatch& batch) const { lane_.save(batch); }
  uint64_t next() const { return lane_.next(); }

 private:
  lane_writer lane_;
};

struct mailbox_settings {
  std::optional<duration> interval;  // one item per interval; nullopt: no rate limit
  int64_t burst = 1;
  size_t memory_capacity = 1000;     // items held in memory at most
};

struct mailbox_probe {
  std::atomic<uint64_t> enqueued_end{0};    // one past the last sequence seen (offered or read)
  std::atomic<uint64_t> head{0};            // the oldest sequence not yet done
  std::atomic<uint64_t> in_memory{0};
  std::atomic<uint64_t> spilled{0};         // items offered while the memory queue could not take them
  std::atomic<uint64_t> read_from_disk{0};  // items read back from the durable backlog
  std::atomic<uint64_t> taken{0};
  std::atomic<int64_t> oldest_wait_us{0};   // how long the head item has waited (0 when empty)
  // When the oldest item not yet done was enqueued (wall us; 0 when none is in memory), so that a
  // reader can tell its wait at any time, also while the consumer is stuck.
  std::atomic<int64_t> head_enqueued_us{0};
  // The consumer's heartbeat: each take() beats it; a consumer that waits on purpose with items
  // queued (a retry's backoff, a blocking call) announces it there (model/probe.hpp).
  heartbeat consumer;
  uint64_t depth() const {
    auto e = enqueued_end.load(), h = head.load();
    return e > h ? e - h : 0;
  }
};

class rate_limited_mailbox {
 public:
  rate_limited_mailbox(store& s, mailbox_lane lane, mailbox_settings settings, wall_time now, mailbox_probe& probe);

  // The producer committed `item` and hands it over in memory. True when it is kept in memory;
  // false when it was read back already or spilled (it will come from disk).
  bool offer(mailbox_item item);
  // The producer committed items up to (excluding) `end`, handing over only some of them (or
  // none): the rest come from disk, in order.
  void known_until(uint64_t end);
  // Reads spilled (or, after a restart, all) items back from the durable backlog while the memory
  // queue has room.
  store_status refill();
  // The next item, when one is queued and the rate allows it at `now`. Otherwise nullopt, and
  // `retry_at` says when to ask again (wall_time::max() when nothing is queued). Items come in
  // sequence order; each must be done() before the next is taken.
  std::optional<mailbox_item> take(wall_time now, wall_time& retry_at);
  // The consumer's result batch deletes the item (durable with that batch).
  void done(rocksdb::WriteBatch& batch, const mailbox_item& item) { done(batch, item.seq); }
  void done(rocksdb::WriteBatch& batch, uint64_t seq);
  bool idle() const { return memory_.empty() && disk_next_ >= known_end_; }

 private:
  void publish(wall_time now);

  store& store_;
  uint8_t lane_;
  mailbox_settings settings_;
  token_bucket bucket_;
  mailbox_probe& probe_;
  std::deque<mailbox_item> memory_;  // a contiguous run of sequences, oldest first
  uint64_t disk_next_ = 0;           // the oldest sequence neither in memory nor taken
  uint64_t known_end_ = UINT64_MAX;  // one past the newest sequence known to exist (MAX: unknown)
};

}  // namespace tw::state
