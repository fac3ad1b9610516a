// The output stage's logic (a plain class; output_actor.cpp is its shell): delivers outbox
// entries through a record_writer and deletes each once acknowledged. An entry that fails is sent
// again after a backoff. Nothing leaves the outbox unacknowledged, so a crash at any point
// re-delivers rather than loses: at-least-once, and the content of an entry never changes.
//
// Thread: the output stage's own (detached) thread.
#pragma once

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

  // The state stage committed entries up to (excluding) seq.
  void available(uint64_t end_seq) { end_seq_ = std::max(end_seq_, end_seq); }
  // Writes what is available (bounded per call), serves acknowledgements for up to `wait`, deletes
  // acknowledged entries. Returns false on a store error (fatal for the process).
  bool step(duration wait, std::string& error);
  // True when everything available has been acknowledged.
  bool idle() const { return next_seq_ >= end_seq_ && in_flight_.empty() && retry_.empty(); }
  uint64_t end_seq() const { return end_seq_; }

 private:
  state::outbox_reader outbox_;
  record_writer& writer_;
  const clock& clock_;
  output_probe& probe_;
  duration retry_backoff_;
  uint64_t next_seq_ = 0;   // next outbox sequence to read
  uint64_t end_seq_ = 0;    // one past the last committed entry
  std::set<uint64_t> in_flight_;
  std::deque<std::pair<wall_time, uint64_t>> retry_;  // (not before, seq)
  bool started_ = false;
};

}  // namespace tw::actors
