// Orders a replay's input against the watermark decisions a live run recorded (replay --topic).
//
// A live run takes some watermark decisions on wall-clock evidence (model/watermark_record.hpp);
// each is recorded with the input positions at which it was taken. To take the same decision at
// the same point, a replay must apply every record before those positions, then the decision,
// then the records at or after them — whatever order the reader happens to fetch partitions in.
// This class does that ordering: records arrive as read, per partition in offset order; items
// leave in an order consistent with every decision. A partition that reached the next decision's
// position is *blocked*: the reader should pause it (records of it that still arrive are held
// here, in memory, until the decision is taken).
//
// Decisions that cannot be reproduced are dropped up front, with the reason counted: a decision
// whose positions lie beyond the end of the replayed range (the live run had read further than
// the replay reads) ends the usable history, since everything after it depends on input the
// replay does not have. Positions of partitions the replay does not read (e.g. empty ones) and
// positions before a partition's first replayed offset (data the topic no longer retains) are
// satisfied at once.
//
// Plain logic, no I/O. Not thread-safe: owned by the replay's source thread.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/kafka.hpp"
#include "model/watermark_record.hpp"
#include "topics/record.hpp"

namespace tw {

struct replay_item {
  enum class kind { record, decision, partition_end };
  kind what = kind::record;
  raw_record record;           // kind::record
  watermark_record decision;   // kind::decision
  topic_partition partition;   // kind::partition_end: every record of its range has been released
};

// The history a replay follows, among the records of a watermarks topic: those of consumer group
// `group` from the state directory that recorded last (a new directory starts a new history, and
// its run consumed the input again from the start), each seq once, in seq order.
struct decision_history {
  std::vector<watermark_record> records;
  std::string state_id;         // empty: no history for the group
  uint64_t missing = 0;         // seqs absent between 1 and the last (the topic lost them)
  size_t other_histories = 0;   // older state directories of the group, not followed
};
decision_history select_history(std::vector<watermark_record> all, const std::string& group);

class replay_order {
 public:
  struct range {
    offset from;  // first offset read
    offset to;    // one past the last
  };
  // `decisions` in the order they were taken (ascending seq).
  replay_order(std::vector<watermark_record> decisions, std::map<topic_partition, range> ranges);

  // A record read from its partition (in offset order per partition).
  void offer(raw_record r, std::vector<replay_item>& out);
  // The reader reached the end of tp's range.
  void finished(const topic_partition& tp, std::vector<replay_item>& out);
  // Whether the reader should stop fetching tp until the next decision is taken.
  bool blocked(const topic_partition& tp) const;

  size_t decisions_left() const { return decisions_.size(); }
  // Decisions dropped because they lie beyond the replayed range.
  size_t beyond_range() const { return beyond_range_; }

 private:
  struct partition_state {
    range r;
    offset next;                   // the next offset not yet released
    std::deque<raw_record> held;   // read, waiting for the next decision
    bool read_to_end = false;
    bool ended = false;            // partition_end released
  };
  // The current decision's position for tp; nullopt when it does not constrain tp.
  std::optional<offset> barrier(const topic_partition& tp) const;
  bool reached(const topic_partition& tp, const partition_state& p) const;
  void release(std::vector<replay_item>& out);

  std::deque<watermark_record> decisions_;
  std::map<topic_partition, partition_state> parts_;
  size_t beyond_range_ = 0;
};

}  // namespace tw
