// The input positions, committed to the consumer group too — for consumer-lag tools, nothing else.
//
// Where tracewatch resumes is decided by RocksDB alone: the state stage stores each partition's
// next offset in the same write as the state it produced, and on assignment the consumer seeks to
// those positions (or to input.start_from when there are none; input_consumer.hpp). Kafka's
// consumer-group offsets are written AFTER that write, from the positions it made durable, so
// that kafka-consumer-groups.sh, Burrow or a lag exporter see how far tracewatch got. They are
// never read back, so a commit that fails, lags or is wrong changes nothing but what those tools
// show.
//
// Off by one: Kafka's committed offset is the next record to consume (the last processed + 1).
// The state stage stores exactly that (offset::next_to_consume() of the last record applied), so
// positions pass through unchanged: group_position() below is the identity, named so that the
// reader sees it is not a mistake.
//
// group_commit_schedule is the plain logic: what to commit and when. At most one commit per
// interval and one at a time, only partitions currently assigned, only positions that moved since
// the group last accepted them; a revoked partition's final position goes at once (whatever the
// interval), so that the lag tools see where it stopped. Failures are counted and reported for
// logging at most once per interval. The input consumer sends what it decides (commitAsync) and
// reports the group's answers back.
//
// Thread: owned by the source thread, the input consumer's polling thread; librdkafka delivers
// commit results there too, inside poll(). The probe may be read from anywhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/clock.hpp"
#include "model/kafka.hpp"
#include "model/time.hpp"

namespace tw::kafka {

// Per partition: the next offset to consume.
using positions = std::map<topic_partition, offset>;

// The offset to commit to the group for a partition whose next offset to consume is `next`: the
// same number (Kafka's committed offset is the next record to read, not the last one read).
inline offset group_position(offset next_to_consume) { return next_to_consume; }

// Counters of the group commits. Written by the source thread, read by anyone (relaxed).
struct group_commit_probe {
  std::atomic<uint64_t> commits{0};              // commits sent
  std::atomic<uint64_t> commits_failed{0};       // commits the group refused or that failed to reach it
  std::atomic<uint64_t> partitions_committed{0}; // partition positions the group accepted
};

class group_commit_schedule {
 public:
  // interval zero: nothing is ever due (kafka.group_commit_interval = 0).
  group_commit_schedule(duration interval, group_commit_probe& probe) : interval_(interval), probe_(probe) {}

  bool enabled() const { return interval_ > duration::zero(); }

  // Partitions were assigned: what the group holds for them is not known any more (another
  // member may have committed), so their next position is committed even if unchanged.
  void assigned(const std::vector<topic_partition>& tps);
  void revoked(const std::vector<topic_partition>& tps);
  const std::set<topic_partition>& assignment() const { return assigned_; }

  // What to commit now, from the positions the state stage made durable: empty unless a commit is
  // due (an interval since the last one started, none in flight) and some assigned partition's
  // position differs from what the group last accepted. A non-empty answer counts as sent.
  positions due(wall_time now, const positions& durable);

  // The final positions of partitions being revoked (nullopt: nothing stored), to commit before
  // they go, whatever the interval: those that differ from what the group last accepted. A
  // non-empty answer counts as sent.
  positions on_revoke(const std::vector<topic_partition>& tps, const std::vector<std::optional<offset>>& next);

  // What the group answered to a commit: the positions it accepted (all of them when `ok`; when
  // not, those of the partitions without an error). When it failed, and no failure was reported
  // in the last interval, returns how many commits failed since the last report (this one
  // included): the caller logs that, once.
  std::optional<uint64_t> on_result(wall_time now, const positions& accepted, bool ok);

  // A commit could not even be sent (a local error): the same as a failed answer.
  std::optional<uint64_t> on_send_failed(wall_time now) { return on_result(now, {}, false); }

 private:
  duration interval_;
  group_commit_probe& probe_;
  std::set<topic_partition> assigned_;
  positions accepted_;                      // what the group last accepted, per partition
  std::optional<wall_time> last_sent_;
  int in_flight_ = 0;
  std::optional<wall_time> last_report_;
  uint64_t failures_unreported_ = 0;
};

}  // namespace tw::kafka
