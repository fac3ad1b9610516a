// Event-time watermarks: how far event time has certainly progressed.
//
// Per input partition: the largest event time seen minus the bounded out-of-orderness. The
// processor's watermark is the minimum over the partitions it owns, and never moves backwards.
// A point is *passed* when the watermark is strictly later than it: an in-bound event can still
// carry exactly the watermark's time.
//
// Which partitions count:
//   - Partitions join as a set (an assignment, a restart): the minimum is taken over all of them
//     at once, never over the first few — a partial minimum would jump to the first partition's
//     stored progress and make everything the others still hold late.
//   - A partition that has delivered no data holds the watermark back (its first records may be
//     old) until it is known to be empty: caught up and idle.
//   - A revoked partition is *away*: it keeps holding the watermark where its progress was until
//     it is assigned again, so that its data is not late when it comes back (a rebalance that
//     moves partitions off and back, a killed member still holding partitions for its session
//     timeout). One that stays away belongs to another member of the group: tracewatch runs as
//     one instance per consumer group, and the state stage says so loudly (away_since()).
//   - A finished range (bounded replay) stops holding the watermark back. Once every range is
//     finished, the watermark is the largest of their (max event - out-of-orderness): where one
//     file of the same data ends it, whatever order the ranges finished in.
//
// Idleness (live mode only): a partition that is caught up (the consumer reached its end) and has
// received nothing for idle_timeout (wall clock) is idle and stops holding the others back. Data
// on an idle partition *wakes* it, and with it every other idle partition: each must be quiet for
// idle_timeout again before it stops counting — otherwise the first partition to deliver after a
// pause would drag the watermark past what the others are about to deliver. When every partition
// is idle, input has stopped and advance_idle() returns a wall-clock target (latest event +
// wall time since it arrived - out-of-orderness); the caller moves the watermark towards it only
// as far as it needs to (session_engine::tick), so that traffic resuming after a pause is not
// judged against a watermark that ran ahead for nothing.
//
// The data floor: the minimum over every partition that delivered data — idle and finished ones
// included — of its largest event time minus the out-of-orderness. A completion point the data
// floor passes was closed by the data alone; one that only the watermark passes was closed
// because input stopped (idleness, a finished range) or by a flush, and says so
// (completion_reason::idle / flush).
//
// Plain logic: wall time is passed in by the caller (from its injected clock). Not thread-safe;
// owned by the state stage.
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "model/kafka.hpp"
#include "model/time.hpp"

namespace tw::state {

class watermark_tracker {
 public:
  explicit watermark_tracker(duration max_out_of_orderness) : ooo_(max_out_of_orderness) {}

  // Partitions join together (an assignment, or a restart), each with the largest event time
  // stored for it. The watermark is recomputed once, over all of them. Re-assigning an owned
  // partition keeps what it knows and makes it active (not idle, not caught up).
  void assign(const std::vector<std::pair<topic_partition, std::optional<event_time>>>& tps, wall_time now);
  // No longer owned: it is away, and holds the watermark as it did until it is assigned again.
  void revoke(const topic_partition& tp, wall_time now);
  // Forgets a partition altogether (it no longer counts for the watermark or the data floor).
  void forget(const topic_partition& tp);
  // Partitions away since before `before` (revoked and not assigned back), with since when.
  std::vector<std::pair<topic_partition, wall_time>> away_since(wall_time before) const;
  // A bounded replay read tp's range completely: it stops holding the watermark back, and still
  // counts for the data floor.
  void finish(const topic_partition& tp);
  bool assigned(const topic_partition& tp) const {
    auto it = parts_.find(tp);
    return it != parts_.end() && !it->second.away;
  }
  bool is_idle(const topic_partition& tp) const {
    auto it = parts_.find(tp);
    return it != parts_.end() && it->second.idle;
  }

  // A record is about to be applied on tp: if tp is idle, this is a wake, after which no
  // partition is idle (returns true). The watermark does not move.
  bool wake(const topic_partition& tp, wall_time now) { return is_idle(tp) && wake_all(now); }
  // A record with events up to `t` arrived on tp at wall time `now` (a wake too, if tp was idle).
  void observe(const topic_partition& tp, event_time t, wall_time now);
  // A record without usable event time arrived: the partition is not idle.
  void touch(const topic_partition& tp, wall_time now);
  // The consumer reached the end of tp (true) or received more data (false).
  void set_caught_up(const topic_partition& tp, bool caught_up);

  struct idle_step {
    bool idle_changed = false;               // some partition became idle
    std::optional<event_time> wall_target;   // every partition is idle: where event time may flow to
  };
  // Live mode: marks caught-up partitions quiet for idle_timeout as idle and recomputes the
  // watermark over the others.
  idle_step advance_idle(wall_time now, duration idle_timeout);

  // Moves the watermark forward to `t` (never back): the lazy idle advance, a replayed mark.
  void raise_to(event_time t) {
    if (t > current_) current_ = t;
  }
  // A replayed mark: exactly these owned partitions are idle, the others active.
  void set_idle(const std::vector<topic_partition>& idle);
  std::vector<topic_partition> idle_partitions() const;

  // Restores the processor watermark's monotonic floor after a restart.
  void restore_floor(event_time wm) { raise_to(wm); }

  // Moves the watermark to the end of time (a bounded replay that is asked to flush).
  void finish_all() {
    current_ = event_time::max();
    flushed_ = true;
  }
  bool flushed() const { return flushed_; }

  event_time current() const { return current_; }
  event_time data_floor() const;
  std::optional<event_time> max_event_time(const topic_partition& tp) const;
  // The partitions owned now (assigned, not away).
  std::vector<topic_partition> partitions() const;
  // Owned and away: every partition that counts for the watermark.
  std::vector<topic_partition> known_partitions() const;

 private:
  struct partition_state {
    std::optional<event_time> max_event;  // largest event time seen (persisted with the offset)
    wall_time last_record;                // the last record's arrival, or the assignment before any
    wall_time quiet_since;                // since when nothing arrived (reset by a wake)
    bool caught_up = false;
    bool idle = false;                    // caught up and quiet for idle_timeout
    bool finished = false;                // a bounded replay read its whole range
    bool away = false;                    // revoked, not assigned again yet
    wall_time away_since;
  };
  void recompute();
  bool wake_all(wall_time now);  // true when any partition was idle

  duration ooo_;
  std::map<topic_partition, partition_state> parts_;
  event_time current_ = event_time::min();
  bool flushed_ = false;
  mutable bool floor_dirty_ = true;
  mutable event_time floor_ = event_time::min();
};

}  // namespace tw::state
