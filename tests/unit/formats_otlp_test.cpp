// OTLP/JSON traces and GenAI log records: ids, 64-bit times, enums, span classification, session
// ids, usage, tool calls, errors, conversation text, legacy shapes and log events.
#include <catch2/catch.hpp>

#include "formats_test_support.hpp"

using namespace tw;
using namespace tw::test;

namespace {

const std::string trace_hex = "5b8efff798038103d269b633813fc60c";

std::string str(const std::string& key, const std::string& value) {
  return R"({"key":")" + key + R"(","value":{"stringValue":")" + value + "\"}}";
}
std::string num(const std::string& key, const std::string& any) { return R"({"key":")" + key + R"(","value":)" + any + "}"; }

// One span; `extra` holds more span fields (",\"status\":{...}").
std::string span(const std::string& attrs, const std::string& extra = "", const std::string& span_id = "eee19b7ec3c1b174",
                 const std::string& trace_id = trace_hex) {
  return R"({"traceId":")" + trace_id + R"(","spanId":")" + span_id +
         R"(","name":"op","startTimeUnixNano":"1735732800000000000","endTimeUnixNano":"1735732801250000000","attributes":[)" +
         attrs + "]" + extra + "}";
}

std::string otlp(const std::string& spans, const std::string& resource_attrs = "", const std::string& scope = "s") {
  return R"({"resourceSpans":[{"resource":{"attributes":[)" + resource_attrs + R"(]},"scopeSpans":[{"scope":{"name":")" +
         scope + R"("},"spans":[)" + spans + "]}]}]}";
}

observation one_span(const std::string& attrs, const std::string& extra = "") {
  return only_observation(otlp(span(attrs, extra)));
}

}  // namespace

TEST_CASE("one span becomes one observation named by its trace and span ids") {
  auto o = one_span(str("gen_ai.operation.name", "chat"), R"(,"parentSpanId":"eee19b7ec3c1b173","kind":3)");
  CHECK(o.event_id == "otlp:" + trace_hex + ":eee19b7ec3c1b174");
  CHECK(o.trace_id == trace_hex);
  CHECK(o.observation_id == "eee19b7ec3c1b174");
  CHECK(o.parent_id == "eee19b7ec3c1b173");
  CHECK(o.name == "op");
  CHECK(o.start == event_time::from_micros(1735732800000000));
  CHECK(o.end == event_time::from_micros(1735732801250000));
  CHECK(o.timestamp == *o.end);
  CHECK(o.kind == obs_kind::generation);
  CHECK(o.source_type == "chat");
  CHECK(o.level == obs_level::normal);
  CHECK(metadata_value(o, "otel.span.kind") == "client");
  CHECK(metadata_value(o, "otel.scope.name") == "s");
}

TEST_CASE("OTLP ids are normalised to lower-case hex from any case or base64") {
  struct row {
    const char* description;
    std::string trace_id, span_id, parent;
    std::string want_trace, want_span;
    std::optional<std::string> want_parent;
  };
  const row rows[] = {
      {"upper-case hex (the proto example)", "5B8EFFF798038103D269B633813FC60C", "EEE19B7EC3C1B174",
       R"(,"parentSpanId":"EEE19B7EC3C1B173")", trace_hex, "eee19b7ec3c1b174", "eee19b7ec3c1b173"},
      {"base64 as protobuf's JSON mapping writes it", "W47/95gDgQPSabYzgT/GDA==", "7uGbfsPBsXQ=",
       R"(,"parentSpanId":"7uGbfsPBsXM=")", trace_hex, "eee19b7ec3c1b174", "eee19b7ec3c1b173"},
      {"an empty parentSpanId means a root span", trace_hex, "eee19b7ec3c1b174", R"(,"parentSpanId":"")", trace_hex,
       "eee19b7ec3c1b174", std::nullopt},
      {"a null parentSpanId too", trace_hex, "eee19b7ec3c1b174", R"(,"parentSpanId":null)", trace_hex,
       "eee19b7ec3c1b174", std::nullopt},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto o = only_observation(otlp(span("", r.parent, r.span_id, r.trace_id)));
    CHECK(o.trace_id == r.want_trace);
    CHECK(o.observation_id == r.want_span);
    CHECK(o.parent_id == r.want_parent);
  }
}

