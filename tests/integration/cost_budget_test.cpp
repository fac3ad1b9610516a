// A cost_sum budget alert sees the cost the price table computed exactly as it sees a reported
// one: the judge stage builds each alert fact from the session summary, whose stats.cost_usd is
// the reported or computed figure (state/session_summary.hpp). Through the whole pipeline (a
// file replay: importer, state stage, judge, alert stage), so that no stage can use another figure.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "actors/pipeline.hpp"
#include "config/loader.hpp"
#include "config/options.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tw;
using namespace tw::test;

namespace {

const char* const budget_rule = R"(alerts:
  - name: hourly_budget
    signal:
      cost_sum: {budget: 5.0}
    window: 1h
    every: 1m
    kind: tumbling
    repeat_interval: 0s
    summary: "${{value}} spent this hour"
)";

// Six calls five minutes apart, each with one gpt-4o generation of 100,000 input and 75,000
// output tokens: $0.25 + $0.75 = $1.00 at the built-in list price. `reported`: the events carry
// that cost; otherwise only the tokens. A last event two hours later moves event time past the hour.
std::string calls(bool reported) {
  std::string out;
  auto event = [&](const std::string& id, const std::string& session, const std::string& trace, const char* kind,
                   const std::string& at, const std::string& extra) {
    out += R"({"schema":"tracewatch.event.v1","event_id":")" + id + R"(","session_id":")" + session +
           R"(","trace_id":")" + trace + R"(","observation_id":")" + id + R"(","kind":")" + kind +
           R"(","name":"step","start":")" + at + R"(","timestamp":")" + at + "\"" + extra + "}\n";
  };
  for (int i = 0; i < 6; ++i) {
    const std::string s = "call-" + std::to_string(i);
    const std::string minute = (i * 5 < 10 ? "0" : "") + std::to_string(i * 5);
    for (int t = 0; t < 4; ++t) {
      const std::string at = "2025-03-01T09:" + minute + ":0" + std::to_string(t * 2) + "Z";
      event(s + "-t" + std::to_string(t), s, s + "-t" + std::to_string(t), "trace", at, "");
    }
    event(s + "-g", s, s + "-t0", "generation", "2025-03-01T09:" + minute + ":01Z",
          R"(,"model":"gpt-4o-2024-08-06","input_tokens":100000,"output_tokens":75000)" +
              std::string(reported ? R"(,"cost_usd":1.0)" : ""));
  }
  event("clock", "clock", "clock", "event", "2025-03-01T11:00:00Z", "");
  return out;
}

struct run_output {
  std::string alerts;
  std::string verdicts;
  uint64_t computed = 0, reported = 0;
};

run_output replay(const std::string& input, const std::string& prices) {
  temp_dir dir;
  {
    std::ofstream(dir.sub("rules.yaml")) << budget_rule;
    std::ofstream(dir.sub("in.jsonl")) << input;
  }
  auto s = config::apply_overrides({"state.dir=" + dir.sub("state"), "alerts.rules=" + dir.sub("rules.yaml"),
                                    "completion.gap=30s", "cost.prices=" + prices, "log.level=warn"},
                                   config::defaults());
  REQUIRE(s);
  actors::pipeline p(*s.value, system_clock::instance());
  std::ostringstream sessions, verdicts, alerts;
  actors::replay_options o;
  o.input_path = dir.sub("in.jsonl");
  o.sessions_out = &sessions;
  o.verdicts_out = &verdicts;
  o.alerts_out = &alerts;
  auto r = p.run_replay(o);
  INFO(r.error);
  REQUIRE(r.ok);
  return {alerts.str(), verdicts.str(), p.probes().engine.cost_computed, p.probes().engine.cost_reported};
}

}  // namespace

TEST_CASE("a cost_sum budget fires on computed cost exactly as on the same cost reported") {
  const auto computed = replay(calls(false), "builtin");
  const auto reported = replay(calls(true), "builtin");
  CHECK(computed.computed == 6);
  CHECK(computed.reported == 0);
  CHECK(reported.reported == 6);
  INFO("computed run's alerts:\n" << computed.alerts);
  // The fifth dollar is spent by call-4 (closed at 09:20:36): one critical firing at the next
  // evaluation instant, value 5.
  std::vector<nlohmann::json> events;
  std::istringstream lines(computed.alerts);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) events.push_back(nlohmann::json::parse(line));
  REQUIRE(events.size() >= 1);
  CHECK(events[0]["state"] == "firing");
  CHECK(events[0]["rule"] == "hourly_budget");
  CHECK(events[0]["labels"]["level"] == "critical");
  CHECK(events[0]["value"].get<double>() == Approx(5.0));
  CHECK(events[0]["at"] == "2025-03-01T09:21:00.000Z");
  // The same events, byte for byte, whichever way the cost arrived.
  CHECK(computed.alerts == reported.alerts);
  // And the verdicts carry it too.
  std::istringstream v(computed.verdicts);
  std::string first;
  std::getline(v, first);
  CHECK(nlohmann::json::parse(first)["stats"]["cost_usd"].get<double>() == Approx(1.0));
}

TEST_CASE("with cost.prices off, tokens without a cost add nothing to a cost_sum budget") {
  const auto off = replay(calls(false), "off");
  CHECK(off.computed == 0);
  CHECK(off.alerts.empty());
}
