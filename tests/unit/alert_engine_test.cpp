// The alert engine over facts built in code, with a manual clock: the advance() calls are the
// only time there is. Each test states the exact events it expects (rule, state, labels, value,
// instant, start, repeat), because "something fired" would pass with the wrong semantics.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "alerts/alert_rules.hpp"
#include "alerts/alerts.hpp"
#include "model/session.hpp"

using namespace tw;
using namespace tw::alerts;

namespace {


std::shared_ptr<const alert_rule_set> rules_of(const std::string& yaml) {
  auto r = load_alert_rules_yaml(yaml, "test");
  INFO((r.error ? r.error->to_string() : std::string()));
  REQUIRE(r);
  return r.rules;
}

event_time at_s(int64_t s) { return event_time::from_micros(s * 1'000'000); }

alert_fact verdict_at(int64_t s, const std::string& session, verdict_status status,
                             const std::string& intent = "book_appointment") {
  alert_fact f;
  f.at = at_s(s);
  f.session_id = session;
  f.status = status;
  f.intent = intent;
  return f;
}

// "rule state {labels} value=.. samples=.. at=<s> started=<s> repeat=n", times in seconds.
std::string describe(const alert_event& e) {
  std::string labels;
  for (const auto& [k, v] : e.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s %s {%s} value=%.4g samples=%llu at=%lld started=%lld repeat=%u", e.rule.c_str(),
                std::string(to_string(e.state)).c_str(), labels.c_str(), e.value,
                static_cast<unsigned long long>(e.samples), static_cast<long long>(e.at.micros() / 1'000'000),
                static_cast<long long>(e.started_at.micros() / 1'000'000), e.repeat);
  return buf;
}

std::vector<std::string> describe(const std::vector<alert_event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(describe(e));
  return out;
}

// The whole content of each event, for byte-for-byte comparisons between runs.
std::string full(const alert_event& e) {
  std::string s = describe(e) + " id=" + e.alert_id + " threshold=" + std::to_string(e.threshold) +
                  " level=" + std::string(to_string(e.level)) + " summary=" + e.summary + " examples=";
  for (const auto& x : e.examples) s += x + ";";
  if (e.baseline) s += " baseline=" + std::to_string(*e.baseline);
  return s;
}

std::vector<std::string> full(const std::vector<alert_event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(full(e));
  return out;
}

void append(std::vector<alert_event>& to, std::vector<alert_event> more) {
  to.insert(to.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}


// A one-rule file: `body` is the rule's fields after its name, indented by four spaces.
std::string one_rule(const std::string& body) { return "alerts:\n  - name: r\n" + body; }

const verdict_status pass = verdict_status::pass;
const verdict_status fail = verdict_status::fail;
const verdict_status error = verdict_status::error;

}  // namespace

TEST_CASE("an alert is pending for `for`, repeats every repeat_interval, and resolves keep_firing_for after the "
          "condition stops") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_ratio: {numerator: [fail]}}
    window: 60s
    every: 10s
    condition: {op: ">", threshold: 0.5}
    min_samples: 2
    for: 20s
    keep_firing_for: 20s
    repeat_interval: 30s
)")),
                      {});
  for (int i = 5; i <= 7; ++i) engine.apply(verdict_at(i, "s" + std::to_string(i), fail));
  // Pending at 10 and 20, firing at 30 (held for 20 s), repeat at 60; the fails leave the window
  // at 70 (false since 70), resolved 20 s later at 90.
  CHECK(describe(engine.advance(at_s(200))) ==
        std::vector<std::string>{"r firing {} value=1 samples=3 at=30 started=30 repeat=0",
                                 "r firing {} value=1 samples=3 at=60 started=30 repeat=1",
                                 "r resolved {} value=0 samples=0 at=90 started=30 repeat=0"});
  CHECK(engine.firing().empty());
  CHECK(engine.groups() == 0);  // drained and inactive: dropped
}

TEST_CASE("the condition must hold at every evaluation for `for`: a gap restarts the wait") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_count: {statuses: [fail]}}
    window: 10s
    every: 10s
    condition: {op: ">=", threshold: 1}
    for: 20s
)")),
                      {});
  // Fails in [0,10), [10,20), none in [20,30), then [30,40), [40,50), [50,60).
  for (int t : {1, 11, 31, 41, 51}) engine.apply(verdict_at(t, "s" + std::to_string(t), fail));
  CHECK(describe(engine.advance(at_s(61))) ==
        std::vector<std::string>{"r firing {} value=1 samples=1 at=60 started=60 repeat=0"});
}

TEST_CASE("min_samples: below it the condition is false, at it the rule decides") {
  struct row {
    const char* description;
    int fails;
    size_t events;
  };
  const row rows[] = {{"one fail short of min_samples is not an alert", 2, 0},
                      {"exactly min_samples fires", 3, 2}};
  for (const auto& r : rows) {
    SECTION(r.description) {
      alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_ratio: {numerator: [fail]}}
    window: 60s
    every: 60s
    condition: {op: ">", threshold: 0.5}
    min_samples: 3
)")),
                          {});
      for (int i = 0; i < r.fails; ++i) engine.apply(verdict_at(10 + i, "s" + std::to_string(i), fail));
      CHECK(engine.advance(at_s(200)).size() == r.events);
    }
  }
}

