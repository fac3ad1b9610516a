// Langfuse ingestion events: every event type's mapping, Langfuse's validation rules (which events
// Langfuse itself would refuse), usage and cost, update semantics, and text excerpts.
#include <catch2/catch.hpp>

#include <simdjson.h>

#include "formats_test_support.hpp"

using namespace tw;
using namespace tw::test;

namespace {

std::string event(const std::string& type, const std::string& body, const std::string& id = "evt-1",
                  const std::string& ts = "2025-01-01T00:00:00.000Z") {
  return R"({"id":")" + id + R"(","type":")" + type + R"(","timestamp":")" + ts + R"(","body":)" + body + "}";
}

std::string batch(const std::string& events) { return R"({"batch":[)" + events + "]}"; }

observation one(const std::string& type, const std::string& body, parse_limits limits = {}) {
  return only_observation(batch(event(type, body)), input_format::auto_detect, limits);
}

const std::string obs_ids = R"("id":"obs-1","traceId":"trace-1")";

}  // namespace

TEST_CASE("a trace-create becomes a trace observation keyed by its id, carrying its session") {
  auto o = one("trace-create", R"({"id":"trace-1","timestamp":"2025-01-01T00:00:01.500Z","name":"call",
      "userId":"user-7","sessionId":"sess-9","input":"I want to book","output":{"role":"assistant","content":"Booked."},
      "environment":"production","metadata":{"channel":"voice"},"tags":["a","b"],"release":"1.2","version":"7"})");
  CHECK(o.kind == obs_kind::trace);
  CHECK(o.event_id == "evt-1");
  CHECK(o.trace_id == "trace-1");
  CHECK(o.observation_id == "trace-1");
  CHECK(o.session_id == "sess-9");
  CHECK(o.source_type == "trace-create");
  CHECK_FALSE(o.is_update);
  CHECK(o.timestamp == *parse_iso8601("2025-01-01T00:00:00.000Z"));
  CHECK(o.start == parse_iso8601("2025-01-01T00:00:01.500Z"));
  CHECK(o.name == "call");
  CHECK(o.user_id == "user-7");
  CHECK(o.user_text == "I want to book");
  CHECK(o.assistant_text == "Booked.");
  CHECK(o.environment == "production");
  CHECK(metadata_value(o, "channel") == "voice");
  CHECK(metadata_value(o, "tags") == "a,b");
  CHECK(metadata_value(o, "release") == "1.2");
  CHECK(metadata_value(o, "version") == "7");
}

TEST_CASE("a single event without the batch wrapper is accepted like a batch of one") {
  auto o = only_observation(event("trace-create", R"({"id":"t"})"));
  CHECK(o.kind == obs_kind::trace);
  CHECK(o.trace_id == "t");
}

TEST_CASE("every observation event type maps to its kind and update flag") {
  struct row {
    const char* description;
    const char* type;
    const char* body_type;  // body.type, or nullptr
    obs_kind kind;
    bool update;
  };
  const row rows[] = {
      {"span-create is a span", "span-create", nullptr, obs_kind::span, false},
      {"span-update amends a span", "span-update", nullptr, obs_kind::span, true},
      {"generation-create is a generation", "generation-create", nullptr, obs_kind::generation, false},
      {"generation-update amends a generation", "generation-update", nullptr, obs_kind::generation, true},
      {"event-create is an event", "event-create", nullptr, obs_kind::event, false},
      {"agent-create is a span", "agent-create", nullptr, obs_kind::span, false},
      {"tool-create is a tool", "tool-create", nullptr, obs_kind::tool, false},
      {"chain-create is a span", "chain-create", nullptr, obs_kind::span, false},
      {"retriever-create is a span", "retriever-create", nullptr, obs_kind::span, false},
      {"evaluator-create is a span", "evaluator-create", nullptr, obs_kind::span, false},
      {"embedding-create is a generation", "embedding-create", nullptr, obs_kind::generation, false},
      {"guardrail-create is a span", "guardrail-create", nullptr, obs_kind::span, false},
      {"legacy observation-create SPAN", "observation-create", "SPAN", obs_kind::span, false},
      {"legacy observation-create GENERATION", "observation-create", "GENERATION", obs_kind::generation, false},
      {"legacy observation-create EVENT", "observation-create", "EVENT", obs_kind::event, false},
      {"legacy observation-update amends", "observation-update", "GENERATION", obs_kind::generation, true},
      {"v3 type TOOL in a legacy observation", "observation-create", "TOOL", obs_kind::tool, false},
      {"v3 type AGENT in a legacy observation", "observation-create", "AGENT", obs_kind::span, false},
      {"v3 type EMBEDDING in a legacy observation", "observation-create", "EMBEDDING", obs_kind::generation, false},
      {"v3 type TOOL refines a span-create", "span-create", "TOOL", obs_kind::tool, false},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    std::string body = "{" + obs_ids + (r.body_type ? std::string(R"(,"type":")") + r.body_type + "\"" : "") + "}";
    auto o = one(r.type, body);
    CHECK(o.kind == r.kind);
    CHECK(o.is_update == r.update);
    CHECK(o.source_type == r.type);
    CHECK(o.observation_id == "obs-1");
    CHECK(o.trace_id == "trace-1");
    CHECK(o.event_id == "evt-1");
  }
}

