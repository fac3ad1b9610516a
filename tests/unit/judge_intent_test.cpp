// Intent classification: each rule kind, the noisy-or confidence, ties, upstream labels and the
// fallback — over sessions built in code, with rules written inline.
#include <catch2/catch.hpp>

#include "judge/judge.hpp"
#include "judge_test_support.hpp"

using namespace tw;
using namespace tw::judge;
using tw::test::load_rules;
using tw::test::session_builder;

namespace {

const char* const rules_yaml = R"(
fallback_intent: other
intent_labels: [intent, category]
intents:
  - name: order
    match:
      - {id: order_text, user_text: '(?i)\border\b', weight: 0.5}
      - {id: order_more, user_text: '(?i)\bbuy\b', weight: 0.5}
      - {id: order_tool, tool_used: place_order, weight: 0.8}
  - name: refund
    match:
      - {id: refund_text, user_text: '(?i)\brefund\b', weight: 0.5}
      - {id: refund_channel, metadata: {key: channel, equals: refunds-line}, weight: 0.9}
      - {id: refund_campaign, metadata: {key: campaign, matches: '^refund-'}, weight: 0.7}
  - name: track
    match:
      - {id: track_text, user_text: '(?i)\bwhere is\b', weight: 0.5}
  - name: labelled_only
)";

}  // namespace

TEST_CASE("each rule kind matches what it looks at and points the evidence at it") {
  struct row {
    const char* description;
    session_summary session;
    const char* intent;
    double confidence;
    const char* evidence_kind;
    const char* observation_id;  // where the evidence points
    const char* detail_part;
  };
  const row rows[] = {
      {"user_text matches a turn's user text; evidence names the turn's trace",
       session_builder().turn("hi").turn("I want a refund, please").build(), "refund", 0.5, "user_text", "t2",
       "I want a refund, please"},
      {"tool_used matches a tool call by name, whatever its outcome; evidence names the call",
       session_builder().turn("hello").tool_error("place_order", "out of stock").build(), "order", 0.8, "tool_used",
       "tool1", "place_order (failed: out of stock)"},
      {"metadata equals compares the whole value; metadata evidence points at no observation",
       session_builder().turn("hello").metadata("channel", "refunds-line").build(), "refund", 0.9, "metadata", "",
       "channel=refunds-line"},
      {"metadata matches runs a regex over the value",
       session_builder().turn("hello").metadata("campaign", "refund-spring").build(), "refund", 0.7, "metadata", "",
       "campaign=refund-spring"},
  };
  intent_classifier classifier(load_rules(rules_yaml));
  for (const auto& r : rows) {
    INFO(r.description);
    const intent_result got = classifier.classify(r.session);
    CHECK(got.name == r.intent);
    CHECK(got.confidence == Approx(r.confidence));
    CHECK_FALSE(got.fallback);
    REQUIRE(got.evidence.size() == 1);
    CHECK(got.evidence[0].kind == r.evidence_kind);
    CHECK(got.evidence[0].observation_id == r.observation_id);
    CHECK_THAT(got.evidence[0].detail, Catch::Contains(r.detail_part));
  }
}

TEST_CASE("rules that do not match leave the intent alone") {
  struct row {
    const char* description;
    session_summary session;
  };
  const row rows[] = {
      {"user_text does not read the assistant's text",
       session_builder().turn("hello", "would you like a refund?").build()},
      {"user_text regexes are as written: without (?i) they are case-sensitive",
       session_builder().turn("WHERE IS my parcel").build()},
      {"tool_used needs the exact tool name", session_builder().turn("hi").tool("place_order_v2").build()},
      {"metadata equals is not a substring match", session_builder().turn("hi").metadata("channel", "refunds").build()},
      {"metadata on another key", session_builder().turn("hi").metadata("topic", "refunds-line").build()},
  };
  const auto rules = load_rules(R"(
fallback_intent: other
intents:
  - name: refund
    match:
      - {id: refund_text, user_text: '\brefund\b', weight: 0.5}
      - {id: refund_channel, metadata: {key: channel, equals: refunds-line}, weight: 0.9}
  - name: track
    match:
      - {id: track_text, user_text: 'where is', weight: 0.5}
  - name: order
    match:
      - {id: order_tool, tool_used: place_order, weight: 0.8}
)");
  intent_classifier classifier(rules);
  for (const auto& r : rows) {
    INFO(r.description);
    const intent_result got = classifier.classify(r.session);
    CHECK(got.name == "other");
    CHECK(got.fallback);
  }
}