TEST_CASE("every signal computes its documented value") {
  struct row {
    const char* description;
    std::string signal;
    std::string condition;
    std::string group_by;
    std::vector<alert_fact> facts;
    std::vector<std::string> expected;  // the firing events at instant 60
  };
  auto with_tools = [](int64_t s, const std::string& id, std::vector<tool_sample> tools) {
    alert_fact f = verdict_at(s, id, pass);
    f.tools = std::move(tools);
    return f;
  };
  auto with_llm = [](int64_t s, const std::string& id, std::vector<llm_sample> calls) {
    alert_fact f = verdict_at(s, id, pass);
    f.llm_calls = std::move(calls);
    return f;
  };
  auto with_cost = [](int64_t s, const std::string& id, double usd) {
    alert_fact f = verdict_at(s, id, pass);
    f.cost_usd = usd;
    return f;
  };
  auto dead = [](int64_t s, const std::string& reason) {
    alert_fact f;
    f.what = alert_fact::kind::deadletter;
    f.at = at_s(s);
    f.reason = reason;
    return f;
  };
  const auto ms = [](int64_t v) { return std::optional<duration>(std::chrono::milliseconds(v)); };
  const std::vector<row> rows = {
      {"verdict_ratio: numerator over every judged status", "{verdict_ratio: {numerator: [fail, error]}}",
       "{op: \">\", threshold: 0.4}", "",
       {verdict_at(1, "a", fail), verdict_at(2, "b", error), verdict_at(3, "c", pass), verdict_at(4, "d", pass),
        verdict_at(5, "e", verdict_status::abandoned)},
       {"r firing {} value=0.5 samples=4 at=60 started=60 repeat=0"}},
      {"verdict_count per minute: the count over the window's minutes", "{verdict_count: {statuses: [fail], rate: per_minute}}",
       "{op: \">=\", threshold: 3}", "",
       {verdict_at(1, "a", fail), verdict_at(2, "b", fail), verdict_at(3, "c", fail), verdict_at(4, "d", pass)},
       {"r firing {} value=3 samples=3 at=60 started=60 repeat=0"}},
      {"deadletter_count: only the listed reasons", "{deadletter_count: {reasons: [bad_payload]}}",
       "{op: \">=\", threshold: 2}", "",
       {dead(1, "bad_payload"), dead(2, "bad_payload"), dead(3, "too_large"), verdict_at(4, "x", fail)},
       {"r firing {} value=2 samples=2 at=60 started=60 repeat=0"}},
      {"tool_error_ratio per tool: failed calls over calls of each tool", "{tool_error_ratio: {}}",
       "{op: \">\", threshold: 0.4}", "[tool]",
       {with_tools(1, "a", {{"lookup_patient", true, {}}, {"lookup_patient", false, {}}, {"schedule_appointment", false, {}}}),
        with_tools(2, "b", {{"check_availability", true, {}}})},
       {"r firing {tool=lookup_patient} value=0.5 samples=2 at=60 started=60 repeat=0",
        "r firing {tool=schedule_appointment} value=1 samples=1 at=60 started=60 repeat=0"}},
      {"tool_call_ratio: sessions that called the tool over sessions", "{tool_call_ratio: {tools: [transfer_to_human]}}",
       "{op: \">\", threshold: 0.3}", "",
       {with_tools(1, "a", {{"transfer_to_human", true, {}}, {"transfer_to_human", true, {}}}),
        with_tools(2, "b", {{"lookup_patient", true, {}}}), verdict_at(3, "c", pass)},
       {"r firing {} value=0.3333 samples=3 at=60 started=60 repeat=0"}},
      {"llm_error_ratio per model", "{llm_error_ratio: {}}", "{op: \">\", threshold: 0.1}", "[model]",
       {with_llm(1, "a", {{"gpt-a", false, {}}, {"gpt-a", true, {}}, {"gpt-b", true, {}}})},
       {"r firing {model=gpt-a} value=0.5 samples=2 at=60 started=60 repeat=0"}},
      {"latency p50 over every call: the histogram bucket's midpoint (within 0.8%)", "{latency: {of: llm, percentile: 50}}",
       "{op: \">\", threshold: 150}", "",
       {with_llm(1, "a", {{"m", true, ms(100)}, {"m", false, ms(300)}}), with_llm(2, "b", {{"m", true, ms(200)}})},
       {"r firing {} value=199.7 samples=3 at=60 started=60 repeat=0"}},
      {"latency of tools: p95 of 20 calls is the 19th (19 ms, reported as its bucket's 19.07)", "{latency: {of: tool, percentile: 95}}",
       "{op: \">=\", threshold: 0}", "",
       {[&] {
         std::vector<tool_sample> calls;
         for (int i = 1; i <= 20; ++i) calls.push_back({"t", true, ms(i)});
         return with_tools(1, "a", calls);
       }()},
       {"r firing {} value=19.07 samples=20 at=60 started=60 repeat=0"}},
      {"cost_sum without a budget: USD summed, compared by the condition", "{cost_sum: {}}", "{op: \">\", threshold: 1}", "",
       {with_cost(1, "a", 0.6), with_cost(2, "b", 0.7), verdict_at(3, "c", pass)},
       {"r firing {} value=1.3 samples=2 at=60 started=60 repeat=0"}},
  };
  for (const auto& r : rows) {
    SECTION(r.description) {
      std::string body = "    signal: " + r.signal + "\n    window: 60s\n    every: 60s\n    condition: " + r.condition + "\n";
      if (!r.group_by.empty()) body += "    group_by: " + r.group_by + "\n";
      alert_engine engine(rules_of(one_rule(body)), {});
      for (const auto& f : r.facts) engine.apply(f);
      CHECK(describe(engine.advance(at_s(61))) == r.expected);
    }
  }
}

