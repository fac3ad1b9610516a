// The rules file is the judge's configuration: these tests pin that a bad one is refused at load
// with an error naming the place in the file, that the built-in rules load, and that the worked
// example in docs/rules.md is a rules file that really gives the verdict the page describes.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "judge/judge.hpp"
#include "judge/rules.hpp"
#include "judge_test_support.hpp"
#include "model/text.hpp"

using namespace tw;
using namespace tw::judge;
using tw::test::session_builder;

namespace {

// A valid file to break one piece at a time.
const std::string intent_a = "  - name: a\n    match:\n      - {id: a1, user_text: hello, weight: 0.5}\n";

}  // namespace

TEST_CASE("the built-in scheduling rules load and know the demo's intents") {
  auto r = builtin_rules();
  INFO((r.error ? r.error->to_string() : ""));
  REQUIRE(r);
  std::vector<std::string> names;
  for (const auto& i : r.rules->intents()) names.push_back(i.name);
  CHECK(names == std::vector<std::string>{"book_appointment", "cancel_appointment", "reschedule_appointment",
                                          "general_question"});
  CHECK(r.rules->fallback().name == "unknown");
  CHECK(r.rules->intent_labels() == std::vector<std::string>{"intent"});
  CHECK(r.rules->experts().tool_errors.key_for("schedule_appointment") == "tools.schedule_appointment.timeout_ms");
  CHECK(r.rules->experts().tool_errors.key_for("transfer_to_human") == "tools.retry.max_attempts");
}

TEST_CASE("the built-in rules are compiled in, byte for byte the file in the source tree") {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/judge/rules/scheduling.yaml");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(builtin_rules_yaml() == ss.str());
}

TEST_CASE("the rules version is the 16-hex-digit FNV-1a hash of the source, so any edit changes it") {
  const std::string yaml = "fallback_intent: unknown\n";
  auto r = load_rules_yaml(yaml, "<t>");
  REQUIRE(r);
  char expected[17];
  std::snprintf(expected, sizeof expected, "%016llx", static_cast<unsigned long long>(stable_hash(yaml)));
  CHECK(rules_version(*r.rules) == expected);
  auto edited = load_rules_yaml(yaml + "# a comment\n", "<t>");
  REQUIRE(edited);
  CHECK(rules_version(*edited.rules) != rules_version(*r.rules));
}

TEST_CASE("a rules file needs only a fallback intent, given by name or as a map with its own checks") {
  auto short_form = load_rules_yaml("fallback_intent: other\n", "<t>");
  REQUIRE(short_form);
  CHECK(short_form.rules->fallback().name == "other");
  CHECK(short_form.rules->intents().empty());

  auto long_form = load_rules_yaml(
      "fallback_intent:\n  name: other\n  description: nothing matched\n  fulfillment:\n"
      "    - {id: c, tool_called: x, implies: partial}\n",
      "<t>");
  REQUIRE(long_form);
  CHECK(long_form.rules->fallback().description == "nothing matched");
  REQUIRE(long_form.rules->fallback().checks.size() == 1);
  CHECK(long_form.rules->fallback().checks[0].implies == verdict_status::partial);
}

TEST_CASE("a check without a description gets one made from its condition") {
  auto r = load_rules_yaml(
      "fallback_intent:\n  name: other\n  fulfillment:\n"
      "    - {id: c, tool_succeeded: book, result_has: booking_id, implies: fail}\n"
      "    - {id: d, min_turns: 3, implies: partial}\n",
      "<t>");
  REQUIRE(r);
  CHECK(r.rules->fallback().checks[0].description == "book succeeded and returned booking_id");
  CHECK(r.rules->fallback().checks[1].description == "at least 3 turns");
}

