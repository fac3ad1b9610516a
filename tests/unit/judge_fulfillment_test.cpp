// Fulfillment and verdicts: every check kind passing, failing and (where it can) skipped; the
// status the failed checks imply; and each verdict status reached through make_verdict.
#include <catch2/catch.hpp>

#include "judge/judge.hpp"
#include "judge_test_support.hpp"

using namespace tw;
using namespace tw::judge;
using tw::test::load_rules;
using tw::test::session_builder;

namespace {

// Rules with one intent, "task", whose only check is `check` (a YAML flow map).
std::shared_ptr<const rule_set> one_check(const std::string& check) {
  return load_rules("fallback_intent: other\nintents:\n  - name: task\n    fulfillment:\n      - " + check + "\n");
}

intent_result task() {
  intent_result i;
  i.name = "task";
  i.confidence = 1;
  return i;
}

}  // namespace

TEST_CASE("every check kind passes, fails or is skipped as the session warrants") {
  struct row {
    const char* description;
    const char* check;
    session_summary session;
    check_outcome outcome;
    std::vector<std::string> observation_ids;
    const char* detail_part;
  };
  const row rows[] = {
      // tool_succeeded
      {"tool_succeeded passes on a successful call",
       "{id: c, implies: fail, tool_succeeded: book}",
       session_builder().turn("hi").tool_error("book", "timeout").tool("book", R"({"id":"b-1"})").build(),
       check_outcome::passed, {"tool2"}, "book succeeded"},
      {"tool_succeeded fails when every call failed, citing them",
       "{id: c, implies: fail, tool_succeeded: book}",
       session_builder().turn("hi").tool_error("book", "timeout").tool_error("book", "slot taken").build(),
       check_outcome::failed, {"tool1", "tool2"}, "failed 2 times (last error: slot taken)"},
      {"tool_succeeded fails when the tool was never called",
       "{id: c, implies: fail, tool_succeeded: book}", session_builder().turn("hi").tool("other").build(),
       check_outcome::failed, {}, "book was never called"},
      {"result_has passes when the JSON result has the field",
       "{id: c, implies: fail, tool_succeeded: book, result_has: booking_id}",
       session_builder().turn("hi").tool("book", R"({"booking_id":"b-1","slot":"9:00"})").build(),
       check_outcome::passed, {"tool1"}, "with booking_id"},
      {"result_has fails when the successful result lacks the field",
       "{id: c, implies: fail, tool_succeeded: book, result_has: booking_id}",
       session_builder().turn("hi").tool("book", R"({"status":"pending"})").build(), check_outcome::failed, {"tool1"},
       "succeeded 1 time without booking_id"},
      {"result_has treats a null field as missing",
       "{id: c, implies: fail, tool_succeeded: book, result_has: booking_id}",
       session_builder().turn("hi").tool("book", R"({"booking_id":null})").build(), check_outcome::failed, {"tool1"},
       "without booking_id"},
      {"result_has treats a false field as missing",
       "{id: c, implies: fail, tool_succeeded: cancel, result_has: cancelled}",
       session_builder().turn("hi").tool("cancel", R"({"cancelled":false})").build(), check_outcome::failed, {"tool1"},
       "without cancelled"},
      {"result_has follows a dotted path into nested objects",
       "{id: c, implies: fail, tool_succeeded: book, result_has: booking.id}",
       session_builder().turn("hi").tool("book", R"({"booking":{"id":"b-1"}})").build(), check_outcome::passed,
       {"tool1"}, "with booking.id"},
      {"result_has searches a result that is not JSON (a cut excerpt) for the quoted field name",
       "{id: c, implies: fail, tool_succeeded: book, result_has: booking_id}",
       session_builder().turn("hi").tool("book", "{\"booking_id\":\"b-1\",\"notes\":\"long te\xE2\x80\xA6").build(),
       check_outcome::passed, {"tool1"}, "with booking_id"},
      {"if_called skips tool_succeeded when the tool was not called",
       "{id: c, implies: fail, tool_succeeded: lookup, if_called: true}", session_builder().turn("hi").build(),
       check_outcome::skipped, {}, "lookup was not called"},
      {"if_called still fails when the tool was called and never succeeded",
       "{id: c, implies: fail, tool_succeeded: lookup, if_called: true}",
       session_builder().turn("hi").tool_error("lookup", "down").build(), check_outcome::failed, {"tool1"},
       "failed 1 time"},
      {"skip_if_tool_succeeded skips any check when that tool succeeded",
       "{id: c, implies: fail, tool_succeeded: book, skip_if_tool_succeeded: handover}",
       session_builder().turn("hi").tool_error("book", "down").tool("handover").build(), check_outcome::skipped,
       {"tool2"}, "handover succeeded"},
      {"skip_if_tool_succeeded does not skip for a failed call of that tool",
       "{id: c, implies: fail, tool_succeeded: book, skip_if_tool_succeeded: handover}",
       session_builder().turn("hi").tool_error("handover", "queue full").build(), check_outcome::failed, {},
       "book was never called"},
      // tool_not_called / tool_called
      {"tool_not_called passes when the tool was not called", "{id: c, implies: partial, tool_not_called: handover}",
       session_builder().turn("hi").tool("book").build(), check_outcome::passed, {}, "handover was not called"},
      {"tool_not_called fails on any call, failed ones included", "{id: c, implies: partial, tool_not_called: handover}",
       session_builder().turn("hi").tool_error("handover", "queue full").build(), check_outcome::failed, {"tool1"},
       "handover was called 1 time"},
      {"tool_called passes on any call", "{id: c, implies: fail, tool_called: lookup}",
       session_builder().turn("hi").tool_error("lookup", "down").build(), check_outcome::passed, {"tool1"},
       "lookup was called 1 time"},
      {"tool_called fails when the tool was not called", "{id: c, implies: fail, tool_called: lookup}",
       session_builder().turn("hi").build(), check_outcome::failed, {}, "lookup was not called"},
      // no_tool_error_after_last_user_turn
      {"a tool error before the last user turn does not count",
       "{id: c, implies: fail, no_tool_error_after_last_user_turn: true}",
       session_builder().turn("book it").tool_error("book", "down").turn("try again").tool("book").build(),
       check_outcome::passed, {}, "trace t2"},
      {"a tool error in the last user turn fails the check",
       "{id: c, implies: fail, no_tool_error_after_last_user_turn: true}",
       session_builder().turn("book it").tool("lookup").turn("try again").tool_error("book", "down").build(),
       check_outcome::failed, {"tool2"}, "book (down)"},
      {"a turn without user text is not the last user turn",
       "{id: c, implies: fail, no_tool_error_after_last_user_turn: true}",
       session_builder().turn("book it").turn("", "let me check").tool_error("book", "down").build(),
       check_outcome::failed, {"tool1"}, "trace t1"},
      {"a session without user text skips the check",
       "{id: c, implies: fail, no_tool_error_after_last_user_turn: true}",
       session_builder().turn("", "hello?").tool_error("book", "down").build(), check_outcome::skipped, {},
       "no turn has user text"},
      // no_llm_error
      {"no_llm_error passes when every LLM call succeeded", "{id: c, implies: error, no_llm_error: true}",
       session_builder().turn("hi").llm().llm().build(), check_outcome::passed, {}, "none of 2"},
      {"no_llm_error fails on a failed LLM call, citing it", "{id: c, implies: error, no_llm_error: true}",
       session_builder().turn("hi").llm().llm_error("rate limit exceeded").build(), check_outcome::failed, {"gen2"},
       "rate limit exceeded"},
      // min_turns
      {"min_turns passes at the minimum", "{id: c, implies: partial, min_turns: 2}",
       session_builder().turn("a").turn("b").build(), check_outcome::passed, {}, "2 turn(s)"},
      {"min_turns fails below it", "{id: c, implies: partial, min_turns: 3}", session_builder().turn("a").build(),
       check_outcome::failed, {}, "only 1 turn(s); at least 3"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    fulfillment_checker checker(one_check(r.check));
    const fulfillment_result got = checker.check(r.session, task());
    REQUIRE(got.checks.size() == 1);
    const check_result& c = got.checks[0];
    CHECK(c.outcome == r.outcome);
    CHECK(c.observation_ids == r.observation_ids);
    CHECK_THAT(c.detail, Catch::Contains(r.detail_part));
    CHECK(c.id == "c");
    CHECK_FALSE(c.description.empty());
  }
}

TEST_CASE("a check over a capped list says that it judged what was kept") {
  session_summary s = session_builder().turn("hi").build();
  s.truncated.tool_calls = 7;
  const auto got = fulfillment_checker(one_check("{id: c, implies: fail, tool_succeeded: book}")).check(s, task());
  CHECK(got.checks[0].outcome == check_outcome::failed);
  CHECK_THAT(got.checks[0].detail, Catch::Contains("7 later ones were left out"));
}

TEST_CASE("the status is the most severe implication of the failed checks: error, then fail, then partial") {
  struct row {
    const char* description;
    session_summary session;
    verdict_status status;
  };
  // a fails -> fail, b fails -> partial, c fails -> error, d never fails.
  const auto rules = load_rules(R"(
fallback_intent: other
intents:
  - name: task
    fulfillment:
      - {id: a, tool_succeeded: book, implies: fail}
      - {id: b, tool_not_called: handover, implies: partial}
      - {id: c, no_llm_error: true, implies: error}
      - {id: d, min_turns: 1, implies: error}
)");
  const row rows[] = {
      {"no failed check: pass", session_builder().turn("hi").tool("book").build(), verdict_status::pass},
      {"only a partial check failed: partial", session_builder().turn("hi").tool("book").tool("handover").build(),
       verdict_status::partial},
      {"fail beats partial", session_builder().turn("hi").tool("handover").build(), verdict_status::fail},
      {"error beats fail and partial", session_builder().turn("hi").tool("handover").llm_error("boom").build(),
       verdict_status::error},
      {"error alone", session_builder().turn("hi").tool("book").llm_error("boom").build(), verdict_status::error},
  };
  fulfillment_checker checker(rules);
  for (const auto& r : rows) {
    INFO(r.description);
    CHECK(checker.check(r.session, task()).status == r.status);
  }
}

TEST_CASE("a skipped check never changes the status") {
  const auto rules = one_check("{id: c, implies: error, no_tool_error_after_last_user_turn: true}");
  const auto got = fulfillment_checker(rules).check(session_builder().tool_error("x", "down").build(), task());
  CHECK(got.checks[0].outcome == check_outcome::skipped);
  CHECK(got.status == verdict_status::pass);
}

TEST_CASE("an intent's own checks come first, then the common checks, and the fallback has its own") {
  const auto rules = load_rules(R"(
fallback_intent:
  name: other
  fulfillment:
    - {id: fallback_check, min_turns: 1, implies: partial}
common_checks:
  - {id: common_check, no_llm_error: true, implies: error}
intents:
  - name: task
    fulfillment:
      - {id: own_check, tool_called: book, implies: fail}
)");
  fulfillment_checker checker(rules);
  const session_summary s = session_builder().turn("hi").build();
  auto ids = [](const fulfillment_result& f) {
    std::vector<std::string> out;
    for (const auto& c : f.checks) out.push_back(c.id);
    return out;
  };
  CHECK(ids(checker.check(s, task())) == std::vector<std::string>{"own_check", "common_check"});

  intent_result fallback;
  fallback.name = "other";
  fallback.fallback = true;
  CHECK(ids(checker.check(s, fallback)) == std::vector<std::string>{"fallback_check", "common_check"});

  intent_result stranger;  // an intent the rules do not know is judged as the fallback
  stranger.name = "made_up";
  CHECK(ids(checker.check(s, stranger)) == std::vector<std::string>{"fallback_check", "common_check"});
}

TEST_CASE("each verdict status is reached, and abandoned wins while fulfillment is still reported") {
  const auto rules = load_rules(R"(
fallback_intent: other
intents:
  - name: task
    match:
      - {id: task_text, user_text: task, weight: 1}
    fulfillment:
      - {id: done, tool_succeeded: do_task, implies: fail}
      - {id: no_handover, tool_not_called: handover, implies: partial}
      - {id: no_llm_error, no_llm_error: true, implies: error}
)");
  struct row {
    const char* description;
    session_summary session;
    verdict_status status;
    verdict_status fulfillment;
  };
  const row rows[] = {
      {"the task tool succeeded: pass", session_builder().turn("a task").tool("do_task").build(),
       verdict_status::pass, verdict_status::pass},
      {"the task tool failed: fail", session_builder().turn("a task").tool_error("do_task", "down").build(),
       verdict_status::fail, verdict_status::fail},
      {"done, but handed over: partial", session_builder().turn("a task").tool("do_task").tool("handover").build(),
       verdict_status::partial, verdict_status::partial},
      {"an LLM call failed: error", session_builder().turn("a task").llm_error("rate limit exceeded").build(),
       verdict_status::error, verdict_status::error},
      {"abandoned: the verdict says so, the fulfillment still shows what happened",
       session_builder().turn("a task").abandoned().build(), verdict_status::abandoned, verdict_status::fail},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    const intent_result intent = intent_classifier(rules).classify(r.session);
    const fulfillment_result f = fulfillment_checker(rules).check(r.session, intent);
    const verdict v = make_verdict(r.session, intent, f, *rules);
    CHECK(v.status == r.status);
    CHECK(v.fulfillment.status == r.fulfillment);
    CHECK(v.fulfillment.checks.size() == 3);
  }
}

TEST_CASE("a verdict carries the session's identity, window, stats and the rules version") {
  const auto rules = load_rules("fallback_intent: other\n");
  session_summary s = session_builder("call-7").revision(3).turn("hi").tool("x").usage(0.01, 100, 20).build();
  s.reason = completion_reason::end_marker;
  const intent_result intent = intent_classifier(rules).classify(s);
  const verdict v = make_verdict(s, intent, fulfillment_checker(rules).check(s, intent), *rules);
  CHECK(v.session_id == "call-7");
  CHECK(v.revision == 3);
  CHECK(v.reason == completion_reason::end_marker);
  CHECK(v.first_event_at == s.first_event_at);
  CHECK(v.last_event_at == s.last_event_at);
  CHECK(v.stats.tool_calls == 1);
  CHECK(v.stats.input_tokens == 100);
  CHECK(v.stats.cost_usd == Approx(0.01));
  CHECK(v.rules_version == rules_version(*rules));
  CHECK(v.rules_version.size() == 16);
  CHECK(v.intent.name == "other");
}