TEST_CASE("examples are the sessions that count against the condition, largest (score, at, id) first") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_ratio: {numerator: [fail]}}
    window: 60s
    every: 60s
    condition: {op: ">", threshold: 0.1}
)")),
                      engine_limits{1000, 2});
  // Arrival order must not matter: the latest two failures are the evidence.
  for (auto f : {verdict_at(30, "c", fail), verdict_at(10, "a", fail), verdict_at(50, "z", pass), verdict_at(40, "d", fail)})
    engine.apply(f);
  auto events = engine.advance(at_s(61));
  REQUIRE(events.size() == 1);
  CHECK(events[0].examples == std::vector<std::string>{"d", "c"});
}

TEST_CASE("absence fires through a long quiet stretch without visiting every instant, and resolves on the next fact") {
  const std::string rule = one_rule(R"(    signal: {absence: {}}
    window: 60s
    every: 60s
    repeat_interval: 1h
)");
  const int64_t quiet = 10 * 86400;
  alert_engine jump(rules_of(rule), {});
  jump.apply(verdict_at(30, "a", pass));
  auto events = jump.advance(at_s(quiet));
  // The fact is in the window of 60; the window of 120 is empty: firing, then a repeat every hour.
  REQUIRE(events.size() == 1 + (quiet - 120 - 1) / 3600);
  CHECK(describe(events[0]) == "r firing {} value=0 samples=0 at=120 started=120 repeat=0");
  CHECK(describe(events[1]) == "r firing {} value=0 samples=0 at=3720 started=120 repeat=1");
  CHECK(jump.counters().evaluations < 300);  // one visit per decision, not one per minute

  alert_engine steps(rules_of(rule), {});
  steps.apply(verdict_at(30, "a", pass));
  std::vector<alert_event> stepped;
  for (int64_t t = 1; t <= quiet; t += 60) append(stepped, steps.advance(at_s(t)));
  append(stepped, steps.advance(at_s(quiet)));
  CHECK(full(stepped) == full(events));

  jump.apply(verdict_at(quiet + 5, "b", pass));
  CHECK(describe(jump.advance(at_s(quiet + 100))) ==
        std::vector<std::string>{"r resolved {} value=1 samples=1 at=864060 started=120 repeat=0"});
}

TEST_CASE("absence fires even when no fact ever fed the rule, once the engine has seen one") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {absence: {statuses: [pass]}}
    window: 60s
    every: 60s
)")),
                      {});
  CHECK(engine.advance(at_s(1000)).empty());  // no data yet: no history to evaluate
  engine.apply(verdict_at(1010, "a", fail));  // not a pass: the rule counts none
  CHECK(describe(engine.advance(at_s(1100))) ==
        std::vector<std::string>{"r firing {} value=0 samples=0 at=1020 started=1020 repeat=0"});
}

TEST_CASE("a tumbling budget fires its warning and critical levels as separate alerts and resets at the hour") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {cost_sum: {budget: 10, warn_at: 0.5}}
    window: 1h
    every: 1m
    kind: tumbling
)")),
                      {});
  auto cost = [](int64_t s, const std::string& id, double usd) {
    alert_fact f = verdict_at(s, id, pass);
    f.cost_usd = usd;
    return f;
  };
  engine.apply(cost(100, "a", 3));
  engine.apply(cost(700, "b", 3));
  engine.apply(cost(1300, "c", 5));
  const auto events = engine.advance(at_s(4000));
  CHECK(describe(events) ==
        std::vector<std::string>{"r firing {level=warning} value=6 samples=2 at=720 started=720 repeat=0",
                                 "r firing {level=critical} value=11 samples=3 at=1320 started=1320 repeat=0",
                                 "r resolved {level=warning} value=0 samples=0 at=3660 started=720 repeat=0",
                                 "r resolved {level=critical} value=0 samples=0 at=3660 started=1320 repeat=0"});
  CHECK(events[0].level == severity::warning);
  CHECK(events[0].threshold == 5);
  CHECK(events[1].level == severity::critical);
  CHECK(events[1].threshold == 10);
  CHECK(events[0].alert_id != events[1].alert_id);
}

TEST_CASE("change compares against the previous window or the mean of several") {
  struct row {
    const char* description;
    std::string change;
    std::string threshold;
    std::vector<int> counts;  // verdicts per minute from 0
    std::vector<std::string> expected;
  };
  const std::vector<row> rows = {
      {"previous: twice the preceding window is a change of 1.0", "{against: previous}", "1.0", {2, 4},
       {"r firing {} value=4 samples=4 at=120 started=120 repeat=0",
        "r resolved {} value=0 samples=0 at=180 started=120 repeat=0"}},
      {"baseline: against the mean of two windows (2 and 4: 3), 9 is a change of 2", "{against: baseline, windows: 2}",
       "1.5", {2, 4, 9},
       {"r firing {} value=9 samples=9 at=180 started=180 repeat=0",
        "r resolved {} value=0 samples=0 at=240 started=180 repeat=0"}},
      {"no baseline samples: never fires, however large the value", "{against: previous}", "0", {0, 50}, {}},
  };
  for (const auto& r : rows) {
    SECTION(r.description) {
      alert_engine engine(rules_of(one_rule("    signal: {verdict_count: {}}\n    window: 60s\n    every: 60s\n"
                                            "    change: " + r.change + "\n    condition: {op: \">=\", threshold: " +
                                            r.threshold + "}\n")),
                          {});
      for (size_t minute = 0; minute < r.counts.size(); ++minute)
        for (int i = 0; i < r.counts[minute]; ++i)
          engine.apply(verdict_at(static_cast<int64_t>(minute) * 60 + 1 + i, "m" + std::to_string(minute) + "-" + std::to_string(i), pass));
      CHECK(describe(engine.advance(at_s(600))) == r.expected);
    }
  }
}

