// The output stage's logic (a plain class; output_actor.cpp is its shell): delivers outbox
// entries through a record_writer and deletes each once acknowledged. An entry that fails is sent
// again after a backoff. Nothing leaves the outbox unacknowledged, so a crash at any point
// re-delivers rather than loses: at-least-once, and the content of an entry never changes.
//
// Each outbox lane (sessions, verdicts, diagnostics) has its own cursor; entries of one lane go
// out in sequence order.
//
// Thread: the output stage's own (detached) thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <set>
#include <string>

#include "model/clock.hpp"
#include "state/outbox.hpp"
#include "topics/sinks.hpp"

namespace tw::actors {

struct output_probe {
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> backlog{0};  // entries in the outbox not yet acknowledged
};

class output_stage {
 public:
  output_stage(state::store& s, record_writer& w, const clock& c, output_probe& probe, duration retry_backoff);

  // A stage committed entries of `lane` up to (excluding) end_seq.
  void available(state::outbox_lane lane, uint64_t end_seq);
  // Writes what is available (bounded per call), serves acknowledgements for up to `wait`, deletes
  // acknowledged entries. Returns false on a store error (fatal for the process).
  bool step(duration wait, std::string& error);
  // True when everything available has been acknowledged.
  bool idle() const;

 private:
  static constexpr size_t lanes = std::size(state::all_outbox_lanes);
  struct cursor {
    uint64_t next = 0;  // next sequence to read
    uint64_t end = 0;   // one past the last committed entry
  };
  // A writer sees one id per record: the lane in the top byte, the sequence below.
  static uint64_t id_of(state::outbox_lane lane, uint64_t seq) { return (uint64_t{static_cast<uint8_t>(lane)} << 56) | seq; }
  static state::outbox_lane lane_of(uint64_t id) { return static_cast<state::outbox_lane>(id >> 56); }
  static uint64_t seq_of(uint64_t id) { return id & ((uint64_t{1} << 56) - 1); }

  bool send_new(state::outbox_lane lane, std::string& error);

  state::outbox_reader outbox_;
  record_writer& writer_;
  const clock& clock_;
  output_probe& probe_;
  duration retry_backoff_;
  std::array<cursor, lanes> cursors_{};
  std::array<bool, lanes> started_{};
  std::set<uint64_t> in_flight_;                      // ids
  std::deque<std::pair<wall_time, uint64_t>> retry_;  // (not before, id)
};

}  // namespace tw::actors
