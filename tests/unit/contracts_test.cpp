// The output contracts (DESIGN.md §8, docs/topics.md): what encode_session_json and
// encode_deadletter_json write must validate against docs/schemas/*.json, and the schemas must
// be strict enough to refuse documents that break the contract.
#include <cmath>
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "model/kafka.hpp"
#include "model/rejection.hpp"
#include "model/session.hpp"
#include "tests/support/contract_check.hpp"
#include "tests/support/json_schema.hpp"
#include "topics/contracts/deadletter_json.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/watermark_json.hpp"
#include "topics/contracts/alert_json.hpp"

using namespace tw;
using nlohmann::json;
using tw::testing::json_schema;
using tw::testing::schema_violation;

namespace {

const json_schema& session_schema() { return test::contract_schema("tracewatch.session.v1"); }
const json_schema& deadletter_schema() { return test::contract_schema("tracewatch.deadletter.v1"); }

bool has_violation(const std::vector<schema_violation>& vs, const std::string& pointer, const std::string& keyword) {
  for (const auto& v : vs)
    if (v.instance_pointer == pointer && v.keyword == keyword) return true;
  return false;
}

// Whole milliseconds: the contract carries event times at millisecond precision.
event_time at_ms(int64_t ms) { return event_time::from_millis(ms); }
constexpr int64_t t0 = 1735689600000;  // 2025-01-01T00:00:00.000Z

// Every list populated, every optional present somewhere and absent somewhere, non-ASCII text.
session_summary full_session() {
  session_summary s;
  s.session_id = "sess-42/ünïcødé";
  s.revision = 3;
  s.reason = completion_reason::end_marker;
  s.abandoned = false;
  s.first_event_at = at_ms(t0 + 1);
  s.last_event_at = at_ms(t0 + 3723004);
  s.closed_at = at_ms(t0 + 3733004);
  s.stats = session_stats{5, 17, 4, 3, 1, 2, 1200, 345, 0.0123, duration{3723003000}, cost_origin::mixed};
  s.user_id = "user-Zoë";
  s.environment = "production";
  s.models = {"claude-3-5-sonnet", "gpt-4o"};
  s.metadata = {{"team", "søk"}, {"tier", "gold"}, {"a/b~c", "keys are free-form"}};
  s.turns = {
      turn_summary{"trace-1", at_ms(t0 + 1), "Grüß dich — 日本語で話せますか? 🙂", "はい、話せます。"},
      turn_summary{"trace-2", at_ms(t0 + 60000), "", ""},
  };
  s.tool_calls = {
      tool_call_summary{"obs-t1", "trace-1", "search", true, "3 results", "", at_ms(t0 + 500), duration{1234567}},
      tool_call_summary{"obs-t2", "trace-2", "book_flight", false, "", "HTTP 503 — Dienst nicht verfügbar",
                        at_ms(t0 + 61000), std::nullopt},
  };
  llm_call_summary full_call;
  full_call.observation_id = "obs-g1";
  full_call.trace_id = "trace-1";
  full_call.name = "chat";
  full_call.model = "gpt-4o";
  full_call.at = at_ms(t0 + 100);
  full_call.latency = duration{93};
  full_call.input_tokens = 1200;
  full_call.output_tokens = 345;
  full_call.cost_usd = 0.0123;
  full_call.cost_source = cost_origin::computed;
  full_call.counted = true;
  full_call.ok = true;
  full_call.finish_reason = "stop";
  llm_call_summary bare_call;  // every optional absent
  bare_call.observation_id = "obs-g2";
  bare_call.trace_id = "trace-2";
  bare_call.name = "";
  bare_call.at = at_ms(t0 + 60500);
  bare_call.counted = false;
  bare_call.ok = false;
  bare_call.error = "rate limited";
  bare_call.empty_output = true;
  s.llm_calls = {full_call, bare_call};
  s.errors = {
      error_summary{"obs-t2", "trace-2", obs_kind::tool, "book_flight", "HTTP 503", at_ms(t0 + 61000)},
      error_summary{"obs-g2", "trace-2", obs_kind::generation, "", "", at_ms(t0 + 60500)},
  };
  s.scores = {score_summary{"helpfulness", 0.75, ""}, score_summary{"sentiment", std::nullopt, "négatif"}};
  s.truncated = truncation_counts{10, 1, 2, 3, 4};
  return s;
}

// Too few traces: nothing but the window, every list empty, every optional absent.
session_summary abandoned_session() {
  session_summary s;
  s.session_id = "s";
  s.revision = 1;
  s.reason = completion_reason::gap;
  s.abandoned = true;
  s.first_event_at = s.last_event_at = at_ms(t0);
  s.closed_at = at_ms(t0 + 300000);
  s.stats.traces = 1;
  return s;
}

std::vector<schema_violation> validate_session(const session_summary& s) {
  return session_schema().validate(json::parse(encode_session_json(s)));
}

rejected_event rejection(reject_code code, std::string detail, std::optional<uint32_t> index, std::string payload) {
  rejected_event r;
  r.code = code;
  r.detail = std::move(detail);
  r.index = index;
  r.payload = std::move(payload);
  return r;
}

record_position position(std::string topic, int32_t partition, int64_t off) {
  return record_position{topic_partition{std::move(topic), partition_id{partition}}, offset{off}};
}

}  // namespace