TEST_CASE("a quality drop: the success ratio 10% below its baseline fires with the baseline on the event") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_ratio: {numerator: [pass]}}
    window: 60s
    every: 60s
    change: {against: baseline, windows: 2}
    condition: {op: "<", threshold: -0.1}
)")),
                      {});
  // Minutes 0 and 1: 9 of 10 pass; minute 2: 7 of 10 (0.7 against 0.9: -22%).
  for (int m = 0; m < 3; ++m)
    for (int i = 0; i < 10; ++i)
      engine.apply(verdict_at(m * 60 + i, std::to_string(m) + "-" + std::to_string(i), i < (m == 2 ? 7 : 9) ? pass : fail));
  auto events = engine.advance(at_s(181));
  REQUIRE(describe(events) == std::vector<std::string>{"r firing {} value=0.7 samples=10 at=180 started=180 repeat=0"});
  REQUIRE(events[0].baseline);
  CHECK(*events[0].baseline == Approx(0.9));
}

TEST_CASE("label sets beyond max_groups_per_rule fold into 'other'") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_count: {}}
    window: 60s
    every: 60s
    condition: {op: ">=", threshold: 1}
    group_by: [intent]
)")),
                      engine_limits{2, 5});
  for (auto intent : {"a", "b", "c", "d", "a"}) engine.apply(verdict_at(1, std::string("s-") + intent, pass, intent));
  CHECK(describe(engine.advance(at_s(61))) ==
        std::vector<std::string>{"r firing {intent=a} value=2 samples=2 at=60 started=60 repeat=0",
                                 "r firing {intent=b} value=1 samples=1 at=60 started=60 repeat=0",
                                 "r firing {intent=other} value=2 samples=2 at=60 started=60 repeat=0"});
  CHECK(engine.counters().folded == 2);
  CHECK(engine.groups() == 3);
}

TEST_CASE("a group with too few samples is not visited as its buckets leave, and is dropped when it would have been") {
  // A baseline of 6 windows: a bucket enters the current window at 60 and then moves through the
  // six preceding ones, leaving its last at 420, where the group is dropped.
  auto rule = [](int min_samples) {
    return rules_of(one_rule("    signal: {verdict_count: {}}\n    window: 60s\n    every: 60s\n"
                             "    change: {against: baseline, windows: 6}\n"
                             "    condition: {op: \">=\", threshold: 100}\n    min_samples: " +
                             std::to_string(min_samples) + "\n    group_by: [intent]\n"));
  };
  SECTION("enough samples: visited until the current window is empty, then where it is dropped") {
    alert_engine engine(rule(1), engine_limits{1, 5});
    engine.apply(verdict_at(1, "a", pass, "x"));
    CHECK(engine.advance(at_s(421)).empty());
    // 60: decided over one sample; 120: the bucket moved to the baseline, the window is empty and
    // can only stay so (not 180, 240, ... as it moves on); 420: its last window left, dropped.
    CHECK(engine.counters().evaluations == 3);
    CHECK(engine.groups() == 0);
  }
  SECTION("too few: visited only where it is dropped") {
    alert_engine engine(rule(3), engine_limits{1, 5});
    engine.apply(verdict_at(1, "a", pass, "x"));
    CHECK(engine.advance(at_s(420)).empty());
    CHECK(engine.counters().evaluations == 0);
    CHECK(engine.groups() == 1);
    // Still live until 420: a new label set folds into "other", as it would had every instant
    // been visited.
    engine.apply(verdict_at(419, "b", pass, "y"));
    CHECK(engine.counters().folded == 1);
    CHECK(engine.advance(at_s(421)).empty());
    CHECK(engine.counters().evaluations == 1);  // x dropped at 420; "other" is starved too
    CHECK(engine.groups() == 1);
    engine.apply(verdict_at(430, "c", pass, "z"));
    CHECK(engine.counters().folded == 2);  // "other" holds the one place
  }
}