TEST_CASE("a span with a malformed id is rejected on its own, naming the field's path") {
  struct row {
    const char* description;
    std::string span;
    reject_code code;
    std::string detail;
  };
  const std::string at = "resourceSpans[0].scopeSpans[0].spans[1].";
  const row rows[] = {
      {"a trace id of the wrong length", span("", "", "eee19b7ec3c1b174", "abc"), reject_code::invalid_field,
       at + "traceId: not a 16-byte id (32 hex digits or 24 base64 characters)"},
      {"a span id with non-hex characters", span("", "", "zzz19b7ec3c1b174"), reject_code::invalid_field,
       at + "spanId: not an 8-byte id (16 hex digits or 12 base64 characters)"},
      {"the all-zero trace id is invalid", span("", "", "eee19b7ec3c1b174", std::string(32, '0')),
       reject_code::invalid_field, at + "traceId: not a 16-byte id (32 hex digits or 24 base64 characters)"},
      {"a malformed parent", span("", R"(,"parentSpanId":"xyz")"), reject_code::invalid_field,
       at + "parentSpanId: not an 8-byte id (16 hex digits or 12 base64 characters)"},
      {"a missing span id", R"({"traceId":")" + trace_hex + R"(","startTimeUnixNano":"1"})", reject_code::missing_field,
       at + "spanId: missing"},
      {"an id that is not a string", span("", "", "eee19b7ec3c1b174", "7"), reject_code::invalid_field,
       at + "traceId: not a 16-byte id (32 hex digits or 24 base64 characters)"},
      {"no start and no end time",
       R"({"traceId":")" + trace_hex + R"(","spanId":"eee19b7ec3c1b174","name":"x"})", reject_code::missing_field,
       at + "startTimeUnixNano: missing (and no endTimeUnixNano)"},
      {"a time that is not a number",
       R"({"traceId":")" + trace_hex + R"(","spanId":"eee19b7ec3c1b174","startTimeUnixNano":"1","endTimeUnixNano":"soon"})",
       reject_code::invalid_field,
       at + "endTimeUnixNano: not a non-negative integer of nanoseconds"},
      {"a span that is not an object", "[]", reject_code::invalid_field, at.substr(0, at.size() - 1) + ": not an object"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto res = parse_checked(otlp(span("", "", "1111111111111111") + "," + r.span));
    REQUIRE(res.observations.size() == 1);
    REQUIRE(res.rejected.size() == 1);
    CHECK(res.rejected[0].code == r.code);
    CHECK(res.rejected[0].detail == r.detail);
    CHECK(res.rejected[0].index == 1u);
  }
}

TEST_CASE("64-bit nanosecond times are read as integers, from strings or numbers") {
  // 1777555053780274700 > 2^53: through a double it would become ...780274688.
  auto o = only_observation(otlp(R"({"traceId":")" + trace_hex +
                                 R"(","spanId":"eee19b7ec3c1b174","startTimeUnixNano":1777555053780274700,"endTimeUnixNano":"1777555053781172999"})"));
  CHECK(o.start == event_time::from_micros(1777555053780274));
  CHECK(o.end == event_time::from_micros(1777555053781172));
  auto only_end =
      only_observation(otlp(R"({"traceId":")" + trace_hex + R"(","spanId":"eee19b7ec3c1b174","endTimeUnixNano":"2000"})"));
  CHECK_FALSE(only_end.start);
  CHECK(only_end.timestamp == event_time::from_micros(2));
  auto zero_start = only_observation(otlp(R"({"traceId":")" + trace_hex +
                                          R"(","spanId":"eee19b7ec3c1b174","startTimeUnixNano":"0","endTimeUnixNano":5000})"));
  CHECK_FALSE(zero_start.start);  // 0 is "not set" in OTLP
}

