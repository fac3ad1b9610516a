// What the log says about reaching the brokers: a few clear lines per outage instead of
// librdkafka's stream of per-connection errors, and a line when the brokers are back.
//
//   warn "kafka brokers unreachable"        once, when connection errors have lasted `grace`
//                                           (or the brokers stopped answering for `silence`)
//   warn "kafka brokers still unreachable"  every `reminder` while it lasts
//   info "kafka brokers reachable again"    once, when a broker is up and answering again
// librdkafka's connection errors in between (its FAIL log lines and transport error events) are
// counted in `suppressed`, not logged. A blip shorter than `grace` logs nothing above debug.
//
// Two inputs: connection errors (as they come) and librdkafka's statistics (every
// statistics.interval.ms: per broker its state, requests awaiting a response, and the time since
// it last received anything). A broker frozen with its connection open — SIGSTOP, a hung host —
// sends no error at all for socket.timeout.ms (60 s); the statistics show it as UP with requests
// waiting and nothing received, which is how it is told apart from an idle one. "Waiting" is
// counted from the first statistics that saw a request waiting with nothing received since, not
// from the last receive: the first request after a long idle time is not a frozen broker.
//
// Plain logic; the caller passes the time and writes the notices (event_logger in client.hpp).
// Not thread-safe: event_logger serialises the calls.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/time.hpp"

namespace tw::kafka {

// One broker as librdkafka's statistics describe it.
struct broker_stats {
  std::string name;
  std::string source;      // configured | learned | internal | logical
  std::string state;       // INIT, DOWN, CONNECT, ..., UP
  int64_t waiting = 0;     // waitresp_cnt: requests sent, awaiting a response
  int64_t rx_idle_us = -1; // rxidle: since the last socket receive; -1 before any
};

// The brokers of a statistics document (the "brokers" object only, so that the per-partition
// part, large with hundreds of partitions, is not parsed). nullopt when it has none.
std::optional<std::vector<broker_stats>> parse_broker_stats(std::string_view statistics_json);

struct connectivity_notice {
  enum class kind { unreachable, still_unreachable, reachable_again };
  kind what = kind::unreachable;
  wall_time since;          // when the trouble began
  duration lasted{0};       // so far (or in all, for reachable_again)
  uint64_t suppressed = 0;  // connection errors not logged since the last notice
  std::string detail;       // the first error, or why the brokers count as not answering
};

class connectivity_monitor {
 public:
  struct config {
    duration grace{std::chrono::seconds(2)};
    duration reminder{std::chrono::seconds(30)};
    duration silence{std::chrono::seconds(10)};
  };
  connectivity_monitor() : connectivity_monitor(config{}) {}
  explicit connectivity_monitor(config c) : cfg_(c) {}

  // A connection error (a transport error event, or librdkafka's FAIL log line). The caller logs
  // nothing for it: the monitor's notices say what matters. Returns a notice when the error
  // itself makes one due (an outage past its grace without statistics to tell).
  std::optional<connectivity_notice> on_connection_error(wall_time now, std::string_view detail);
  // A statistics document's brokers.
  std::vector<connectivity_notice> on_stats(wall_time now, const std::vector<broker_stats>& brokers);

  bool in_trouble() const { return state_ != state::ok; }

 private:
  enum class state { ok, trouble, reported };
  bool reachable(wall_time now, const std::vector<broker_stats>& brokers, std::string& why_not);
  std::optional<connectivity_notice> due(wall_time now);
  config cfg_;
  state state_ = state::ok;
  wall_time since_;
  wall_time last_notice_;
  uint64_t suppressed_ = 0;
  std::string detail_;
  bool have_stats_ = false;
  std::map<std::string, wall_time> waiting_since_;  // per broker: requests waiting, nothing received since
};

}  // namespace tw::kafka