TEST_CASE("skipping starved groups changes no event, no group count and no fold, whatever the stream") {
  // Sliding and tumbling windows, baselines, min_samples from 0 to 5, folding (max 6 groups): a
  // sparse stream over many agents with bursts, out of order within a minute, advanced at random.
  const auto rules = rules_of(R"(alerts:
  - name: failures
    signal: {verdict_ratio: {numerator: [fail, error]}}
    window: 2m
    every: 30s
    condition: {op: ">", threshold: 0.5}
    min_samples: 3
    for: 30s
    keep_firing_for: 30s
    repeat_interval: 5m
    group_by: [agent]
  - name: drop
    signal: {verdict_ratio: {numerator: [pass]}}
    window: 1m
    every: 1m
    change: {against: baseline, windows: 3}
    condition: {op: "<", threshold: -0.2}
    min_samples: 2
    group_by: [agent]
  - name: volume
    signal: {verdict_count: {}}
    window: 10m
    kind: tumbling
    every: 1m
    condition: {op: ">=", threshold: 4}
    min_samples: 2
    group_by: [intent, agent]
  - name: spend
    signal: {cost_sum: {}}
    window: 3m
    every: 20s
    condition: {op: ">", threshold: 0.05}
    min_samples: 0
    group_by: [agent]
  - name: tools
    signal: {tool_error_ratio: {}}
    window: 90s
    every: 30s
    condition: {op: ">", threshold: 0.5}
    min_samples: 5
    keep_firing_for: 1m
    group_by: [tool]
)");
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL;
    auto next = [&](uint64_t n) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      return (x >> 33) % n;
    };
    std::vector<alert_fact> facts;
    for (int64_t t = 0; t < 4 * 3600;) {
      const bool burst = next(12) == 0;
      for (uint64_t k = 0, n = burst ? 3 + next(8) : 1; k < n; ++k) {
        const std::string agent = "a" + std::to_string(burst ? 0 : next(12));
        alert_fact f = verdict_at(t + static_cast<int64_t>(next(60)), "s" + std::to_string(facts.size()),
                                  next(3) == 0 ? fail : pass, next(2) == 0 ? "book" : "cancel");
        f.agent = agent;
        f.cost_usd = 0.01 * static_cast<double>(next(4));
        f.tools = {{"lookup", next(3) != 0, std::optional<duration>(std::chrono::milliseconds(50))}};
        facts.push_back(std::move(f));
      }
      t += 10 + static_cast<int64_t>(next(burst ? 30 : 400));
    }
    std::vector<std::vector<std::string>> runs;
    std::vector<std::vector<size_t>> groups;
    std::vector<uint64_t> folded;
    for (bool skip : {false, true}) {
      alert_engine engine(rules, engine_limits{6, 3, skip});
      std::vector<alert_event> events;
      std::vector<size_t> sizes;
      uint64_t y = seed;
      for (const auto& f : facts) {
        y = y * 6364136223846793005ULL + 1;
        if ((y >> 40) % 3 == 0) {
          // Behind the facts by a minute: facts up to a minute out of order are never late.
          append(events, engine.advance(f.at - std::chrono::seconds(60)));
          sizes.push_back(engine.groups());
        }
        engine.apply(f);
      }
      append(events, engine.flush());
      sizes.push_back(engine.groups());
      runs.push_back(full(events));
      groups.push_back(sizes);
      folded.push_back(engine.counters().folded);
      if (skip) CHECK(engine.counters().late == 0);
    }
    INFO("seed " << seed);
    CHECK(runs[0].size() > 2);
    CHECK(runs[1] == runs[0]);
    CHECK(groups[1] == groups[0]);
    CHECK(folded[1] == folded[0]);
  }
}

TEST_CASE("an inhibiting alert suppresses its targets' firings and repeats, and announced targets still resolve") {
  alert_engine engine(rules_of(R"(alerts:
  - name: provider
    signal: {verdict_count: {statuses: [error]}}
    window: 60s
    every: 60s
    condition: {op: ">=", threshold: 1}
    inhibits: {rules: [failures]}
  - name: failures
    signal: {verdict_count: {statuses: [fail]}}
    window: 60s
    every: 60s
    condition: {op: ">=", threshold: 1}
    repeat_interval: 60s
    group_by: [intent]
)"),
                      {});
  engine.apply(verdict_at(10, "a1", fail, "a"));   // [0,60): failures{a} fires at 60
  engine.apply(verdict_at(70, "e1", error, "a"));  // [60,120): provider fires at 120...
  engine.apply(verdict_at(71, "a2", fail, "a"));   // ... so failures{a}'s repeat is suppressed
  engine.apply(verdict_at(72, "b1", fail, "b"));   // ... and failures{b} is never announced
  CHECK(describe(engine.advance(at_s(300))) ==
        std::vector<std::string>{"failures firing {intent=a} value=1 samples=1 at=60 started=60 repeat=0",
                                 "provider firing {} value=1 samples=1 at=120 started=120 repeat=0",
                                 "provider resolved {} value=0 samples=0 at=180 started=120 repeat=0",
                                 "failures resolved {intent=a} value=0 samples=0 at=180 started=60 repeat=0"});
  CHECK(engine.counters().inhibited == 3);  // a's repeat, b's firing, b's resolution
}

TEST_CASE("an inhibited target is announced once its inhibitor stops firing") {
  alert_engine engine(rules_of(R"(alerts:
  - name: provider
    signal: {verdict_count: {statuses: [error]}}
    window: 60s
    every: 60s
    condition: {op: ">=", threshold: 1}
    inhibits: {rules: [failures]}
  - name: failures
    signal: {verdict_count: {statuses: [fail]}}
    window: 120s
    every: 60s
    condition: {op: ">=", threshold: 1}
)"),
                      {});
  engine.apply(verdict_at(10, "e1", error));
  engine.apply(verdict_at(20, "f1", fail));
  CHECK(describe(engine.advance(at_s(300))) ==
        std::vector<std::string>{"provider firing {} value=1 samples=1 at=60 started=60 repeat=0",
                                 "provider resolved {} value=0 samples=0 at=120 started=60 repeat=0",
                                 "failures firing {} value=1 samples=1 at=120 started=120 repeat=0",
                                 "failures resolved {} value=0 samples=0 at=180 started=120 repeat=0"});
}

TEST_CASE("late facts and later revisions are counted, not applied") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_count: {}}
    window: 60s
    every: 60s
    condition: {op: ">=", threshold: 2}
)")),
                      {});
  engine.apply(verdict_at(10, "a", pass));
  CHECK(engine.advance(at_s(61)).empty());
  engine.apply(verdict_at(30, "b", pass));  // its instant (60) was evaluated: late
  alert_fact again = verdict_at(70, "a", fail);
  again.revision = 2;                       // the session already contributed
  engine.apply(again);
  engine.apply(verdict_at(75, "c", pass));
  CHECK(engine.advance(at_s(121)).empty());
  CHECK(engine.counters().late == 1);
  CHECK(engine.counters().revisions_ignored == 1);
  CHECK(engine.counters().facts == 4);
  engine.apply(verdict_at(130, "d", pass));
  engine.apply(verdict_at(131, "e", pass));
  CHECK(describe(engine.advance(at_s(181))) ==
        std::vector<std::string>{"r firing {} value=2 samples=2 at=180 started=180 repeat=0"});
}

