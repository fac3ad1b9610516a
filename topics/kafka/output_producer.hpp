// The output side of Kafka: an idempotent producer (acks=all, in-order per partition) with
// delivery reports, used by the output stage to deliver outbox entries.
//
// A failed produce or delivery is either retriable or `kafka_errc::rejected`: the message itself
// can never be accepted as it is, so retrying it would only hold up what follows. Rejected:
//   MSG_SIZE_TOO_LARGE  over the producer's message.max.bytes (refused by produce() at once) or
//                       over the broker's or topic's limit (in the delivery report);
//   INVALID_RECORD      the broker refuses the record itself (e.g. no key on a compacted topic).
// Everything else is retriable, including an unknown topic and authorisation errors: those are
// about the deployment, not the message, and hold every message alike, so the output stage keeps
// retrying and reports the stalled lane rather than discarding records that a fixed deployment
// would take (see actors/output_stage.hpp).
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
  kafka_status status;  // ok: acknowledged by the brokers; rejected: never will be
};

// How the output side classifies a librdkafka error (see the file comment).
kafka_status produce_status(RdKafka::ErrorCode err, const std::string& context);

class output_producer {
 public:
  static kafka_status create(const client_settings& s, std::unique_ptr<output_producer>& out);
  ~output_producer();

  // Queues one message. Retriable when the local queue is full: poll and try again; rejected when
  // it is over message.max.bytes.
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
