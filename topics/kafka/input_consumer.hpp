// The input side of Kafka: a consumer group member over the input topics.
//
// Offsets are not committed to Kafka as the source of truth: the state stage stores the next
// offset of every partition in the same RocksDB write as the state it produced, and a
// rebalance_listener hands those back when partitions are assigned. Partitions with nothing stored
// start at input.start_from — never at what the group has committed: the consumer seeks to an
// explicit position for every partition it is given.
//
// The positions RocksDB holds are committed to the group as well, for consumer-lag tools only
// (group_commit.hpp): commit_durable() is given them after each durable write and commits, at
// most once per kafka.group_commit_interval and asynchronously, those of the partitions it holds;
// a revocation commits the revoked partitions' final positions before they go.
//
// Thread: one polling thread owns this object. Rebalance callbacks and commit results run on it,
// inside poll() (and close()); nothing here blocks on a commit.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/kafka.hpp"
#include "model/time.hpp"
#include "model/clock.hpp"
#include "topics/kafka/client.hpp"
#include "topics/kafka/group_commit.hpp"
#include "topics/record.hpp"

namespace tw::kafka {

struct poll_result;

// Called on the polling thread during a rebalance. May block (e.g. until the pipeline has applied
// what is in flight), but must not call back into the consumer.
class rebalance_listener {
 public:
  virtual ~rebalance_listener() = default;
  // A rebalance interrupts a poll() that has gathered records already: they are handed over
  // first (and the poll's result no longer holds them), so that whatever the rebalance does —
  // commit what was consumed on revocation, seek to the stored offsets on assignment — sees
  // every record consumed before it.
  virtual void on_consumed_before_rebalance(poll_result& consumed) = 0;
  // The next offset to consume per partition (same order); nullopt: nothing stored.
  virtual std::vector<std::optional<offset>> on_assigned(const std::vector<topic_partition>& tps) = 0;
  // Returns, per partition (same order), the next offset to consume as stored durably once
  // everything consumed from it is applied (nullopt: nothing stored): committed to the group as
  // the partition's final position.
  virtual std::vector<std::optional<offset>> on_revoked(const std::vector<topic_partition>& tps) = 0;
};

enum class start_position { earliest, latest };

struct consumer_settings {
  client_settings client;
  std::string group_id;
  std::vector<std::string> topics;
  start_position start_from = start_position::earliest;
  // kafka.group_commit_interval; zero: nothing is committed to the group.
  duration group_commit_interval{0};
  const clock* clk = &system_clock::instance();  // for the commit interval; outlives the consumer
};

struct poll_result {
  std::vector<raw_record> records;
  std::vector<topic_partition> reached_end;  // partitions the consumer caught up with
};

class input_consumer {
 public:
  input_consumer(const input_consumer&) = delete;
  input_consumer& operator=(const input_consumer&) = delete;
  // `commits` counts the group commits; it outlives the consumer.
  static kafka_status create(const consumer_settings& s, rebalance_listener& listener, group_commit_probe& commits,
                             std::unique_ptr<input_consumer>& out);
  ~input_consumer();

  // Up to max_records records, waiting at most max_wait for the first. Transient errors are
  // logged and yield fewer records; a fatal error is returned.
  kafka_status poll(size_t max_records, duration max_wait, poll_result& out);

  // The assigned partitions' extents as this consumer last learned them from its fetches
  // (librdkafka's cached watermarks: no request to the brokers, never blocks). A partition not
  // fetched from yet is left out. For consumer lag: its high watermark minus the next offset.
  std::vector<partition_extent> extents() const;

  // The positions the state stage made durable (next offset to consume per partition): commits
  // those of the partitions this consumer holds to the group when a commit is due. Never blocks:
  // the group's answer arrives in a later poll().
  void commit_durable(const positions& durable);

  // Backpressure: stop fetching (poll() must still be called, to serve the group).
  void pause();
  void resume();
  bool paused() const { return paused_; }

  // Leaves the group cleanly (revocation runs through the listener).
  void close();

 private:
  class rebalancer;
  class commit_reporter;
  input_consumer(const consumer_settings& s, group_commit_probe& commits);
  // Sends `p` to the group (asynchronously); a local failure counts as a failed commit.
  void send_commit(const positions& p);
  const clock& clock_;
  group_commit_schedule commits_;
  std::unique_ptr<rebalancer> rebalancer_;
  std::unique_ptr<commit_reporter> commit_reporter_;
  std::unique_ptr<event_logger> logger_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  poll_result* gathering_ = nullptr;  // the result poll() is filling, while it runs
  bool paused_ = false;
  bool closed_ = false;
};

}  // namespace tw::kafka
