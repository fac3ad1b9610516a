// The experts: each produces its findings above its threshold and none at or below it, names the
// recommendation key the rules give it, and the diagnostic gathers distinct recommendations.
#include <catch2/catch.hpp>

#include "judge/judge.hpp"
#include "judge_test_support.hpp"

using namespace tw;
using namespace tw::judge;
using tw::test::codes_of;
using tw::test::load_rules;
using tw::test::session_builder;

namespace {

const char* const rules_yaml = R"(
fallback_intent: other
intents:
  - name: task
    match:
      - {id: task_text, user_text: task, weight: 1}
    fulfillment:
      - {id: done, tool_succeeded: do_task, implies: fail}
      - {id: no_llm_error, no_llm_error: true, implies: error}
experts:
  tool_errors:
    keys:
      do_task: tools.do_task.timeout_ms
    default_key: tools.retry.max_attempts
  llm:
    refusal_patterns: ["(?i)I can't help with that", "(?i)not allowed to discuss"]
    failure_finish_reasons: [length, content_filter]
    keys:
      LLM_ERROR: llm.retry.max_attempts
      LLM_REFUSAL: llm.system_prompt
      LLM_EMPTY_OUTPUT: llm.system_prompt
      LLM_TRUNCATED: llm.max_tokens
  latency:
    max_llm_call_ms: 2000
    max_tool_call_ms: 1000
    keys:
      SLOW_LLM_CALL: llm.model
      SLOW_TOOL_CALL: tools.timeout_ms
  loops:
    consecutive_calls: 3
    keys: {TOOL_LOOP: agent.max_tool_retries}
  cost:
    max_cost_usd: 0.05
    max_total_tokens: 10000
    keys: {COST_OVER_BUDGET: llm.model, TOKENS_OVER_BUDGET: llm.max_history_turns}
)";

// Findings for `s` as judged by the rules above.
std::vector<finding> examine(const session_summary& s) {
  const auto rules = load_rules(rules_yaml);
  const intent_result intent = intent_classifier(rules).classify(s);
  const verdict v = make_verdict(s, intent, fulfillment_checker(rules).check(s, intent), *rules);
  return diagnostician(rules).examine(s, v);
}

// A session that passes and triggers nothing: the base the rows add one problem to.
session_builder healthy() { return session_builder().turn("a task").llm().tool("do_task").llm(); }

}  // namespace