TEST_CASE("span kind and status code are read as integers or enum names") {
  struct row {
    const char* description;
    const char* extra;
    obs_level level;
    std::optional<std::string> message;
  };
  const row rows[] = {
      {"status missing is unset", "", obs_level::normal, std::nullopt},
      {"status {} is unset", R"(,"status":{})", obs_level::normal, std::nullopt},
      {"code 1 is ok", R"(,"status":{"code":1})", obs_level::normal, std::nullopt},
      {"code 2 is an error with its message", R"(,"status":{"code":2,"message":"rate limited"})", obs_level::error,
       "rate limited"},
      {"STATUS_CODE_ERROR by name", R"(,"status":{"code":"STATUS_CODE_ERROR","message":"x"})", obs_level::error, "x"},
      {"STATUS_CODE_OK by name", R"(,"status":{"code":"STATUS_CODE_OK"})", obs_level::normal, std::nullopt},
      {"an error without message takes the exception event's",
       R"(,"status":{"code":2},"events":[{"name":"exception","attributes":[{"key":"exception.type","value":{"stringValue":"ValueError"}},{"key":"exception.message","value":{"stringValue":"bad city"}}]}])",
       obs_level::error, "bad city"},
      {"an error without message or exception has none", R"(,"status":{"code":2})", obs_level::error, std::nullopt},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto o = one_span("", r.extra);
    CHECK(o.level == r.level);
    CHECK(o.status_message == r.message);
  }
  auto by_type = one_span(str("error.type", "TimeoutError"), R"(,"status":{"code":2})");
  CHECK(by_type.status_message == "TimeoutError");
  CHECK(metadata_value(one_span("", R"(,"kind":"SPAN_KIND_SERVER")"), "otel.span.kind") == "server");
  CHECK_FALSE(metadata_value(one_span("", R"(,"kind":"SPAN_KIND_INTERNAL")"), "otel.span.kind"));
}

TEST_CASE("spans are classified by the most explicit statement their producer makes") {
  struct row {
    const char* description;
    std::string attrs;
    std::string name;
    std::string scope;
    obs_kind kind;
  };
  const row rows[] = {
      {"gen_ai chat", str("gen_ai.operation.name", "chat"), "op", "s", obs_kind::generation},
      {"gen_ai generate_content", str("gen_ai.operation.name", "generate_content"), "op", "s", obs_kind::generation},
      {"gen_ai text_completion", str("gen_ai.operation.name", "text_completion"), "op", "s", obs_kind::generation},
      {"gen_ai embeddings", str("gen_ai.operation.name", "embeddings"), "op", "s", obs_kind::generation},
      {"gen_ai execute_tool", str("gen_ai.operation.name", "execute_tool"), "op", "s", obs_kind::tool},
      {"gen_ai invoke_agent", str("gen_ai.operation.name", "invoke_agent"), "op", "s", obs_kind::span},
      {"gen_ai create_agent", str("gen_ai.operation.name", "create_agent"), "op", "s", obs_kind::span},
      {"ADK invoke_workflow", str("gen_ai.operation.name", "invoke_workflow"), "op", "s", obs_kind::span},
      {"ADK call_llm: a model and usage but no operation",
       str("gen_ai.request.model", "gemini-2.5-flash") + "," + num("gen_ai.usage.input_tokens", R"({"intValue":"10"})"),
       "call_llm", "gcp.vertex.agent", obs_kind::generation},
      {"usage alone makes a generation", num("gen_ai.usage.output_tokens", R"({"intValue":3})"), "op", "s",
       obs_kind::generation},
      {"OpenInference LLM", str("openinference.span.kind", "LLM"), "op", "s", obs_kind::generation},
      {"OpenInference TOOL", str("openinference.span.kind", "TOOL"), "op", "s", obs_kind::tool},
      {"OpenInference Agent (any case)", str("openinference.span.kind", "Agent"), "op", "s", obs_kind::span},
      {"OpenInference over the GenAI operation",
       str("openinference.span.kind", "TOOL") + "," + str("gen_ai.operation.name", "chat"), "op", "s", obs_kind::tool},
      {"Langfuse's own type first",
       str("langfuse.observation.type", "span") + "," + str("openinference.span.kind", "LLM"), "op", "s",
       obs_kind::span},
      {"a Langfuse span holding a model is a generation",
       str("langfuse.observation.type", "span") + "," + str("langfuse.observation.model.name", "gpt-4o"), "op", "s",
       obs_kind::generation},
      {"an unknown Langfuse type falls through", str("langfuse.observation.type", "invalid_type"), "op", "s",
       obs_kind::span},
      {"AI SDK toolCall", str("ai.operationId", "ai.toolCall") + "," + str("gen_ai.response.model", "gpt-4o"), "op",
       "ai", obs_kind::tool},
      {"AI SDK generateText with a model", str("operation.name", "ai.generateText") + "," + str("ai.model.id", "gpt-4"),
       "op", "ai", obs_kind::generation},
      {"AI SDK generateText without a model", str("operation.name", "ai.generateText"), "op", "ai", obs_kind::span},
      {"a gen_ai.tool.name without operation (pydantic-ai)", str("gen_ai.tool.name", "roulette_wheel"), "op", "s",
       obs_kind::tool},
      {"LiveKit function_tool", "", "function_tool", "livekit-agents", obs_kind::tool},
      {"LiveKit names outside its scope mean nothing", "", "function_tool", "other", obs_kind::span},
      {"an HTTP span", str("http.method", "GET"), "GET /", "s", obs_kind::span},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    std::string s = span(r.attrs);
    s.replace(s.find(R"("name":"op")"), 11, "\"name\":\"" + r.name + "\"");
    CHECK(only_observation(otlp(s, "", r.scope)).kind == r.kind);
  }
}

