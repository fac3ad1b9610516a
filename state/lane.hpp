// A lane: an append-only sequence of values in a column family, written by ONE owner.
//
//   key := u8(lane) fixed64(seq)        seq starts at 0 and grows by one per value
//   meta key "lane.<cf>.<lane>" := varint(next seq)   (written by the owner in its batches)
//
// The outbox (output records) and the mailbox (work for the judge and diagnostic stages) are
// lanes: each lane has a single writer, so sequences are assigned without coordination, and any
// number of readers delete what they are done with. Lane numbers are on disk: never reuse one.
#pragma once

#include <rocksdb/write_batch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "state/store.hpp"

namespace tw::state {

std::string lane_key(uint8_t lane, uint64_t seq);

// The single writer of one lane. Not thread-safe: owned by that writer's thread.
class lane_writer {
 public:
  lane_writer(store& s, cf family, uint8_t lane) : store_(s), cf_(family), lane_(lane) {}
  // Continues after the last value ever written (meta), or after the last one stored.
  store_status open();
  // Adds the value to `batch` and returns its sequence; durable when the batch is written.
  uint64_t append(rocksdb::WriteBatch& batch, const std::string& value);
  // Records the next sequence in `batch` (call once per batch that appended).
  void save(rocksdb::WriteBatch& batch) const;
  uint64_t next() const { return next_; }
  uint8_t lane() const { return lane_; }

 private:
  store& store_;
  cf cf_;
  uint8_t lane_;
  uint64_t next_ = 0;
};

// Up to `max` values with seq >= from, in order. Safe from any thread.
store_status lane_read(store& s, cf family, uint8_t lane, uint64_t from, size_t max,
                       std::vector<std::pair<uint64_t, std::string>>& out);
void lane_erase(store& s, rocksdb::WriteBatch& batch, cf family, uint8_t lane, uint64_t seq);

}  // namespace tw::state
