// tracewatch.event.v1, our own format: every field maps one to one, lists of events are judged
// event by event, and anything unexpected is refused with the field's name.
#include <catch2/catch.hpp>

#include "formats_test_support.hpp"

using namespace tw;
using namespace tw::test;

namespace {

std::string ev(const std::string& fields) {
  return R"({"schema":"tracewatch.event.v1","event_id":"e-1","trace_id":"t-1","kind":"span","timestamp":"2025-01-01T00:00:00Z")" +
         (fields.empty() ? "" : "," + fields) + "}";
}

}  // namespace

TEST_CASE("a native event maps every field to the observation of the same name") {
  auto o = only_observation(
      R"({"schema":"tracewatch.event.v1","event_id":"e-1","session_id":"call-42","trace_id":"turn-3","observation_id":"o-7",
          "parent_id":"o-6","kind":"tool","name":"schedule_appointment","start":"2025-01-01T10:00:00Z","end":1735725601500,
          "timestamp":"2025-01-01T10:00:02Z","level":"error","status_message":"slot taken","model":"m","input_tokens":12,
          "output_tokens":3,"cost_usd":0.01,"finish_reason":"stop","tool_name":"schedule_appointment","tool_call_id":"c-1",
          "tool_result":{"ok":false},"user_text":"Friday please","assistant_text":"Let me check","user_id":"u-1",
          "environment":"Production","metadata":{"intent":"reschedule","attempt":2},"score_value":0.5,"score_label":"ok",
          "update":true})");
  CHECK(o.event_id == "e-1");
  CHECK(o.session_id == "call-42");
  CHECK(o.trace_id == "turn-3");
  CHECK(o.observation_id == "o-7");
  CHECK(o.parent_id == "o-6");
  CHECK(o.kind == obs_kind::tool);
  CHECK(o.is_update);
  CHECK(o.source_type == "tracewatch.event.v1");
  CHECK(o.name == "schedule_appointment");
  CHECK(o.start == parse_iso8601("2025-01-01T10:00:00Z"));
  CHECK(o.end == event_time::from_millis(1735725601500));
  CHECK(o.timestamp == *parse_iso8601("2025-01-01T10:00:02Z"));
  CHECK(o.level == obs_level::error);
  CHECK(o.status_message == "slot taken");
  CHECK(o.model == "m");
  CHECK(o.input_tokens == 12);
  CHECK(o.output_tokens == 3);
  CHECK(o.cost_usd == 0.01);
  CHECK(o.finish_reason == "stop");
  CHECK(o.tool_name == "schedule_appointment");
  CHECK(o.tool_call_id == "c-1");
  CHECK(o.tool_result == R"({"ok":false})");
  CHECK(o.user_text == "Friday please");
  CHECK(o.assistant_text == "Let me check");
  CHECK(o.user_id == "u-1");
  CHECK(o.environment == "production");
  CHECK(metadata_value(o, "intent") == "reschedule");
  CHECK(metadata_value(o, "attempt") == "2");
  CHECK(o.score_value == 0.5);
  CHECK(o.score_label == "ok");
}

TEST_CASE("native defaults: observation id, trace observation id, and the timestamp from end or start") {
  auto span = only_observation(R"({"schema":"tracewatch.event.v1","event_id":"e-1","trace_id":"t","kind":"span","start":1000})");
  CHECK(span.observation_id == "e-1");
  CHECK(span.timestamp == event_time::from_millis(1000));
  CHECK_FALSE(span.is_update);
  auto ended = only_observation(
      R"({"schema":"tracewatch.event.v1","event_id":"e","trace_id":"t","kind":"event","start":1000,"end":"1970-01-01T00:00:02Z"})");
  CHECK(ended.timestamp == event_time::from_millis(2000));
  auto trace = only_observation(ev(R"("session_id":"s")").replace(ev("").find("span"), 4, "trace"));
  CHECK(trace.kind == obs_kind::trace);
  CHECK(trace.observation_id == "t-1");
  auto score = only_observation(
      R"({"schema":"tracewatch.event.v1","event_id":"e","session_id":"s","kind":"score","timestamp":0,"score_value":1})");
  CHECK(score.trace_id.empty());
  CHECK(score.session_id == "s");
}

TEST_CASE("native lists: an array or {\"events\": [...]}, each event judged on its own") {
  for (const std::string wrap : {"[%]", R"({"events":[%]})"}) {
    INFO(wrap);
    std::string list = ev("") + "," + ev(R"("bogus":1)") + "," + ev(R"("observation_id":"o-3")");
    std::string msg = wrap;
    msg.replace(msg.find('%'), 1, list);
    auto r = parse_checked(msg);
    CHECK(r.detected == input_format::native);
    CHECK(r.observations.size() == 2);
    REQUIRE(r.rejected.size() == 1);
    CHECK(r.rejected[0].index == 1u);
    CHECK(r.rejected[0].detail == "bogus: unknown field (tracewatch.event.v1)");
    CHECK(r.rejected[0].payload == ev(R"("bogus":1)"));
  }
}

