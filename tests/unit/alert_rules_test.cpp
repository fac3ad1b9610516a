// The alert rules are configuration: these tests pin that a bad rule is refused at load with an
// error naming its place in the file, that the built-in rules load and are compiled in byte for
// byte, and that defaults resolve as docs/alerts.md says.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "alerts/alert_rules.hpp"
#include "alerts/alerts.hpp"

using namespace tw;
using namespace tw::alerts;

namespace {

// A valid rule to break one field at a time: `extra` is added to its fields.
std::string rule_with(const std::string& extra, const std::string& signal = "{verdict_ratio: {numerator: [fail]}}",
                      const std::string& condition = "    condition: {op: \">\", threshold: 0.2}\n") {
  return "alerts:\n  - name: base\n    signal: " + signal + "\n    window: 5m\n" + condition + extra;
}

}  // namespace

TEST_CASE("the built-in alert rules load and cover the demo's failure modes") {
  auto r = builtin_alert_rules();
  INFO((r.error ? r.error->to_string() : ""));
  REQUIRE(r);
  CHECK(rule_names(*r.rules) == std::vector<std::string>{"llm_provider_errors", "intent_success_rate", "transfer_rate",
                                                          "tool_error_spike", "llm_latency_p95", "hourly_cost_budget",
                                                          "quality_drop", "no_verdicts"});
  const auto& provider = r.rules->rules()[r.rules->find("llm_provider_errors")];
  CHECK(provider.inhibits == std::vector<size_t>{r.rules->find("intent_success_rate")});
  const auto& budget = r.rules->rules()[r.rules->find("hourly_cost_budget")];
  REQUIRE(budget.levels.size() == 2);
  CHECK(budget.levels[0].name == "warning");
  CHECK(budget.levels[0].threshold == Approx(4.0));
  CHECK(budget.levels[1].level == severity::critical);
  CHECK(budget.kind == window_kind::tumbling);
}

TEST_CASE("the built-in alert rules are compiled in, byte for byte the file in the source tree") {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/alerts/rules/scheduling_alerts.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == std::string(builtin_alert_rules_yaml()));
}

TEST_CASE("defaults: every is window/5, a tumbling window steps once per window, and no alerts key is no rules") {
  auto sliding = load_alert_rules_yaml(rule_with(""), "t");
  REQUIRE(sliding);
  CHECK(sliding.rules->rules()[0].every == std::chrono::minutes(1));
  CHECK(sliding.rules->rules()[0].levels[0].level == severity::warning);
  auto tumbling = load_alert_rules_yaml(rule_with("    kind: tumbling\n", "{cost_sum: {budget: 1}}", ""), "t");
  REQUIRE(tumbling);
  CHECK(tumbling.rules->rules()[0].every == std::chrono::minutes(5));
  CHECK(tumbling.rules->rules()[0].levels.size() == 1);
  auto none = load_alert_rules_yaml("intents: []\n", "t");
  REQUIRE(none);
  CHECK(rule_count(*none.rules) == 0);
}

