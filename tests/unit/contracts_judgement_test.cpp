// The judgement contracts (DESIGN.md §8, docs/topics.md): tracewatch.verdict.v1 and
// tracewatch.diagnostic.v1. What encode_verdict_json and encode_diagnostic_json write must
// validate against docs/schemas/*.json and decode back to the same values; a document that breaks
// the contract must be refused by the schema and by the decoder alike, and the decoder must say
// so with an error rather than an exception.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "model/bounds.hpp"
#include "model/verdict.hpp"
#include "tests/support/contract_check.hpp"
#include "tests/support/json_schema.hpp"
#include "topics/contracts/diagnostic_json.hpp"
#include "topics/contracts/verdict_json.hpp"

using namespace tw;
using nlohmann::json;
using tw::testing::json_schema;
using tw::testing::schema_violation;

namespace {

const json_schema& verdict_schema() { return test::contract_schema("tracewatch.verdict.v1"); }
const json_schema& diagnostic_schema() { return test::contract_schema("tracewatch.diagnostic.v1"); }

json schema_document(const std::string& name) {
  std::ifstream in(TW_SOURCE_DIR "/docs/schemas/" + name);
  REQUIRE(in);
  return json::parse(in);
}

bool has_violation(const std::vector<schema_violation>& vs, const std::string& pointer, const std::string& keyword) {
  for (const auto& v : vs)
    if (v.instance_pointer == pointer && v.keyword == keyword) return true;
  return false;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

event_time at_ms(int64_t ms) { return event_time::from_millis(ms); }
constexpr int64_t t0 = 1735689600000;  // 2025-01-01T00:00:00.000Z

// A judged session with every list populated, every optional present somewhere and absent
// somewhere, every check outcome, and non-ASCII text.
verdict full_verdict() {
  verdict v;
  v.session_id = "sess-42/ünïcødé";
  v.revision = 3;
  v.status = verdict_status::partial;
  v.intent.name = "book_appointment";
  v.intent.confidence = 0.875;
  v.intent.fallback = false;
  v.intent.evidence = {
      evidence_item{"book.user_text", "user_text", "trace-1", "je voudrais un rendez-vous — 予約したい 🙂"},
      evidence_item{"book.channel", "metadata", "", "channel=voice"},  // a session-wide fact: no observation
  };
  v.fulfillment.status = verdict_status::partial;
  v.fulfillment.checks = {
      check_result{"appointment_booked", "a schedule_appointment call succeeded", check_outcome::failed,
                   verdict_status::fail, {"obs-t2", "obs-t3"}, "HTTP 503 — Dienst nicht verfügbar"},
      check_result{"no_transfer", "a transfer to a human counts as partial", check_outcome::failed,
                   verdict_status::partial, {"obs-t4"}, ""},
      check_result{"read_back", "", check_outcome::skipped, verdict_status::partial, {}, "nothing was booked"},
      check_result{"no_tool_error_at_end", "no tool error after the last user turn", check_outcome::passed,
                   verdict_status::error, {}, ""},
  };
  v.stats = session_stats{5, 17, 4, 3, 1, 2, 1200, 345, 0.0123, duration{3723003000}};
  v.first_event_at = at_ms(t0 + 1);
  v.last_event_at = at_ms(t0 + 3723004);
  v.reason = completion_reason::end_marker;
  v.rules_version = "fnv1a:9f86d081884c7d65";
  return v;
}

// Too few traces: a fallback intent without evidence, no checks, no cost.
verdict abandoned_verdict() {
  verdict v;
  v.session_id = "s";
  v.revision = 1;
  v.status = verdict_status::abandoned;
  v.intent.name = "unknown";
  v.intent.fallback = true;
  v.fulfillment.status = verdict_status::pass;
  v.stats.traces = 1;
  v.first_event_at = v.last_event_at = at_ms(t0);
  v.reason = completion_reason::gap;
  v.rules_version = "r";
  return v;
}

recommendation timeout_advice() {
  return recommendation{"tools.schedule_appointment.timeout_ms", "Erhöhe das Timeout auf 10 s — 予約 API is slow"};
}

recommendation prompt_advice() { return recommendation{"", "Have the agent read the booking back before hanging up."}; }

// Every list populated, findings with and without a recommendation and observation ids, every
// severity, a webhook that failed with a response.
diagnostic full_diagnostic() {
  diagnostic d;
  d.session_id = "sess-42/ünïcødé";
  d.revision = 3;
  d.verdict = verdict_status::partial;
  d.intent = "book_appointment";
  d.findings = {
      finding{"tool_errors", severity::critical, "TOOL_ERROR", "schedule_appointment failed twice: HTTP 503",
              {"obs-t2", "obs-t3"}, timeout_advice()},
      finding{"latency", severity::warning, "SLOW_LLM_CALL", "chat took 12.4 s — über dem Budget", {"obs-g1"},
              timeout_advice()},
      finding{"loops", severity::info, "TOOL_LOOP", "", {}, std::nullopt},
      finding{"llm", severity::warning, "LLM_REFUSAL", "the model refused to book", {"obs-g2"}, prompt_advice()},
  };
  d.recommendations = {timeout_advice(), prompt_advice()};
  d.webhook = webhook_outcome{"failed", 503, "Service indisponible — réessayez", 4, "HTTP 503 after 4 attempts"};
  d.rules_version = "fnv1a:9f86d081884c7d65";
  return d;
}

// Nothing found, nothing advised, no webhook configured.
diagnostic bare_diagnostic() {
  diagnostic d;
  d.session_id = "s";
  d.revision = 1;
  d.verdict = verdict_status::error;
  d.intent = "unknown";
  d.rules_version = "r";
  return d;
}

std::vector<schema_violation> validate(const verdict& v) {
  return verdict_schema().validate(json::parse(encode_verdict_json(v)));
}

std::vector<schema_violation> validate(const diagnostic& d) {
  return diagnostic_schema().validate(json::parse(encode_diagnostic_json(d)));
}

// A broken document: what the schema and the decoder must each say about it.
struct broken_case {
  const char* description;
  void (*edit)(json&);
  const char* pointer;        // a schema violation expected here...
  const char* keyword;        // ...for this keyword
  const char* decoder_error;  // the decoder's error starts with this (it names the member)
};

template <class Decode>
void check_refused(const json_schema& schema, const json& valid, const broken_case& c, Decode decode) {
  json doc = valid;
  c.edit(doc);
  const auto violations = schema.validate(doc);
  INFO(c.description << "\n" << tw::testing::to_string(violations));
  CHECK(has_violation(violations, c.pointer, c.keyword));
  std::string error;
  bool decoded = true;
  CHECK_NOTHROW(decoded = decode(doc.dump(), &error).has_value());
  CHECK_FALSE(decoded);
  INFO("decoder: " << error);
  CHECK(starts_with(error, c.decoder_error));
}

std::vector<std::string> member_names(const nlohmann::ordered_json& object) {
  std::vector<std::string> names;
  for (const auto& [name, value] : object.items()) names.push_back(name);
  return names;
}

}  // namespace

TEST_CASE("the judgement schemas load: they use only keywords the validator enforces", "[contracts]") {
  CHECK(verdict_schema().validate(json::object()).size() > 0);
  CHECK(diagnostic_schema().validate(json::object()).size() > 0);
}

// ---- tracewatch.verdict.v1 ----

TEST_CASE("a verdict with every list populated validates against tracewatch.verdict.v1", "[contracts]") {
  const auto violations = validate(full_verdict());
  INFO(encode_verdict_json(full_verdict()) << "\n" << tw::testing::to_string(violations));
  CHECK(violations.empty());
}

TEST_CASE("an abandoned verdict with a fallback intent and no checks validates, absent values as null",
          "[contracts]") {
  const auto doc = json::parse(encode_verdict_json(abandoned_verdict()));
  const auto violations = verdict_schema().validate(doc);
  INFO(doc.dump(2) << "\n" << tw::testing::to_string(violations));
  CHECK(violations.empty());
  CHECK(doc["verdict"] == "abandoned");
  CHECK(doc["intent"]["fallback"] == true);
  CHECK(doc["intent"]["evidence"] == json::array());
  CHECK(doc["fulfillment"]["checks"] == json::array());
  CHECK(doc["stats"]["cost_usd"].is_null());
}

TEST_CASE("a verdict writes empty optional text as null", "[contracts]") {
  const auto doc = json::parse(encode_verdict_json(full_verdict()));
  CHECK(doc["intent"]["evidence"][0]["observation_id"] == "trace-1");
  CHECK(doc["intent"]["evidence"][1]["observation_id"].is_null());
  CHECK(doc["fulfillment"]["checks"][0]["detail"] == "HTTP 503 — Dienst nicht verfügbar");
  CHECK(doc["fulfillment"]["checks"][1]["detail"].is_null());
  CHECK(doc["fulfillment"]["checks"][2]["observation_ids"] == json::array());
}

TEST_CASE("every verdict, check outcome and completion reason the encoder can write is in the schema",
          "[contracts]") {
  for (auto status : {verdict_status::pass, verdict_status::fail, verdict_status::partial, verdict_status::error,
                      verdict_status::abandoned}) {
    INFO(to_string(status));
    verdict v = abandoned_verdict();
    v.status = status;
    CHECK(validate(v).empty());
  }
  // A check implies only fail, partial or error (the rules file allows nothing else).
  for (auto implies : {verdict_status::fail, verdict_status::partial, verdict_status::error}) {
    for (auto outcome : {check_outcome::passed, check_outcome::failed, check_outcome::skipped}) {
      INFO(to_string(implies) << " / " << to_string(outcome));
      verdict v = abandoned_verdict();
      v.fulfillment.checks = {check_result{"c", "d", outcome, implies, {"o"}, "x"}};
      const auto violations = validate(v);
      INFO(tw::testing::to_string(violations));
      CHECK(violations.empty());
    }
  }
  // A fulfillment is never abandoned (model/verdict.hpp); the broken cases show that it is refused.
  for (auto status : {verdict_status::pass, verdict_status::fail, verdict_status::partial, verdict_status::error}) {
    INFO("fulfillment " << to_string(status));
    verdict v = abandoned_verdict();
    v.fulfillment.status = status;
    CHECK(validate(v).empty());
  }
  for (auto reason : {completion_reason::gap, completion_reason::end_marker, completion_reason::max_duration,
                      completion_reason::flush}) {
    INFO(to_string(reason));
    verdict v = abandoned_verdict();
    v.reason = reason;
    CHECK(validate(v).empty());
  }
}

TEST_CASE("decode_verdict_json reads back every field encode_verdict_json wrote", "[contracts]") {
  for (const auto& a : {full_verdict(), abandoned_verdict()}) {
    INFO(a.session_id);
    std::string error;
    const auto decoded = decode_verdict_json(encode_verdict_json(a), &error);
    INFO(error);
    REQUIRE(decoded);
    const verdict& b = *decoded;
    CHECK(b.session_id == a.session_id);
    CHECK(b.revision == a.revision);
    CHECK(b.status == a.status);
    CHECK(b.intent.name == a.intent.name);
    CHECK(b.intent.confidence == a.intent.confidence);
    CHECK(b.intent.fallback == a.intent.fallback);
    REQUIRE(b.intent.evidence.size() == a.intent.evidence.size());
    for (size_t i = 0; i < a.intent.evidence.size(); ++i) {
      INFO("evidence " << i);
      CHECK(b.intent.evidence[i].rule == a.intent.evidence[i].rule);
      CHECK(b.intent.evidence[i].kind == a.intent.evidence[i].kind);
      CHECK(b.intent.evidence[i].observation_id == a.intent.evidence[i].observation_id);
      CHECK(b.intent.evidence[i].detail == a.intent.evidence[i].detail);
    }
    CHECK(b.fulfillment.status == a.fulfillment.status);
    REQUIRE(b.fulfillment.checks.size() == a.fulfillment.checks.size());
    for (size_t i = 0; i < a.fulfillment.checks.size(); ++i) {
      INFO("check " << i);
      CHECK(b.fulfillment.checks[i].id == a.fulfillment.checks[i].id);
      CHECK(b.fulfillment.checks[i].description == a.fulfillment.checks[i].description);
      CHECK(b.fulfillment.checks[i].outcome == a.fulfillment.checks[i].outcome);
      CHECK(b.fulfillment.checks[i].implies == a.fulfillment.checks[i].implies);
      CHECK(b.fulfillment.checks[i].observation_ids == a.fulfillment.checks[i].observation_ids);
      CHECK(b.fulfillment.checks[i].detail == a.fulfillment.checks[i].detail);
    }
    CHECK(b.stats.traces == a.stats.traces);
    CHECK(b.stats.observations == a.stats.observations);
    CHECK(b.stats.tool_calls == a.stats.tool_calls);
    CHECK(b.stats.tool_errors == a.stats.tool_errors);
    CHECK(b.stats.input_tokens == a.stats.input_tokens);
    CHECK(b.stats.output_tokens == a.stats.output_tokens);
    CHECK(b.stats.cost_usd == a.stats.cost_usd);
    CHECK(b.stats.session_duration == a.stats.session_duration);
    // Not in the contract (the session contract has them): they decode as 0.
    CHECK(b.stats.generations == 0);
    CHECK(b.stats.errors == 0);
    CHECK(b.first_event_at == a.first_event_at);
    CHECK(b.last_event_at == a.last_event_at);
    CHECK(b.reason == a.reason);
    CHECK(b.rules_version == a.rules_version);
    // Equal verdicts encode to equal bytes, so a re-encoded copy is byte-identical.
    CHECK(encode_verdict_json(b) == encode_verdict_json(a));
  }
}

TEST_CASE("verdict event times are carried at millisecond precision; the duration keeps microseconds",
          "[contracts]") {
  verdict v = abandoned_verdict();
  v.first_event_at = event_time::from_micros(t0 * 1000 + 999);
  v.stats.session_duration = duration{1001};
  const auto doc = json::parse(encode_verdict_json(v));
  CHECK(doc["window"]["first_event_at"] == "2025-01-01T00:00:00.000Z");
  CHECK(doc["stats"]["duration_ms"] == 1.001);
  const auto decoded = decode_verdict_json(doc.dump());
  REQUIRE(decoded);
  CHECK(decoded->first_event_at == at_ms(t0));
  CHECK(decoded->stats.session_duration == duration{1001});
}

TEST_CASE("verdict members come in the order the schema lists them, so equal verdicts are equal bytes",
          "[contracts]") {
  const json schema = schema_document("tracewatch.verdict.v1.json");
  const auto doc = nlohmann::ordered_json::parse(encode_verdict_json(full_verdict()));
  const std::pair<const char*, const char*> objects[] = {
      {"", ""},
      {"/intent", "/properties/intent"},
      {"/intent/evidence/0", "/$defs/evidence"},
      {"/fulfillment", "/properties/fulfillment"},
      {"/fulfillment/checks/0", "/$defs/check"},
      {"/stats", "/properties/stats"},
      {"/window", "/properties/window"},
  };
  for (const auto& [instance, definition] : objects) {
    INFO(instance);
    CHECK(member_names(doc.at(nlohmann::ordered_json::json_pointer(instance))) ==
          schema.at(json::json_pointer(std::string(definition) + "/required")).get<std::vector<std::string>>());
  }
}

TEST_CASE("verdict documents that break the contract fail validation and are refused by the decoder",
          "[contracts]") {
  const broken_case cases[] = {
      // Missing members.
      {"session_id missing", [](json& d) { d.erase("session_id"); }, "", "required", "session_id: missing"},
      {"intent.fallback missing", [](json& d) { d["intent"].erase("fallback"); }, "/intent", "required",
       "intent.fallback: missing"},
      {"a check without its detail", [](json& d) { d["fulfillment"]["checks"][0].erase("detail"); },
       "/fulfillment/checks/0", "required", "fulfillment.checks[0].detail: missing"},
      {"window.reason missing", [](json& d) { d["window"].erase("reason"); }, "/window", "required",
       "window.reason: missing"},
      // Values outside an enumeration.
      {"an unknown verdict", [](json& d) { d["verdict"] = "passed"; }, "/verdict", "enum", "verdict:"},
      {"an abandoned fulfillment", [](json& d) { d["fulfillment"]["status"] = "abandoned"; }, "/fulfillment/status",
       "enum", "fulfillment.status:"},
      {"an unknown check outcome", [](json& d) { d["fulfillment"]["checks"][1]["outcome"] = "ok"; },
       "/fulfillment/checks/1/outcome", "enum", "fulfillment.checks[1].outcome:"},
      {"an unknown implied verdict", [](json& d) { d["fulfillment"]["checks"][0]["implies"] = "fatal"; },
       "/fulfillment/checks/0/implies", "enum", "fulfillment.checks[0].implies:"},
      {"a check that implies pass", [](json& d) { d["fulfillment"]["checks"][2]["implies"] = "pass"; },
       "/fulfillment/checks/2/implies", "enum", "fulfillment.checks[2].implies:"},
      {"an unknown completion reason", [](json& d) { d["window"]["reason"] = "timeout"; }, "/window/reason", "enum",
       "window.reason:"},
      {"another schema version", [](json& d) { d["schema"] = "tracewatch.verdict.v2"; }, "/schema", "const",
       "schema:"},
      // Members the contract does not have.
      {"an extra top-level member", [](json& d) { d["extra"] = 1; }, "/extra", "additionalProperties", "extra:"},
      {"an extra member in evidence", [](json& d) { d["intent"]["evidence"][0]["weight"] = 0.5; },
       "/intent/evidence/0/weight", "additionalProperties", "intent.evidence[0].weight:"},
      {"a session stat the verdict does not carry", [](json& d) { d["stats"]["generations"] = 4; },
       "/stats/generations", "additionalProperties", "stats.generations:"},
      // Wrong types and values.
      {"revision as text", [](json& d) { d["revision"] = "3"; }, "/revision", "type", "revision:"},
      {"revision 0", [](json& d) { d["revision"] = 0; }, "/revision", "minimum", "revision:"},
      {"confidence as text", [](json& d) { d["intent"]["confidence"] = "0.9"; }, "/intent/confidence", "type",
       "intent.confidence:"},
      {"confidence above 1", [](json& d) { d["intent"]["confidence"] = 1.5; }, "/intent/confidence", "maximum",
       "intent.confidence:"},
      {"fallback as text", [](json& d) { d["intent"]["fallback"] = "no"; }, "/intent/fallback", "type",
       "intent.fallback:"},
      {"the intent as null", [](json& d) { d["intent"] = nullptr; }, "/intent", "type", "intent:"},
      {"evidence as an object", [](json& d) { d["intent"]["evidence"] = json::object(); }, "/intent/evidence", "type",
       "intent.evidence:"},
      {"observation ids as one string", [](json& d) { d["fulfillment"]["checks"][0]["observation_ids"] = "obs-t2"; },
       "/fulfillment/checks/0/observation_ids", "type", "fulfillment.checks[0].observation_ids:"},
      {"an observation id as a number", [](json& d) { d["fulfillment"]["checks"][0]["observation_ids"][0] = 7; },
       "/fulfillment/checks/0/observation_ids/0", "type", "fulfillment.checks[0].observation_ids[0]:"},
      {"an empty string where the encoder writes null",
       [](json& d) { d["intent"]["evidence"][1]["observation_id"] = ""; }, "/intent/evidence/1/observation_id",
       "minLength", "intent.evidence[1].observation_id:"},
      {"cost as text", [](json& d) { d["stats"]["cost_usd"] = "0.01"; }, "/stats/cost_usd", "type",
       "stats.cost_usd:"},
      {"a fractional count", [](json& d) { d["stats"]["traces"] = 1.5; }, "/stats/traces", "type", "stats.traces:"},
      {"negative tokens", [](json& d) { d["stats"]["input_tokens"] = -1; }, "/stats/input_tokens", "minimum",
       "stats.input_tokens:"},
      {"a negative duration", [](json& d) { d["stats"]["duration_ms"] = -0.5; }, "/stats/duration_ms", "minimum",
       "stats.duration_ms:"},
      {"a time without milliseconds", [](json& d) { d["window"]["first_event_at"] = "2025-01-01T00:00:00Z"; },
       "/window/first_event_at", "pattern", "window.first_event_at:"},
      {"a time that is no date", [](json& d) { d["window"]["last_event_at"] = "2025-02-30T00:00:00.000Z"; },
       "/window/last_event_at", "format", "window.last_event_at:"},
      {"an empty rules version", [](json& d) { d["rules_version"] = ""; }, "/rules_version", "minLength",
       "rules_version:"},
  };
  const json valid = json::parse(encode_verdict_json(full_verdict()));
  REQUIRE(verdict_schema().validate(valid).empty());
  REQUIRE(decode_verdict_json(valid.dump()));
  for (const auto& c : cases)
    check_refused(verdict_schema(), valid, c, [](const std::string& s, std::string* e) {
      return decode_verdict_json(s, e);
    });
}

// ---- tracewatch.diagnostic.v1 ----

TEST_CASE("a diagnostic with every list populated validates against tracewatch.diagnostic.v1", "[contracts]") {
  const auto violations = validate(full_diagnostic());
  INFO(encode_diagnostic_json(full_diagnostic()) << "\n" << tw::testing::to_string(violations));
  CHECK(violations.empty());
}

TEST_CASE("a diagnostic with no findings and no webhook validates, absent values as null", "[contracts]") {
  const auto doc = json::parse(encode_diagnostic_json(bare_diagnostic()));
  const auto violations = diagnostic_schema().validate(doc);
  INFO(doc.dump(2) << "\n" << tw::testing::to_string(violations));
  CHECK(violations.empty());
  CHECK(doc["findings"] == json::array());
  CHECK(doc["recommendations"] == json::array());
  CHECK(doc["webhook"].is_null());
}

TEST_CASE("a diagnostic writes absent recommendations, keys and webhook details as null", "[contracts]") {
  const auto doc = json::parse(encode_diagnostic_json(full_diagnostic()));
  CHECK(doc["findings"][0]["recommendation"]["key"] == "tools.schedule_appointment.timeout_ms");
  CHECK(doc["findings"][2]["recommendation"].is_null());
  CHECK(doc["findings"][3]["recommendation"]["key"].is_null());
  CHECK(doc["recommendations"].size() == 2);
  CHECK(doc["webhook"]["http_status"] == 503);

  diagnostic d = bare_diagnostic();
  d.webhook = webhook_outcome{"circuit_open", std::nullopt, "", 0, ""};
  const auto open = json::parse(encode_diagnostic_json(d));
  CHECK(open["webhook"] ==
        json::parse(R"({"status":"circuit_open","http_status":null,"response":null,"attempts":0,"error":null})"));
}

TEST_CASE("every severity, diagnosed verdict and webhook status the encoder can write is in the schema",
          "[contracts]") {
  struct webhook_case {
    const char* description;
    webhook_outcome outcome;
  };
  const webhook_case webhooks[] = {
      {"delivered with a 2xx response", webhook_outcome{"delivered", 200, "{\"ticket\":\"T-1\"}", 1, ""}},
      {"failed on a transport error: no response", webhook_outcome{"failed", std::nullopt, "", 4, "timeout after 5 s"}},
      {"failed on a status that is not retried", webhook_outcome{"failed", 404, "Not Found", 1, "HTTP 404"}},
      {"refused by the open circuit: no attempt", webhook_outcome{"circuit_open", std::nullopt, "", 0, "circuit open"}},
  };
  for (auto status : {verdict_status::fail, verdict_status::partial, verdict_status::error}) {
    for (auto level : {severity::info, severity::warning, severity::critical}) {
      for (const auto& w : webhooks) {
        INFO(to_string(status) << " / " << to_string(level) << " / " << w.description);
        diagnostic d = bare_diagnostic();
        d.verdict = status;
        d.findings = {finding{"cost", level, "COST_OVER_BUDGET", "m", {"o"}, std::nullopt}};
        d.webhook = w.outcome;
        const auto violations = validate(d);
        INFO(tw::testing::to_string(violations));
        CHECK(violations.empty());
      }
    }
  }
}

TEST_CASE("a webhook response that is not UTF-8 is written with replacement characters and validates",
          "[contracts]") {
  // The response is an excerpt of a foreign body; the encoder must not throw on it.
  diagnostic d = bare_diagnostic();
  d.webhook = webhook_outcome{"failed", 500, std::string("oops \xff\xfe", 7), 1, "HTTP 500"};
  std::string encoded;
  REQUIRE_NOTHROW(encoded = encode_diagnostic_json(d));
  const auto doc = json::parse(encoded);
  CHECK(doc["webhook"]["response"] == "oops \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(diagnostic_schema().validate(doc).empty());
}

TEST_CASE("decode_diagnostic_json reads back every field encode_diagnostic_json wrote", "[contracts]") {
  diagnostic delivered = bare_diagnostic();
  delivered.webhook = webhook_outcome{"delivered", 202, "", 2, ""};
  for (const auto& a : {full_diagnostic(), bare_diagnostic(), delivered}) {
    INFO(encode_diagnostic_json(a));
    std::string error;
    const auto decoded = decode_diagnostic_json(encode_diagnostic_json(a), &error);
    INFO(error);
    REQUIRE(decoded);
    const diagnostic& b = *decoded;
    CHECK(b.session_id == a.session_id);
    CHECK(b.revision == a.revision);
    CHECK(b.verdict == a.verdict);
    CHECK(b.intent == a.intent);
    REQUIRE(b.findings.size() == a.findings.size());
    for (size_t i = 0; i < a.findings.size(); ++i) {
      INFO("finding " << i);
      CHECK(b.findings[i].expert == a.findings[i].expert);
      CHECK(b.findings[i].level == a.findings[i].level);
      CHECK(b.findings[i].code == a.findings[i].code);
      CHECK(b.findings[i].message == a.findings[i].message);
      CHECK(b.findings[i].observation_ids == a.findings[i].observation_ids);
      REQUIRE(b.findings[i].advice.has_value() == a.findings[i].advice.has_value());
      if (a.findings[i].advice) {
        CHECK(b.findings[i].advice->key == a.findings[i].advice->key);
        CHECK(b.findings[i].advice->advice == a.findings[i].advice->advice);
      }
    }
    REQUIRE(b.recommendations.size() == a.recommendations.size());
    for (size_t i = 0; i < a.recommendations.size(); ++i) {
      INFO("recommendation " << i);
      CHECK(b.recommendations[i].key == a.recommendations[i].key);
      CHECK(b.recommendations[i].advice == a.recommendations[i].advice);
    }
    REQUIRE(b.webhook.has_value() == a.webhook.has_value());
    if (a.webhook) {
      CHECK(b.webhook->status == a.webhook->status);
      CHECK(b.webhook->http_status == a.webhook->http_status);
      CHECK(b.webhook->response == a.webhook->response);
      CHECK(b.webhook->attempts == a.webhook->attempts);
      CHECK(b.webhook->error == a.webhook->error);
    }
    CHECK(b.rules_version == a.rules_version);
    CHECK(encode_diagnostic_json(b) == encode_diagnostic_json(a));
  }
}

TEST_CASE("diagnostic members come in the order the schema lists them, so equal diagnostics are equal bytes",
          "[contracts]") {
  const json schema = schema_document("tracewatch.diagnostic.v1.json");
  const auto doc = nlohmann::ordered_json::parse(encode_diagnostic_json(full_diagnostic()));
  const std::pair<const char*, const char*> objects[] = {
      {"", ""},
      {"/findings/0", "/properties/findings/items"},
      {"/findings/0/recommendation", "/$defs/recommendation"},
      {"/recommendations/0", "/$defs/recommendation"},
      {"/webhook", "/$defs/webhook"},
  };
  for (const auto& [instance, definition] : objects) {
    INFO(instance);
    CHECK(member_names(doc.at(nlohmann::ordered_json::json_pointer(instance))) ==
          schema.at(json::json_pointer(std::string(definition) + "/required")).get<std::vector<std::string>>());
  }
}

TEST_CASE("diagnostic documents that break the contract fail validation and are refused by the decoder",
          "[contracts]") {
  // A nullable object (webhook, a finding's recommendation) is an anyOf of null and the object, so
  // the schema names the anyOf while the decoder names the member inside.
  const broken_case cases[] = {
      // Missing members.
      {"session_id missing", [](json& d) { d.erase("session_id"); }, "", "required", "session_id: missing"},
      {"recommendations missing", [](json& d) { d.erase("recommendations"); }, "", "required",
       "recommendations: missing"},
      {"a finding without its code", [](json& d) { d["findings"][0].erase("code"); }, "/findings/0", "required",
       "findings[0].code: missing"},
      {"a webhook without attempts", [](json& d) { d["webhook"].erase("attempts"); }, "/webhook", "anyOf",
       "webhook.attempts: missing"},
      // Values outside an enumeration.
      {"a passing verdict (never diagnosed)", [](json& d) { d["verdict"] = "pass"; }, "/verdict", "enum",
       "verdict:"},
      {"an abandoned verdict (never diagnosed)", [](json& d) { d["verdict"] = "abandoned"; }, "/verdict", "enum",
       "verdict:"},
      {"an unknown severity", [](json& d) { d["findings"][1]["severity"] = "fatal"; }, "/findings/1/severity",
       "enum", "findings[1].severity:"},
      {"an unknown webhook status", [](json& d) { d["webhook"]["status"] = "ok"; }, "/webhook", "anyOf",
       "webhook.status:"},
      {"another schema version", [](json& d) { d["schema"] = "tracewatch.verdict.v1"; }, "/schema", "const",
       "schema:"},
      // Members the contract does not have.
      {"an extra top-level member", [](json& d) { d["extra"] = true; }, "/extra", "additionalProperties",
       "extra:"},
      {"an extra member in a finding", [](json& d) { d["findings"][0]["evidence"] = json::array(); },
       "/findings/0/evidence", "additionalProperties", "findings[0].evidence:"},
      {"an extra member in a recommendation", [](json& d) { d["recommendations"][0]["priority"] = 1; },
       "/recommendations/0/priority", "additionalProperties", "recommendations[0].priority:"},
      {"an extra member in the webhook", [](json& d) { d["webhook"]["url"] = "https://x.invalid"; }, "/webhook",
       "anyOf", "webhook.url:"},
      // Wrong types and values.
      {"revision as text", [](json& d) { d["revision"] = "3"; }, "/revision", "type", "revision:"},
      {"an empty intent", [](json& d) { d["intent"] = ""; }, "/intent", "minLength", "intent:"},
      {"findings as an object", [](json& d) { d["findings"] = json::object(); }, "/findings", "type", "findings:"},
      {"an empty observation id", [](json& d) { d["findings"][0]["observation_ids"][0] = ""; },
       "/findings/0/observation_ids/0", "minLength", "findings[0].observation_ids[0]:"},
      {"a recommendation as text", [](json& d) { d["findings"][0]["recommendation"] = "raise the timeout"; },
       "/findings/0/recommendation", "anyOf", "findings[0].recommendation:"},
      {"an empty key where the encoder writes null", [](json& d) { d["findings"][0]["recommendation"]["key"] = ""; },
       "/findings/0/recommendation", "anyOf", "findings[0].recommendation.key:"},
      {"advice as null", [](json& d) { d["recommendations"][1]["advice"] = nullptr; }, "/recommendations/1/advice",
       "type", "recommendations[1].advice:"},
      {"the webhook as text", [](json& d) { d["webhook"] = "delivered"; }, "/webhook", "anyOf", "webhook:"},
      {"an HTTP status as text", [](json& d) { d["webhook"]["http_status"] = "503"; }, "/webhook", "anyOf",
       "webhook.http_status:"},
      {"an HTTP status that is not three digits", [](json& d) { d["webhook"]["http_status"] = 42; }, "/webhook",
       "anyOf", "webhook.http_status:"},
      {"negative attempts", [](json& d) { d["webhook"]["attempts"] = -1; }, "/webhook", "anyOf",
       "webhook.attempts:"},
      {"rules_version as a number", [](json& d) { d["rules_version"] = 7; }, "/rules_version", "type",
       "rules_version:"},
  };
  const json valid = json::parse(encode_diagnostic_json(full_diagnostic()));
  REQUIRE(diagnostic_schema().validate(valid).empty());
  REQUIRE(decode_diagnostic_json(valid.dump()));
  for (const auto& c : cases)
    check_refused(diagnostic_schema(), valid, c, [](const std::string& s, std::string* e) {
      return decode_diagnostic_json(s, e);
    });
}

TEST_CASE("the judgement decoders refuse junk and each other's documents with a reason, never throwing",
          "[contracts]") {
  const std::string verdict_doc = encode_verdict_json(full_verdict());
  const std::string diagnostic_doc = encode_diagnostic_json(full_diagnostic());
  const std::string junk[] = {
      "",
      "[]",
      "1",
      "null",
      "{",
      std::string("{\"schema\":\"\xff\"}"),  // not UTF-8
      R"({"schema":1})",
      R"({"schema":"tracewatch.verdict.v1"})",
      R"({"schema":"tracewatch.diagnostic.v1","findings":[1]})",
  };
  for (const auto& text : junk) {
    INFO(text);
    std::string why;
    bool decoded = true;
    CHECK_NOTHROW(decoded = decode_verdict_json(text, &why).has_value());
    CHECK_FALSE(decoded);
    CHECK_FALSE(why.empty());
    why.clear();
    decoded = true;
    CHECK_NOTHROW(decoded = decode_diagnostic_json(text, &why).has_value());
    CHECK_FALSE(decoded);
    CHECK_FALSE(why.empty());
  }
  std::string why;
  CHECK_FALSE(decode_verdict_json(diagnostic_doc, &why));
  CHECK(why == "schema: not tracewatch.verdict.v1");
  CHECK_FALSE(decode_diagnostic_json(verdict_doc, &why));
  CHECK(why == "schema: not tracewatch.diagnostic.v1");
}

TEST_CASE("a verdict whose checks list more observation ids than fit the record budget is trimmed from the middle, and says so",
          "[contracts]") {
  verdict v = full_verdict();
  std::vector<std::string> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back("obs-" + std::to_string(i) + "-" + std::string(90, 'i'));
  v.fulfillment.checks[0].observation_ids = ids;  // 500 KB of ids
  v.fulfillment.checks[1].observation_ids = {"obs-t4"};
  const size_t budget = 65536;
  verdict fitted = v;
  fit_verdict_json(fitted, budget);
  const std::string encoded = encode_verdict_json(fitted);
  CHECK(encoded.size() <= budget);
  CHECK(encoded.size() > budget - 4096);
  INFO(tw::testing::to_string(validate(fitted)));
  CHECK(validate(fitted).empty());
  const auto& kept = fitted.fulfillment.checks[0].observation_ids;
  REQUIRE(kept.size() > 2);
  CHECK(kept.front() == ids.front());
  CHECK(kept.back() == ids.back());
  CHECK(fitted.fulfillment.checks[0].detail ==
        "HTTP 503 — Dienst nicht verfügbar; " + std::to_string(5000 - kept.size()) +
            " of 5000 observation ids left out to fit the record");
  CHECK(fitted.fulfillment.checks[1].observation_ids == std::vector<std::string>{"obs-t4"});
  CHECK(fitted.fulfillment.checks[1].detail.empty());
  verdict again = v;
  fit_verdict_json(again, budget);
  CHECK(encode_verdict_json(again) == encoded);  // deterministic

  verdict small = full_verdict();
  fit_verdict_json(small, budget);
  CHECK(encode_verdict_json(small) == encode_verdict_json(full_verdict()));  // untouched when it fits
}

TEST_CASE("texts tracewatch composes about the input are bounded in verdicts and diagnostics", "[contracts]") {
  verdict v = full_verdict();
  v.intent.evidence[0].detail = std::string(100000, 'e');
  v.fulfillment.checks[0].detail = std::string(100000, 'd');
  fit_verdict_json(v, tw::bounds::default_max_record_bytes);
  CHECK(v.intent.evidence[0].detail.size() <= tw::bounds::max_message_bytes);
  CHECK(v.fulfillment.checks[0].detail.size() <= tw::bounds::max_message_bytes);
  CHECK(validate(v).empty());

  diagnostic d = full_diagnostic();
  d.findings[0].message = std::string(100000, 'm');
  d.findings[0].advice->advice = std::string(100000, 'a');
  fit_diagnostic_json(d, tw::bounds::default_max_record_bytes);
  CHECK(d.findings[0].message.size() <= tw::bounds::max_message_bytes);
  CHECK(d.findings[0].advice->advice.size() <= tw::bounds::max_message_bytes);
  CHECK(validate(d).empty());
}

TEST_CASE("a diagnostic with more findings than fit the record budget keeps its first and last, and says how many are left out",
          "[contracts]") {
  // One TOOL_ERROR finding per distinct failing tool name: the input decides how many there are.
  diagnostic d = bare_diagnostic();
  for (int i = 0; i < 3000; ++i) {
    const std::string tool = "tool_" + std::to_string(i);
    d.findings.push_back(finding{"tool_errors", severity::warning, "TOOL_ERROR", tool + " failed 1 of 1 call(s): " + std::string(200, 'x'),
                                 {"obs-" + std::to_string(i)}, recommendation{"", "Check the service behind " + tool}});
    d.recommendations.push_back(recommendation{"", "Check the service behind " + tool});
  }
  const size_t budget = 65536;
  diagnostic fitted = d;
  fit_diagnostic_json(fitted, budget);
  CHECK(encode_diagnostic_json(fitted).size() <= budget);
  INFO(tw::testing::to_string(validate(fitted)));
  CHECK(validate(fitted).empty());
  REQUIRE(fitted.findings.size() > 3);
  CHECK(fitted.findings.front().message.rfind("tool_0 failed", 0) == 0);
  CHECK(fitted.findings[fitted.findings.size() - 2].message.rfind("tool_2999 failed", 0) == 0);
  const auto& note = fitted.findings.back();
  CHECK(note.code == "FINDINGS_LEFT_OUT");
  CHECK(note.expert == "tracewatch");
  CHECK(note.message == std::to_string(3000 - (fitted.findings.size() - 1)) +
                            " of 3000 findings left out to fit the record (output.max_record_bytes)");
  CHECK(fitted.recommendations.size() == fitted.findings.size() - 1);  // those of the kept findings, no others
  CHECK(fitted.recommendations.front().advice == "Check the service behind tool_0");
  diagnostic again = d;
  fit_diagnostic_json(again, budget);
  CHECK(encode_diagnostic_json(again) == encode_diagnostic_json(fitted));
}

TEST_CASE("verdict and diagnostic documents are what nlohmann writes for the same members: parsed and dumped again, the same bytes",
          "[contracts]") {
  auto again = [](const std::string& out) {
    return nlohmann::ordered_json::parse(out).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  };
  for (const auto& v : {full_verdict(), abandoned_verdict()}) CHECK(again(encode_verdict_json(v)) == encode_verdict_json(v));
  for (const auto& d : {full_diagnostic(), bare_diagnostic()}) CHECK(again(encode_diagnostic_json(d)) == encode_diagnostic_json(d));
}
