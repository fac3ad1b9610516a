// Message-level behaviour of payload_parser: format detection from the JSON shape, and what
// happens to messages that are too large, not JSON, or JSON of no known shape.
#include <catch2/catch.hpp>

#include "formats_test_support.hpp"

using namespace tw;
using namespace tw::test;

TEST_CASE("the format is detected from the JSON shape of each message") {
  struct row {
    const char* description;
    const char* json;
    input_format format;
  };
  const row rows[] = {
      {"a Langfuse batch", R"({"batch":[]})", input_format::langfuse},
      {"a Langfuse batch with metadata", R"({"batch":[],"metadata":{"sdk":"python"}})", input_format::langfuse},
      {"a single Langfuse event", R"({"id":"e","type":"sdk-log","timestamp":"2025-01-01T00:00:00Z","body":{}})",
       input_format::langfuse},
      {"a Langfuse export", R"({"trace":{"id":"t","timestamp":"2025-01-01T00:00:00Z"},"observations":[]})",
       input_format::langfuse_export},
      {"OTLP traces", R"({"resourceSpans":[]})", input_format::otlp},
      {"OTLP logs", R"({"resourceLogs":[]})", input_format::otlp},
      {"Tempo's legacy batches (not Langfuse's batch)", R"({"batches":[]})", input_format::otlp},
      {"one native event", R"({"schema":"tracewatch.event.v1","event_id":"e","trace_id":"t","kind":"span","timestamp":0})",
       input_format::native},
      {"an array of native events",
       R"([{"schema":"tracewatch.event.v1","event_id":"e","trace_id":"t","kind":"span","timestamp":0}])",
       input_format::native},
      {"a native events list",
       R"({"events":[{"schema":"tracewatch.event.v1","event_id":"e","trace_id":"t","kind":"span","timestamp":0}]})",
       input_format::native},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto res = parse_checked(r.json);
    CHECK(res.detected == r.format);
    CHECK(res.rejected.empty());
  }
}

TEST_CASE("valid JSON of no known shape is unknown_format, with the original bytes") {
  for (const char* json : {"{}", "[]", "42", R"("text")", "null", R"({"foo":1})", R"([{"schema":"other"}])",
                           R"({"type":"trace-create"})", R"({"trace":"not an object"})"}) {
    INFO(json);
    auto rej = only_rejection(json);
    CHECK(rej.code == reject_code::unknown_format);
    CHECK(rej.payload == json);
    CHECK_FALSE(rej.index);
  }
}

TEST_CASE("a fixed format on a message of another shape is unknown_format") {
  struct row {
    input_format format;
    const char* json;
  };
  for (const auto& r : {row{input_format::langfuse, R"({"resourceSpans":[]})"},
                        row{input_format::langfuse_export, R"({"batch":[]})"},
                        row{input_format::otlp, R"({"batch":[]})"}, row{input_format::native, R"({"batch":[]})"}}) {
    INFO(to_string(r.format));
    auto res = parse_checked(r.json, r.format);
    CHECK(res.detected == r.format);
    REQUIRE(res.rejected.size() == 1);
    CHECK(res.rejected[0].code == reject_code::unknown_format);
  }
}

TEST_CASE("what is not JSON is invalid_json with simdjson's reason") {
  struct row {
    const char* description;
    std::string payload;
  };
  const row rows[] = {
      {"an empty message", ""},
      {"truncated JSON", R"({"batch":[)"},
      {"a bare word", "hello"},
      {"invalid UTF-8", std::string("{\"a\":\"\xC3\x28\"}")},
      {"a lone surrogate escape", R"({"a":"\ud800"})"},
      {"an integer beyond 64 bits", R"({"a":123456789012345678901234567890})"},
      {"nesting deeper than simdjson's limit", std::string(2000, '[') + std::string(2000, ']')},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto rej = only_rejection(r.payload);
    CHECK(rej.code == reject_code::invalid_json);
    CHECK(rej.detail.rfind("message: ", 0) == 0);
    CHECK(rej.detail.size() > 10);
    CHECK(rej.payload == r.payload);
  }
  CHECK(only_rejection("").detail == "message: Empty: no JSON found");
  payload_parser parser;
  CHECK(parser.parse("{").detected == input_format::auto_detect);
}

TEST_CASE("a message over max_message_bytes is rejected unparsed as too_large") {
  parse_limits limits;
  limits.max_message_bytes = 16;
  const std::string msg = R"({"batch":[],"padding":"xxxx"})";
  auto rej = only_rejection(msg, input_format::auto_detect, limits);
  CHECK(rej.code == reject_code::too_large);
  CHECK(rej.detail == "message: 29 bytes, over max_message_bytes (16)");
  CHECK(rej.payload == msg);
}

TEST_CASE("one parser is reusable across messages of different formats and sizes") {
  payload_parser parser;
  const std::string big = R"({"batch":[)" + std::string(R"({"id":"e","type":"sdk-log","timestamp":"2025-01-01T00:00:00Z","body":{}},)") +
                          R"({"id":"e2","type":"sdk-log","timestamp":"2025-01-01T00:00:00Z","body":{"log":")" +
                          std::string(100000, 'x') + "\"}}]}";
  CHECK(parser.parse(big).ignored == 2);
  CHECK(parser.parse(R"({"resourceSpans":[]})").detected == input_format::otlp);
  CHECK(parser.parse("nope").rejected.size() == 1);
  CHECK(parser.parse(R"({"batch":[]})").detected == input_format::langfuse);
}

TEST_CASE("format names round-trip through to_string and parse_input_format") {
  for (auto f : {input_format::auto_detect, input_format::langfuse, input_format::langfuse_export, input_format::otlp,
                 input_format::native})
    CHECK(parse_input_format(to_string(f)) == f);
  CHECK_FALSE(parse_input_format("jaeger"));
}
