#include "topics/kafka/client.hpp"

#include "model/log.hpp"

namespace tw::kafka {

kafka_status kafka_status::from(RdKafka::ErrorCode err, const std::string& context) {
  if (err == RdKafka::ERR_NO_ERROR) return {};
  kafka_errc code = kafka_errc::retriable;
  switch (err) {
    case RdKafka::ERR__FATAL:
    case RdKafka::ERR__FENCED:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_GROUP_AUTHORIZATION_FAILED:
    case RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RdKafka::ERR__AUTHENTICATION:
    case RdKafka::ERR_SASL_AUTHENTICATION_FAILED:
      code = kafka_errc::fatal;
      break;
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR__NOT_IMPLEMENTED:
      code = kafka_errc::config;
      break;
    default:
      break;
  }
  return {code, context + ": " + RdKafka::err2str(err)};
}

kafka_status make_conf(const client_settings& s, const std::map<std::string, std::string>& defaults,
                       const std::map<std::string, std::string>& fixed, std::unique_ptr<RdKafka::Conf>& out) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const std::string& k, const std::string& v, const std::string& origin) -> kafka_status {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) return {kafka_errc::config, origin + ": " + err};
    return {};
  };
  for (const auto& [k, v] : defaults)
    if (auto st = set(k, v, "librdkafka default " + k); !st.ok()) return st;
  if (auto st = set("bootstrap.servers", s.bootstrap_servers, "kafka.bootstrap.servers"); !st.ok()) return st;
  for (const auto& [k, v] : s.properties)
    if (auto st = set(k, v, "kafka.librdkafka." + k); !st.ok()) return st;
  for (const auto& [k, v] : fixed)
    if (auto st = set(k, v, "librdkafka property " + k); !st.ok()) return st;
  out = std::move(conf);
  return {};
}

void event_logger::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_ERROR: {
      bool fatal = event.fatal();
      log::write(fatal ? log::level::error : log::level::warn, "kafka client error",
                 {{"client", client_}, {"error", RdKafka::err2str(event.err())}, {"detail", event.str()},
                  {"fatal", fatal}});
      break;
    }
    case RdKafka::Event::EVENT_LOG: {
      // syslog severities: 0-3 error, 4 warning, 5-6 info, 7 debug
      int sev = event.severity();
      log::level l = sev <= 3 ? log::level::error : sev == 4 ? log::level::warn : sev <= 6 ? log::level::info : log::level::debug;
      log::write(l, "librdkafka", {{"client", client_}, {"facility", event.fac()}, {"detail", event.str()}});
      break;
    }
    default:
      break;
  }
}

}  // namespace tw::kafka