TEST_CASE("the session id comes from the span, then its resource, by key preference") {
  struct row {
    const char* description;
    std::string attrs;
    std::string resource;
    std::string session;
  };
  const row rows[] = {
      {"langfuse.session.id first", str("gen_ai.conversation.id", "c") + "," + str("langfuse.session.id", "l"), "", "l"},
      {"then session.id", str("gen_ai.conversation.id", "c") + "," + str("session.id", "s"), "", "s"},
      {"then gen_ai.conversation.id", str("gen_ai.conversation.id", "c"), "", "c"},
      {"then ADK's session id", str("gcp.vertex.agent.session_id", "adk"), "", "adk"},
      {"then the AI SDK's telemetry metadata", str("ai.telemetry.metadata.sessionId", "ai"), "", "ai"},
      {"the resource when the span has none", "", str("session.id", "res"), "res"},
      {"the span before its resource", str("gen_ai.conversation.id", "span"), str("session.id", "res"), "span"},
      {"none", "", "", ""},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    CHECK(only_observation(otlp(span(r.attrs), r.resource)).session_id == r.session);
  }
}

TEST_CASE("within one message a trace's session id reaches its spans that lack one") {
  const std::string other_trace = "0102030405060708090a0b0c0d0e0f10";
  auto r = parse_checked(otlp(span("", "", "1111111111111111") + "," +
                              span(str("gen_ai.conversation.id", "sess-1"), "", "2222222222222222") + "," +
                              span("", "", "3333333333333333", other_trace)));
  REQUIRE(r.observations.size() == 3);
  CHECK(r.observations[0].session_id == "sess-1");  // the root span, before the child that names it
  CHECK(r.observations[1].session_id == "sess-1");
  CHECK(r.observations[2].session_id.empty());  // another trace
}

TEST_CASE("model, tokens and cost: one spelling per observation, never summed") {
  struct row {
    const char* description;
    std::string attrs;
    std::optional<std::string> model;
    std::optional<int64_t> in, out;
    std::optional<double> cost;
  };
  const row rows[] = {
      {"current GenAI names, intValue as string",
       str("gen_ai.request.model", "gpt-4o") + "," + str("gen_ai.response.model", "gpt-4o-2024-08-06") + "," +
           num("gen_ai.usage.input_tokens", R"({"intValue":"14"})") + "," +
           num("gen_ai.usage.output_tokens", R"({"intValue":96})"),
       "gpt-4o-2024-08-06", 14, 96, std::nullopt},
      {"legacy prompt/completion tokens",
       num("gen_ai.usage.prompt_tokens", R"({"intValue":"5"})") + "," +
           num("gen_ai.usage.completion_tokens", R"({"intValue":"6"})"),
       std::nullopt, 5, 6, std::nullopt},
      {"two spellings of the same count are not added",
       num("gen_ai.usage.input_tokens", R"({"intValue":"10"})") + "," +
           num("gen_ai.usage.prompt_tokens", R"({"intValue":"10"})") + "," +
           num("llm.token_count.prompt", R"({"intValue":"10"})"),
       std::nullopt, 10, std::nullopt, std::nullopt},
      {"OpenInference counts and model",
       str("llm.model_name", "claude") + "," + num("llm.token_count.prompt", R"({"intValue":"7"})") + "," +
           num("llm.token_count.completion", R"({"intValue":"8"})") + "," + num("llm.cost.total", R"({"doubleValue":0.5})"),
       "claude", 7, 8, 0.5},
      {"a count written as a string value", num("gen_ai.usage.input_tokens", R"({"stringValue":"123"})"), std::nullopt,
       123, std::nullopt, std::nullopt},
      {"an integral double", num("gen_ai.usage.output_tokens", R"({"doubleValue":12.0})"), std::nullopt, std::nullopt,
       12, std::nullopt},
      {"gen_ai.usage.cost", num("gen_ai.usage.cost", R"({"doubleValue":0.000151})"), std::nullopt, std::nullopt,
       std::nullopt, 0.000151},
      {"Langfuse SDK usage details as JSON",
       str("langfuse.observation.usage_details", R"({\"input_tokens\": 123, \"output_tokens\": 456})") + "," +
           str("langfuse.observation.cost_details", R"({\"input_tokens\": 0.0001, \"output_tokens\": 0.002})"),
       std::nullopt, 123, 456, 0.0021},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto o = one_span(r.attrs);
    CHECK(o.model == r.model);
    CHECK(o.input_tokens == r.in);
    CHECK(o.output_tokens == r.out);
    REQUIRE(o.cost_usd.has_value() == r.cost.has_value());
    if (r.cost) CHECK(*o.cost_usd == Approx(*r.cost));
  }
}

