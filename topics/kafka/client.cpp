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
  if (auto st = set("statistics.interval.ms", "1000", "librdkafka default statistics.interval.ms"); !st.ok()) return st;
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

bool is_connection_error(RdKafka::ErrorCode err) {
  return err == RdKafka::ERR__TRANSPORT || err == RdKafka::ERR__ALL_BROKERS_DOWN || err == RdKafka::ERR__RESOLVE ||
         err == RdKafka::ERR__TIMED_OUT;
}

bool is_connection_log(std::string_view facility) { return facility == "FAIL" || facility == "REQTMOUT"; }

void event_logger::write(const connectivity_notice& n) {
  const std::string since = format_iso8601(event_time::from_micros(n.since.micros()));
  const double seconds = static_cast<double>(n.lasted.count()) / 1e6;
  switch (n.what) {
    case connectivity_notice::kind::unreachable:
      log::warn("kafka brokers unreachable", {{"client", client_}, {"since", since}, {"detail", n.detail},
                                              {"errors_not_logged", n.suppressed}});
      break;
    case connectivity_notice::kind::still_unreachable:
      log::warn("kafka brokers still unreachable", {{"client", client_}, {"since", since}, {"for_s", seconds},
                                                    {"errors_not_logged", n.suppressed}});
      break;
    case connectivity_notice::kind::reachable_again:
      log::info("kafka brokers reachable again", {{"client", client_}, {"unreachable_since", since},
                                                  {"unreachable_for_s", seconds}, {"errors_not_logged", n.suppressed}});
      break;
  }
}

void event_logger::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_ERROR: {
      bool fatal = event.fatal();
      if (!fatal && is_connection_error(event.err())) {
        std::lock_guard<std::mutex> lock(mutex_);
        log::debug("kafka connection error", {{"client", client_}, {"error", RdKafka::err2str(event.err())},
                                              {"detail", event.str()}});
        if (auto n = monitor_.on_connection_error(clock_.now(), event.str())) write(*n);
        break;
      }
      log::write(fatal ? log::level::error : log::level::warn, "kafka client error",
                 {{"client", client_}, {"error", RdKafka::err2str(event.err())}, {"detail", event.str()},
                  {"fatal", fatal}});
      break;
    }
    case RdKafka::Event::EVENT_LOG: {
      if (is_connection_log(event.fac())) {
        std::lock_guard<std::mutex> lock(mutex_);
        log::debug("librdkafka", {{"client", client_}, {"facility", event.fac()}, {"detail", event.str()}});
        if (auto n = monitor_.on_connection_error(clock_.now(), event.str())) write(*n);
        break;
      }
      // syslog severities: 0-3 error, 4 warning, 5-6 info, 7 debug
      int sev = event.severity();
      log::level l = sev <= 3 ? log::level::error : sev == 4 ? log::level::warn : sev <= 6 ? log::level::info : log::level::debug;
      log::write(l, "librdkafka", {{"client", client_}, {"facility", event.fac()}, {"detail", event.str()}});
      break;
    }
    case RdKafka::Event::EVENT_STATS: {
      auto brokers = parse_broker_stats(event.str());
      if (!brokers) break;  // a statistics document without brokers: nothing to learn from it
      if (log::enabled(log::level::debug)) {
        std::string text;
        for (const auto& b : *brokers)
          text += (text.empty() ? "" : "; ") + b.name + " " + b.source + " " + b.state + " waiting=" +
                  std::to_string(b.waiting) + " rxidle_ms=" + std::to_string(b.rx_idle_us / 1000);
        log::debug("kafka brokers", {{"client", client_}, {"brokers", text}});
      }
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& n : monitor_.on_stats(clock_.now(), *brokers)) write(n);
      break;
    }
    default:
      break;
  }
}

}  // namespace tw::kafka
