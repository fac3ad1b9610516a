// Event-time watermarks: how far event time has certainly progressed.
//
// Per input partition: the largest event time seen minus the bounded out-of-orderness. The
// processor's watermark is the minimum over its assigned partitions, and never moves backwards.
// A partition that has not delivered data yet holds the watermark back — its first records may
// be old — until it is known to be empty.
//
// Idleness (live mode only): a partition that is caught up (the consumer reached its end) and has
// received nothing for idle_timeout (wall clock) stops holding the others back. When every
// partition is idle, input has stopped, and event time flows on from the latest event seen at the
// pace of the wall clock — so the last sessions of the night still complete. Replays never use
// these rules: they are driven by the data alone.
//
// Plain logic: wall time is passed in by the caller (from its injected clock). Not thread-safe;
// owned by the state stage.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "model/kafka.hpp"
#include "model/time.hpp"

namespace tw::state {

class watermark_tracker {
 public:
  explicit watermark_tracker(duration max_out_of_orderness) : ooo_(max_out_of_orderness) {}

  // A partition joins (on assignment or restart), with the largest event time stored for it.
  void assign(const topic_partition& tp, std::optional<event_time> stored_max, wall_time now);
  void revoke(const topic_partition& tp);
  bool assigned(const topic_partition& tp) const { return parts_.count(tp) != 0; }

  // A record with events up to `t` arrived on tp at wall time `now`.
  void observe(const topic_partition& tp, event_time t, wall_time now);
  // A record without usable event time arrived: the partition is not idle.
  void touch(const topic_partition& tp, wall_time now);
  // The consumer reached the end of tp (true) or received more data (false).
  void set_caught_up(const topic_partition& tp, bool caught_up);
  // Live mode: marks caught-up partitions quiet for idle_timeout as idle; when all are, lets event
  // time advance with the wall clock. Returns true when the processor watermark moved.
  bool advance_idle(wall_time now, duration idle_timeout);

  // Restores the processor watermark's monotonic floor after a restart.
  void restore_floor(event_time wm) { current_ = std::max(current_, wm); }

  // Moves the processor watermark to the end of time (a bounded replay that is asked to flush).
  void finish() { current_ = event_time::max(); }

  event_time current() const { return current_; }
  std::optional<event_time> max_event_time(const topic_partition& tp) const;
  std::vector<topic_partition> partitions() const;

 private:
  struct partition_state {
    std::optional<event_time> max_event;  // largest event time seen (persisted with the offset)
    wall_time last_record;                // or the assignment, before any record
    bool caught_up = false;
    bool idle = false;                    // caught up and quiet for idle_timeout
  };
  void recompute();

  std::optional<wall_time> idle_now_;  // the wall time of the last advance_idle() call
  duration ooo_;
  std::map<topic_partition, partition_state> parts_;
  event_time current_ = event_time::min();
};

}  // namespace tw::state
