// The output side of Kafka: an idempotent producer (acks=all, in-order per partition) with
// delivery reports, used by the output stage to deliver outbox entries.
//
// Thread: one thread owns this object; delivery reports are collected inside poll() on it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/time.hpp"
#include "topics/kafka/client.hpp"

namespace tw::kafka {

struct delivery {
  uint64_t seq;         // what produce() was given
  kafka_status status;  // ok: acknowledged by the brokers
};

class output_producer {
 public:
  static kafka_status create(const client_settings& s, std::unique_ptr<output_producer>& out);
  ~output_producer();

  // Queues one message. Retriable when the local queue is full: poll and try again.
  kafka_status produce(const std::string& topic, const std::string& key, const std::string& payload, uint64_t seq);
  // Serves delivery reports for up to `wait`, appending them to `out`.
  void poll(duration wait, std::vector<delivery>& out);
  // Messages queued or in flight, not yet reported.
  int in_flight() const;

 private:
  class reporter;
  output_producer() = default;
  std::unique_ptr<reporter> reporter_;
  std::unique_ptr<event_logger> logger_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

}  // namespace tw::kafka