TEST_CASE("a tool span carries the tool's name, call id and result") {
  SECTION("GenAI attributes") {
    auto o = one_span(str("gen_ai.operation.name", "execute_tool") + "," + str("gen_ai.tool.name", "get_weather") + "," +
                      str("gen_ai.tool.call.id", "call-1") + "," +
                      str("gen_ai.tool.call.result", R"({\"temperature\":21})"));
    CHECK(o.kind == obs_kind::tool);
    CHECK(o.tool_name == "get_weather");
    CHECK(o.tool_call_id == "call-1");
    CHECK(o.tool_result == R"({"temperature":21})");
    CHECK(o.level == obs_level::normal);
  }
  SECTION("ADK's vendor keys, and the name from the span name") {
    std::string s = span(str("gen_ai.operation.name", "execute_tool") + "," +
                         str("gcp.vertex.agent.tool_response", R"({\"city\": \"Rome\"})"));
    s.replace(s.find(R"("name":"op")"), 11, R"("name":"execute_tool get_weather")");
    auto o = only_observation(otlp(s));
    CHECK(o.tool_name == "get_weather");
    CHECK(o.tool_result == R"({"city": "Rome"})");
  }
  SECTION("a structured result (kvlist) becomes plain JSON") {
    auto o = one_span(str("gen_ai.tool.name", "t") + "," +
                      num("gen_ai.tool.call.result",
                          R"({"kvlistValue":{"values":[{"key":"ok","value":{"boolValue":true}},{"key":"n","value":{"intValue":"3"}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"}]}}}]}})"));
    CHECK(o.tool_result == R"({"ok":true,"n":3,"tags":["a"]})");
  }
  SECTION("a failed tool is an error") {
    auto o = one_span(str("gen_ai.tool.name", "t"), R"(,"status":{"code":2,"message":"404"})");
    CHECK(o.level == obs_level::error);
    CHECK(o.status_message == "404");
  }
  SECTION("the AI SDK's tool call attributes") {
    auto o = one_span(str("ai.operationId", "ai.toolCall") + "," + str("ai.toolCall.name", "myTool") + "," +
                      str("ai.toolCall.id", "call_abc123") + "," + str("ai.toolCall.result", "42"));
    CHECK(o.tool_name == "myTool");
    CHECK(o.tool_call_id == "call_abc123");
    CHECK(o.tool_result == "42");
  }
}