TEST_CASE("the clock never recedes, and an instant is evaluated only once the clock passes it") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_count: {}}
    window: 60s
    every: 60s
    condition: {op: ">=", threshold: 1}
)")),
                      {});
  engine.apply(verdict_at(10, "a", pass));
  CHECK(engine.advance(at_s(60)).empty());  // 60 is not passed by 60
  CHECK(engine.advance(at_s(30)).empty());
  CHECK(engine.clock() == at_s(60));
  CHECK(engine.advance(at_s(60) + duration(1)).size() == 1);
}

TEST_CASE("flush resolves what fires at the end of the data, and leaves absence alone") {
  alert_engine engine(rules_of(R"(alerts:
  - name: failures
    signal: {verdict_count: {statuses: [fail]}}
    window: 60s
    every: 30s
    condition: {op: ">=", threshold: 1}
    keep_firing_for: 60s
  - name: quiet
    signal: {absence: {}}
    window: 60s
    every: 60s
)"),
                      {});
  engine.apply(verdict_at(10, "a", fail));
  CHECK(describe(engine.advance(at_s(31))) ==
        std::vector<std::string>{"failures firing {} value=1 samples=1 at=30 started=30 repeat=0"});
  // The fail leaves the window at 90; kept firing 60 s more.
  CHECK(describe(engine.flush()) ==
        std::vector<std::string>{"failures resolved {} value=0 samples=0 at=150 started=30 repeat=0"});
  CHECK(engine.firing().empty());
}

namespace {

std::optional<duration> ms(int64_t v) { return std::chrono::milliseconds(v); }

// A demo-like stream: a call closes every 7 s, intents in turn; schedule_appointment is down from
// 600 s to 720 s (its calls fail, and so do those sessions), the LLM provider fails from 1500 s to
// 1620 s; about one call in ten is transferred. Deterministic (a fixed LCG).
std::vector<alert_fact> demo_stream(int64_t until) {
  std::vector<alert_fact> out;
  uint64_t x = 12345;
  auto next = [&] {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x >> 33;
  };
  const char* intents[] = {"book_appointment", "cancel_appointment", "reschedule_appointment", "general_question"};
  int i = 0;
  for (int64_t t = 3; t < until; t += 7, ++i) {
    alert_fact f = verdict_at(t, "s" + std::to_string(i), pass, intents[i % 4]);
    const bool outage = t >= 600 && t < 720;
    f.tools = {{"lookup_patient", true, ms(80 + static_cast<int64_t>(next() % 40))},
               {"schedule_appointment", !outage && next() % 20 != 0, ms(200 + static_cast<int64_t>(next() % 300))}};
    if (!f.tools[1].ok) f.status = fail;
    f.llm_calls = {{"gpt-4o", !(t >= 1500 && t < 1620), ms(600 + static_cast<int64_t>(next() % 5000))}};
    if (!f.llm_calls[0].ok) f.status = error;
    if (next() % 10 == 0) f.tools.push_back({"transfer_to_human", true, ms(10)});
    f.models = {"gpt-4o"};
    f.cost_usd = 0.01 * static_cast<double>(1 + next() % 5);
    out.push_back(std::move(f));
  }
  return out;
}

std::shared_ptr<const alert_rule_set> builtin() {
  auto r = builtin_alert_rules();
  INFO((r.error ? r.error->to_string() : std::string()));
  REQUIRE(r);
  return r.rules;
}

// One step of a run: apply a fact, advance the clock, or flush.
struct step {
  std::optional<alert_fact> fact;
  event_time to;
  bool flush = false;
};

std::vector<alert_event> run_steps(alert_engine& engine, const std::vector<step>& steps, size_t from, size_t to,
                                   std::map<std::string, std::string>* store) {
  std::vector<alert_event> out;
  for (size_t i = from; i < to; ++i) {
    const step& s = steps[i];
    if (s.fact) engine.apply(*s.fact);
    else if (s.flush) append(out, engine.flush());
    else append(out, engine.advance(s.to));
    if (store)
      engine.take_changes([&](std::string_view key, const std::optional<std::string>& value) {
        if (value) (*store)[std::string(key)] = *value;
        else store->erase(std::string(key));
      });
  }
  return out;
}

}  // namespace

TEST_CASE("the built-in tool_error_spike fires within a minute of a tool outage and resolves after recovery") {
  alert_engine engine(builtin(), {});
  std::vector<alert_event> events;
  for (const auto& f : demo_stream(1200)) {
    append(events, engine.advance(f.at));
    engine.apply(f);
  }
  append(events, engine.flush());
  std::vector<alert_event> spikes;
  for (const auto& e : events)
    if (e.rule == "tool_error_spike") spikes.push_back(e);
  REQUIRE(spikes.size() == 2);
  CHECK(spikes[0].state == alert_state::firing);
  CHECK(spikes[0].labels == std::vector<std::pair<std::string, std::string>>{{"tool", "schedule_appointment"}});
  CHECK(spikes[0].at > at_s(600));
  CHECK(spikes[0].at <= at_s(660));
  CHECK(spikes[1].state == alert_state::resolved);
  CHECK(spikes[1].at > at_s(720));
  CHECK(spikes[1].at <= at_s(900));
  CHECK(spikes[1].started_at == spikes[0].at);
}

