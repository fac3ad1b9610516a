// The output stage's logic (a plain class; output_actor.cpp is its shell): delivers outbox
// entries through a record_writer and deletes each once acknowledged. Nothing leaves the outbox
// unacknowledged, so a crash at any point re-delivers rather than loses: at-least-once, and the
// content of an entry never changes.
//
// Each outbox lane (sessions, verdicts, diagnostics) has its own cursor; entries of one lane go
// out in sequence order.
//
// What a failure does:
//   - retriable (local queue full, brokers away, unknown topic, timeouts): the entry is sent again
//     after retry_backoff, for as long as it takes. A lane whose oldest entry stays
//     unacknowledged for longer than stall_after is logged as stalled (one error line) and counted
//     in output_probe::stalled_lanes, and logged again when it moves.
//   - rejected (the record can never be delivered as it is, e.g. larger than message.max.bytes):
//     the entry is replaced by a tracewatch.deadletter.v1 record (reason `undeliverable`, its
//     topic, key, size and the error in `detail`, a bounded excerpt as payload, `source` =
//     {output topic, outbox lane, outbox sequence}) on deadletter_topic, and deleted once that is
//     acknowledged. If the dead letter is rejected too (or no dead-letter topic is configured),
//     the entry is logged and deleted: counted, never retried forever. A poison record never
//     holds up its lane.
//
// Thread: the output stage's own (detached) thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "model/bounds.hpp"
#include "model/clock.hpp"
#include "model/probe.hpp"
#include "state/outbox.hpp"
#include "topics/sinks.hpp"

namespace tw::actors {

// Written by the output stage's thread; read by anyone (/metrics, /healthz).
struct output_probe {
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<uint64_t> failed{0};                // failed deliveries (each retry counts)
  std::atomic<uint64_t> backlog{0};               // entries in the outbox not yet acknowledged
  std::atomic<uint64_t> undeliverable{0};         // entries the brokers rejected for good
  std::atomic<uint64_t> dead_letters_dropped{0};  // of those, entries whose dead letter could not be
                                                  // delivered either: logged and deleted
  std::atomic<uint64_t> stalled_lanes{0};         // lanes whose oldest entry waits longer than stall_after
  std::atomic<int64_t> oldest_unacked_age_us{0};  // the longest any lane's oldest entry has waited
  heartbeat alive;                                // beaten by the output actor's loop
};

struct output_stage_config {
  // Where an undeliverable record's dead letter goes (topics.deadletter). Empty: such a record is
  // logged and deleted.
  std::string deadletter_topic;
  duration retry_backoff{std::chrono::seconds(1)};
  // A lane whose oldest entry has not been acknowledged for this long is stalled.
  duration stall_after{std::chrono::seconds(30)};
  // The budget of the dead letter that replaces an undeliverable record (output.max_record_bytes).
  size_t max_record_bytes = bounds::default_max_record_bytes;
};

class output_stage {
 public:
  output_stage(state::store& s, record_writer& w, const clock& c, output_probe& probe, output_stage_config cfg);

  // A stage committed entries of `lane` up to (excluding) end_seq.
  void available(state::outbox_lane lane, uint64_t end_seq);
  // Writes what is available (bounded per call), serves acknowledgements for up to `wait`, deletes
  // acknowledged entries, watches for stalled lanes. Returns false on a store error (fatal for the
  // process).
  [[nodiscard]] bool step(duration wait, std::string& error);
  // True when everything available has been acknowledged (or dead-lettered, or dropped).
  bool idle() const;

 private:
  static constexpr size_t lanes = std::size(state::all_outbox_lanes);
  struct lane_state {
    uint64_t next = 0;     // next sequence to read
    uint64_t end = 0;      // one past the last committed entry
    bool started = false;  // the lane's oldest stored entry was looked up
    // The stall watch: the oldest unacknowledged sequence, and since when it has been the oldest.
    std::optional<uint64_t> oldest;
    wall_time oldest_since;
    bool stalled = false;
    bool failure_logged = false;  // a retriable failure was logged since the lane last moved
    std::string last_error;
  };
  // A writer sees one id per record: the lane in the top byte, the sequence below.
  static uint64_t id_of(state::outbox_lane lane, uint64_t seq) { return (uint64_t{static_cast<uint8_t>(lane)} << 56) | seq; }
  static state::outbox_lane lane_of(uint64_t id) { return static_cast<state::outbox_lane>(id >> 56); }
  static uint64_t seq_of(uint64_t id) { return id & ((uint64_t{1} << 56) - 1); }

  enum class sent { queued, retry_later, done };
  // Writes entry `e` (or the dead letter that replaced it). `done`: it was dropped instead.
  sent send(uint64_t id, const state::outbox_entry& e, std::string& error);
  // `e` was rejected for good: replaces it by its dead letter, or drops it when that was the dead
  // letter (or there is no dead-letter topic). False on a store error.
  bool reject(uint64_t id, const state::outbox_entry& e, const std::string& why, std::string& error);
  bool drop(uint64_t id, std::string& error);
  bool send_new(state::outbox_lane lane, std::string& error);
  bool send_retries(std::string& error);
  void watch_lanes();
  lane_state& lane(uint64_t id) { return lanes_[static_cast<size_t>(lane_of(id))]; }

  state::outbox_reader outbox_;
  record_writer& writer_;
  const clock& clock_;
  output_probe& probe_;
  output_stage_config cfg_;
  std::array<lane_state, lanes> lanes_{};
  std::set<uint64_t> unacked_;                   // written at least once, not acknowledged (ids)
  std::set<uint64_t> in_flight_;                 // written, outcome not known yet (ids)
  std::multimap<wall_time, uint64_t> retry_;     // not before → id
  std::map<uint64_t, std::string> replaced_;     // id → the dead letter that replaces its entry
};

}  // namespace tw::actors