TEST_CASE("conversation text comes from GenAI messages, legacy attributes, events and OpenInference") {
  struct row {
    const char* description;
    std::string attrs;
    std::string extra;
    std::optional<std::string> user, assistant, finish;
  };
  const row rows[] = {
      {"gen_ai.input.messages / output.messages with parts",
       str("gen_ai.input.messages",
           R"([{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"hello\"}]}])") +
           "," +
           str("gen_ai.output.messages",
               R"([{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"hi\"}],\"finish_reason\":\"stop\"}])"),
       "", "hello", "hi", "stop"},
      {"legacy indexed prompt: the last user message",
       str("gen_ai.prompt.0.role", "system") + "," + str("gen_ai.prompt.0.content", "sys") + "," +
           str("gen_ai.prompt.1.role", "user") + "," + str("gen_ai.prompt.1.content", "first") + "," +
           str("gen_ai.prompt.2.role", "tool") + "," + str("gen_ai.prompt.2.content", "result") + "," +
           str("gen_ai.prompt.3.role", "user") + "," + str("gen_ai.prompt.3.content", "second") + "," +
           str("gen_ai.completion.0.content", "answer") + "," + str("gen_ai.completion.0.finish_reason", "stop"),
       "", "second", "answer", "stop"},
      {"indices beyond the cap are ignored (gen_ai.prompt.10001)",
       str("gen_ai.prompt.0.content", "valid message") + "," + str("gen_ai.prompt.10001.content", "unsafe"), "",
       "valid message", std::nullopt, std::nullopt},
      {"prototype-pollution keys are not messages",
       str("gen_ai.prompt.__proto__.content", "x") + "," + str("gen_ai.prompt.constructor.content", "y"), "",
       std::nullopt, std::nullopt, std::nullopt},
      {"OpenInference flattened messages",
       str("llm.input_messages.0.message.role", "user") + "," + str("llm.input_messages.0.message.content", "q") + "," +
           str("llm.output_messages.0.message.role", "assistant") + "," +
           str("llm.output_messages.0.message.content", "a"),
       "", "q", "a", std::nullopt},
      {"OpenInference input.value / output.value", str("input.value", "plain question") + "," +
                                                       str("output.value", R"({\"content\":\"plain answer\"})"),
       "", "plain question", "plain answer", std::nullopt},
      {"span events gen_ai.user.message and gen_ai.choice", "",
       R"(,"events":[{"name":"gen_ai.user.message","attributes":[{"key":"content","value":{"stringValue":"What is the capital of France?"}}]},{"name":"gen_ai.choice","attributes":[{"key":"finish_reason","value":{"stringValue":"stop"}},{"key":"message","value":{"stringValue":"{\"role\":\"assistant\",\"content\":\"Paris.\"}"}}]}])",
       "What is the capital of France?", "Paris.", "stop"},
      {"<elided> content is no text", str("gen_ai.input.messages", "<elided>"), "", std::nullopt, std::nullopt,
       std::nullopt},
      {"finish reasons as an array value",
       num("gen_ai.response.finish_reasons", R"({"arrayValue":{"values":[{"stringValue":"length"}]}})"), "",
       std::nullopt, std::nullopt, "length"},
      {"finish reasons as a JSON string", str("gen_ai.response.finish_reasons", R"([\"tool_calls\"])"), "",
       std::nullopt, std::nullopt, "tool_calls"},
      {"ADK's LLM request and response",
       str("gcp.vertex.agent.llm_request",
           R"({\"contents\":[{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"user\"},{\"parts\":[{\"function_response\":{}}],\"role\":\"user\"}]})") +
           "," +
           str("gcp.vertex.agent.llm_response",
               R"({\"content\":{\"parts\":[{\"text\":\"Hello!\"}],\"role\":\"model\"},\"finish_reason\":\"STOP\"})"),
       "", "Hi", "Hello!", std::nullopt},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto o = one_span(r.attrs, r.extra);
    CHECK(o.user_text == r.user);
    CHECK(o.assistant_text == r.assistant);
    CHECK(o.finish_reason == r.finish);
  }
}

TEST_CASE("user, environment and a few useful attributes are kept") {
  auto o = only_observation(otlp(span(str("gen_ai.agent.name", "weather_agent") + "," + str("gen_ai.system", "gemini") +
                                      "," + str("user.id", "u-1")),
                                 str("service.name", "adk") + "," + str("deployment.environment.name", "Prod")));
  CHECK(o.user_id == "u-1");
  CHECK(o.environment == "prod");
  CHECK(metadata_value(o, "service.name") == "adk");
  CHECK(metadata_value(o, "gen_ai.agent.name") == "weather_agent");
  CHECK(metadata_value(o, "gen_ai.provider.name") == "gemini");
}

TEST_CASE("the legacy batches / instrumentationLibrarySpans shape is read like resourceSpans") {
  const std::string msg = R"({"batches":[{"resource":{"attributes":[]},"instrumentationLibrarySpans":[{"instrumentationLibrary":{"name":"lib"},"spans":[)" +
                          span("", R"(,"kind":"SPAN_KIND_SERVER")") + "]}]}]}";
  auto r = parse_checked(msg);
  CHECK(r.detected == input_format::otlp);
  REQUIRE(r.observations.size() == 1);
  CHECK(metadata_value(r.observations[0], "otel.scope.name") == "lib");
  CHECK(metadata_value(r.observations[0], "otel.span.kind") == "server");
}

TEST_CASE("structural errors reject the message and name the list") {
  auto rej = only_rejection(R"({"resourceSpans":{"spans":[]}})");
  CHECK(rej.code == reject_code::invalid_field);
  CHECK(rej.detail == "resourceSpans: not an array");
  auto scopes = only_rejection(R"({"resourceSpans":[{"scopeSpans":7}]})");
  CHECK(scopes.detail == "resourceSpans[0].scopeSpans: not an array");
  auto spans = only_rejection(R"({"resourceSpans":[{"scopeSpans":[{"spans":{}}]}]})");
  CHECK(spans.detail == "resourceSpans[0].scopeSpans[0].spans: not an array");
}

