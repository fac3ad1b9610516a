// The outbox: output records written in the same RocksDB batch as the state change that produced
// them, then delivered to Kafka (or a file) by the output stage and deleted once acknowledged. A
// crash between the two re-delivers; it never loses. This is what makes delivery at-least-once
// with deterministic content.
//
// Each stage that produces output owns one lane (state/lane.hpp):
//   sessions     completed sessions and dead letters    written by the state stage
//   verdicts     verdicts                                written by the judge stage
//   diagnostics  diagnostics                             written by the diagnostic stage
// value := u8(version = 1) bytes(topic) bytes(key) bytes(payload)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/lane.hpp"
#include "state/store.hpp"

namespace tw::state {

// On disk: never renumber.
enum class outbox_lane : uint8_t { sessions = 0, verdicts = 1, diagnostics = 2, alerts = 3 };
inline constexpr outbox_lane all_outbox_lanes[] = {outbox_lane::sessions, outbox_lane::verdicts,
                                                   outbox_lane::diagnostics, outbox_lane::alerts};
std::string_view to_string(outbox_lane lane);  // "sessions", "verdicts", "diagnostics" (for logs)

struct outbox_entry {
  outbox_lane lane = outbox_lane::sessions;
  uint64_t seq = 0;
  std::string topic;
  std::string key;
  std::string payload;
};

void encode_outbox_entry(const outbox_entry& e, std::string& out);
std::optional<outbox_entry> decode_outbox_entry(outbox_lane lane, uint64_t seq, std::string_view value);

// The owner of one lane adds records to its batches.
class outbox_writer {
 public:
  outbox_writer(store& s, outbox_lane lane) : lane_(s, cf::outbox, static_cast<uint8_t>(lane)) {}
  store_status open() { return lane_.open(); }
  void put(rocksdb::WriteBatch& batch, const std::string& topic, const std::string& key, const std::string& payload);
  void save(rocksdb::WriteBatch& batch) const { lane_.save(batch); }
  uint64_t next() const { return lane_.next(); }

 private:
  lane_writer lane_;
};

// Used by the output stage (its own thread). Reads committed entries; deletes delivered ones.
class outbox_reader {
 public:
  explicit outbox_reader(store& s) : store_(s) {}
  // Up to `max` entries of `lane` with sequence >= from, in sequence order.
  store_status read(outbox_lane lane, uint64_t from, size_t max, std::vector<outbox_entry>& out);
  store_status erase(const std::vector<std::pair<outbox_lane, uint64_t>>& entries);

 private:
  store& store_;
};

}  // namespace tw::state