TEST_CASE("the contract schemas load: they use only keywords the validator enforces", "[contracts]") {
  CHECK(session_schema().validate(json::object()).size() > 0);
  CHECK(deadletter_schema().validate(json::object()).size() > 0);
}

// Every object shape in a contract schema closes its members (additionalProperties false, or a
// schema for a free-form map) and describes each of them. Constraint-only subschemas (the
// alternatives of a oneOf) have no `type` and are not shapes.
void check_strict_and_described(const json& schema, const std::string& at) {
  if (!schema.is_object()) return;
  if (schema.value("type", json()) == "object") {
    INFO(at);
    REQUIRE(schema.contains("additionalProperties"));
    if (schema.contains("properties")) CHECK(schema["additionalProperties"] == false);
    const json properties = schema.value("properties", json::object());
    for (const auto& [name, sub] : properties.items()) {
      INFO(at << "/properties/" << name);
      CHECK(sub.contains("description"));
    }
  }
  for (const char* key : {"properties", "$defs"}) {
    const json members = schema.value(key, json::object());
    for (const auto& [name, sub] : members.items()) check_strict_and_described(sub, at + "/" + key + "/" + name);
  }
  for (const char* key : {"items", "additionalProperties"})
    if (schema.contains(key)) check_strict_and_described(schema[key], at + "/" + key);
  for (const char* key : {"oneOf", "anyOf"}) {
    const json alternatives = schema.value(key, json::array());
    for (size_t i = 0; i < alternatives.size(); ++i)
      check_strict_and_described(alternatives[i], at + "/" + key + "/" + std::to_string(i));
  }
}

TEST_CASE("the contract schemas are strict and describe every field", "[contracts]") {
  for (const char* name : {"tracewatch.session.v1.json", "tracewatch.deadletter.v1.json", "tracewatch.verdict.v1.json",
                           "tracewatch.diagnostic.v1.json", "tracewatch.watermark.v1.json",
                           "tracewatch.alert.v1.json", "tracewatch.query.session.v1.json",
                           "tracewatch.query.verdicts.v1.json", "tracewatch.query.failures.v1.json",
                           "tracewatch.query.alerts.v1.json", "tracewatch.query.error.v1.json"}) {
    std::ifstream in(std::string(TW_SOURCE_DIR "/docs/schemas/") + name);
    REQUIRE(in);
    const json schema = json::parse(in);
    INFO(name);
    CHECK(schema.value("$schema", "") == "https://json-schema.org/draft/2020-12/schema");
    check_strict_and_described(schema, "");
  }
}

TEST_CASE("a session with every list populated validates against tracewatch.session.v1", "[contracts]") {
  const auto violations = validate_session(full_session());
  INFO(encode_session_json(full_session()) << "\n" << tw::testing::to_string(violations));
  CHECK(violations.empty());
}

TEST_CASE("an abandoned session with empty lists and no optional values validates", "[contracts]") {
  const auto doc = json::parse(encode_session_json(abandoned_session()));
  const auto violations = session_schema().validate(doc);
  INFO(doc.dump(2) << "\n" << tw::testing::to_string(violations));
  CHECK(violations.empty());
  // The encoder writes absent values as null rather than leaving them out.
  CHECK(doc["user_id"].is_null());
  CHECK(doc["environment"].is_null());
  CHECK(doc["stats"]["cost_usd"].is_null());
  CHECK(doc["stats"]["cost_source"].is_null());
  CHECK(doc["turns"] == json::array());
  CHECK(doc["metadata"] == json::object());
}