TEST_CASE("confidence is the noisy-or of the matching rules' weights") {
  struct row {
    const char* description;
    session_summary session;
    const char* intent;
    double confidence;
    size_t evidence;
  };
  const row rows[] = {
      {"one rule gives its weight", session_builder().turn("I'd like to order").build(), "order", 0.5, 1},
      {"two rules of 0.5 give 1 - 0.5 * 0.5", session_builder().turn("I'd like to order, to buy shoes").build(), "order",
       0.75, 2},
      {"three rules give 1 - 0.5 * 0.5 * 0.2", session_builder().turn("order").turn("buy").tool("place_order").build(),
       "order", 0.95, 3},
      {"a rule matching several turns counts once", session_builder().turn("order").turn("order again").build(),
       "order", 0.5, 1},
  };
  intent_classifier classifier(load_rules(rules_yaml));
  for (const auto& r : rows) {
    INFO(r.description);
    const intent_result got = classifier.classify(r.session);
    CHECK(got.name == r.intent);
    CHECK(got.confidence == Approx(r.confidence));
    CHECK(got.evidence.size() == r.evidence);
  }
}

TEST_CASE("the most confident intent wins, and a tie goes to the intent listed first") {
  intent_classifier classifier(load_rules(rules_yaml));
  // order 0.5, refund 0.5 + 0.9: refund is more confident though listed later.
  auto refund = classifier.classify(session_builder().turn("order? no, a refund").metadata("channel", "refunds-line").build());
  CHECK(refund.name == "refund");
  CHECK(refund.confidence == Approx(0.95));

  // order 0.5 and track 0.5: equal, order is listed first — whatever the order of the turns.
  auto tie = classifier.classify(session_builder().turn("where is my order").build());
  CHECK(tie.name == "order");
  auto tie_reversed = classifier.classify(session_builder().turn("where is it").turn("the order").build());
  CHECK(tie_reversed.name == "order");
  // Only the winner's evidence is reported.
  for (const auto& e : tie.evidence) CHECK(e.rule == "order_text");
}

TEST_CASE("an upstream label in the metadata that names an intent is honoured with confidence 1") {
  struct row {
    const char* description;
    session_summary session;
    const char* intent;
    double confidence;
    const char* evidence_rule;
  };
  const row rows[] = {
      {"a label overrides what the rules would say",
       session_builder().turn("I want to order").metadata("intent", "refund").build(), "refund", 1.0,
       "intent_labels:intent"},
      {"a label can reach an intent that has no rules", session_builder().turn("hi").metadata("intent", "labelled_only").build(),
       "labelled_only", 1.0, "intent_labels:intent"},
      {"label keys are tried in the order listed",
       session_builder().turn("hi").metadata("category", "track").metadata("intent", "refund").build(), "refund", 1.0,
       "intent_labels:intent"},
      {"the second key applies when the first names no intent",
       session_builder().turn("hi").metadata("intent", "chitchat").metadata("category", "track").build(), "track", 1.0,
       "intent_labels:category"},
      {"a label naming no intent is ignored and the rules decide",
       session_builder().turn("I want to order").metadata("intent", "chitchat").build(), "order", 0.5, "order_text"},
      {"a label naming the fallback is ignored: the fallback is what no rule matched",
       session_builder().turn("I want to order").metadata("intent", "other").build(), "order", 0.5, "order_text"},
  };
  intent_classifier classifier(load_rules(rules_yaml));
  for (const auto& r : rows) {
    INFO(r.description);
    const intent_result got = classifier.classify(r.session);
    CHECK(got.name == r.intent);
    CHECK(got.confidence == Approx(r.confidence));
    CHECK_FALSE(got.fallback);
    REQUIRE_FALSE(got.evidence.empty());
    CHECK(got.evidence[0].rule == r.evidence_rule);
    if (r.confidence == 1.0) CHECK(got.evidence[0].kind == "metadata");
  }
}

TEST_CASE("a session no rule matches gets the fallback intent with confidence 0 and no evidence") {
  intent_classifier classifier(load_rules(rules_yaml));
  for (const auto& s : {session_builder().turn("good morning").build(), session_builder().build()}) {
    const intent_result got = classifier.classify(s);
    CHECK(got.name == "other");
    CHECK(got.fallback);
    CHECK(got.confidence == 0);
    CHECK(got.evidence.empty());
  }
}

TEST_CASE("user_text evidence quotes a bounded window around the match, marking cuts") {
  const std::string padding(400, 'x');
  const session_summary s = session_builder().turn(padding + " I want a refund now " + padding).build();
  const intent_result got = intent_classifier(load_rules(rules_yaml)).classify(s);
  REQUIRE(got.evidence.size() == 1);
  const std::string& detail = got.evidence[0].detail;
  CHECK_THAT(detail, Catch::Contains("refund"));
  CHECK_THAT(detail, Catch::StartsWith("\xE2\x80\xA6"));
  CHECK_THAT(detail, Catch::EndsWith("\xE2\x80\xA6"));
  CHECK(detail.size() <= 160 + 6);
}
