// Every real payload under tests/fixtures/real/ (see SOURCES.md there) is parsed and checked for
// what it really contains. The expected numbers were derived independently of the parser, by
// reading the files with python3 (json module) — the derivation is quoted above each check — so
// a parser bug cannot make its own expectation.
//
// Token totals below are sums of per-observation values. Several of them count one LLM call
// more than once, because the producers record it at nested levels: ADK's call_llm ›
// generate_content (×2) and kagent's call_llm › generate_content › openai.chat (×3). The parser
// reports each span's own usage on purpose; the session stage counts a call once by following
// parent links.
#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "formats_test_support.hpp"

using namespace tw;
using namespace tw::test;
using json = nlohmann::json;

namespace {

std::map<obs_kind, size_t> count_kinds(const std::vector<observation>& obs) {
  std::map<obs_kind, size_t> n;
  for (const auto& o : obs) ++n[o.kind];
  return n;
}

std::set<std::string> distinct(const std::vector<observation>& obs, std::string observation::*field) {
  std::set<std::string> out;
  for (const auto& o : obs) out.insert(o.*field);
  return out;
}

const observation& by_id(const std::vector<observation>& obs, const std::string& id) {
  for (const auto& o : obs)
    if (o.observation_id == id) return o;
  FAIL("no observation " << id);
  static observation none;
  return none;
}

int64_t sum_input(const std::vector<observation>& obs) {
  int64_t n = 0;
  for (const auto& o : obs) n += o.input_tokens.value_or(0);
  return n;
}
int64_t sum_output(const std::vector<observation>& obs) {
  int64_t n = 0;
  for (const auto& o : obs) n += o.output_tokens.value_or(0);
  return n;
}

}  // namespace

TEST_CASE("ADK S3 fixture: one session of three turns, fifteen spans and a get_weather tool call") {
  auto r = parse_checked(fixture("agentevals__adk-py-v1_default-S3-multiturn-session.otlp.json"));
  INFO(describe(r));
  CHECK(r.detected == input_format::otlp);
  CHECK(r.rejected.empty());
  // python: 15 spans in resourceSpans, 24 logRecords in resourceLogs.
  REQUIRE(r.observations.size() == 15 + 24);
  // python: span names generate_content ×4, call_llm ×4 (model + usage, no operation name),
  // invoke_agent ×3, invocation ×3, execute_tool ×1; eventName counts user.message 16,
  // system.message 4, choice 4.
  auto kinds = count_kinds(r.observations);
  CHECK(kinds[obs_kind::generation] == 8);
  CHECK(kinds[obs_kind::tool] == 1);
  CHECK(kinds[obs_kind::span] == 6);
  CHECK(kinds[obs_kind::event] == 24);
  CHECK(kinds[obs_kind::trace] == 0);  // OTLP has no trace-create
  // python: 3 distinct traceIds; gen_ai.conversation.id / gcp.vertex.agent.session_id are all
  // "sess-S3-v1_default", present on 8 of 15 spans: the invocation roots get it by propagation.
  CHECK(distinct(r.observations, &observation::trace_id).size() == 3);
  CHECK(distinct(r.observations, &observation::session_id) == std::set<std::string>{"sess-S3-v1_default"});

  const auto& tool = by_id(r.observations, "90ae797b5ed5b0a6");
  CHECK(tool.kind == obs_kind::tool);
  CHECK(tool.tool_name == "get_weather");
  CHECK(tool.tool_call_id == "adk-1451ab25-9f6f-4aa5-a36c-710e9db4eecf");
  CHECK(tool.tool_result == R"({"city": "Rome", "forecast": "cloudy", "temp_c": 17})");
  CHECK(tool.parent_id == "7bb19873fef99cad");

  // python: gen_ai.usage.input_tokens over all spans = 320, output = 52; each turn's call is
  // counted twice (call_llm and its generate_content child report the same 10/8, 30/5, 50/9, 70/4).
  CHECK(sum_input(r.observations) == 320);
  CHECK(sum_output(r.observations) == 52);
  const auto& call = by_id(r.observations, "ab13f45e46bc7cd1");
  const auto& gen = by_id(r.observations, "c3ae2878735a27eb");
  CHECK(call.input_tokens == 10);
  CHECK(call.output_tokens == 8);
  CHECK(gen.input_tokens == 10);
  CHECK(gen.parent_id == "ab13f45e46bc7cd1");
  CHECK(gen.model == "gemini-2.5-flash");
  CHECK(gen.finish_reason == "stop");

  // python: the last user text part of gcp.vertex.agent.llm_request.contents, and the text parts
  // of llm_response.content, per call_llm span.
  CHECK(call.user_text == "Hi, my name is Ada.");
  CHECK(call.assistant_text == "Nice to meet you, Ada! How can I help?");
  CHECK(by_id(r.observations, "91a46029f429c58d").user_text == "What is the weather in Rome?");
  CHECK_FALSE(by_id(r.observations, "91a46029f429c58d").assistant_text);  // a function_call, no text
  CHECK(by_id(r.observations, "3c91c11a2ef1d6b6").assistant_text == "It is cloudy and 17C in Rome.");
  CHECK(by_id(r.observations, "38e195d1e61c74fa").user_text == "Thanks, bye!");

  // The log records' content is "<elided>": they carry no text, only their place in the trace.
  for (const auto& o : r.observations) {
    if (o.kind != obs_kind::event) continue;
    CHECK_FALSE(o.user_text);
    CHECK(o.parent_id);
  }
  for (const auto& o : r.observations) CHECK(o.level != obs_level::error);
}