TEST_CASE("every completion reason and observation kind the encoder can write is in the schema", "[contracts]") {
  for (auto reason : {completion_reason::gap, completion_reason::end_marker, completion_reason::max_duration,
                      completion_reason::flush, completion_reason::idle}) {
    for (auto kind : {obs_kind::trace, obs_kind::span, obs_kind::generation, obs_kind::tool, obs_kind::event,
                      obs_kind::score}) {
      INFO(to_string(reason) << " / " << to_string(kind));
      session_summary s = abandoned_session();
      s.reason = reason;
      s.errors = {error_summary{"o", "t", kind, "n", "m", at_ms(t0)}};
      const auto violations = validate_session(s);
      INFO(tw::testing::to_string(violations));
      CHECK(violations.empty());
    }
  }
}

TEST_CASE("every cost source the encoder can write is in the schema, for the session and for a call", "[contracts]") {
  for (auto origin : {cost_origin::reported, cost_origin::computed, cost_origin::mixed}) {
    INFO(to_string(origin));
    session_summary s = full_session();
    s.stats.cost_source = origin;
    const auto doc = json::parse(encode_session_json(s));
    CHECK(doc["stats"]["cost_source"] == std::string(to_string(origin)));
    const auto violations = validate_session(s);
    INFO(tw::testing::to_string(violations));
    CHECK(violations.empty());
  }
  // A single call is reported or computed, never mixed: the schema says so.
  session_summary s = full_session();
  s.llm_calls[0].cost_source = cost_origin::reported;
  CHECK(validate_session(s).empty());
  s.llm_calls[0].cost_source = cost_origin::mixed;
  CHECK(has_violation(validate_session(s), "/llm_calls/0/cost_source", "enum"));
}

TEST_CASE("a session record written before cost_source existed still decodes, with no source", "[contracts]") {
  auto doc = json::parse(encode_session_json(full_session()));
  doc["stats"].erase("cost_source");
  for (auto& c : doc["llm_calls"]) c.erase("cost_source");
  std::string error;
  const auto decoded = decode_session_json(doc.dump(), &error);
  INFO(error);
  REQUIRE(decoded);
  CHECK(decoded->stats.cost_usd == 0.0123);
  CHECK_FALSE(decoded->stats.cost_source);
  CHECK_FALSE(decoded->llm_calls[0].cost_source);
}