namespace {

std::string log_record(const std::string& fields) {
  return R"({"resourceLogs":[{"resource":{"attributes":[]},"scopeLogs":[{"scope":{"name":"gcp.vertex.agent"},"logRecords":[)" +
         fields + "]}]}]}";
}

}  // namespace

TEST_CASE("a GenAI log record becomes an event observation under its span") {
  const std::string rec =
      R"({"body":{"kvlistValue":{"values":[{"key":"content","value":{"stringValue":"What is the weather in Rome?"}}]}},"traceId":")" +
      trace_hex + R"(","spanId":"eee19b7ec3c1b174","observedTimeUnixNano":"1790607508650097106","eventName":"gen_ai.user.message"})";
  auto o = only_observation(log_record(rec));
  CHECK(o.kind == obs_kind::event);
  CHECK(o.trace_id == trace_hex);
  CHECK(o.parent_id == "eee19b7ec3c1b174");
  CHECK(o.name == "gen_ai.user.message");
  CHECK(o.timestamp == event_time::from_micros(1790607508650097));
  CHECK(o.user_text == "What is the weather in Rome?");
  CHECK(o.observation_id == o.event_id);
  const std::string prefix = "otlp-log:" + trace_hex + ":eee19b7ec3c1b174:1790607508650097106:";
  CHECK(o.event_id.substr(0, prefix.size()) == prefix);
  CHECK(o.event_id.size() == prefix.size() + 16);
  // The same record again is the same event (a producer retry); another record is not.
  CHECK(only_observation(log_record(rec)).event_id == o.event_id);
  std::string other = rec;
  other.replace(other.find("Rome"), 4, "Oslo");
  CHECK(only_observation(log_record(other)).event_id != o.event_id);
}

TEST_CASE("log records: elided content, choices, names from attributes and time fallbacks") {
  auto elided = only_observation(log_record(
      R"({"body":{"kvlistValue":{"values":[{"key":"content","value":{"stringValue":"<elided>"}}]}},"traceId":")" + trace_hex +
      R"(","timeUnixNano":"5000","eventName":"gen_ai.user.message"})"));
  CHECK_FALSE(elided.user_text);
  CHECK(elided.timestamp == event_time::from_micros(5));
  CHECK_FALSE(elided.parent_id);

  auto choice = only_observation(log_record(
      R"({"body":{"kvlistValue":{"values":[{"key":"index","value":{"intValue":"0"}},{"key":"finish_reason","value":{"stringValue":"STOP"}},{"key":"message","value":{"kvlistValue":{"values":[{"key":"role","value":{"stringValue":"assistant"}},{"key":"content","value":{"stringValue":"Sunny."}}]}}}]}},"traceId":")" +
      trace_hex + R"(","observedTimeUnixNano":"1000","attributes":[{"key":"event.name","value":{"stringValue":"gen_ai.choice"}}],"severityNumber":17})"));
  CHECK(choice.name == "gen_ai.choice");
  CHECK(choice.assistant_text == "Sunny.");
  CHECK(choice.finish_reason == "STOP");
  CHECK(choice.level == obs_level::error);
}

TEST_CASE("a log record without a trace is unsupported; without a time it is missing one") {
  auto no_trace = only_rejection(log_record(R"({"eventName":"gen_ai.user.message","timeUnixNano":"1"})"));
  CHECK(no_trace.code == reject_code::unsupported_type);
  CHECK(no_trace.detail ==
        "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: missing (a log record without a trace belongs to no session)");
  CHECK(no_trace.index == 0u);
  auto no_time = only_rejection(log_record(R"({"traceId":")" + trace_hex + R"("})"));
  CHECK(no_time.code == reject_code::missing_field);
}

TEST_CASE("log records of a trace get the session id its spans carry in the same message") {
  const std::string msg = R"({"resourceSpans":[{"scopeSpans":[{"spans":[)" +
                          span(str("gen_ai.conversation.id", "sess-S3")) + R"(]}]}],"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":")" +
                          trace_hex + R"(","spanId":"eee19b7ec3c1b174","timeUnixNano":"1","eventName":"gen_ai.choice"}]}]}]})";
  auto r = parse_checked(msg);
  REQUIRE(r.observations.size() == 2);
  CHECK(r.observations[1].kind == obs_kind::event);
  CHECK(r.observations[1].session_id == "sess-S3");
}