TEST_CASE("kagent Tempo export: legacy shape, precision-lost times, a helm tool call and the conversation id") {
  const std::string raw = fixture("agentevals__kagent-tempo-export-with-batches.json");
  auto r = parse_checked(raw);
  INFO(describe(r));
  CHECK(r.detected == input_format::otlp);
  CHECK(r.rejected.empty());
  // python: 86 spans under batches[].instrumentationLibrarySpans[], one traceId.
  REQUIRE(r.observations.size() == 86);
  CHECK(distinct(r.observations, &observation::trace_id) == std::set<std::string>{"dd547580319ab0312cee07f1def50dad"});
  // python: gen_ai.conversation.id on 24 spans, always ctx-eff35888-...; the rest share it by
  // propagation within the message.
  CHECK(distinct(r.observations, &observation::session_id) ==
        std::set<std::string>{"ctx-eff35888-55ab-4eb0-b90d-7b21f711f91f"});
  // python: GenAI spans are openai.chat ×2, generate_content ×2, call_llm ×2 (all with usage),
  // execute_tool ×1, invoke_agent ×2, invocation ×1; everything else is HTTP/A2A plumbing.
  auto kinds = count_kinds(r.observations);
  CHECK(kinds[obs_kind::generation] == 6);
  CHECK(kinds[obs_kind::tool] == 1);
  CHECK(kinds[obs_kind::span] == 79);

  const auto& tool = by_id(r.observations, "def5801af66aaae7");
  CHECK(tool.kind == obs_kind::tool);
  CHECK(tool.name == "execute_tool helm_list_releases");
  CHECK(tool.tool_name == "helm_list_releases");
  CHECK(tool.tool_call_id == "call_w0eKlvnaE7S9GQJeSSs0gn05");
  REQUIRE(tool.tool_result);
  CHECK(tool.tool_result->rfind(R"({"content": [{"type": "text", "text": "NAME)", 0) == 0);

  // The file's first startTimeUnixNano is the JSON number 1777555053780274700 (> 2^53); through a
  // double it would read ...780274688. Read as an integer it is exact to the microsecond.
  CHECK(raw.find(R"("startTimeUnixNano":1777555053780274700)") != std::string::npos);
  CHECK(by_id(r.observations, "21beb323d66610f7").start == event_time::from_micros(1777555053780274));
  // kind is the enum name "SPAN_KIND_SERVER"; the root has parentSpanId "".
  CHECK(metadata_value(by_id(r.observations, "21beb323d66610f7"), "otel.span.kind") == "server");
  CHECK_FALSE(by_id(r.observations, "529566afa763bd4d").parent_id);

  // python: usage on 6 spans, input 3 × (2256 + 2392) = 13944, output 3 × (13 + 116) = 387:
  // each of the two LLM calls is recorded three times (call_llm › generate_content › openai.chat).
  CHECK(sum_input(r.observations) == 13944);
  CHECK(sum_output(r.observations) == 387);
  const auto& chat = by_id(r.observations, "2373d7ea8819e064");
  CHECK(chat.model == "gpt-4.1-mini-2025-04-14");
  CHECK(chat.input_tokens == 2392);
  CHECK(chat.output_tokens == 116);
  CHECK(chat.parent_id == "0eada367953b97e2");
  // Legacy gen_ai.prompt.N: the last role=user message (prompt.3 is the tool result).
  CHECK(chat.user_text == "list all helm releases\n");
  REQUIRE(chat.assistant_text);
  CHECK(chat.assistant_text->rfind("There are two Helm releases currently deployed:", 0) == 0);
  CHECK(by_id(r.observations, "0e5deee1c91f77f8").finish_reason == "tool_calls");
  // python: status codes are 0 (×56) and 1 (×30): no errors, although 5 spans carry exception
  // events (asyncio CancelledError, with Tempo having dropped the events' names).
  for (const auto& o : r.observations) CHECK(o.level != obs_level::error);
}

TEST_CASE("Langfuse export of a Google ADK trace: the trace, its five observations and two scores") {
  auto r = parse_checked(fixture("langfuse__framework-trace-google-adk-2025-08-28.langfuse-export.json"));
  INFO(describe(r));
  CHECK(r.detected == input_format::langfuse_export);
  CHECK(r.rejected.empty());
  // python: observations[].type GENERATION ×2, CHAIN, AGENT, TOOL; trace.scores has 2 entries.
  REQUIRE(r.observations.size() == 1 + 5 + 2);
  auto kinds = count_kinds(r.observations);
  CHECK(kinds[obs_kind::trace] == 1);
  CHECK(kinds[obs_kind::generation] == 2);
  CHECK(kinds[obs_kind::span] == 2);
  CHECK(kinds[obs_kind::tool] == 1);
  CHECK(kinds[obs_kind::score] == 2);
  // trace.sessionId is "demo-session"; every observation of the trace inherits it.
  CHECK(distinct(r.observations, &observation::session_id) == std::set<std::string>{"demo-session"});
  for (const auto& o : r.observations) CHECK(o.event_id.rfind("export:", 0) == 0);

  const auto& trace = by_id(r.observations, "b82a0bdc1994fc5d1c8576ca032543f7");
  CHECK(trace.kind == obs_kind::trace);
  CHECK(trace.user_id == "demo-user");
  // trace.input is JSON stringified twice; inside, new_message.parts[0].text is "hi".
  CHECK(trace.user_text == "hi");
  CHECK(trace.assistant_text == "Hello Langfuse \xF0\x9F\x91\x8B!\n");

  // python: usageDetails {input:39, output:6} and {input:28, output:3}; costDetails.total
  // 6.3e-06 and 4e-06.
  CHECK(sum_input(r.observations) == 67);
  CHECK(sum_output(r.observations) == 9);
  const auto& gen = by_id(r.observations, "bded677884f031ce");
  CHECK(gen.model == "gemini-2.0-flash");
  CHECK(gen.cost_usd == Approx(6.3e-06));
  CHECK(gen.user_text == "hi");
  CHECK(gen.finish_reason == "STOP");
  CHECK(by_id(r.observations, "f6e4c65297e40c96").cost_usd == Approx(4e-06));

  // The TOOL's own output is "{}"; the response is in metadata.attributes.
  const auto& tool = by_id(r.observations, "04290e4d82aba1bc");
  CHECK(tool.tool_name == "say_hello");
  CHECK(tool.tool_call_id == "adk-8bd8dc65-717d-4102-858b-3a1dd6b75a00");
  CHECK(tool.tool_result == "{\"greeting\": \"Hello Langfuse \xF0\x9F\x91\x8B\"}");
  CHECK(tool.parent_id == "f6e4c65297e40c96");
  CHECK(by_id(r.observations, "23fb2bfb-7c1e-4c91-bf34-9d846eb9b1eb").score_value == 0.0);
}

TEST_CASE("OTLP proto example: upper-case ids, a numeric start time, a server span") {
  auto o = only_observation(fixture("otel-proto__examples-trace.json"));
  CHECK(o.trace_id == "5b8efff798038103d269b633813fc60c");
  CHECK(o.observation_id == "eee19b7ec3c1b174");
  CHECK(o.parent_id == "eee19b7ec3c1b173");
  CHECK(o.start == event_time::from_micros(1544712660000000));
  CHECK(o.end == event_time::from_micros(1544712661000000));
  CHECK(o.kind == obs_kind::span);
  CHECK(o.session_id.empty());
  CHECK(metadata_value(o, "service.name") == "my.service");
  CHECK(metadata_value(o, "otel.span.kind") == "server");
}

TEST_CASE("Langfuse fern examples: the three example requests and the score bodies") {
  const json doc = json::parse(fixture("langfuse__fern-ingestion-examples.json"));
  std::vector<observation> all;
  for (const auto& ex : doc["examples"]) {
    auto r = parse_checked(ex["request"].dump());
    INFO(describe(r));
    CHECK(r.rejected.empty());
    CHECK(r.observations.size() == ex["response"]["body"]["successes"].size());
    all.insert(all.end(), r.observations.begin(), r.observations.end());
  }
  REQUIRE(all.size() == 3);
  CHECK(all[0].kind == obs_kind::trace);
  CHECK(all[0].session_id == "1234-5678-90ab-cdef");
  CHECK(all[0].user_id == "1234-5678-90ab-cdef");
  CHECK(all[0].environment == "production");
  CHECK(metadata_value(all[0], "tags") == "tag1,tag2");
  CHECK(metadata_value(all[0], "metadata") == "My metadata");
  CHECK(all[0].user_text == "My input");
  CHECK(all[1].kind == obs_kind::span);
  CHECK(all[1].environment == "test");
  CHECK(all[2].kind == obs_kind::score);
  CHECK(all[2].score_value == 0.9);

  // Score bodies: 9 examples; 8 name a traceId or sessionId, 1 only a datasetRunId.
  size_t accepted = 0, unsupported = 0;
  for (const auto& ex : doc["scoreBodyExamples"]) {
    json ev = {{"id", "score-evt"}, {"type", "score-create"}, {"timestamp", "2025-01-01T00:00:00.000Z"}, {"body", ex["value"]}};
    auto r = parse_checked(json{{"batch", {ev}}}.dump());
    INFO(ex.dump());
    accepted += r.observations.size();
    for (const auto& rej : r.rejected) unsupported += rej.code == reject_code::unsupported_type;
    if (ex["value"].contains("datasetRunId")) CHECK(r.rejected.size() == 1);
  }
  CHECK(accepted == 8);
  CHECK(unsupported == 1);
}

TEST_CASE("Langfuse ingestion servertest batches: accepted and rejected exactly as Langfuse does") {
  const json doc = json::parse(fixture("langfuse__ingestion-api-servertest-batches.json"));
  REQUIRE(doc["cases"].size() == 64);
  std::vector<observation> all;
  size_t events = 0;
  for (size_t i = 0; i < doc["cases"].size(); ++i) {
    const json& c = doc["cases"][i];
    const std::string test = c["test"];
    const std::string expected = c["expected_per_test_name"];
    INFO("case " << i << ": " << test << " (" << expected << ")");
    auto r = parse_checked(c["request"].dump());
    INFO(describe(r));
    events += c["request"]["batch"].size();
    if (expected.rfind("rejected", 0) == 0) {
      REQUIRE(r.rejected.size() == 1);
      CHECK(r.rejected[0].code == reject_code::invalid_field);
      if (test == "should fail for \\r in id") CHECK(r.rejected[0].detail == "id: contains a carriage return");
      if (test == "should fail for long trace name")
        CHECK(r.rejected[0].detail == "body.name: longer than 1000 characters");
    } else {
      CHECK(r.rejected.empty());
      CHECK(r.observations.size() == c["request"]["batch"].size());
    }
    if (test == "should silently drop invalid float values in usageDetails") {
      REQUIRE(r.observations.size() == 1);
      CHECK_FALSE(r.observations[0].input_tokens);
      CHECK_FALSE(r.observations[0].output_tokens);
    }
    if (test.rfind("should fallback to default for invalid environments", 0) == 0) {
      REQUIRE(r.observations.size() == 1);
      CHECK(r.observations[0].environment == "default");
    }
    if (test == "#6123: should treat big-number metadata for traces as such")
      CHECK(metadata_value(r.observations.at(0), "testId") == "1983516295378495150");
    if (test == "#4900: should clear score comment on update with `null`") {
      REQUIRE(r.observations.size() == 2);
      CHECK(metadata_value(r.observations[0], "comment") == "Foo Bar");
      CHECK(metadata_value(r.observations[1], "comment") == "");
    }
    if (test.rfind("should test special S3 characters in IDs", 0) == 0)
      CHECK(r.observations.at(0).trace_id == c["request"]["batch"][0]["body"]["id"].get<std::string>());
    all.insert(all.end(), r.observations.begin(), r.observations.end());
  }
  // python: 66 events (two cases post two); SOURCES.md: trace-create 37, score-create 12,
  // span-create 7, generation-create 3 and one each of agent-, tool-, chain-, retriever-,
  // evaluator-, embedding- and guardrail-create; two trace-creates are rejected.
  CHECK(events == 66);
  REQUIRE(all.size() == 64);
  auto kinds = count_kinds(all);
  CHECK(kinds[obs_kind::trace] == 35);
  CHECK(kinds[obs_kind::score] == 12);
  CHECK(kinds[obs_kind::span] == 7 + 5);       // span + agent, chain, retriever, evaluator, guardrail
  CHECK(kinds[obs_kind::generation] == 3 + 1);  // generation + embedding
  CHECK(kinds[obs_kind::tool] == 1);
  // SOURCES.md: no sessionId and no level=ERROR in this set.
  for (const auto& o : all) {
    CHECK(o.session_id.empty());
    CHECK(o.level != obs_level::error);
  }
  // python: usage input over the agent (150), tool (50), chain (800) and embedding (20) events.
  CHECK(sum_input(all) == 150 + 50 + 800 + 20);
}

TEST_CASE("Langfuse fern schema: every event type it declares is accepted") {
  // A scan of the YAML: the keys of types.IngestionEvent.union (six spaces of indent).
  std::istringstream yml(fixture("langfuse__fern-ingestion.yml"));
  std::string line;
  bool in_event = false, in_union = false;
  std::vector<std::string> types;
  while (std::getline(yml, line)) {
    if (line == "  IngestionEvent:") {
      in_event = true;
      continue;
    }
    if (in_event && line == "    union:") {
      in_union = true;
      continue;
    }
    if (in_union) {
      if (!line.empty() && line.rfind("      ", 0) != 0 && line.rfind("    ", 0) == 0 && line[4] != ' ') break;
      if (line.size() > 7 && line.rfind("      ", 0) == 0 && line[6] != ' ' && line[6] != '#' && line.back() == ':')
        types.push_back(line.substr(6, line.size() - 7));
    }
  }
  // The union declares trace-create, score-create, span-create/-update, generation-create/-update,
  // event-create, sdk-log and the legacy observation-create/-update: 10 types.
  REQUIRE(types.size() == 10);
  for (const auto& type : types) {
    INFO(type);
    std::string body = R"({"id":"o-1","traceId":"t-1","name":"n","value":1,"type":"SPAN"})";
    auto r = parse_checked(R"({"batch":[{"id":"e-1","type":")" + type +
                           R"(","timestamp":"2025-01-01T00:00:00.000Z","body":)" + body + "}]}");
    INFO(describe(r));
    CHECK(r.rejected.empty());
    CHECK(r.observations.size() + r.ignored == 1);
  }
}