TEST_CASE("decode_session_json reads back every field encode_session_json wrote", "[contracts]") {
  for (const auto& original : {full_session(), abandoned_session()}) {
    INFO(original.session_id);
    std::string error;
    const auto decoded = decode_session_json(encode_session_json(original), &error);
    INFO(error);
    REQUIRE(decoded);
    const session_summary& a = original;
    const session_summary& b = *decoded;
    CHECK(b.session_id == a.session_id);
    CHECK(b.revision == a.revision);
    CHECK(b.reason == a.reason);
    CHECK(b.abandoned == a.abandoned);
    CHECK(b.first_event_at == a.first_event_at);
    CHECK(b.last_event_at == a.last_event_at);
    CHECK(b.closed_at == a.closed_at);
    CHECK(b.stats.traces == a.stats.traces);
    CHECK(b.stats.observations == a.stats.observations);
    CHECK(b.stats.generations == a.stats.generations);
    CHECK(b.stats.tool_calls == a.stats.tool_calls);
    CHECK(b.stats.tool_errors == a.stats.tool_errors);
    CHECK(b.stats.errors == a.stats.errors);
    CHECK(b.stats.input_tokens == a.stats.input_tokens);
    CHECK(b.stats.output_tokens == a.stats.output_tokens);
    CHECK(b.stats.cost_usd == a.stats.cost_usd);
    CHECK(b.stats.cost_source == a.stats.cost_source);
    CHECK(b.stats.session_duration == a.stats.session_duration);
    CHECK(b.user_id == a.user_id);
    CHECK(b.environment == a.environment);
    CHECK(b.models == a.models);
    CHECK(b.metadata == a.metadata);
    REQUIRE(b.turns.size() == a.turns.size());
    for (size_t i = 0; i < a.turns.size(); ++i) {
      INFO("turn " << i);
      CHECK(b.turns[i].trace_id == a.turns[i].trace_id);
      CHECK(b.turns[i].at == a.turns[i].at);
      CHECK(b.turns[i].user_text == a.turns[i].user_text);
      CHECK(b.turns[i].assistant_text == a.turns[i].assistant_text);
    }
    REQUIRE(b.tool_calls.size() == a.tool_calls.size());
    for (size_t i = 0; i < a.tool_calls.size(); ++i) {
      INFO("tool call " << i);
      CHECK(b.tool_calls[i].observation_id == a.tool_calls[i].observation_id);
      CHECK(b.tool_calls[i].trace_id == a.tool_calls[i].trace_id);
      CHECK(b.tool_calls[i].name == a.tool_calls[i].name);
      CHECK(b.tool_calls[i].ok == a.tool_calls[i].ok);
      CHECK(b.tool_calls[i].result == a.tool_calls[i].result);
      CHECK(b.tool_calls[i].error == a.tool_calls[i].error);
      CHECK(b.tool_calls[i].at == a.tool_calls[i].at);
      CHECK(b.tool_calls[i].latency == a.tool_calls[i].latency);
    }
    REQUIRE(b.llm_calls.size() == a.llm_calls.size());
    for (size_t i = 0; i < a.llm_calls.size(); ++i) {
      INFO("llm call " << i);
      CHECK(b.llm_calls[i].observation_id == a.llm_calls[i].observation_id);
      CHECK(b.llm_calls[i].trace_id == a.llm_calls[i].trace_id);
      CHECK(b.llm_calls[i].name == a.llm_calls[i].name);
      CHECK(b.llm_calls[i].model == a.llm_calls[i].model);
      CHECK(b.llm_calls[i].at == a.llm_calls[i].at);
      CHECK(b.llm_calls[i].latency == a.llm_calls[i].latency);
      CHECK(b.llm_calls[i].input_tokens == a.llm_calls[i].input_tokens);
      CHECK(b.llm_calls[i].output_tokens == a.llm_calls[i].output_tokens);
      CHECK(b.llm_calls[i].cost_usd == a.llm_calls[i].cost_usd);
      CHECK(b.llm_calls[i].cost_source == a.llm_calls[i].cost_source);
      CHECK(b.llm_calls[i].counted == a.llm_calls[i].counted);
      CHECK(b.llm_calls[i].ok == a.llm_calls[i].ok);
      CHECK(b.llm_calls[i].error == a.llm_calls[i].error);
      CHECK(b.llm_calls[i].finish_reason == a.llm_calls[i].finish_reason);
      CHECK(b.llm_calls[i].empty_output == a.llm_calls[i].empty_output);
    }
    REQUIRE(b.errors.size() == a.errors.size());
    for (size_t i = 0; i < a.errors.size(); ++i) {
      INFO("error " << i);
      CHECK(b.errors[i].observation_id == a.errors[i].observation_id);
      CHECK(b.errors[i].trace_id == a.errors[i].trace_id);
      CHECK(b.errors[i].kind == a.errors[i].kind);
      CHECK(b.errors[i].name == a.errors[i].name);
      CHECK(b.errors[i].message == a.errors[i].message);
      CHECK(b.errors[i].at == a.errors[i].at);
    }
    REQUIRE(b.scores.size() == a.scores.size());
    for (size_t i = 0; i < a.scores.size(); ++i) {
      INFO("score " << i);
      CHECK(b.scores[i].name == a.scores[i].name);
      CHECK(b.scores[i].value == a.scores[i].value);
      CHECK(b.scores[i].label == a.scores[i].label);
    }
    CHECK(b.truncated.events_not_stored == a.truncated.events_not_stored);
    CHECK(b.truncated.tool_calls == a.truncated.tool_calls);
    CHECK(b.truncated.llm_calls == a.truncated.llm_calls);
    CHECK(b.truncated.errors == a.truncated.errors);
    CHECK(b.truncated.turns == a.truncated.turns);
    // Equal sessions encode to equal bytes, so a re-encoded copy is byte-identical.
    CHECK(encode_session_json(b) == encode_session_json(a));
  }
}

TEST_CASE("event times are carried at millisecond precision; latencies keep microseconds", "[contracts]") {
  session_summary s = abandoned_session();
  s.first_event_at = event_time::from_micros(t0 * 1000 + 999);
  s.tool_calls = {tool_call_summary{"o", "t", "n", true, "", "", at_ms(t0), duration{1001}}};
  const auto doc = json::parse(encode_session_json(s));
  CHECK(doc["window"]["first_event_at"] == "2025-01-01T00:00:00.000Z");
  CHECK(doc["tool_calls"][0]["latency_ms"] == 1.001);
  auto decoded = decode_session_json(doc.dump());
  REQUIRE(decoded);
  CHECK(decoded->first_event_at == at_ms(t0));
  CHECK(decoded->tool_calls[0].latency == duration{1001});
}

