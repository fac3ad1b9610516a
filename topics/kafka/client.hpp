// librdkafka at the boundary: client configuration and the topics module's error type.
//
// Every librdkafka error is converted here into kafka_status, classified as the caller needs it:
// retriable (the broker is away; try again), fatal (this client cannot continue), config (a
// setting is wrong: stop at start, naming it) or rejected (this one message can never be
// produced as it is: retrying it would block what follows; see output_producer.hpp).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

namespace tw::kafka {

enum class kafka_errc { ok, retriable, fatal, config, rejected };

struct kafka_status {
  kafka_errc code = kafka_errc::ok;
  std::string message;
  bool ok() const { return code == kafka_errc::ok; }
  static kafka_status from(RdKafka::ErrorCode err, const std::string& context);
};

struct client_settings {
  std::string bootstrap_servers;
  std::map<std::string, std::string> properties;  // kafka.librdkafka pass-through
};

// A global configuration: tracewatch's `defaults`, then the bootstrap servers and the pass-through
// properties (which may override a default), then `fixed`, which tracewatch relies on and which
// nothing may override. Errors name the property.
kafka_status make_conf(const client_settings& s, const std::map<std::string, std::string>& defaults,
                       const std::map<std::string, std::string>& fixed, std::unique_ptr<RdKafka::Conf>& out);

// Routes librdkafka's own log lines and error events into the structured log.
// Runs on librdkafka's threads (or inside poll/consume): only logs.
class event_logger : public RdKafka::EventCb {
 public:
  explicit event_logger(std::string client) : client_(std::move(client)) {}
  void event_cb(RdKafka::Event& event) override;

 private:
  std::string client_;
};

}  // namespace tw::kafka