TEST_CASE("sdk-log events are valid and counted as ignored, not rejected") {
  auto r = parse_checked(batch(event("sdk-log", R"({"log":"flushed 3 events"})")));
  CHECK(r.observations.empty());
  CHECK(r.rejected.empty());
  CHECK(r.ignored == 1);
  CHECK(r.detected == input_format::langfuse);
}

TEST_CASE("events Langfuse would refuse are rejected with the field's path and reason") {
  struct row {
    const char* description;
    std::string event;
    reject_code code;
    const char* detail;
  };
  const std::string ts = R"("timestamp":"2025-01-01T00:00:00.000Z")";
  const row rows[] = {
      {"the envelope id is required", R"({"type":"trace-create",)" + ts + R"(,"body":{"id":"t"}})",
       reject_code::missing_field, "id: missing"},
      {"the envelope id must be a string", R"({"id":5,"type":"trace-create",)" + ts + R"(,"body":{"id":"t"}})",
       reject_code::invalid_field, "id: not a string"},
      {"the envelope id must not be empty", event("trace-create", R"({"id":"t"})", ""), reject_code::invalid_field,
       "id: empty"},
      {"a carriage return in an id (servertest: should fail for \\r in id)",
       event("trace-create", R"({"id":"t"})", "a\\rb"), reject_code::invalid_field,
       "id: contains a carriage return"},
      {"ids longer than 512 bytes (tracewatch's bound, stricter than Langfuse's 800 characters)",
       event("trace-create", R"({"id":"t"})", std::string(513, 'x')), reject_code::invalid_field,
       "id: longer than 512 bytes"},
      {"the id bound counts bytes: 171 three-byte characters are 513 bytes",
       event("trace-create", R"({"id":")" + [] {
         std::string s;
         for (int i = 0; i < 171; ++i) s += "\xE6\x97\xA5";
         return s;
       }() + "\"}"),
       reject_code::invalid_field, "body.id: longer than 512 bytes"},
      {"a session id longer than 512 bytes is rejected, never cut (two sessions would merge)",
       event("trace-create", R"({"id":"t","sessionId":")" + std::string(600, 's') + "\"}"),
       reject_code::invalid_field, "body.sessionId: longer than 512 bytes"},
      {"an unknown type", event("trace-delete", R"({"id":"t"})"), reject_code::unsupported_type,
       "type: unknown event type \"trace-delete\""},
      {"the type is required", R"({"id":"e",)" + ts + R"(,"body":{"id":"t"}})", reject_code::missing_field,
       "type: missing"},
      {"the timestamp is required", R"({"id":"e","type":"trace-create","body":{"id":"t"}})",
       reject_code::missing_field, "timestamp: missing"},
      {"the timestamp must be ISO-8601", event("trace-create", R"({"id":"t"})", "e", "yesterday"),
       reject_code::invalid_field, "timestamp: not an ISO-8601 date-time"},
      {"the body is required", R"({"id":"e","type":"trace-create",)" + ts + "}", reject_code::missing_field,
       "body: missing"},
      {"the body must be an object", event("trace-create", "[1]"), reject_code::invalid_field, "body: not an object"},
      {"a trace needs its id", event("trace-create", R"({"name":"x"})"), reject_code::missing_field,
       "body.id: missing"},
      {"an observation needs its id", event("span-create", R"({"traceId":"t"})"), reject_code::missing_field,
       "body.id: missing"},
      {"an observation needs its trace id", event("span-create", R"({"id":"o"})"), reject_code::missing_field,
       "body.traceId: missing"},
      {"a null trace id is missing", event("generation-update", R"({"id":"o","traceId":null})"),
       reject_code::missing_field, "body.traceId: missing"},
      {"a trace id must be a string", event("span-create", R"({"id":"o","traceId":7})"), reject_code::invalid_field,
       "body.traceId: not a string"},
      {"a trace name over 1000 characters (servertest: should fail for long trace name)",
       event("trace-create", R"({"id":"t","name":")" + std::string(1001, 'n') + "\"}"), reject_code::invalid_field,
       "body.name: longer than 1000 characters"},
      {"levels outside the enum", event("span-create", "{" + obs_ids + R"(,"level":"FATAL"})"),
       reject_code::invalid_field, "body.level: not one of DEBUG, DEFAULT, WARNING, ERROR"},
      {"start times must be ISO-8601", event("span-create", "{" + obs_ids + R"(,"startTime":"noon"})"),
       reject_code::invalid_field, "body.startTime: not an ISO-8601 date-time"},
      {"a legacy observation needs body.type", event("observation-create", "{" + obs_ids + "}"),
       reject_code::missing_field, "body.type: missing"},
      {"a legacy observation's body.type must be known", event("observation-create", "{" + obs_ids + R"(,"type":"X"})"),
       reject_code::invalid_field,
       "body.type: not a Langfuse observation type (SPAN, GENERATION, EVENT, AGENT, TOOL, ...)"},
      {"a score needs a value", event("score-create", R"({"traceId":"t","name":"n"})"), reject_code::missing_field,
       "body.value: missing"},
      {"a score needs a name", event("score-create", R"({"traceId":"t","value":1})"), reject_code::missing_field,
       "body.name: missing"},
      {"a score value must be a number or string", event("score-create", R"({"traceId":"t","name":"n","value":[1]})"),
       reject_code::invalid_field, "body.value: not a number or string"},
      {"a score on no trace and no session (dataset run)",
       event("score-create", R"({"name":"n","value":1,"datasetRunId":"r"})"), reject_code::unsupported_type,
       "body: a score without traceId or sessionId (e.g. on a dataset run) belongs to no session"},
      {"an event that is not an object", "42", reject_code::invalid_field, "event: not an object"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto rej = only_rejection(batch(r.event));
    CHECK(rej.code == r.code);
    CHECK(rej.detail == r.detail);
    REQUIRE(rej.index);
    CHECK(*rej.index == 0);
  }
}

