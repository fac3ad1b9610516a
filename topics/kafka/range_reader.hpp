// Reads a bounded range of Kafka topics: every partition from a start offset up to the end it
// had when reading began. For `replay --topic` (backtesting on history) and benchmarks. No
// consumer group: partitions are assigned directly (under the group id "tracewatch-replay", which
// librdkafka requires and nothing joins) and nothing is committed, to that group or to
// kafka.group.id (tests/integration/group_commit_test.cpp).
//
// Thread: one thread owns this object.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/kafka.hpp"
#include "model/time.hpp"
#include "topics/kafka/client.hpp"
#include "topics/record.hpp"

namespace tw::kafka {

class range_reader {
 public:
  // `start` gives the first offset to read per partition (nullopt: the earliest retained). It is
  // asked only about partitions that hold messages.
  using start_lookup = std::function<std::vector<std::optional<offset>>(const std::vector<topic_partition>&)>;
  static kafka_status create(const client_settings& s, const std::vector<std::string>& topics, const start_lookup& start,
                             std::unique_ptr<range_reader>& out);
  ~range_reader();

  // Up to max_records records; stops at each partition's end.
  kafka_status poll(size_t max_records, duration max_wait, std::vector<raw_record>& out);
  // Partitions that reached the end of their range since the last call (including those whose
  // range turned out empty once `start` was applied). Only partitions `start` was asked about.
  std::vector<topic_partition> take_finished();
  bool done() const { return remaining_.empty(); }
  const std::vector<topic_partition>& partitions() const { return partitions_; }
  // The range read per partition: [first offset, end offset), for partitions holding messages.
  const std::map<topic_partition, std::pair<offset, offset>>& ranges() const { return ranges_; }
  // Stops (resumes) fetching one partition, e.g. while the replay waits for the others to reach
  // a recorded decision. Records already fetched may still arrive.
  kafka_status pause(const topic_partition& tp);
  kafka_status resume(const topic_partition& tp);

 private:
  range_reader() = default;
  std::unique_ptr<event_logger> logger_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<topic_partition> partitions_;
  std::map<topic_partition, int64_t> remaining_;  // partition -> end offset (exclusive) still to reach
  std::map<topic_partition, std::pair<offset, offset>> ranges_;
  std::vector<topic_partition> finished_;
};

}  // namespace tw::kafka