TEST_CASE("native validation is strict and names the field") {
  struct row {
    const char* description;
    std::string event;
    reject_code code;
    const char* detail;
  };
  const row rows[] = {
      {"unknown fields", ev(R"("sesion_id":"typo")"), reject_code::invalid_field,
       "sesion_id: unknown field (tracewatch.event.v1)"},
      {"another schema version",
       R"({"schema":"tracewatch.event.v2","event_id":"e","trace_id":"t","kind":"span","timestamp":0})",
       reject_code::invalid_field, "schema: not \"tracewatch.event.v1\""},
      {"the event id", R"({"schema":"tracewatch.event.v1","trace_id":"t","kind":"span","timestamp":0})",
       reject_code::missing_field, "event_id: missing"},
      {"an empty event id", R"({"schema":"tracewatch.event.v1","event_id":"","trace_id":"t","kind":"span","timestamp":0})",
       reject_code::invalid_field, "event_id: empty"},
      {"the kind", R"({"schema":"tracewatch.event.v1","event_id":"e","trace_id":"t","timestamp":0})",
       reject_code::missing_field, "kind: missing"},
      {"an unknown kind", R"({"schema":"tracewatch.event.v1","event_id":"e","trace_id":"t","kind":"agent","timestamp":0})",
       reject_code::invalid_field, "kind: not one of trace, span, generation, tool, event, score"},
      {"the trace id", R"({"schema":"tracewatch.event.v1","event_id":"e","kind":"span","timestamp":0})",
       reject_code::missing_field, "trace_id: missing"},
      {"a score needs a trace or a session", R"({"schema":"tracewatch.event.v1","event_id":"e","kind":"score","timestamp":0})",
       reject_code::missing_field, "trace_id: missing"},
      {"a time", R"({"schema":"tracewatch.event.v1","event_id":"e","trace_id":"t","kind":"span"})",
       reject_code::missing_field, "timestamp: missing"},
      {"times as ISO or integer milliseconds", ev(R"("start":"tomorrow")"), reject_code::invalid_field,
       "start: not an ISO-8601 date-time or integer epoch milliseconds"},
      {"fractional milliseconds", ev(R"("end":1.5)"), reject_code::invalid_field,
       "end: not an ISO-8601 date-time or integer epoch milliseconds"},
      {"negative token counts", ev(R"("input_tokens":-1)"), reject_code::invalid_field,
       "input_tokens: not a non-negative integer"},
      {"token counts as strings", ev(R"("output_tokens":"3")"), reject_code::invalid_field,
       "output_tokens: not an integer"},
      {"costs as strings", ev(R"("cost_usd":"0.1")"), reject_code::invalid_field, "cost_usd: not a non-negative number"},
      {"levels", ev(R"("level":"ERROR")"), reject_code::invalid_field, "level: not one of debug, default, warning, error"},
      {"strings", ev(R"("name":5)"), reject_code::invalid_field, "name: not a string"},
      {"metadata must be an object", ev(R"("metadata":[1])"), reject_code::invalid_field, "metadata: not an object"},
      {"update must be a boolean", ev(R"("update":"yes")"), reject_code::invalid_field, "update: not a boolean"},
      {"a trace's observation id is its trace id",
       R"({"schema":"tracewatch.event.v1","event_id":"e","trace_id":"t","observation_id":"o","kind":"trace","timestamp":0})",
       reject_code::invalid_field, "observation_id: must equal trace_id for kind trace"},
      {"ids follow the Langfuse rules", ev(R"("parent_id":"a\rb")"), reject_code::invalid_field,
       "parent_id: contains a carriage return"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto rej = only_rejection(r.event, input_format::native);
    CHECK(rej.code == r.code);
    CHECK(rej.detail == r.detail);
    CHECK_FALSE(rej.index);
    CHECK(rej.payload == r.event);
  }
}

TEST_CASE("a native list wrapper takes only the events list") {
  auto rej = only_rejection(R"({"events":[],"extra":1})", input_format::native);
  CHECK(rej.detail == "events: the list wrapper takes no other fields");
  auto not_list = only_rejection(R"({"events":{}})", input_format::native);
  CHECK(not_list.detail == "events: not an array");
}

TEST_CASE("null on a native update clears; on a create it is absent") {
  auto u = only_observation(ev(R"("update":true,"name":null,"tool_result":null,"metadata":null,"parent_id":null)"));
  CHECK(u.name == "");
  CHECK(u.tool_result == "");
  CHECK(u.parent_id == "");
  REQUIRE(u.metadata);
  CHECK(u.metadata->empty());
  auto c = only_observation(ev(R"("name":null,"metadata":null)"));
  CHECK_FALSE(c.name);
  CHECK_FALSE(c.metadata);
}

TEST_CASE("native text fields are bounded by parse_limits") {
  parse_limits limits;
  limits.text_excerpt_bytes = 5;
  auto o = only_observation(ev(R"("user_text":"abcdefghij")"), input_format::auto_detect, limits);
  CHECK(o.user_text == "abcde\xE2\x80\xA6");
}