TEST_CASE("the built-in LLM provider rule fires on provider errors and keeps the per-intent failures quiet") {
  alert_engine engine(builtin(), {});
  std::vector<alert_event> events;
  for (const auto& f : demo_stream(2400)) {
    if (f.at < at_s(1200)) continue;  // past the tool outage
    append(events, engine.advance(f.at));
    engine.apply(f);
  }
  append(events, engine.flush());
  std::vector<std::string> rules;
  for (const auto& e : events)
    if (e.state == alert_state::firing && e.repeat == 0) rules.push_back(e.rule);
  CHECK(std::count(rules.begin(), rules.end(), "llm_provider_errors") == 1);
  CHECK(std::count(rules.begin(), rules.end(), "intent_success_rate") == 0);
  CHECK(engine.counters().inhibited > 0);
}

TEST_CASE("how often the clock is advanced does not change the events") {
  const auto facts = demo_stream(2400);
  struct row {
    const char* description;
    int64_t advance_every;  // seconds of event time between advances; 0: only at the end
  };
  const row rows[] = {{"advanced before every fact", 1}, {"advanced every 10 minutes", 600}, {"advanced once", 0}};
  std::vector<std::string> reference;
  for (const auto& r : rows) {
    alert_engine engine(builtin(), {});
    std::vector<alert_event> events;
    event_time last;
    for (const auto& f : facts) {
      if (r.advance_every > 0 && f.at - last >= std::chrono::seconds(r.advance_every)) {
        append(events, engine.advance(f.at));
        last = f.at;
      }
      engine.apply(f);
    }
    append(events, engine.advance(at_s(2400)));
    append(events, engine.flush());
    INFO(r.description);
    CHECK(engine.counters().late == 0);
    if (reference.empty()) {
      reference = full(events);
      CHECK(reference.size() > 5);
    } else {
      CHECK(full(events) == reference);
    }
  }
}

TEST_CASE("stopping at any point and restoring from take_changes gives the events of an uninterrupted run") {
  std::vector<step> steps;
  for (const auto& f : demo_stream(1000)) {
    steps.push_back({std::nullopt, f.at});
    steps.push_back({f, {}});
  }
  steps.push_back({std::nullopt, at_s(2600)});  // a quiet stretch: no_verdicts fires
  steps.push_back({verdict_at(2610, "late-night", pass), {}});
  steps.push_back({std::nullopt, at_s(2700)});
  steps.push_back({std::nullopt, {}, true});

  alert_engine whole(builtin(), {});
  std::map<std::string, std::string> ignored;
  const auto reference = full(run_steps(whole, steps, 0, steps.size(), &ignored));
  REQUIRE(reference.size() > 5);

  for (size_t split = 0; split <= steps.size(); ++split) {
    std::map<std::string, std::string> store;
    alert_engine before(builtin(), {});
    auto events = run_steps(before, steps, 0, split, &store);
    alert_engine after(builtin(), {});
    const auto message = after.restore({store.begin(), store.end()});
    INFO("split at step " << split);
    REQUIRE_FALSE(message);
    append(events, run_steps(after, steps, split, steps.size(), nullptr));
    REQUIRE(full(events) == reference);
  }
}

TEST_CASE("take_changes hands over only what changed, and deletes dropped groups") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_count: {}}
    window: 60s
    every: 60s
    condition: {op: ">=", threshold: 5}
    group_by: [intent]
)")),
                      {});
  std::map<std::string, std::optional<std::string>> changes;
  auto take = [&] {
    changes.clear();
    engine.take_changes([&](std::string_view k, const std::optional<std::string>& v) { changes[std::string(k)] = v; });
  };
  engine.apply(verdict_at(10, "a", pass, "x"));
  engine.apply(verdict_at(11, "b", pass, "y"));
  take();
  CHECK(changes.size() == 3);  // the engine entry and two groups
  take();
  CHECK(changes.empty());
  engine.advance(at_s(200));  // both groups drained: dropped
  take();
  size_t deleted = 0;
  for (const auto& [k, v] : changes) deleted += v ? 0 : 1;
  CHECK(deleted == 2);
  CHECK(changes.size() == 3);
}

TEST_CASE("a group that comes and goes between two take_changes is neither written nor deleted") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_count: {}}
    window: 60s
    every: 60s
    condition: {op: ">=", threshold: 5}
    group_by: [intent]
)")),
                      {});
  std::map<std::string, std::optional<std::string>> changes;
  auto take = [&] {
    changes.clear();
    engine.take_changes([&](std::string_view k, const std::optional<std::string>& v) { changes[std::string(k)] = v; });
  };
  engine.apply(verdict_at(10, "a", pass, "x"));
  take();
  REQUIRE(changes.size() == 2);  // the engine entry and group x: x is stored now
  engine.apply(verdict_at(70, "b", pass, "y"));  // y comes ...
  engine.advance(at_s(300));                     // ... and both drain
  take();
  size_t deleted = 0, written = 0;
  for (const auto& [k, v] : changes) (v ? written : deleted) += 1;
  CHECK(deleted == 1);  // x only: y was never handed over
  CHECK(written == 1);  // the engine entry
  // y back again: written as new, and its later drop is a deletion.
  engine.apply(verdict_at(400, "c", pass, "y"));
  take();
  REQUIRE(changes.size() == 1);  // group y (the engine entry did not change)
  CHECK(changes.begin()->second.has_value());
  engine.advance(at_s(600));
  take();
  deleted = 0;
  for (const auto& [k, v] : changes) deleted += v ? 0 : 1;
  CHECK(deleted == 1);
}