TEST_CASE("session documents that break the contract fail schema validation", "[contracts]") {
  struct broken_case {
    const char* description;
    void (*edit)(json&);
    const char* pointer;  // a violation expected here...
    const char* keyword;  // ...for this keyword
  };
  const broken_case cases[] = {
      {"session_id missing", [](json& d) { d.erase("session_id"); }, "", "required"},
      {"an empty session_id", [](json& d) { d["session_id"] = ""; }, "/session_id", "minLength"},
      {"an unknown completion reason", [](json& d) { d["window"]["reason"] = "timeout"; }, "/window/reason", "enum"},
      {"an extra top-level field", [](json& d) { d["extra"] = 1; }, "/extra", "additionalProperties"},
      {"an extra field inside a tool call", [](json& d) { d["tool_calls"][0]["args"] = "{}"; }, "/tool_calls/0/args",
       "additionalProperties"},
      {"another schema version", [](json& d) { d["schema"] = "tracewatch.session.v2"; }, "/schema", "const"},
      {"revision 0", [](json& d) { d["revision"] = 0; }, "/revision", "minimum"},
      {"a fractional count", [](json& d) { d["stats"]["traces"] = 1.5; }, "/stats/traces", "type"},
      {"a negative count", [](json& d) { d["truncated"]["turns"] = -1; }, "/truncated/turns", "minimum"},
      {"a time without milliseconds", [](json& d) { d["window"]["closed_at"] = "2025-01-01T00:00:00Z"; },
       "/window/closed_at", "pattern"},
      {"a time that is no date", [](json& d) { d["turns"][1]["at"] = "2025-02-30T00:00:00.000Z"; }, "/turns/1/at",
       "format"},
      {"a latency as text", [](json& d) { d["llm_calls"][0]["latency_ms"] = "0.093"; }, "/llm_calls/0/latency_ms",
       "type"},
      {"an empty string where the encoder writes null", [](json& d) { d["user_id"] = ""; }, "/user_id", "minLength"},
      {"an unknown observation kind", [](json& d) { d["errors"][0]["kind"] = "agent"; }, "/errors/0/kind", "enum"},
      {"a non-string metadata value", [](json& d) { d["metadata"]["tier"] = 2; }, "/metadata/tier", "type"},
      {"a missing member of a list entry", [](json& d) { d["scores"][0].erase("label"); }, "/scores/0", "required"},
      {"a session id over the id bound", [](json& d) { d["session_id"] = std::string(513, 's'); }, "/session_id",
       "maxLength"},
      {"a trace id over the id bound", [](json& d) { d["turns"][0]["trace_id"] = std::string(513, 't'); },
       "/turns/0/trace_id", "maxLength"},
      {"a finish reason longer than its bound (issue 6)",
       [](json& d) { d["llm_calls"][0]["finish_reason"] = std::string(2 << 20, 's'); }, "/llm_calls/0/finish_reason",
       "maxLength"},
      {"a tool name longer than the name bound", [](json& d) { d["tool_calls"][0]["name"] = std::string(258, 'n'); },
       "/tool_calls/0/name", "maxLength"},
      {"a metadata value longer than its bound", [](json& d) { d["metadata"]["tier"] = std::string(202, 'v'); },
       "/metadata/tier", "maxLength"},
  };
  const json valid = json::parse(encode_session_json(full_session()));
  REQUIRE(session_schema().validate(valid).empty());
  for (const auto& c : cases) {
    json doc = valid;
    c.edit(doc);
    const auto violations = session_schema().validate(doc);
    INFO(c.description << "\n" << tw::testing::to_string(violations));
    CHECK(has_violation(violations, c.pointer, c.keyword));
  }
}

TEST_CASE("a dead letter with a UTF-8 payload and a batch index validates", "[contracts]") {
  const auto r = rejection(reject_code::missing_field, "batch[2].body.traceId: missing", 2u,
                           R"({"id":"e3","type":"trace-create","body":{"name":"Grüße 日本"}})");
  const auto doc = json::parse(encode_deadletter_json(r, position("traces.raw", 3, 1234)));
  const auto violations = deadletter_schema().validate(doc);
  INFO(doc.dump(2) << "\n" << tw::testing::to_string(violations));
  CHECK(violations.empty());
  CHECK(doc["payload_encoding"] == "utf8");
  CHECK(doc["payload"] == r.payload);
  CHECK(doc["source"] == json::parse(R"({"topic":"traces.raw","partition":3,"offset":1234,"index":2})"));
}

