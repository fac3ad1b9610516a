// A watermark decision that the input data alone does not determine, as a live run records it.
//
// A live run moves event time on wall-clock evidence: a partition that stays quiet is idle and
// stops holding the watermark back; when every partition is idle, event time flows on; data on
// an idle partition wakes it; a (re)assignment starts every partition afresh. Each such decision
// is recorded (topic `topics.watermarks`, contract tracewatch.watermark.v1, docs/topics.md) with
// the input positions at which it was taken, so that `replay --topic` can take the same decision
// at the same point of the same input and give the same sessions, revisions and reasons.
//
// `positions` are the next offsets to consume of every partition the run owned: the decision
// was taken after everything before them was applied and before anything at or after them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/kafka.hpp"
#include "model/time.hpp"

namespace tw {

// In the contract: never rename, only append.
enum class watermark_decision : uint8_t {
  assign,  // partitions were (re)assigned: none is idle; the watermark continues from `watermark`
  idle,    // some partitions became idle, and/or event time flowed on while all were idle
  wake,    // data arrived on an idle partition: none is idle any more
};
std::string_view to_string(watermark_decision d);

struct watermark_record {
  std::string group;     // the consumer group (kafka.group_id) of the run that decided
  std::string state_id;  // its state directory (a new directory is a new history)
  uint64_t seq = 0;      // per state directory, from 1, without gaps
  watermark_decision decision = watermark_decision::assign;
  event_time watermark;  // the processor watermark after the decision
  // With alert rules: the alert stage's clock after the decision, which idleness moves on with
  // the wall clock past the watermark (state/session_engine.hpp, alert_tick); min: none.
  event_time alert_clock = event_time::min();
  std::vector<topic_partition> idle;                       // the idle partitions after it
  std::vector<std::pair<topic_partition, offset>> positions;  // next offset to consume, per partition
  wall_time recorded_at;  // informational: when the live run took it
};

}  // namespace tw