TEST_CASE("ids of exactly 512 bytes and trace names of exactly 1000 characters are accepted; names are cut to 256 bytes") {
  auto o = one("trace-create", R"({"id":")" + std::string(512, 'i') + R"(","name":")" + std::string(1000, 'n') + "\"}");
  CHECK(o.trace_id.size() == 512);
  CHECK(*o.name == std::string(256, 'n') + "\xE2\x80\xA6");
  // Lengths count UTF-16 units, as zod does: 500 emoji are 1000 units.
  std::string emoji;
  for (int i = 0; i < 500; ++i) emoji += "\xF0\x9F\x98\x80";
  CHECK(one("trace-create", R"({"id":"t","name":")" + emoji + "\"}").kind == obs_kind::trace);
  CHECK(only_rejection(batch(event("trace-create", R"({"id":"t","name":")" + emoji + "x\"}"))).code ==
        reject_code::invalid_field);
}

TEST_CASE("one bad event in a batch is rejected on its own, with its index and its own bytes") {
  const std::string bad = event("span-create", R"({"id":"o2"})", "evt-2");
  auto r = parse_checked(batch(event("trace-create", R"({"id":"t"})", "evt-1") + "," + bad + "," +
                               event("span-create", R"({"id":"o3","traceId":"t"})", "evt-3")));
  REQUIRE(r.observations.size() == 2);
  CHECK(r.observations[0].event_id == "evt-1");
  CHECK(r.observations[1].event_id == "evt-3");
  REQUIRE(r.rejected.size() == 1);
  CHECK(r.rejected[0].index == 1u);
  CHECK(r.rejected[0].detail == "body.traceId: missing");
  CHECK(r.rejected[0].payload == bad);  // already compact
}

TEST_CASE("a batch that is not a list rejects the whole message with its original bytes") {
  const std::string msg = R"({"batch": {"id":"x"}})";
  auto rej = only_rejection(msg);
  CHECK(rej.code == reject_code::invalid_field);
  CHECK(rej.detail == "batch: not an array");
  CHECK_FALSE(rej.index);
  CHECK(rej.payload == msg);
}