TEST_CASE("a dead letter with binary bytes carries them as base64 and validates", "[contracts]") {
  struct row {
    const char* description;
    std::string payload;
    const char* base64;
  };
  const row rows[] = {
      {"one byte: two padding characters", std::string("\xff", 1), "/w=="},
      {"two bytes: one padding character", std::string("\xff\xfe", 2), "//4="},
      {"three bytes: no padding", std::string("\xff\xfe\xfd", 3), "//79"},
      {"NUL bytes and a truncated UTF-8 sequence", std::string("\x00{\"a\":\xe6\x97", 8), "AHsiYSI65pc="},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    const auto doc = json::parse(
        encode_deadletter_json(rejection(reject_code::invalid_json, "not UTF-8", std::nullopt, r.payload),
                               position("traces.raw", 0, 0)));
    const auto violations = deadletter_schema().validate(doc);
    INFO(doc.dump(2) << "\n" << tw::testing::to_string(violations));
    CHECK(violations.empty());
    CHECK(doc["payload_encoding"] == "base64");
    CHECK(doc["payload"] == r.base64);
    CHECK(doc["source"]["index"].is_null());
  }
}

TEST_CASE("every reject code the encoder can write is in the dead-letter schema", "[contracts]") {
  for (auto code : {reject_code::invalid_json, reject_code::unknown_format, reject_code::missing_field,
                    reject_code::invalid_field, reject_code::unsupported_type, reject_code::too_large,
                    reject_code::late_event, reject_code::undeliverable}) {
    INFO(to_string(code));
    const auto doc = json::parse(encode_deadletter_json(rejection(code, "d", std::nullopt, ""), position("in", 0, 7)));
    const auto violations = deadletter_schema().validate(doc);
    INFO(tw::testing::to_string(violations));
    CHECK(violations.empty());
  }
}