TEST_CASE("a bad alert rule is refused, naming its place in the file") {
  struct row {
    const char* description;
    std::string yaml;
    std::string path;
    std::string message;  // a part of the message
  };
  const std::vector<row> rows = {
      {"not YAML", "alerts: [", "t", "not valid YAML"},
      {"alerts is not a list", "alerts: {a: 1}", "alerts", "expected a list of rules"},
      {"an unknown key, with a suggestion", rule_with("    windows: 5m\n"), "alerts[0].windows", "did you mean 'window'?"},
      {"a name outside [a-z0-9_]", "alerts:\n  - name: Bad-Name\n", "alerts[0].name", "may only use a-z, 0-9 and _"},
      {"a duplicate name", rule_with("") + "  - name: base\n    signal: {verdict_count: {}}\n    window: 5m\n"
                                           "    condition: {op: \">\", threshold: 1}\n",
       "alerts[1].name", "already the name of alerts[0]"},
      {"no signal", "alerts:\n  - name: a\n    window: 5m\n", "alerts[0].signal", "is required"},
      {"two signals", rule_with("", "{verdict_count: {}, absence: {}}"), "alerts[0].signal", "exactly one"},
      {"an unknown signal", rule_with("", "{verdict_rate: {}}"), "alerts[0].signal.verdict_rate", "did you mean 'verdict_ratio'?"},
      {"a percentile out of range", rule_with("", "{latency: {of: llm, percentile: 100}}"),
       "alerts[0].signal.latency.percentile", "from 50 to 99.9"},
      {"latency of something else", rule_with("", "{latency: {of: db}}"), "alerts[0].signal.latency.of", "not one of: llm, tool"},
      {"an unknown status", rule_with("", "{verdict_ratio: {numerator: [failed]}}"),
       "alerts[0].signal.verdict_ratio.numerator[0]", "did you mean 'fail'?"},
      {"a numerator outside the denominator", rule_with("", "{verdict_ratio: {numerator: [abandoned]}}"),
       "alerts[0].signal.verdict_ratio.numerator", "the denominator does not"},
      {"tool_call_ratio without tools", rule_with("", "{tool_call_ratio: {}}"), "alerts[0].signal.tool_call_ratio.tools",
       "is required"},
      {"warn_at without a budget", rule_with("", "{cost_sum: {warn_at: 0.5}}"), "alerts[0].signal.cost_sum.warn_at",
       "needs a budget"},
      {"warn_at not a fraction", rule_with("", "{cost_sum: {budget: 5, warn_at: 1.5}}", ""),
       "alerts[0].signal.cost_sum.warn_at", "must be in (0, 1)"},
      {"a bad duration", rule_with("    for: soon\n"), "alerts[0].for", "not a duration"},
      {"a window over the limit", "alerts:\n  - name: a\n    signal: {verdict_count: {}}\n    window: 8d\n",
       "alerts[0].window", "limit of 7d"},
      {"every that does not divide the window", rule_with("    every: 7s\n"), "alerts[0].every", "must divide the window"},
      {"every below a second", rule_with("    every: 500ms\n"), "alerts[0].every", "at least 1s"},
      {"too many buckets per window", "alerts:\n  - name: a\n    signal: {verdict_count: {}}\n    window: 1d\n    every: 1s\n",
       "alerts[0].every", "at most 1440"},
      {"a default every that does not divide the window", "alerts:\n  - name: a\n    signal: {verdict_count: {}}\n"
                                                          "    window: 61s\n",
       "alerts[0].every", "the default, window/5"},
      {"a key given twice", rule_with("    kind: tumbling\n    window: 7m\n"),
       "alerts[0].window", "is given twice"},
      {"a tumbling window that does not divide a day",
       "alerts:\n  - name: a\n    signal: {verdict_count: {}}\n    window: 7m\n    kind: tumbling\n", "alerts[0].window",
       "must divide a day"},
      {"no condition", rule_with("", "{verdict_count: {}}", ""), "alerts[0].condition", "is required"},
      {"a condition on absence", rule_with("", "{absence: {}}"), "alerts[0].condition", "does not apply to absence"},
      {"an unknown operator", rule_with("", "{verdict_count: {}}", "    condition: {op: \"=\", threshold: 1}\n"),
       "alerts[0].condition.op", "not one of"},
      {"a ratio threshold above 1", rule_with("", "{verdict_ratio: {numerator: [fail]}}",
                                              "    condition: {op: \">\", threshold: 20}\n"),
       "alerts[0].condition.threshold", "must be in [0, 1]"},
      {"baseline without windows", rule_with("    change: {against: baseline}\n"), "alerts[0].change.windows", "is required"},
      {"min_samples on absence", rule_with("    min_samples: 3\n", "{absence: {}}", ""), "alerts[0].min_samples",
       "does not apply to absence"},
      {"an unknown group_by label", rule_with("    group_by: [intent, region]\n"), "alerts[0].group_by[1]", "unknown value"},
      {"a filter that lists nothing", rule_with("    filter: {intent: []}\n"), "alerts[0].filter.intent", "at least one"},
      {"an unknown summary placeholder", rule_with("    summary: \"{{rule}} {{labels.intent}}\"\n"), "alerts[0].summary",
       "unknown placeholder {{labels.intent}}"},
      {"an inhibit target that is no rule", rule_with("    inhibits: {rules: [bas]}\n"), "alerts[0].inhibits.rules[0]",
       "did you mean 'base'?"},
      {"self-inhibition", rule_with("    inhibits: {rules: [base]}\n"), "alerts[0].inhibits.rules[0]", "cannot inhibit itself"},
      {"inhibit equal on a label the rule does not group by", rule_with("    inhibits: {rules: [x], equal: [intent]}\n"),
       "alerts[0].inhibits.equal[0]", "not in this rule's group_by"},
  };
  for (const auto& r : rows) {
    SECTION(r.description) {
      auto result = load_alert_rules_yaml(r.yaml, "t");
      REQUIRE_FALSE(result);
      REQUIRE(result.error);
      INFO(result.error->to_string());
      CHECK(result.error->path == r.path);
      CHECK(result.error->message.find(r.message) != std::string::npos);
    }
  }
}