TEST_CASE("a rejected single event carries the whole message and no index") {
  const std::string msg = event("span-create", R"({"id":"o"})");
  auto rej = only_rejection(msg);
  CHECK_FALSE(rej.index);
  CHECK(rej.payload == msg);
}

TEST_CASE("scores attach to a trace, an observation or a session") {
  SECTION("a numeric score on an observation of a trace") {
    auto o = one("score-create",
                 R"({"id":"sc-1","traceId":"t","observationId":"o","name":"accuracy","value":0.9,"comment":"ok"})");
    CHECK(o.kind == obs_kind::score);
    CHECK(o.observation_id == "sc-1");
    CHECK(o.trace_id == "t");
    CHECK(o.parent_id == "o");
    CHECK(o.name == "accuracy");
    CHECK(o.score_value == 0.9);
    CHECK_FALSE(o.score_label);
    CHECK(metadata_value(o, "comment") == "ok");
  }
  SECTION("a categorical score keyed only by session") {
    auto o = one("score-create", R"({"name":"relevance","value":"not relevant","sessionId":"s-1"})");
    CHECK(o.session_id == "s-1");
    CHECK(o.trace_id.empty());
    CHECK(o.observation_id == "evt-1");  // without body.id the envelope id names it
    CHECK(o.score_label == "not relevant");
  }
  SECTION("a boolean score") { CHECK(one("score-create", R"({"traceId":"t","name":"b","value":true})").score_value == 1.0); }
  SECTION("a null comment clears the comment (#4900)") {
    auto o = one("score-create", R"({"traceId":"t","name":"n","value":1,"comment":null})");
    CHECK(metadata_value(o, "comment") == "");
  }
}

TEST_CASE("usage and cost follow Langfuse's precedence") {
  struct row {
    const char* description;
    const char* fields;
    std::optional<int64_t> input, output;
    std::optional<double> cost;
  };
  const row rows[] = {
      {"legacy usage with unit TOKENS and costs", R"("usage":{"input":150,"output":75,"total":225,"unit":"TOKENS","inputCost":0.0015,"outputCost":0.003,"totalCost":0.0045})",
       150, 75, 0.0045},
      {"legacy usage without unit counts as tokens", R"("usage":{"input":3,"output":4})", 3, 4, std::nullopt},
      {"usage in characters is not tokens", R"("usage":{"input":300,"output":20,"unit":"CHARACTERS"})", std::nullopt,
       std::nullopt, std::nullopt},
      {"OpenAI-style usage", R"("usage":{"promptTokens":11,"completionTokens":5,"totalTokens":16})", 11, 5,
       std::nullopt},
      {"usageDetails map", R"("usageDetails":{"input":800,"output":400,"total":1200})", 800, 400, std::nullopt},
      {"usageDetails wins over usage, per field", R"("usageDetails":{"input":10},"usage":{"input":99,"output":7})", 10,
       7, std::nullopt},
      {"float usageDetails are dropped (servertest)", R"("usageDetails":{"input":0.1,"output":2})", std::nullopt, 2,
       std::nullopt},
      {"OpenAI chat usageDetails (inclusive counts)",
       R"("usageDetails":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":40}})",
       100, 20, std::nullopt},
      {"OpenAI Responses usageDetails", R"("usageDetails":{"input_tokens":30,"output_tokens":9,"total_tokens":39})", 30,
       9, std::nullopt},
      {"big numbers as strings", R"("usageDetails":{"input":"9007199254740993","output":"2"})", 9007199254740993LL, 2,
       std::nullopt},
      {"negative counts are dropped", R"("usageDetails":{"input":-5})", std::nullopt, std::nullopt, std::nullopt},
      {"costDetails.total first", R"("costDetails":{"input":1,"output":2,"total":0.5},"usage":{"totalCost":9})",
       std::nullopt, std::nullopt, 0.5},
      {"else the sum of costDetails", R"("costDetails":{"input":0.25,"output":0.5})", std::nullopt, std::nullopt, 0.75},
      {"else usage.totalCost", R"("usage":{"totalCost":0.004})", std::nullopt, std::nullopt, 0.004},
      {"else inputCost + outputCost", R"("usage":{"inputCost":0.001,"outputCost":0.002})", std::nullopt, std::nullopt,
       0.003},
      {"costs given as strings", R"("costDetails":{"total":"0.125"})", std::nullopt, std::nullopt, 0.125},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto o = one("generation-create", "{" + obs_ids + "," + r.fields + "}");
    CHECK(o.input_tokens == r.input);
    CHECK(o.output_tokens == r.output);
    REQUIRE(o.cost_usd.has_value() == r.cost.has_value());
    if (r.cost) CHECK(*o.cost_usd == Approx(*r.cost));
  }
}