TEST_CASE("a dead letter that would not fit the record budget carries the longest prefix of its payload that fits, and says so",
          "[contracts]") {
  // An input message may be up to input.max_message_bytes (8 MiB) while a producer takes about
  // 1 MB: its dead letter must still be deliverable. JSON doubles in size when escaped (quotes).
  std::string message = R"({"batch":[)";
  while (message.size() < 3'000'000) message += R"({"id":"e","type":"trace-create","body":{"name":"Grüße "}},)";
  message += "{}]}";
  const auto r = rejection(reject_code::invalid_field, "batch[7].body.id: missing", std::nullopt, message);
  const size_t budget = 100'000;
  const std::string encoded = encode_deadletter_json(r, position("traces.raw", 0, 5), budget);
  CHECK(encoded.size() <= budget);
  CHECK(encoded.size() > budget - 2000);  // as much as fits, not much less
  CHECK(encoded == encode_deadletter_json(r, position("traces.raw", 0, 5), budget));  // deterministic
  const auto doc = json::parse(encoded);
  INFO(tw::testing::to_string(deadletter_schema().validate(doc)));
  CHECK(deadletter_schema().validate(doc).empty());
  const std::string payload = doc["payload"];
  REQUIRE(payload.size() > 3);
  CHECK(payload.substr(payload.size() - 3) == "\xE2\x80\xA6");
  const std::string kept = payload.substr(0, payload.size() - 3);
  CHECK(message.compare(0, kept.size(), kept) == 0);
  CHECK(doc["detail"] == "batch[7].body.id: missing (payload: its first " + std::to_string(kept.size()) + " of " +
                             std::to_string(message.size()) + " bytes)");

  SECTION("a binary payload is cut to whole 3-byte groups before base64") {
    const std::string bytes(500'000, '\xff');
    const auto b = encode_deadletter_json(rejection(reject_code::invalid_json, "not UTF-8", std::nullopt, bytes),
                                          position("traces.raw", 0, 6), budget);
    CHECK(b.size() <= budget);
    const auto bdoc = json::parse(b);
    CHECK(deadletter_schema().validate(bdoc).empty());
    const std::string detail = bdoc["detail"];
    CHECK(detail.find(" of 500000 bytes)") != std::string::npos);
    CHECK(std::string(bdoc["payload"]).size() % 4 == 0);
  }
  SECTION("a payload that fits is kept whole") {
    const auto small = json::parse(encode_deadletter_json(
        rejection(reject_code::invalid_json, "x", std::nullopt, message.substr(0, 1000)), position("t", 0, 1), budget));
    CHECK(small["payload"] == message.substr(0, 1000));
    CHECK(small["detail"] == "x");
  }
}

TEST_CASE("a dead letter's detail is bounded, whatever the input put into it", "[contracts]") {
  const auto doc = json::parse(encode_deadletter_json(
      rejection(reject_code::unsupported_type, "type: unknown event type \"" + std::string(100'000, 'y') + "\"",
                std::nullopt, "{}"),
      position("traces.raw", 0, 1)));
  CHECK(std::string(doc["detail"]).size() <= tw::bounds::max_message_bytes);
  CHECK(deadletter_schema().validate(doc).empty());
}

TEST_CASE("dead-letter documents that break the contract fail schema validation", "[contracts]") {
  struct broken_case {
    const char* description;
    void (*edit)(json&);
    const char* pointer;
    const char* keyword;
  };
  const broken_case cases[] = {
      {"an unknown reason", [](json& d) { d["reason"] = "bad_vibes"; }, "/reason", "enum"},
      {"the offset missing", [](json& d) { d["source"].erase("offset"); }, "/source", "required"},
      {"a negative partition", [](json& d) { d["source"]["partition"] = -1; }, "/source/partition", "minimum"},
      {"an extra field", [](json& d) { d["key"] = "k"; }, "/key", "additionalProperties"},
      {"an unknown payload encoding", [](json& d) { d["payload_encoding"] = "hex"; }, "/payload_encoding", "enum"},
      {"base64 that is not base64", [](json& d) {
         d["payload_encoding"] = "base64";
         d["payload"] = "not base64!";
       }, "", "oneOf"},
      {"the payload missing", [](json& d) { d.erase("payload"); }, "", "required"},
  };
  const json valid = json::parse(encode_deadletter_json(
      rejection(reject_code::too_large, "12 MiB > 8 MiB", std::nullopt, "{}"), position("traces.raw", 1, 99)));
  REQUIRE(deadletter_schema().validate(valid).empty());
  for (const auto& c : cases) {
    json doc = valid;
    c.edit(doc);
    const auto violations = deadletter_schema().validate(doc);
    INFO(c.description << "\n" << tw::testing::to_string(violations));
    CHECK(has_violation(violations, c.pointer, c.keyword));
  }
}

TEST_CASE("decoding a session document of the wrong shape fails with a reason and never throws", "[contracts]") {
  // Regressions: nlohmann's value() threw a type_error on these; the decoder must answer with an error.
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"abandoned as a string", R"("abandoned":false)"},
      {"a count as a string", R"("traces":0)"},
      {"revision zero", R"("revision":1)"},
      {"a negative count", R"("tool_calls":0)"},
      {"a fractional count", R"("generations":0)"},
  };
  const std::vector<std::pair<std::string, std::string>> replacements = {
      {R"("abandoned":false)", R"("abandoned":"no")"}, {R"("traces":0)", R"("traces":"0")"},
      {R"("revision":1)", R"("revision":0)"},           {R"("tool_calls":0)", R"("tool_calls":-1)"},
      {R"("generations":0)", R"("generations":2.9)"},
  };
  tw::session_summary s;
  s.session_id = "s";
  s.first_event_at = s.last_event_at = s.closed_at = tw::event_time::from_millis(1'700'000'000'000);
  const std::string good = tw::encode_session_json(s);
  REQUIRE(tw::decode_session_json(good));
  for (size_t i = 0; i < replacements.size(); ++i) {
    INFO(cases[i].first);
    std::string bad = good;
    auto at = bad.find(replacements[i].first);
    REQUIRE(at != std::string::npos);
    bad.replace(at, replacements[i].first.size(), replacements[i].second);
    std::string why;
    std::optional<tw::session_summary> decoded;
    CHECK_NOTHROW(decoded = tw::decode_session_json(bad, &why));
    CHECK_FALSE(decoded);
    CHECK_FALSE(why.empty());
  }
  for (const char* junk : {"", "[]", "1", R"({"schema":1})", R"({"schema":"tracewatch.session.v1","tool_calls":[1]})"}) {
    INFO(junk);
    CHECK_NOTHROW(tw::decode_session_json(junk));
    CHECK_FALSE(tw::decode_session_json(junk));
  }
}

TEST_CASE("timestamps outside four-digit years are clamped so that every output stays RFC 3339", "[contracts]") {
  CHECK(tw::format_iso8601(tw::event_time::max()) == "9999-12-31T23:59:59.999Z");
  CHECK(tw::format_iso8601(tw::event_time::min()) == "0000-01-01T00:00:00.000Z");
}