TEST_CASE("each expert reports its finding above the threshold and nothing at or below it") {
  struct row {
    const char* description;
    session_summary session;
    std::vector<std::string> codes;
  };
  const row rows[] = {
      {"a healthy session: no findings", healthy().build(), {}},
      // tool errors
      {"a failed tool call", healthy().tool_error("lookup", "records down").build(), {"TOOL_ERROR"}},
      {"two tools failing give one finding each", healthy().tool_error("lookup", "down").tool_error("pay", "declined").build(),
       {"TOOL_ERROR", "TOOL_ERROR"}},
      // llm
      {"a failed LLM call", healthy().llm_error("rate limit exceeded").build(), {"LLM_ERROR"}},
      {"a refusal in the agent's reply", healthy().turn("why?", "Sorry, I can't help with that.").build(),
       {"LLM_REFUSAL"}},
      {"an ordinary apology is not a refusal", healthy().turn("why?", "Sorry, that slot was just taken.").build(), {}},
      {"an empty answer", healthy().llm_empty().build(), {"LLM_EMPTY_OUTPUT"}},
      {"a failed call with no output is an error, not also an empty answer", healthy().llm_error("boom").build(),
       {"LLM_ERROR"}},
      {"an answer cut at the token limit", healthy().llm_finish("length").build(), {"LLM_TRUNCATED"}},
      {"finish reasons compare without case", healthy().llm_finish("CONTENT_FILTER").build(), {"LLM_TRUNCATED"}},
      {"a normal finish reason", healthy().llm_finish("tool_calls").build(), {}},
      // latency
      {"an LLM call over the limit", healthy().llm_slow(std::chrono::milliseconds(2001)).build(), {"SLOW_LLM_CALL"}},
      {"an LLM call exactly at the limit", healthy().llm_slow(std::chrono::milliseconds(2000)).build(), {}},
      {"a tool call over the limit", healthy().tool_slow("lookup", std::chrono::milliseconds(1500)).build(),
       {"SLOW_TOOL_CALL"}},
      {"a tool call at the limit", healthy().tool_slow("lookup", std::chrono::milliseconds(1000)).build(), {}},
      // loops
      {"the same tool three times in a row", healthy().tool("search").tool("search").tool("search").build(),
       {"TOOL_LOOP"}},
      {"the same tool twice in a row", healthy().tool("search").tool("search").build(), {}},
      {"three calls broken up by another tool", healthy().tool("search").tool("search").tool("lookup").tool("search").build(),
       {}},
      // cost
      {"a session over the cost budget", healthy().usage(0.06, 1000, 100).build(), {"COST_OVER_BUDGET"}},
      {"a session at the cost budget", healthy().usage(0.05, 1000, 100).build(), {}},
      {"a session without cost data is not judged on cost", healthy().build(), {}},
      {"a session over the token budget", healthy().usage(0.01, 9000, 1001).build(), {"TOKENS_OVER_BUDGET"}},
      {"a session at the token budget", healthy().usage(0.01, 9000, 1000).build(), {}},
      // order
      {"findings come in expert order: tool errors, LLM, latency, loops, cost",
       healthy()
           .usage(0.5, 100, 10)
           .tool("search").tool("search").tool("search")
           .tool_slow("lookup", std::chrono::seconds(3))
           .llm_error("boom")
           .tool_error("pay", "declined")
           .build(),
       {"TOOL_ERROR", "LLM_ERROR", "SLOW_TOOL_CALL", "TOOL_LOOP", "COST_OVER_BUDGET"}},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    const auto findings = examine(r.session);
    CHECK(codes_of(findings) == r.codes);
    for (const auto& f : findings) {
      CHECK_FALSE(f.message.empty());
      CHECK_FALSE(f.expert.empty());
      REQUIRE(f.advice);
      CHECK_FALSE(f.advice->advice.empty());
    }
  }
}