TEST_CASE("Langfuse OTel mapping servertest: 239 OTLP messages, 244 spans") {
  const json index = json::parse(fixture("langfuse__otel-mapping-servertest-spans.index.json"));
  std::istringstream in(fixture("langfuse__otel-mapping-servertest-spans.otlp.jsonl"));
  std::string line;
  size_t line_no = 0, spans = 0, observations = 0;
  std::map<size_t, parse_result> results;
  payload_parser parser;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::string test;
    for (const auto& entry : index["lines"])
      if (entry["line"] == line_no) test = entry["test"];
    INFO("line " << line_no << ": " << test);
    const json doc = json::parse(line);
    size_t here = 0;
    for (const auto& rs : doc["resourceSpans"])
      for (const auto& ss : rs.value("scopeSpans", json::array())) here += ss["spans"].size();
    auto r = parser.parse(line);
    INFO(describe(r));
    for (const auto& o : r.observations) CHECK(invariant_violations(o).empty());
    CHECK(r.detected == input_format::otlp);
    CHECK(r.observations.size() + r.rejected.size() == here);
    spans += here;
    observations += r.observations.size();
    results[line_no] = std::move(r);
  }
  // python: 239 non-empty lines holding 244 spans.
  CHECK(line_no == 239);
  CHECK(spans == 244);
  // python: only line 194 ("Missing span timestamps > should process spans with no start/end
  // times") has a span with neither start nor end; event time is the contract, so it is rejected.
  CHECK(observations == 243);
  REQUIRE(results[194].rejected.size() == 1);
  CHECK(results[194].rejected[0].code == reject_code::missing_field);

  // python: the only span with status.code 2 is on line 54 (LiveKit tts_fallback_adapter).
  for (auto& [n, r] : results)
    for (const auto& o : r.observations) {
      INFO("line " << n);
      CHECK((o.level == obs_level::error) == (n == 54));
    }

  // python: lines 206-214 write startTimeUnixNano as a JSON number (1000000000 ns = 1 s).
  for (size_t n = 206; n <= 214; ++n) {
    INFO("line " << n);
    REQUIRE(results[n].observations.size() == 1);
    CHECK(results[n].observations[0].start == event_time::from_micros(1000000));
  }

  // python (session.id / langfuse.session.id / gen_ai.conversation.id on span or resource):
  const std::map<size_t, std::string> sessions = {{1, "my-session"},       {88, "session-1"},
                                                  {89, "session-1"},       {90, "conversation-1"},
                                                  {195, "session-1"},      {204, "langfuse-session-123"},
                                                  {205, "session-id-123"}, {237, "test-session-333bff8e"}};
  for (auto& [n, r] : results)
    for (const auto& o : r.observations) {
      INFO("line " << n << " " << describe(o));
      auto it = sessions.find(n);
      CHECK(o.session_id == (it == sessions.end() ? "" : it->second));
    }
  // Line 1: only the generation carries session.id; its parent span gets it by propagation.
  REQUIRE(results[1].observations.size() == 2);

  // Kinds the tests' names state (index.json): OpenInference, GenAI operations, AI SDK, tools.
  const std::map<size_t, obs_kind> kinds = {
      {20, obs_kind::span},        {22, obs_kind::generation}, {23, obs_kind::generation}, {24, obs_kind::span},
      {25, obs_kind::tool},        {30, obs_kind::generation}, {32, obs_kind::generation}, {34, obs_kind::generation},
      {35, obs_kind::span},        {36, obs_kind::span},       {37, obs_kind::tool},       {46, obs_kind::tool},
      {47, obs_kind::tool},        {48, obs_kind::tool},       {50, obs_kind::tool},       {206, obs_kind::span},
      {208, obs_kind::generation}, {209, obs_kind::span},      {210, obs_kind::tool},      {211, obs_kind::tool},
      {212, obs_kind::generation}, {213, obs_kind::span},      {214, obs_kind::generation}};
  for (const auto& [n, kind] : kinds) {
    INFO("line " << n);
    REQUIRE(results[n].observations.size() == 1);
    CHECK(results[n].observations[0].kind == kind);
  }

  // Vendor captures (index: vendor_capture_like). Values read from the attributes with python.
  const auto& lf = results[1].observations;
  CHECK(lf[0].input_tokens == 123);  // langfuse.observation.usage_details {"input_tokens": 123, ...}
  CHECK(lf[0].output_tokens == 456);
  CHECK(lf[0].level == obs_level::warning);  // langfuse.observation.level
  CHECK(lf[0].user_text == "hello");
  CHECK(lf[0].assistant_text == "what's up?");
  const auto& openlit = results[3].observations.at(0);
  CHECK(openlit.input_tokens == 14);
  CHECK(openlit.output_tokens == 96);
  CHECK(openlit.cost_usd == Approx(0.000151));
  const auto& traceloop = results[4].observations.at(0);
  CHECK(traceloop.input_tokens == 14);  // gen_ai.usage.prompt_tokens
  CHECK(traceloop.output_tokens == 173);
  CHECK(traceloop.user_text == "What is LLM Observability?");
  const auto& sk = results[5].observations.at(0);
  CHECK(sk.user_text == "What is the capital of France?");
  CHECK(sk.assistant_text == "The capital of France is Paris.");
  const auto& tool = results[192].observations.at(1);
  CHECK(tool.tool_name == "get_weather");
  CHECK(tool.tool_result == R"({"temperature":21})");

  // Line 183: gen_ai.prompt.10001.content is ignored, gen_ai.prompt.0.content is kept.
  CHECK(results[183].observations.at(0).user_text == "valid message");
  // Line 239: a "gen_ai.prompt.__proto__.POLLUTED" key is ignored safely.
  REQUIRE(results[239].observations.size() == 1);
  CHECK_FALSE(results[239].observations[0].user_text);
  CHECK_FALSE(metadata_value(results[239].observations[0], "POLLUTED"));
}