TEST_CASE("environments are normalised as Langfuse does") {
  struct row {
    const char* description;
    const char* raw;
    const char* normalised;
  };
  const row rows[] = {
      {"a valid name is kept", "production", "production"},
      {"upper case is lowered", "Staging-EU_1", "staging-eu_1"},
      {"the langfuse prefix is reserved (servertest)", "langfuse-test", "default"},
      {"invalid characters (servertest)", ".invalidcharacter!", "default"},
      {"longer than 40 characters (servertest)", "incrediblylongstringwithmorethan40characters", "default"},
      {"empty", "", "default"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto o = one("span-create", "{" + obs_ids + R"(,"environment":")" + r.raw + "\"}");
    CHECK(o.environment == r.normalised);
  }
}

TEST_CASE("levels and status messages map to obs_level") {
  struct row {
    const char* level;
    obs_level expected;
  };
  for (const auto& r : {row{"DEBUG", obs_level::debug}, row{"DEFAULT", obs_level::normal},
                        row{"WARNING", obs_level::warning}, row{"ERROR", obs_level::error}}) {
    INFO(r.level);
    auto o = one("span-create", "{" + obs_ids + R"(,"level":")" + r.level + R"(","statusMessage":"boom"})");
    CHECK(o.level == r.expected);
    CHECK(o.status_message == "boom");
  }
}