TEST_CASE("findings point at the observations they are about") {
  struct row {
    const char* description;
    session_summary session;
    const char* code;
    std::vector<std::string> observation_ids;
    const char* message_part;
  };
  const row rows[] = {
      {"a tool's failed calls, not its successful ones",
       session_builder().turn("a task").tool_error("do_task", "timeout").tool("do_task").tool_error("do_task", "slot taken").build(),
       "TOOL_ERROR", {"tool1", "tool3"}, "do_task failed 2 of 3 call(s) (last error: slot taken)"},
      {"the failed LLM calls", session_builder().turn("a task").llm().llm_error("rate limit exceeded").build(),
       "LLM_ERROR", {"gen2"}, "1 of 2 LLM call(s) failed (last error: rate limit exceeded)"},
      {"a refusal points at the turn (trace) whose reply refused",
       session_builder().turn("a task", "ok").turn("and this?", "I'm not allowed to discuss pricing.").build(),
       "LLM_REFUSAL", {"t2"}, "the agent refused in 1 turn(s): \"I'm not allowed to discuss pricing.\""},
      {"the successful calls that came back empty", session_builder().turn("a task").llm_empty().llm().llm_empty().build(),
       "LLM_EMPTY_OUTPUT", {"gen1", "gen3"}, "2 LLM call(s) returned no output"},
      {"the calls that stopped for a failure finish reason",
       session_builder().turn("a task").llm_finish("length").llm().build(), "LLM_TRUNCATED", {"gen1"},
       "1 LLM call(s) stopped with finish reason 'length'"},
      {"the slow LLM calls, naming the slowest",
       session_builder().turn("a task").llm_slow(std::chrono::milliseconds(2500)).llm_slow(std::chrono::milliseconds(4200)).build(),
       "SLOW_LLM_CALL", {"gen1", "gen2"}, "2 LLM call(s) took longer than 2000 ms (slowest: 4200 ms, gpt-4o-mini)"},
      {"the slow calls of one tool",
       session_builder().turn("a task").tool_slow("lookup", std::chrono::milliseconds(1200)).tool("lookup")
           .tool_slow("lookup", std::chrono::milliseconds(3100)).build(),
       "SLOW_TOOL_CALL", {"tool1", "tool3"}, "lookup took longer than 1000 ms in 2 call(s) (slowest: 3100 ms)"},
      {"the calls of the loop", session_builder().turn("a task").tool("a").tool("b").tool("b").tool("b").tool("b").build(),
       "TOOL_LOOP", {"tool2", "tool3", "tool4", "tool5"}, "b was called 4 times in a row"},
      {"session-wide budgets point at no observation", session_builder().turn("a task").usage(0.08, 10, 1).build(),
       "COST_OVER_BUDGET", {}, "$0.0800, over the budget of $0.0500"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    const auto findings = examine(r.session);
    auto it = std::find_if(findings.begin(), findings.end(), [&](const finding& f) { return f.code == r.code; });
    REQUIRE(it != findings.end());
    CHECK(it->observation_ids == r.observation_ids);
    CHECK_THAT(it->message, Catch::Contains(r.message_part));
  }
}

TEST_CASE("recommendations name the configuration key the rules give for the finding") {
  struct row {
    const char* description;
    session_summary session;
    const char* code;
    const char* key;
  };
  const row rows[] = {
      {"a tool with its own key", session_builder().turn("x").tool_error("do_task", "timeout").build(), "TOOL_ERROR",
       "tools.do_task.timeout_ms"},
      {"a tool without one gets the default key", session_builder().turn("x").tool_error("lookup", "down").build(),
       "TOOL_ERROR", "tools.retry.max_attempts"},
      {"LLM errors", session_builder().turn("x").llm_error("boom").build(), "LLM_ERROR", "llm.retry.max_attempts"},
      {"refusals", session_builder().turn("x", "I can't help with that").build(), "LLM_REFUSAL", "llm.system_prompt"},
      {"empty answers", session_builder().turn("x").llm_empty().build(), "LLM_EMPTY_OUTPUT", "llm.system_prompt"},
      {"truncated answers", session_builder().turn("x").llm_finish("length").build(), "LLM_TRUNCATED", "llm.max_tokens"},
      {"slow LLM calls", session_builder().turn("x").llm_slow(std::chrono::seconds(5)).build(), "SLOW_LLM_CALL",
       "llm.model"},
      {"slow tool calls", session_builder().turn("x").tool_slow("y", std::chrono::seconds(5)).build(), "SLOW_TOOL_CALL",
       "tools.timeout_ms"},
      {"loops", session_builder().turn("x").tool("y").tool("y").tool("y").build(), "TOOL_LOOP",
       "agent.max_tool_retries"},
      {"cost", session_builder().turn("x").usage(1.0, 1, 1).build(), "COST_OVER_BUDGET", "llm.model"},
      {"tokens", session_builder().turn("x").usage(0.0, 100000, 1).build(), "TOKENS_OVER_BUDGET",
       "llm.max_history_turns"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    const auto findings = examine(r.session);
    auto it = std::find_if(findings.begin(), findings.end(), [&](const finding& f) { return f.code == r.code; });
    REQUIRE(it != findings.end());
    REQUIRE(it->advice);
    CHECK(it->advice->key == r.key);
  }
}

TEST_CASE("without keys in the rules, findings still carry advice, with an empty key") {
  const auto rules = load_rules("fallback_intent: other\n");
  const session_summary s = session_builder().turn("x").tool_error("lookup", "upstream timeout").build();
  verdict v;
  const auto findings = diagnostician(rules).examine(s, v);
  REQUIRE(findings.size() == 1);
  REQUIRE(findings[0].advice);
  CHECK(findings[0].advice->key.empty());
  CHECK_THAT(findings[0].advice->advice, Catch::Contains("timed out"));
}

TEST_CASE("an error finding is critical when a failed check cites it, a warning when the agent recovered") {
  struct row {
    const char* description;
    session_summary session;
    const char* code;
    severity level;
  };
  const row rows[] = {
      {"the task tool failed for good: the error decided the verdict",
       session_builder().turn("a task").tool_error("do_task", "down").build(), "TOOL_ERROR", severity::critical},
      {"the task tool failed once, then succeeded",
       session_builder().turn("a task").tool_error("do_task", "down").tool("do_task").build(), "TOOL_ERROR",
       severity::warning},
      {"a tool no check is about", session_builder().turn("a task").tool("do_task").tool_error("lookup", "down").build(),
       "TOOL_ERROR", severity::warning},
      {"a failed LLM call that failed the no_llm_error check",
       session_builder().turn("a task").tool("do_task").llm_error("boom").build(), "LLM_ERROR", severity::critical},
      {"budgets are information, not failures", session_builder().turn("a task").tool("do_task").usage(0, 20000, 1).build(),
       "TOKENS_OVER_BUDGET", severity::info},
      {"a slow call is a warning", session_builder().turn("a task").tool("do_task").llm_slow(std::chrono::seconds(9)).build(),
       "SLOW_LLM_CALL", severity::warning},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    const auto findings = examine(r.session);
    auto it = std::find_if(findings.begin(), findings.end(), [&](const finding& f) { return f.code == r.code; });
    REQUIRE(it != findings.end());
    CHECK(it->level == r.level);
  }
}

TEST_CASE("a diagnostic gathers distinct recommendations in the order of their findings") {
  const auto rules = load_rules(rules_yaml);
  // SLOW_LLM_CALL and COST_OVER_BUDGET share the key llm.model; LLM_REFUSAL and
  // LLM_EMPTY_OUTPUT share llm.system_prompt.
  const session_summary s = session_builder()
                                .turn("a task", "I can't help with that")
                                .tool_error("do_task", "timeout")
                                .llm_empty()
                                .llm_slow(std::chrono::seconds(3))
                                .usage(0.2, 100, 10)
                                .build();
  const judgement j = judge_session(s, rules);
  REQUIRE(j.diagnosis);
  CHECK(codes_of(j.diagnosis->findings) == std::vector<std::string>{"TOOL_ERROR", "LLM_REFUSAL", "LLM_EMPTY_OUTPUT",
                                                                     "SLOW_LLM_CALL", "COST_OVER_BUDGET"});
  std::vector<std::string> keys;
  for (const auto& r : j.diagnosis->recommendations) keys.push_back(r.key);
  CHECK(keys == std::vector<std::string>{"tools.do_task.timeout_ms", "llm.system_prompt", "llm.model"});
  CHECK(j.diagnosis->session_id == "s1");
  CHECK(j.diagnosis->verdict == verdict_status::fail);
  CHECK(j.diagnosis->intent == "task");
  CHECK(j.diagnosis->rules_version == rules_version(*rules));
}

TEST_CASE("advice without a key is kept once per distinct text") {
  const auto rules = load_rules("fallback_intent: other\n");
  verdict v;
  v.session_id = "s";
  auto f = [](const char* advice) {
    finding x;
    x.code = "X";
    x.advice = recommendation{"", advice};
    return x;
  };
  const diagnostic d = make_diagnostic(v, {f("a"), f("b"), f("a")}, *rules);
  REQUIRE(d.recommendations.size() == 2);
  CHECK(d.recommendations[0].advice == "a");
  CHECK(d.recommendations[1].advice == "b");
  CHECK(d.findings.size() == 3);
}

TEST_CASE("fail, partial and error verdicts are diagnosed, pass and abandoned verdicts are not") {
  struct row {
    verdict_status status;
    bool diagnosed;
  };
  const row rows[] = {{verdict_status::pass, false},
                      {verdict_status::fail, true},
                      {verdict_status::partial, true},
                      {verdict_status::error, true},
                      {verdict_status::abandoned, false}};
  for (const auto& r : rows) {
    INFO(to_string(r.status));
    CHECK(needs_diagnosis(r.status) == r.diagnosed);
  }

  const auto rules = load_rules(rules_yaml);
  CHECK_FALSE(judge_session(healthy().build(), rules).diagnosis);
  CHECK_FALSE(judge_session(session_builder().turn("a task").abandoned().build(), rules).diagnosis);
  CHECK(judge_session(session_builder().turn("a task").build(), rules).diagnosis);
}
