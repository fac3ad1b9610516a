// Shared by the end-to-end tests: the binary, generated calls, a mock cluster, reading outputs.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim/call_generator.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/contract_check.hpp"
#include "tests/support/kafka_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/kafka/mock_cluster.hpp"

namespace tw::test {

using namespace std::chrono_literals;

inline const std::string binary = TW_BINARY;

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Short windows so that sessions close within seconds; the generator stays inside them.
inline std::vector<std::string> fast_windows() {
  return {"--set", "completion.gap=5s",          "--set", "completion.settle_delay=500ms",
          "--set", "time.max_out_of_orderness=1s", "--set", "time.idle_timeout=1s",
          "--set", "pipeline.tick_interval=100ms", "--set", "resolve.pending_timeout=10s"};
}

inline sim::generator_options calls_options(uint64_t seed) {
  sim::generator_options o;
  o.seed = seed;
  o.keys = sim::key_mode::trace_id;
  o.turn_interval = 1s;
  o.max_shuffle = 800ms;
  return o;
}

struct generated {
  std::vector<sim::message> messages;
  std::vector<sim::call_plan> plans;
};

inline generated make_calls(uint64_t seed, size_t events, const char* start) {
  sim::call_generator gen(calls_options(seed));
  generated g;
  g.messages = sim::generate_stream(gen, events, *parse_iso8601(start), 2s, &g.plans);
  return g;
}

// The latest revision per session among output lines; checks each line's contract on the way.
inline std::map<std::string, session_summary> latest_sessions(const std::vector<std::string>& payloads) {
  std::map<std::string, session_summary> out;
  for (const auto& p : payloads) {
    INFO(p.substr(0, 300));
    CHECK(contract_violations("tracewatch.session.v1", p).empty());
    auto s = decode_session_json(p);
    REQUIRE(s);
    auto it = out.find(s->session_id);
    if (it == out.end() || it->second.revision < s->revision) out[s->session_id] = *s;
  }
  return out;
}

inline void check_matches_plans(const std::map<std::string, session_summary>& sessions,
                         const std::vector<sim::call_plan>& plans) {
  for (const auto& plan : plans) {
    INFO("session " << plan.session_id);
    auto it = sessions.find(plan.session_id);
    REQUIRE(it != sessions.end());
    const auto& s = it->second;
    CHECK(s.stats.traces == static_cast<uint64_t>(plan.traces));
    CHECK(s.stats.tool_calls == static_cast<uint64_t>(plan.tool_calls));
    CHECK(s.stats.tool_errors == static_cast<uint64_t>(plan.tool_errors));
    CHECK(s.stats.input_tokens == plan.input_tokens);
    CHECK(s.stats.output_tokens == plan.output_tokens);
    CHECK(s.last_event_at == plan.last_event);
  }
}

inline std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct cluster_fixture {
  std::unique_ptr<kafka::mock_cluster> cluster;
  std::string brokers;
  cluster_fixture() {
    REQUIRE(kafka::mock_cluster::start(1, cluster).ok());
    brokers = cluster->bootstrap_servers();
    REQUIRE(cluster->create_topic("traces.raw", 4).ok());
    REQUIRE(cluster->create_topic("tracewatch.sessions", 4).ok());
    REQUIRE(cluster->create_topic("tracewatch.verdicts", 4).ok());
    REQUIRE(cluster->create_topic("tracewatch.diagnostics", 4).ok());
    REQUIRE(cluster->create_topic("tracewatch.deadletter", 1).ok());
  }
  std::vector<std::string> run_args(const std::string& state_dir) const {
    std::vector<std::string> a{"run", "--set", "kafka.bootstrap.servers=" + brokers, "--set", "state.dir=" + state_dir,
                               // a killed member must leave the group quickly for its successor
                               "--set", "kafka.consumer.session.timeout.ms=6000",
                               "--set", "kafka.consumer.heartbeat.interval.ms=500",
                               // any free port: tests run side by side, and beside other checkouts
                               "--set", "http.listen=127.0.0.1:0"};
    auto w = fast_windows();
    a.insert(a.end(), w.begin(), w.end());
    return a;
  }
};


}  // namespace tw::test