TEST_CASE("restore drops entries it cannot read or whose rule is gone, and says so") {
  alert_engine engine(rules_of(one_rule(R"(    signal: {verdict_count: {}}
    window: 60s
    every: 60s
    condition: {op: ">=", threshold: 5}
)")),
                      {});
  engine.apply(verdict_at(10, "a", pass));
  std::vector<std::pair<std::string, std::string>> entries;
  engine.take_changes([&](std::string_view k, const std::optional<std::string>& v) { entries.emplace_back(k, *v); });
  entries.emplace_back("g\x01zz\x00", "\x01");
  entries.emplace_back("?", "x");
  alert_engine other(rules_of("alerts:\n  - name: other\n    signal: {verdict_count: {}}\n    window: 60s\n"
                              "    condition: {op: \">\", threshold: 1}\n"),
                     {});
  auto message = other.restore(entries);
  REQUIRE(message);
  CHECK(message->find("dropped 2 unreadable entries and 1 entries") != std::string::npos);
  CHECK(other.groups() == 0);
}

TEST_CASE("a fact survives encode and decode, and garbage decodes to nothing") {
  alert_fact f = verdict_at(1234, "sess-1", verdict_status::partial, "cancel_appointment");
  f.revision = 3;
  f.agent = "front-desk";
  f.models = {"gpt-4o", "gpt-4o-mini"};
  f.cost_usd = 0.0125;
  f.session_duration = std::chrono::seconds(95);
  f.tools = {{"lookup_patient", true, ms(120)}, {"cancel_appointment", false, std::nullopt}};
  f.llm_calls = {{"gpt-4o", false, ms(3100)}};
  const std::string bytes = encode_fact(f);
  auto back = decode_fact(bytes);
  REQUIRE(back);
  CHECK(encode_fact(*back) == bytes);
  CHECK(back->session_id == "sess-1");
  CHECK(back->revision == 3);
  CHECK(back->status == verdict_status::partial);
  CHECK(back->models == f.models);
  CHECK(back->cost_usd == f.cost_usd);
  CHECK(back->tools.size() == 2);
  CHECK_FALSE(back->tools[1].ok);
  CHECK_FALSE(back->tools[1].latency);
  CHECK(back->llm_calls[0].latency == ms(3100));

  alert_fact d;
  d.what = alert_fact::kind::deadletter;
  d.at = at_s(5);
  d.reason = "bad_payload";
  auto dl = decode_fact(encode_fact(d));
  REQUIRE(dl);
  CHECK(dl->what == alert_fact::kind::deadletter);
  CHECK(dl->reason == "bad_payload");

  for (size_t n = 0; n < bytes.size(); ++n) {
    INFO("truncated to " << n << " bytes");
    CHECK_FALSE(decode_fact(bytes.substr(0, n)));
  }
  CHECK_FALSE(decode_fact(bytes + "x"));
  std::string other_version = bytes;
  other_version[0] = 2;
  CHECK_FALSE(decode_fact(other_version));
  // version, kind, at (1 s: a 3-byte svarint), session id (empty: 1 byte), revision, then status.
  std::string bad_status = encode_fact(verdict_at(1, "", pass));
  bad_status[7] = 9;
  CHECK_FALSE(decode_fact(bad_status));
  uint64_t x = 7;
  for (int i = 0; i < 2000; ++i) {  // random bytes must never crash or allocate wildly
    std::string junk;
    for (int j = 0; j < 40; ++j) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      junk.push_back(static_cast<char>(x >> 56));
    }
    junk[0] = 1;
    decode_fact(junk);
  }
}

TEST_CASE("make_fact takes the agent from the first metadata key that names one, and every call") {
  session_summary s;
  s.session_id = "s1";
  s.closed_at = at_s(900);
  s.metadata = {{"service.name", "voice-gw"}, {"agent_name", "front-desk"}};
  s.models = {"gpt-4o"};
  s.stats.cost_usd = 0.02;
  s.stats.session_duration = std::chrono::seconds(60);
  s.tool_calls.push_back({});
  s.tool_calls.back().name = "lookup_patient";
  s.tool_calls.back().ok = false;
  s.tool_calls.back().latency = ms(30);
  s.llm_calls.push_back({});
  s.llm_calls.back().model = "gpt-4o";
  s.llm_calls.back().latency = ms(800);
  verdict v;
  v.session_id = "s1";
  v.revision = 1;
  v.status = fail;
  v.intent.name = "book_appointment";
  const alert_fact f = make_fact(s, v);
  CHECK(f.at == at_s(900));
  CHECK(f.agent == "front-desk");
  CHECK(f.intent == "book_appointment");
  CHECK(f.status == fail);
  CHECK(f.models == std::vector<std::string>{"gpt-4o"});
  CHECK(f.cost_usd == 0.02);
  REQUIRE(f.tools.size() == 1);
  CHECK_FALSE(f.tools[0].ok);
  CHECK(f.tools[0].latency == ms(30));
  REQUIRE(f.llm_calls.size() == 1);
  CHECK(f.llm_calls[0].latency == ms(800));

  const alert_fact only = fact_from_verdict(v, at_s(901));
  CHECK(only.at == at_s(901));
  CHECK(only.agent.empty());
  CHECK(only.tools.empty());
}
