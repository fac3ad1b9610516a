// The subcommands of the tracewatch binary. Each returns the process exit code:
//   0 success · 1 runtime failure · 2 bad configuration or usage
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tw::app {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

struct config_source {
  std::optional<std::string> file;
  std::vector<std::string> overrides;  // --set key=value
};

int run_command(const config_source& cfg);

struct replay_args {
  config_source cfg;
  std::string input;                    // file, or "-" for stdin
  std::vector<std::string> topics;      // or: these Kafka topics, up to their current end
  std::optional<std::string> out;       // sessions; stdout when absent
  std::optional<std::string> deadletter_out;
  std::optional<std::string> verdicts_out;
  std::optional<std::string> diagnostics_out;
  std::optional<std::string> alerts_out;
  std::optional<std::string> state_dir; // keep state here (default: a temporary directory)
  bool flush = false;
  bool ignore_watermarks = false;       // --topic: the data alone decides
};
int replay_command(const replay_args& a);

struct judge_args {
  config_source cfg;
  std::string input;                    // sessions (tracewatch.session.v1), one per line; "-" for stdin
  std::optional<std::string> rules;     // a rules file (overrides judge.rules)
  std::optional<std::string> out;       // verdicts; stdout when absent
  std::optional<std::string> diagnostics_out;
};
int judge_command(const judge_args& a);
int rules_check_command(const std::string& path);

struct alerts_backtest_args {
  config_source cfg;
  std::string input;                    // sessions or verdicts, one per line; "-" for stdin
  std::optional<std::string> rules;     // overrides alerts.rules
  std::optional<std::string> against;   // previous rules: print the difference
  std::optional<std::string> out;       // stdout when absent
};
int alerts_backtest_command(const alerts_backtest_args& a);

struct demo_args {
  config_source cfg;
  std::optional<std::string> duration;  // e.g. "60s"; runs until interrupted when absent
  double calls_per_second = 1.0;
  uint64_t seed = 1;
  std::optional<std::string> brokers;   // use this cluster instead of the embedded one
  std::optional<std::string> state_dir;
  bool quiet = false;                   // no per-session lines (for tests and benchmarks)
  std::string incident_at = "10s";      // the tool outage starts this long after the start
  std::string incident_for = "25s";     // and lasts this long; 0s: no incident
};
int demo_command(const demo_args& a);

struct generate_args {
  size_t events = 10000;                 // at least this many events (whole calls)
  uint64_t seed = 1;
  std::string start = "2025-01-01T09:00:00Z";  // event time of the first call
  std::string spacing = "2s";            // between call starts
  std::optional<std::string> out;        // file (default stdout)
  std::optional<std::string> topic;      // or produce to this topic
  std::string brokers = "localhost:9092";
};
int generate_command(const generate_args& a);

int config_check_command(const config_source& cfg);
int config_show_command(const config_source& cfg);
int config_docs_command();

}  // namespace tw::app