TEST_CASE("OTLP has no trace-create: no trace observation is invented") {
  auto r = parse_checked(otlp(span("", "", "1111111111111111") + "," + span("", "", "2222222222222222")));
  for (const auto& o : r.observations) CHECK(o.kind != obs_kind::trace);
}

TEST_CASE("each OTLP span knows its ordinal in the message, for dead letters that point at one span") {
  tw::payload_parser parser;
  auto r = parser.parse(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[)"
      R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a","startTimeUnixNano":"1","endTimeUnixNano":"2"},)"
      R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"b","startTimeUnixNano":"3","endTimeUnixNano":"4"}]}]}]})");
  REQUIRE(r.observations.size() == 2);
  CHECK(r.observations[0].source_index == 0);
  CHECK(r.observations[1].source_index == 1);
}

TEST_CASE("a 2 MB gen_ai.response.finish_reasons and other huge fields come out bounded") {
  // Issue 6: the finish reason was copied whole into llm_calls[].finish_reason, making the session
  // record larger than any producer accepts. Every string copied from input has a bound.
  const std::string huge(2 << 20, 'z');
  const std::string big_json_array = R"([\")" + huge + R"(\"])";  // the array written as a JSON string
  struct row {
    const char* description;
    std::string finish_attr;
  };
  const row rows[] = {
      {"a plain string", str("gen_ai.response.finish_reasons", huge)},
      {"a JSON string holding an array", str("gen_ai.response.finish_reasons", big_json_array)},
      {"an arrayValue", R"({"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":")" +
                            huge + R"("}]}}})"},
      {"the legacy completion attribute", str("gen_ai.completion.0.finish_reason", huge)},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto o = one_span(str("gen_ai.operation.name", "chat") + "," + r.finish_attr);
    REQUIRE(o.finish_reason);
    CHECK(*o.finish_reason == std::string(bounds::max_finish_reason_bytes, 'z') + "\xE2\x80\xA6");
  }

  // Every other string of a span, each far over its bound (and the message under 8 MiB).
  const std::string big(512 << 10, 'y');
  auto o = only_observation(otlp(
      R"({"traceId":")" + trace_hex + R"(","spanId":"eee19b7ec3c1b174","name":")" + big +
          R"(","startTimeUnixNano":"1735732800000000000","endTimeUnixNano":"1735732801250000000","attributes":[)" +
          str("gen_ai.operation.name", "execute_tool") + "," + str("gen_ai.tool.name", big) + "," +
          str("gen_ai.tool.call.id", big) + "," + str("gen_ai.tool.call.result", big) + "," +
          str("gen_ai.request.model", big) + "," + str("user.id", big) + "," + str("gen_ai.agent.name", big) +
          R"(],"status":{"code":2,"message":")" + big + R"("}})",
      str("service.name", big)));
  CHECK(o.name->size() <= bounds::max_name_bytes + 3);
  CHECK(o.tool_name->size() <= bounds::max_name_bytes + 3);
  CHECK(o.tool_call_id->size() <= bounds::max_id_bytes + 3);
  CHECK(o.tool_result->size() <= parse_limits{}.result_excerpt_bytes + 3);
  CHECK(o.model->size() <= bounds::max_name_bytes + 3);
  CHECK(o.user_id->size() <= bounds::max_id_bytes + 3);
  CHECK(o.status_message->size() <= parse_limits{}.result_excerpt_bytes + 3);
  REQUIRE(o.metadata);
  for (const auto& [k, v] : *o.metadata) CHECK(v.size() <= parse_limits{}.metadata_value_bytes + 3);
  CHECK(invariant_violations(o).empty());
}

TEST_CASE("a session id over the id bound rejects the span, naming the attribute, instead of being cut") {
  // Cut, two sessions whose ids share their first 512 bytes would have become one.
  const std::string long_id(513, 's');
  auto own = only_rejection(otlp(span(str("session.id", long_id))));
  CHECK(own.code == reject_code::invalid_field);
  CHECK(own.detail == R"(resourceSpans[0].scopeSpans[0].spans[0].attributes["session.id"]: longer than 512 bytes)");
  auto on_resource = only_rejection(otlp(span(""), str("gen_ai.conversation.id", long_id)));
  CHECK(on_resource.detail ==
        R"(resourceSpans[0].resource.attributes["gen_ai.conversation.id"]: longer than 512 bytes)");
  CHECK(only_observation(otlp(span(str("session.id", std::string(512, 's'))))).session_id.size() == 512);
}