TEST_CASE("the experts have documented defaults when the file does not set them") {
  auto r = load_rules_yaml("fallback_intent: other\n", "<t>");
  REQUIRE(r);
  const expert_options& e = r.rules->experts();
  CHECK(e.latency.max_llm_call == std::chrono::milliseconds(10'000));
  CHECK(e.latency.max_tool_call == std::chrono::milliseconds(5'000));
  CHECK(e.loops.consecutive_calls == 3);
  CHECK(e.llm.failure_finish_reasons == std::vector<std::string>{"length", "content_filter"});
  CHECK(e.llm.refusal_patterns.empty());
  CHECK_FALSE(e.cost.max_cost_usd);
  CHECK_FALSE(e.cost.max_total_tokens);
}

TEST_CASE("every invalid rules file is refused with an error that names the path of the problem") {
  struct row {
    const char* description;
    std::string yaml;
    const char* path;
    const char* message_part;
  };
  const std::string fb = "fallback_intent: unknown\n";
  const std::string check_in_a = fb + "intents:\n  - name: a\n    fulfillment:\n      - ";
  const row rows[] = {
      {"YAML that does not parse names the origin", "a: [1, 2", "<t>", "not valid YAML"},
      {"an empty file", "", "", "empty"},
      {"a top level that is a list", "- a\n- b\n", "", "must be a map"},
      {"a misspelt top-level key gets a suggestion", fb + "intent: []\n", "intent", "did you mean 'intents'"},
      {"an unknown top-level key lists what is allowed", fb + "colour: blue\n", "colour", "allowed here: intents"},
      {"a missing fallback intent", "intents: []\n", "fallback_intent", "is required"},
      {"a fallback map without a name", "fallback_intent: {description: x}\n", "fallback_intent.name", "is required"},
      {"a fallback without a value", "fallback_intent:\n", "fallback_intent", "has no value"},
      {"a key given twice", fb + "intents: []\nintents: []\n", "intents", "given twice"},
      {"a tool given twice under tool_errors.keys", fb + "experts:\n  tool_errors:\n    keys: {a: x, a: y}\n",
       "experts.tool_errors.keys.a", "given twice"},
      {"a fallback with an empty name", "fallback_intent: ''\n", "fallback_intent", "must not be empty"},
      {"intents that are not a list", fb + "intents: {a: 1}\n", "intents", "expected a list"},
      {"an intent without a name", fb + "intents:\n  - description: x\n", "intents[0].name", "is required"},
      {"two intents with one name", fb + "intents:\n" + intent_a + "  - name: a\n", "intents[1].name",
       "already the name of intents[0]"},
      {"an intent named like the fallback", fb + "intents:\n  - name: unknown\n", "intents[0].name", "fallback"},
      {"a misspelt intent key", fb + "intents:\n  - name: a\n    matches: []\n", "intents[0].matches",
       "did you mean 'match'"},
      {"match rules that are not a list", fb + "intents:\n  - name: a\n    match: {id: x}\n", "intents[0].match",
       "expected a list"},
      {"a rule without an id", fb + "intents:\n  - name: a\n    match:\n      - {tool_used: x, weight: 1}\n",
       "intents[0].match[0].id", "is required"},
      {"a rule id used twice in the file", fb + "intents:\n" + intent_a + "  - name: b\n    match:\n      - {id: a1, tool_used: x, weight: 1}\n",
       "intents[1].match[0].id", "already used by intents[0].match[0]"},
      {"a rule without a weight", fb + "intents:\n  - name: a\n    match:\n      - {id: x, tool_used: x}\n",
       "intents[0].match[0].weight", "is required"},
      {"a weight of zero", fb + "intents:\n  - name: a\n    match:\n      - {id: x, tool_used: x, weight: 0}\n",
       "intents[0].match[0].weight", "(0, 1]"},
      {"a weight above one", fb + "intents:\n  - name: a\n    match:\n      - {id: x, tool_used: x, weight: 1.5}\n",
       "intents[0].match[0].weight", "(0, 1]"},
      {"a weight that is not a number", fb + "intents:\n  - name: a\n    match:\n      - {id: x, tool_used: x, weight: heavy}\n",
       "intents[0].match[0].weight", "not a number"},
      {"a rule without a condition", fb + "intents:\n  - name: a\n    match:\n      - {id: x, weight: 1}\n",
       "intents[0].match[0]", "needs one condition"},
      {"a rule with two conditions", fb + "intents:\n  - name: a\n    match:\n      - {id: x, weight: 1, user_text: a, tool_used: b}\n",
       "intents[0].match[0]", "has both 'user_text' and 'tool_used'"},
      {"an invalid user_text regex quotes RE2's error", fb + "intents:\n  - name: a\n    match:\n      - {id: x, weight: 1, user_text: '(book'}\n",
       "intents[0].match[0].user_text", "invalid regular expression: missing )"},
      {"a metadata rule without a key", fb + "intents:\n  - name: a\n    match:\n      - {id: x, weight: 1, metadata: {equals: b}}\n",
       "intents[0].match[0].metadata.key", "is required"},
      {"a metadata rule with equals and matches", fb + "intents:\n  - name: a\n    match:\n      - {id: x, weight: 1, metadata: {key: k, equals: b, matches: c}}\n",
       "intents[0].match[0].metadata", "has both 'equals' and 'matches'"},
      {"a metadata rule with neither equals nor matches", fb + "intents:\n  - name: a\n    match:\n      - {id: x, weight: 1, metadata: {key: k}}\n",
       "intents[0].match[0].metadata", "needs one condition"},
      {"an invalid metadata regex", fb + "intents:\n  - name: a\n    match:\n      - {id: x, weight: 1, metadata: {key: k, matches: 'a**'}}\n",
       "intents[0].match[0].metadata.matches", "invalid regular expression"},
      {"a misspelt metadata key", fb + "intents:\n  - name: a\n    match:\n      - {id: x, weight: 1, metadata: {key: k, equal: b}}\n",
       "intents[0].match[0].metadata.equal", "did you mean 'equals'"},
      {"a check without implies", check_in_a + "{id: c, tool_called: x}\n", "intents[0].fulfillment[0].implies",
       "is required"},
      {"a check implying something that is not fail, partial or error",
       fb + "intents:\n  - name: a\n  - name: b\n    fulfillment:\n      - {id: c, tool_called: x, implies: failed}\n",
       "intents[1].fulfillment[0].implies", "must be one of fail, partial, error"},
      {"a check without an id", check_in_a + "{tool_called: x, implies: fail}\n", "intents[0].fulfillment[0].id",
       "is required"},
      {"a check without a condition", check_in_a + "{id: c, implies: fail}\n", "intents[0].fulfillment[0]",
       "needs one condition"},
      {"a check with two conditions", check_in_a + "{id: c, implies: fail, tool_called: x, tool_not_called: y}\n",
       "intents[0].fulfillment[0]", "has both 'tool_not_called' and 'tool_called'"},
      {"result_has on a check that is not tool_succeeded", check_in_a + "{id: c, implies: fail, tool_called: x, result_has: y}\n",
       "intents[0].fulfillment[0].result_has", "only to a tool_succeeded"},
      {"if_called on a check that is not tool_succeeded", check_in_a + "{id: c, implies: fail, no_llm_error: true, if_called: true}\n",
       "intents[0].fulfillment[0].if_called", "only to a tool_succeeded"},
      {"if_called that is not a boolean", check_in_a + "{id: c, implies: fail, tool_succeeded: x, if_called: maybe}\n",
       "intents[0].fulfillment[0].if_called", "true or false"},
      {"a flag condition set to false", check_in_a + "{id: c, implies: error, no_llm_error: false}\n",
       "intents[0].fulfillment[0].no_llm_error", "must be true"},
      {"min_turns of zero", check_in_a + "{id: c, implies: fail, min_turns: 0}\n", "intents[0].fulfillment[0].min_turns",
       "at least 1"},
      {"min_turns that is not a number", check_in_a + "{id: c, implies: fail, min_turns: many}\n",
       "intents[0].fulfillment[0].min_turns", "whole number"},
      {"a tool condition without a tool name", check_in_a + "{id: c, implies: fail, tool_succeeded: }\n",
       "intents[0].fulfillment[0].tool_succeeded", "has no value"},
      {"an empty skip_if_tool_succeeded", check_in_a + "{id: c, implies: fail, tool_called: x, skip_if_tool_succeeded: ''}\n",
       "intents[0].fulfillment[0].skip_if_tool_succeeded", "must not be empty"},
      {"a misspelt check key", check_in_a + "{id: c, implie: fail, tool_called: x}\n", "intents[0].fulfillment[0].implie",
       "did you mean 'implies'"},
      {"a check id used twice in one intent",
       check_in_a + "{id: c, implies: fail, tool_called: x}\n      - {id: c, implies: fail, tool_called: y}\n",
       "intents[0].fulfillment[1].id", "already used by intents[0].fulfillment[0]"},
      {"an intent check that reuses a common check's id",
       "fallback_intent: unknown\ncommon_checks:\n  - {id: c, implies: error, no_llm_error: true}\n"
       "intents:\n  - name: a\n    fulfillment:\n      - {id: c, implies: fail, tool_called: x}\n",
       "intents[0].fulfillment[0].id", "already used by common_checks[0]"},
      {"a fallback check that reuses a common check's id",
       "fallback_intent:\n  name: unknown\n  fulfillment:\n    - {id: c, implies: fail, tool_called: x}\n"
       "common_checks:\n  - {id: c, implies: error, no_llm_error: true}\n",
       "fallback_intent.fulfillment[0].id", "already used by common_checks[0]"},
      {"common checks that are not a list", fb + "common_checks: {id: c}\n", "common_checks", "expected a list"},
      {"an intent label listed twice", fb + "intent_labels: [intent, intent]\n", "intent_labels[1]", "listed twice"},
      {"an unknown expert", fb + "experts:\n  latencies: {}\n", "experts.latencies", "did you mean 'latency'"},
      {"an invalid refusal pattern", fb + "experts:\n  llm:\n    refusal_patterns: ['sorry', '(unclosed']\n",
       "experts.llm.refusal_patterns[1]", "invalid regular expression"},
      {"a misspelt finding code under keys", fb + "experts:\n  llm:\n    keys: {LLM_EROR: llm.retries}\n",
       "experts.llm.keys.LLM_EROR", "did you mean 'LLM_ERROR'"},
      {"a finding code of another expert", fb + "experts:\n  latency:\n    keys: {TOOL_LOOP: x}\n",
       "experts.latency.keys.TOOL_LOOP", "unknown finding code"},
      {"a negative latency threshold", fb + "experts:\n  latency:\n    max_llm_call_ms: -5\n",
       "experts.latency.max_llm_call_ms", "more than 0"},
      {"a loop length below two", fb + "experts:\n  loops:\n    consecutive_calls: 1\n",
       "experts.loops.consecutive_calls", "at least 2"},
      {"a zero cost budget", fb + "experts:\n  cost:\n    max_cost_usd: 0\n", "experts.cost.max_cost_usd",
       "more than 0"},
      {"a token budget that is not a number", fb + "experts:\n  cost:\n    max_total_tokens: lots\n",
       "experts.cost.max_total_tokens", "whole number"},
      {"a tool key without a value", fb + "experts:\n  tool_errors:\n    keys:\n      book:\n",
       "experts.tool_errors.keys.book", "has no value"},
      {"a misspelt tool_errors key", fb + "experts:\n  tool_errors:\n    default: x\n", "experts.tool_errors.default",
       "did you mean 'default_key'"},
  };
  for (const auto& r : rows) {
    INFO(r.description << "\n" << r.yaml);
    auto res = load_rules_yaml(r.yaml, "<t>");
    REQUIRE_FALSE(res);
    REQUIRE(res.error);
    CHECK(res.error->path == r.path);
    CHECK_THAT(res.error->message, Catch::Contains(r.message_part));
    if (*r.path) CHECK_THAT(res.error->to_string(), Catch::StartsWith(std::string(r.path) + ": "));
  }
}

TEST_CASE("a rules file is read from disk, and a missing one is refused naming its path") {
  auto missing = load_rules_file("/nonexistent/rules.yaml");
  REQUIRE_FALSE(missing);
  CHECK(missing.error->path == "/nonexistent/rules.yaml");
  CHECK_THAT(missing.error->message, Catch::Contains("cannot read"));

  auto r = load_rules_file(std::string(TW_SOURCE_DIR) + "/judge/rules/scheduling.yaml");
  REQUIRE(r);
  CHECK(rules_version(*r.rules) == rules_version(*builtin_rules().rules));
}

// --- docs/rules.md -------------------------------------------------------------------------

namespace {

// The fenced ```yaml block of docs/rules.md whose first line is `first_line`.
std::string yaml_block_of_docs(const std::string& first_line) {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/docs/rules.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::string opening = "```yaml\n" + first_line + "\n";
  const size_t begin = doc.find(opening);
  if (begin == std::string::npos) return "";
  const size_t body = begin + std::string("```yaml\n").size();
  const size_t end = doc.find("```\n", body);
  return doc.substr(body, end - body);
}

}  // namespace

TEST_CASE("the worked example of docs/rules.md loads and gives the verdict the page walks through") {
  const std::string yaml = yaml_block_of_docs("# restaurant.yaml: rules for a restaurant's reservation agent");
  REQUIRE_FALSE(yaml.empty());
  auto rules = tw::test::load_rules(yaml);

  // The session of the page's example, step by step as the page shows it.
  const session_summary s =
      session_builder("call-42")
          .turn("Hi, I'd like to book a table for four tonight.", "Sure. What time would you like?")
          .llm()
          .tool("find_tables", R"({"tables":[{"time":"19:30","seats":4}]})")
          .turn("Seven thirty, please.", "One moment.")
          .llm()
          .tool_error("create_reservation", "upstream timeout", std::chrono::milliseconds(6500))
          .llm()
          .turn("Hello? Are you still there?", "I'm sorry, our system isn't responding right now.")
          .llm()
          .turn("Forget it, I'll call back later.", "I'm sorry about that. Goodbye.")
          .llm()
          .build();
  const judgement j = judge_session(s, rules);

  CHECK(j.outcome.intent.name == "reserve_table");
  CHECK(j.outcome.intent.confidence == Approx(0.94));
  CHECK(j.outcome.status == verdict_status::fail);
  const auto& f = j.outcome.fulfillment;
  CHECK(tw::test::check_named(f, "reservation_created").outcome == check_outcome::failed);
  CHECK(tw::test::check_named(f, "no_handover").outcome == check_outcome::passed);
  CHECK(tw::test::check_named(f, "no_tool_error_at_end").outcome == check_outcome::passed);
  CHECK(tw::test::check_named(f, "no_llm_error").outcome == check_outcome::passed);
  CHECK_THAT(tw::test::check_named(f, "reservation_created").detail,
             Catch::Contains("create_reservation was called 1 time: failed 1 time (last error: upstream timeout)"));
  CHECK(j.outcome.intent.evidence.size() == 3);
  REQUIRE(j.diagnosis);
  CHECK(tw::test::codes_of(j.diagnosis->findings) == std::vector<std::string>{"TOOL_ERROR", "SLOW_TOOL_CALL"});
  CHECK(j.diagnosis->findings[0].level == severity::critical);
  CHECK(j.diagnosis->findings[0].message ==
        "create_reservation failed 1 of 1 call(s) (last error: upstream timeout); no later call succeeded");
  CHECK(j.diagnosis->findings[1].message == "create_reservation took longer than 3000 ms in 1 call(s) (slowest: 6500 ms)");
  REQUIRE(j.diagnosis->recommendations.size() == 2);
  CHECK(j.diagnosis->recommendations[0].key == "tools.create_reservation.timeout_ms");
  CHECK(j.diagnosis->recommendations[1].key == "tools.reservation_api.pool_size");
}
