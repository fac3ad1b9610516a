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
#include <mutex>
#include <string>
#include <string_view>

#include "model/clock.hpp"
#include "topics/kafka/connectivity.hpp"

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
// nothing may override. Errors name the property. Every client gets statistics.interval.ms=1000
// before the caller's defaults: event_logger reads the brokers' state from the statistics
// (connectivity.hpp); the pass-through may change it (0 turns off the "reachable again" line).
kafka_status make_conf(const client_settings& s, const std::map<std::string, std::string>& defaults,
                       const std::map<std::string, std::string>& fixed, std::unique_ptr<RdKafka::Conf>& out);

// Routes librdkafka's own log lines and error events into the structured log. Connection errors
// go through a connectivity_monitor instead: a few clear lines per outage ("kafka brokers
// unreachable", "... still unreachable", "... reachable again") rather than one or two per
// failed connection attempt; statistics events feed it the brokers' state.
// Runs on librdkafka's threads (log lines) and inside poll/consume (errors, statistics), so it
// serialises on a mutex; it only logs.
class event_logger : public RdKafka::EventCb {
 public:
  explicit event_logger(std::string client, const clock& clk = system_clock::instance())
      : client_(std::move(client)), clock_(clk) {}
  void event_cb(RdKafka::Event& event) override;

 private:
  void write(const connectivity_notice& n);
  std::string client_;
  const clock& clock_;
  std::mutex mutex_;
  connectivity_monitor monitor_;
};

// Whether a librdkafka error event or log line is about reaching the brokers (transport failure,
// all brokers down, name resolution, request timeouts; log facilities FAIL and REQTMOUT).
bool is_connection_error(RdKafka::ErrorCode err);
bool is_connection_log(std::string_view facility);

}  // namespace tw::kafka