TEST_CASE("a generation's text is the last user message and the assistant's answer") {
  struct row {
    const char* description;
    std::string input;
    std::string output;
    std::optional<std::string> user, assistant, finish;
  };
  const row rows[] = {
      {"chat messages with string content",
       R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first"},{"role":"assistant","content":"a"},{"role":"user","content":"second"}]})",
       R"({"role":"assistant","content":"done"})", "second", "done", std::nullopt},
      {"a bare message array and content parts",
       R"([{"role":"user","content":[{"type":"text","text":"look at"},{"type":"image_url","image_url":{"url":"x"}}]}])",
       R"("plain answer")", "look at", "plain answer", std::nullopt},
      {"Gemini contents and candidates",
       R"({"contents":[{"role":"user","parts":[{"text":"hola"}]},{"role":"model","parts":[{"text":"hi"}]}]})",
       R"({"candidates":[{"content":{"role":"model","parts":[{"text":"¿qué tal?"}]},"finishReason":"STOP"}]})", "hola",
       "¿qué tal?", "STOP"},
      {"OpenAI choices", R"("just a string")",
       R"({"choices":[{"index":0,"message":{"role":"assistant","content":"from choices"},"finish_reason":"stop"}]})",
       "just a string", "from choices", "stop"},
      {"content object output", R"({"text":"input"})", R"({"content":"output text","finish_reason":"length"})", "input",
       "output text", "length"},
      {"JSON inside a string is decoded", R"("[{\"role\":\"user\",\"content\":\"nested\"}]")",
       R"("{\"role\":\"assistant\",\"content\":\"also nested\"}")", "nested", "also nested", std::nullopt},
      {"tool-call-only answers have no text", R"({"messages":[{"role":"user","content":"weather?"}]})",
       R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1"}]})", "weather?", std::nullopt, std::nullopt},
      {"a finish reason is cut to 64 bytes (issue 6)", R"("hi")",
       R"({"content":"ok","finish_reason":")" + std::string(100000, 'f') + R"("})", "hi", "ok",
       std::string(64, 'f') + "\xE2\x80\xA6"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto o = one("generation-create", "{" + obs_ids + R"(,"input":)" + r.input + R"(,"output":)" + r.output + "}");
    CHECK(o.user_text == r.user);
    CHECK(o.assistant_text == r.assistant);
    CHECK(o.finish_reason == r.finish);
  }
}

TEST_CASE("a tool observation carries its name and a bounded excerpt of its result") {
  parse_limits limits;
  limits.result_excerpt_bytes = 20;
  auto o = one("tool-create", "{" + obs_ids + R"(,"name":"get_weather","output":{"city":"Rome","forecast":"cloudy","temp_c":17}})",
               limits);
  CHECK(o.kind == obs_kind::tool);
  CHECK(o.tool_name == "get_weather");
  CHECK(o.tool_result == "{\"city\":\"Rome\",\"fore\xE2\x80\xA6");
  auto s = one("tool-create", "{" + obs_ids + R"(,"name":"t","output":"plain result"})");
  CHECK(s.tool_result == "plain result");
}

TEST_CASE("null on an update clears a field; absent leaves it alone; null on a create is absent") {
  auto u = one("generation-update", "{" + obs_ids + R"(,"name":null,"statusMessage":null,"model":null,"output":null,"metadata":null,"parentObservationId":null})");
  CHECK(u.is_update);
  CHECK(u.name == "");
  CHECK(u.status_message == "");
  CHECK(u.model == "");
  CHECK(u.assistant_text == "");
  CHECK(u.parent_id == "");
  REQUIRE(u.metadata);
  CHECK(u.metadata->empty());
  CHECK_FALSE(u.user_text);  // absent: untouched
  CHECK_FALSE(u.level);

  auto c = one("generation-create", "{" + obs_ids + R"(,"name":null,"output":null,"metadata":null})");
  CHECK_FALSE(c.name);
  CHECK_FALSE(c.assistant_text);
  CHECK_FALSE(c.metadata);

  auto t = one("span-update", "{" + obs_ids + R"(,"output":null})");
  CHECK_FALSE(t.tool_result);
  auto tool = one("observation-update", "{" + obs_ids + R"(,"type":"TOOL","output":null})");
  CHECK(tool.tool_result == "");
}

TEST_CASE("metadata of any JSON is flattened to bounded top-level entries") {
  SECTION("nested values become compact JSON; numbers keep their digits") {
    auto o = one("span-create", "{" + obs_ids +
                                    R"(,"metadata":{"a":"x","n":1983516295378495150,"f":5.5,"nested":{"k":[1,true,null]},"s":"1983516295378495150"}})");
    CHECK(metadata_value(o, "a") == "x");
    CHECK(metadata_value(o, "n") == "1983516295378495150");
    CHECK(metadata_value(o, "f") == "5.5");
    CHECK(metadata_value(o, "nested") == R"({"k":[1,true,null]})");
    CHECK(metadata_value(o, "s") == "1983516295378495150");
  }
  SECTION("metadata that is not an object is one entry") {
    auto o = one("trace-create", R"({"id":"t","metadata":"My metadata"})");
    CHECK(metadata_value(o, "metadata") == "My metadata");
  }
  SECTION("the number of entries and their size are bounded by parse_limits") {
    parse_limits limits;
    limits.metadata_entries = 2;
    limits.metadata_value_bytes = 4;
    auto o = one("span-create", "{" + obs_ids + R"(,"metadata":{"a":"12345678","b":"x","c":"y"}})", limits);
    REQUIRE(o.metadata);
    CHECK(o.metadata->size() == 2);
    CHECK(metadata_value(o, "a") == "1234\xE2\x80\xA6");
  }
}

TEST_CASE("text excerpts are bounded and cut on character boundaries") {
  parse_limits limits;
  limits.text_excerpt_bytes = 10;
  std::string emoji;
  for (int i = 0; i < 10; ++i) emoji += "\xF0\x9F\x98\x80";
  auto o = one("trace-create", R"({"id":"t","input":")" + emoji + "\"}", limits);
  REQUIRE(o.user_text);
  CHECK(is_valid_utf8(*o.user_text));
  CHECK(*o.user_text == "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xE2\x80\xA6");
}

TEST_CASE("trace input that is not a message is shown as compact JSON") {
  auto o = one("trace-create", R"({"id":"t","input":["hello",{"world":"world"},[1,2,3]]})");
  CHECK(o.user_text == R"(["hello",{"world":"world"},[1,2,3]])");
}

TEST_CASE("each observation knows its position in a batch, for dead letters that point at one event") {
  tw::payload_parser parser;
  auto r = parser.parse(
      R"({"batch":[)"
      R"({"id":"a","type":"trace-create","timestamp":"2025-01-01T00:00:00.000Z","body":{"id":"t1","sessionId":"s"}},)"
      R"({"id":"b","type":"sdk-log","timestamp":"2025-01-01T00:00:00.000Z","body":{"log":"x"}},)"
      R"({"id":"c","type":"span-create","timestamp":"2025-01-01T00:00:01.000Z","body":{"id":"sp","traceId":"t1"}}]})");
  REQUIRE(r.observations.size() == 2);
  CHECK(r.observations[0].source_index == 0);
  CHECK(r.observations[1].source_index == 2);  // the sdk-log at 1 is ignored, not renumbered
}
