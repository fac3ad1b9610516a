// The outbox: output records written in the same RocksDB batch as the state change (and input
// offsets) that produced them, then delivered to Kafka (or a file) by the output stage and deleted
// once acknowledged. A crash between the two re-delivers; it never loses. This is what makes
// delivery at-least-once with deterministic content.
//
// value := u8(version = 1) bytes(topic) bytes(key) bytes(payload)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "state/store.hpp"

namespace tw::state {

struct outbox_entry {
  uint64_t seq = 0;
  std::string topic;
  std::string key;
  std::string payload;
};

void encode_outbox_entry(const outbox_entry& e, std::string& out);
std::optional<outbox_entry> decode_outbox_entry(uint64_t seq, std::string_view value);

// Used by the output stage (its own thread). Reads committed entries; deletes delivered ones.
class outbox_reader {
 public:
  explicit outbox_reader(store& s) : store_(s) {}
  // Up to `max` entries with sequence >= from, in sequence order.
  store_status read(uint64_t from, size_t max, std::vector<outbox_entry>& out);
  store_status erase(const std::vector<uint64_t>& seqs);
  // Sequence one past the last stored entry, or 0 when empty.
  store_status end_seq(uint64_t& out);

 private:
  store& store_;
};

}  // namespace tw::state
