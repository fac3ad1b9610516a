// The fault suite's own Kafka clients: produce the input, read output topics back. They talk to
// the broker process over loopback like any client; nothing here runs inside tracewatch.
//
// Reading never joins a group: every partition is assigned at offset 0. The mock broker keeps only
// about 5 MB per partition and silently starts a reader at the oldest message it kept, so
// low_watermarks() is how a caller proves that nothing was dropped before comparing contents.
//
// Thread: one thread owns each object.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/call_generator.hpp"

namespace tw::fault {

struct topic_spec {
  std::string name;
  int partitions = 1;
};

struct record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string payload;
};

// Produces every message (keyed as given) through tracewatch's own idempotent producer and waits
// until all are acknowledged. Throws harness_error on any failed delivery or after `deadline`.
void produce_all(const std::string& brokers, const std::string& topic, const std::vector<sim::message>& messages,
                 std::chrono::seconds deadline = std::chrono::seconds(300));

struct partition_marks {
  int64_t low = 0;
  int64_t high = 0;
};

// Reads the given topics from their beginning, incrementally.
class topic_reader {
 public:
  topic_reader(const std::string& brokers, const std::vector<topic_spec>& topics);
  ~topic_reader();

  // Appends what arrives within `wait` to `out`; returns how many were appended.
  size_t poll(std::chrono::milliseconds wait, std::vector<record>& out);
  // Reads until every partition is at the high watermark it had when this was called. Throws
  // harness_error after `deadline`.
  void read_to_end(std::chrono::milliseconds deadline, std::vector<record>& out);
  // Low and high watermark of every partition, per topic. Throws harness_error when the broker
  // does not answer.
  std::map<std::string, std::vector<partition_marks>> watermarks();

 private:
  std::vector<topic_spec> topics_;
  std::map<std::pair<std::string, int32_t>, int64_t> next_;  // next offset to read
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
};

// The input positions a consumer group has committed: how far a tracewatch run has durably got
// (it commits to its group after each durable RocksDB commit, every kafka.group_commit_interval).
// Never joins the group: it only asks the coordinator.
class group_offsets {
 public:
  group_offsets(const std::string& brokers, const std::string& group);
  ~group_offsets();

  // Records committed, summed over the topic's partitions (a partition with no commit counts 0).
  // Throws harness_error when the coordinator does not answer within `timeout`.
  int64_t committed(const topic_spec& topic, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
};

}  // namespace tw::fault