TEST_CASE("a watermark decision validates against tracewatch.watermark.v1 and decodes to what was encoded", "[contracts]") {
  watermark_record r;
  r.group = "tracewatch";
  r.state_id = "0123456789abcdef0123456789abcdef";
  r.seq = 7;
  r.decision = watermark_decision::idle;
  r.watermark = event_time::from_micros(1'740'000'000'123'457);  // exact to the microsecond
  r.idle = {topic_partition{"traces.raw", partition_id{3}}};
  r.positions = {{topic_partition{"traces.raw", partition_id{0}}, offset{12}},
                 {topic_partition{"traces.raw", partition_id{3}}, offset{0}}};
  r.recorded_at = wall_time::from_millis(1'800'000'000'000);
  const auto text = encode_watermark_json(r);
  INFO(text);
  CHECK(test::contract_violations("tracewatch.watermark.v1", text).empty());
  std::string why;
  auto back = decode_watermark_json(text, &why);
  INFO(why);
  REQUIRE(back);
  CHECK(back->seq == 7);
  CHECK(back->decision == watermark_decision::idle);
  CHECK(back->watermark == r.watermark);
  CHECK(back->idle == r.idle);
  CHECK(back->positions == r.positions);
  CHECK(encode_watermark_json(*back) == text);
  CHECK(watermark_record_key(r) == "tracewatch/0123456789abcdef0123456789abcdef/7");
  // Before any event time: null, both ways.
  r.watermark = event_time::min();
  r.decision = watermark_decision::assign;
  const auto early = encode_watermark_json(r);
  CHECK(test::contract_violations("tracewatch.watermark.v1", early).empty());
  CHECK(decode_watermark_json(early)->watermark == event_time::min());
  // What is not the contract is refused, naming the member.
  auto j = json::parse(text);
  j["decision"] = "sleep";
  CHECK_FALSE(decode_watermark_json(j.dump(), &why));
  CHECK(why == "decision: not one of the contract's values");
  j = json::parse(text);
  j.erase("positions");
  CHECK_FALSE(decode_watermark_json(j.dump(), &why));
  CHECK(why == "positions: missing");
}

TEST_CASE("a session's content hash leaves out the revision number and nothing else", "[contracts]") {
  session_summary s = full_session();
  s.revision = 1;
  const auto a = session_content_hash(encode_session_json(s));
  s.revision = 12;
  CHECK(session_content_hash(encode_session_json(s)) == a);
  s.stats.tool_calls += 1;
  CHECK(session_content_hash(encode_session_json(s)) != a);
  // An id that spells the member cannot fool it: quotes in strings are escaped.
  s = full_session();
  s.session_id = "x\",\"revision\":9";
  s.revision = 1;
  const auto b = session_content_hash(encode_session_json(s));
  s.revision = 2;
  CHECK(session_content_hash(encode_session_json(s)) == b);
}

TEST_CASE("an alert event validates against tracewatch.alert.v1 and decodes to what was encoded", "[contracts]") {
  alerts::alert_event e;
  e.alert_id = "0123456789abcdef";
  e.rule = "tool_error_spike";
  e.state = alerts::alert_state::firing;
  e.level = severity::critical;
  e.labels = {{"intent", "book_appointment"}, {"tool", "schedule_appointment"}};
  e.value = 0.875;
  e.threshold = 0.6;
  e.at = event_time::from_millis(1'740'000'060'000);
  e.started_at = event_time::from_millis(1'740'000'030'000);
  e.samples = 16;
  e.repeat = 2;
  e.examples = {"call-000001", "call-000002"};
  e.summary = "schedule_appointment fails 87.5% of its calls";
  const auto text = encode_alert_json(e);
  INFO(text);
  CHECK(test::contract_violations("tracewatch.alert.v1", text).empty());
  std::string why;
  auto back = decode_alert_json(text, &why);
  INFO(why);
  REQUIRE(back);
  CHECK(back->labels == e.labels);
  CHECK(back->level == severity::critical);
  CHECK(back->repeat == 2);
  CHECK(back->started_at == e.started_at);
  CHECK(encode_alert_json(*back) == text);
  // A value that could not be computed is null, and stays valid.
  e.value = std::nan("");
  e.state = alerts::alert_state::resolved;
  const auto resolved = encode_alert_json(e);
  CHECK(test::contract_violations("tracewatch.alert.v1", resolved).empty());
  CHECK(std::isnan(decode_alert_json(resolved)->value));
  // What is not the contract is refused, naming the member.
  auto j = json::parse(text);
  j["state"] = "pending";
  CHECK_FALSE(decode_alert_json(j.dump(), &why));
  CHECK(why == "state: not firing or resolved");
  j = json::parse(text);
  j.erase("started_at");
  CHECK_FALSE(decode_alert_json(j.dump(), &why));
  CHECK(why == "started_at: missing");
}

TEST_CASE("a session document is what nlohmann writes for the same members: parsed and dumped again, the same bytes",
          "[contracts]") {
  for (const auto& s : {full_session(), abandoned_session()}) {
    const std::string out = encode_session_json(s);
    CHECK(nlohmann::ordered_json::parse(out).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) == out);
  }
}
