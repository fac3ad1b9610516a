// The session summary's bounds: one turn per trace, bounded metadata and models, and a record that
// fits output.max_record_bytes by construction (issue 6: a session record larger than the
// producer's message.max.bytes could never be delivered and held up its whole lane).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "model/bounds.hpp"
#include "state/session_summary.hpp"
#include "tests/support/contract_check.hpp"
#include "tests/support/engine_harness.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/formats/formats.hpp"
#include "formats_test_support.hpp"

using namespace tw;
using namespace tw::test;
using tw::state::build_session_summary;
using tw::state::summary_limits;
using tw::state::summary_request;

namespace {

summary_request request(event_time cutoff) {
  summary_request r;
  r.session_id = "s1";
  r.cutoff = cutoff;
  return r;
}

std::string validation_of(const std::string& json) { return contract_violations("tracewatch.session.v1", json); }

// A session with `n` tool calls whose results are `result_bytes` long, over `traces` traces.
std::vector<observation> tool_heavy_session(int n, size_t result_bytes, int traces = 4) {
  std::vector<observation> events;
  for (int t = 0; t < traces; ++t)
    events.push_back(obs_builder("tr" + std::to_string(t), obs_kind::trace, "t" + std::to_string(t), "t" + std::to_string(t), t)
                         .session("s1")
                         .user("turn " + std::to_string(t)));
  for (int i = 0; i < n; ++i) {
    observation o = obs_builder("tool-" + std::to_string(i), obs_kind::tool, "t" + std::to_string(i % traces),
                                "tool-" + std::to_string(i), 10 + i)
                        .name("lookup");
    o.tool_name = "lookup";
    o.tool_result = std::string(result_bytes, 'r');
    events.push_back(std::move(o));
  }
  return events;
}

}  // namespace

TEST_CASE("every trace is a turn, with empty user and assistant text when none is known") {
  // docs/topics.md has always said "one entry per trace"; traces without text used to be left out.
  std::vector<observation> events{
      obs_builder("e1", obs_kind::trace, "t1", "t1", 0).session("s1").user("hello"),
      obs_builder("e2", obs_kind::tool, "t2", "tool-1", 5).session("s1").name("lookup"),  // OTLP: no trace record, no text
      obs_builder("e3", obs_kind::trace, "t3", "t3", 9).session("s1"),
  };
  auto s = build_session_summary(request(at_s(100)), events, summary_limits{});
  REQUIRE(s.turns.size() == 3);
  CHECK(s.turns[0].trace_id == "t1");
  CHECK(s.turns[0].user_text == "hello");
  CHECK(s.turns[1].trace_id == "t2");
  CHECK(s.turns[1].user_text.empty());
  CHECK(s.turns[1].assistant_text.empty());
  CHECK(s.turns[2].trace_id == "t3");
  CHECK(s.turns.size() == s.stats.traces);
  CHECK(validation_of(encode_session_json(s)).empty());
}

TEST_CASE("a session keeps at most 64 metadata entries and 16 models, the first ones in time order") {
  std::vector<observation> events;
  for (int t = 0; t < 10; ++t) {
    observation tr = obs_builder("tr" + std::to_string(t), obs_kind::trace, "t" + std::to_string(t), "t" + std::to_string(t), t)
                         .session("s1");
    tr.metadata.emplace();
    for (int k = 0; k < 20; ++k) tr.metadata->emplace_back("k" + std::to_string(t * 20 + k), "v");
    tr.metadata->emplace_back("k0", "from trace " + std::to_string(t));  // a kept key, overridden later
    events.push_back(std::move(tr));
    for (int g = 0; g < 3; ++g) {
      observation gen = obs_builder("g" + std::to_string(t * 3 + g), obs_kind::generation, "t" + std::to_string(t),
                                    "g" + std::to_string(t * 3 + g), t + 0.1 * (g + 1));
      gen.model = "model-" + std::to_string(t * 3 + g);
      events.push_back(std::move(gen));
    }
  }
  auto s = build_session_summary(request(at_s(100)), events, summary_limits{});
  CHECK(s.metadata.size() == bounds::max_session_metadata);
  CHECK(s.metadata.front() == std::make_pair(std::string("k0"), std::string("from trace 9")));
  CHECK(s.metadata.back().first == "k" + std::to_string(bounds::max_session_metadata - 1));
  REQUIRE(s.models.size() == bounds::max_session_models);
  CHECK(s.models.front() == "model-0");
  CHECK(s.models.back() == "model-15");
}

TEST_CASE("a session that would exceed output.max_record_bytes leaves entries out of the middle of its largest list, counted") {
  summary_limits limits;
  limits.max_tool_calls = 1000;
  limits.max_record_bytes = 65536;
  auto events = tool_heavy_session(500, 300);
  auto s = build_session_summary(request(at_s(10000)), events, limits);
  const std::string json = encode_session_json(s);
  CHECK(json.size() <= limits.max_record_bytes);
  CHECK(json.size() > limits.max_record_bytes - 2048);  // what fits is kept, not much less
  INFO(validation_of(json));
  CHECK(validation_of(json).empty());
  CHECK(s.stats.tool_calls == 500);  // all counted
  CHECK(s.truncated.tool_calls > 0);
  CHECK(s.tool_calls.size() + s.truncated.tool_calls == 500);
  CHECK(s.tool_calls.front().observation_id == "tool-0");  // how it began...
  CHECK(s.tool_calls.back().observation_id == "tool-499");  // ...and how it ended
  CHECK(s.turns.size() == 4);  // the small lists are left alone
  CHECK(s.truncated.turns == 0);

  SECTION("the same events always give the same bytes") {
    auto again = build_session_summary(request(at_s(10000)), tool_heavy_session(500, 300), limits);
    CHECK(encode_session_json(again) == json);
  }
  SECTION("what the budget leaves out is what a smaller list bound would have") {
    summary_limits capped = limits;
    capped.max_tool_calls = s.tool_calls.size();
    capped.max_record_bytes = bounds::default_max_record_bytes;
    auto by_count = build_session_summary(request(at_s(10000)), tool_heavy_session(500, 300), capped);
    CHECK(encode_session_json(by_count) == json);
  }
}

TEST_CASE("a session within output.max_record_bytes is not touched") {
  summary_limits limits;
  auto s = build_session_summary(request(at_s(10000)), tool_heavy_session(100, 300), limits);
  CHECK(s.tool_calls.size() == 100);
  CHECK(s.truncated.tool_calls == 0);
}

TEST_CASE("fitting a session whose lists are all empty leaves out scores, then metadata, then models") {
  session_summary s;
  s.session_id = "s1";
  s.first_event_at = s.last_event_at = s.closed_at = at_s(0);
  for (int i = 0; i < 200; ++i) s.scores.push_back(score_summary{"score-" + std::to_string(i), std::nullopt, std::string(200, 'l')});
  for (int i = 0; i < 64; ++i) s.metadata.emplace_back("key-" + std::to_string(i), std::string(200, 'v'));
  s.models = {"m1", "m2"};
  fit_session_json(s, 10000);  // the metadata alone is 14 KB
  CHECK(encode_session_json(s).size() <= 10000);
  CHECK(s.scores.empty());
  CHECK_FALSE(s.metadata.empty());
  CHECK(s.metadata.size() < 64);
  CHECK(s.metadata.front().first == "key-0");
  CHECK(s.models.size() == 2);
}

TEST_CASE("a 2 MB gen_ai.response.finish_reasons and other huge OTLP fields give a session record within its bounds") {
  // Issue 6's repro, through the parser and the summary: the record must validate (maxLength) and
  // fit the default budget.
  const std::string huge(2 << 20, 'x');
  const std::string big(300 << 10, 'y');
  auto attr = [](const std::string& k, const std::string& v) {
    return R"({"key":")" + k + R"(","value":{"stringValue":")" + v + "\"}}";
  };
  std::string spans;
  for (int i = 0; i < 3; ++i) {
    if (i) spans += ",";
    spans += R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b17)" + std::to_string(i) +
             R"(","name":")" + big + R"(","startTimeUnixNano":"1735732800000000000","endTimeUnixNano":"1735732801250000000","attributes":[)" +
             attr("session.id", "call-42") + "," + attr("gen_ai.operation.name", "chat") + "," +
             attr("gen_ai.request.model", big) + "," + attr("gen_ai.response.finish_reasons", i == 0 ? huge : big) + "," +
             attr("gen_ai.input.messages", big) + "," + attr("user.id", big) + R"(],"status":{"code":2,"message":")" + big +
             R"("}})";
  }
  const std::string message = R"({"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{"name":"s"},"spans":[)" +
                              spans + "]}]}]}";
  payload_parser parser;
  auto parsed = parser.parse(message);
  REQUIRE(parsed.rejected.empty());
  REQUIRE(parsed.observations.size() == 3);
  summary_request req = request(event_time::from_micros(1735732801250000));
  req.session_id = "call-42";
  auto s = build_session_summary(req, parsed.observations, summary_limits{});
  REQUIRE(s.llm_calls.size() == 3);
  for (const auto& c : s.llm_calls) {
    CHECK(c.finish_reason.size() <= bounds::max_finish_reason_bytes + 3);
    CHECK(c.name.size() <= bounds::max_name_bytes + 3);
    CHECK(c.model.size() <= bounds::max_name_bytes + 3);
    CHECK(c.error.size() <= parse_limits{}.result_excerpt_bytes + 3);
  }
  const std::string json = encode_session_json(s);
  CHECK(json.size() < 16 * 1024);
  INFO(validation_of(json));
  CHECK(validation_of(json).empty());
}

// --- cost: reported, computed from tokens (cost.prices), mixed, unknown ---

namespace {

summary_limits priced() {
  summary_limits l;
  l.prices = std::make_shared<const price_table>(std::vector<price_row>{}, price_table::builtin_rows());
  return l;
}

observation generation(std::string id, std::string trace, double t, std::string model, int64_t in, int64_t out,
                       std::optional<double> cost = std::nullopt) {
  observation o = obs_builder("e-" + id, obs_kind::generation, std::move(trace), id, t).session("s1").tokens(in, out);
  o.model = std::move(model);
  o.cost_usd = cost;
  return o;
}

// The observations of a real fixture (tests/fixtures/real), parsed as the importer does.
std::vector<observation> fixture_events(const std::string& file) {
  payload_parser parser;
  auto parsed = parser.parse(fixture(file));
  REQUIRE(parsed.rejected.empty());
  return std::move(parsed.observations);
}

// Everything of the session up to the end of time.
summary_request whole(std::string session_id) {
  summary_request r = request(event_time::max());
  r.session_id = std::move(session_id);
  return r;
}

const llm_call_summary& call_of(const session_summary& s, const std::string& id) {
  for (const auto& c : s.llm_calls)
    if (c.observation_id == id) return c;
  FAIL("no LLM call " << id);
  static llm_call_summary none;
  return none;
}

}  // namespace

TEST_CASE("an LLM call with tokens and no cost is priced from its model, and says the cost was computed") {
  std::vector<observation> events{generation("g1", "t1", 1, "gpt-4o-2024-08-06", 1200, 345)};
  state::summary_tally tally;
  auto s = build_session_summary(request(at_s(100)), events, priced(), &tally);
  const double expected = 1200 * 2.50 / 1e6 + 345 * 10.00 / 1e6;
  REQUIRE(s.stats.cost_usd);
  CHECK(*s.stats.cost_usd == Approx(expected));
  CHECK(s.stats.cost_source == cost_origin::computed);
  CHECK(*call_of(s, "g1").cost_usd == Approx(expected));
  CHECK(call_of(s, "g1").cost_source == cost_origin::computed);
  CHECK(tally.cost_computed == 1);
  CHECK(tally.cost_reported == 0);
  const std::string json = encode_session_json(s);
  INFO(json);
  CHECK(validation_of(json).empty());
  CHECK(nlohmann::json::parse(json)["stats"]["cost_source"] == "computed");
}

TEST_CASE("a reported cost is never replaced, and a session with reported and computed costs says mixed") {
  std::vector<observation> events{
      generation("g1", "t1", 1, "gpt-4o", 1000, 1000, 0.5),        // reported: kept, although the table says otherwise
      generation("g2", "t1", 2, "gpt-4o-mini", 1'000'000, 0),       // computed: $0.15
  };
  state::summary_tally tally;
  auto s = build_session_summary(request(at_s(100)), events, priced(), &tally);
  CHECK(*call_of(s, "g1").cost_usd == 0.5);
  CHECK(call_of(s, "g1").cost_source == cost_origin::reported);
  CHECK(*call_of(s, "g2").cost_usd == Approx(0.15));
  CHECK(call_of(s, "g2").cost_source == cost_origin::computed);
  CHECK(*s.stats.cost_usd == Approx(0.65));
  CHECK(s.stats.cost_source == cost_origin::mixed);
  CHECK(tally.cost_reported == 1);
  CHECK(tally.cost_computed == 1);
  // An update that reports the cost later wins over the computed one: the merged call has a cost.
  events.push_back(obs_builder("e-g2-upd", obs_kind::generation, "t1", "g2", 3).update());
  events.back().cost_usd = 0.2;
  auto later = build_session_summary(request(at_s(100)), events, priced());
  CHECK(*call_of(later, "g2").cost_usd == 0.2);
  CHECK(later.stats.cost_source == cost_origin::reported);
}

TEST_CASE("a call whose model has no price keeps its cost unknown, and adds nothing to the session's") {
  std::vector<observation> events{
      generation("g1", "t1", 1, "acme-internal-7b", 500, 50),  // no row prices it
      generation("g2", "t1", 2, "claude-3-haiku", 4000, 400),  // $0.001 + $0.0005
  };
  observation no_model = generation("g3", "t1", 3, "", 10, 10);
  no_model.model.reset();
  events.push_back(no_model);
  state::summary_tally tally;
  auto s = build_session_summary(request(at_s(100)), events, priced(), &tally);
  CHECK_FALSE(call_of(s, "g1").cost_usd);
  CHECK_FALSE(call_of(s, "g1").cost_source);
  CHECK_FALSE(call_of(s, "g3").cost_usd);
  CHECK(*s.stats.cost_usd == Approx(0.0015));
  CHECK(s.stats.cost_source == cost_origin::computed);
  CHECK(tally.unpriced == 2);
  // Only unknown models: no cost at all, and no source.
  auto none = build_session_summary(request(at_s(100)), {events[0]}, priced());
  CHECK_FALSE(none.stats.cost_usd);
  CHECK_FALSE(none.stats.cost_source);
  CHECK(nlohmann::json::parse(encode_session_json(none))["stats"]["cost_source"].is_null());
}

TEST_CASE("without a price table (cost.prices: off) only reported costs count") {
  std::vector<observation> events{generation("g1", "t1", 1, "gpt-4o", 1200, 345),
                                  generation("g2", "t1", 2, "gpt-4o", 1, 1, 0.01)};
  auto s = build_session_summary(request(at_s(100)), events, summary_limits{});
  CHECK_FALSE(call_of(s, "g1").cost_usd);
  CHECK(*s.stats.cost_usd == 0.01);
  CHECK(s.stats.cost_source == cost_origin::reported);
}

TEST_CASE("a call recorded at two nested levels is priced once: the session counts the innermost usage") {
  // ADK: call_llm (model and usage) › generate_content (the same usage): the ancestor is listed
  // with counted = false and its own computed cost, the session's total counts the call once.
  observation outer = generation("call", "t1", 1, "gemini-2.5-flash", 1000, 100);
  outer.kind = obs_kind::span;
  observation inner = generation("gen", "t1", 1.1, "gemini-2.5-flash", 1000, 100);
  inner.parent_id = "call";
  auto s = build_session_summary(request(at_s(100)), {outer, inner}, priced());
  CHECK(*s.stats.cost_usd == Approx(1000 * 0.30 / 1e6 + 100 * 2.50 / 1e6));
  CHECK(s.stats.input_tokens == 1000);
}

TEST_CASE("real fixtures: ADK and kagent report tokens without a cost, and are priced from their model names") {
  // What the fixtures carry (tests/fixtures/real/SOURCES.md; the token counts are pinned by
  // fixtures_real_test.cpp): the ADK session reports gemini-2.5-flash usage and no cost anywhere.
  const auto adk = fixture_events("agentevals__adk-py-v1_default-S3-multiturn-session.otlp.json");
  const auto req = whole("sess-S3-v1_default");
  auto s = build_session_summary(req, adk, priced());
  // Counted once per call (generate_content below call_llm): 10+30+50+70 in, 8+5+9+4 out.
  REQUIRE(s.stats.input_tokens == 160);
  REQUIRE(s.stats.output_tokens == 26);
  REQUIRE(s.stats.cost_usd);
  CHECK(*s.stats.cost_usd == Approx(160 * 0.30 / 1e6 + 26 * 2.50 / 1e6));
  CHECK(s.stats.cost_source == cost_origin::computed);
  for (const auto& c : s.llm_calls) {
    INFO(c.observation_id << " " << c.model);
    if (c.input_tokens || c.output_tokens) CHECK(c.cost_source == cost_origin::computed);
  }
  // Without prices the same session has no cost, as before.
  CHECK_FALSE(build_session_summary(req, adk, summary_limits{}).stats.cost_usd);

  // kagent records each call three times (call_llm › generate_content › openai.chat); the
  // innermost names the dated model gpt-4.1-mini-2025-04-14, which the gpt-4.1-mini row prices.
  auto k = build_session_summary(whole("ctx-eff35888-55ab-4eb0-b90d-7b21f711f91f"),
                                 fixture_events("agentevals__kagent-tempo-export-with-batches.json"), priced());
  REQUIRE(k.stats.input_tokens == 2256 + 2392);
  REQUIRE(k.stats.output_tokens == 13 + 116);
  REQUIRE(k.stats.cost_usd);
  CHECK(*k.stats.cost_usd == Approx(4648 * 0.40 / 1e6 + 129 * 1.60 / 1e6));
  CHECK(k.stats.cost_source == cost_origin::computed);
  for (const auto& c : k.llm_calls) {
    INFO(c.observation_id << " " << c.model);
    CHECK(c.cost_source == cost_origin::computed);  // every level is priced; only the innermost is counted
  }
}

TEST_CASE("real fixtures: the built-in gemini-2.0-flash price gives the cost Langfuse reported for the same calls") {
  // The Langfuse export of an ADK trace reports usage {39 in, 6 out} at $6.3e-06 and {28, 3} at
  // $4e-06 (fixtures_real_test.cpp): reported costs are kept as they are; with the costs taken
  // away, the table computes the same figures from the tokens.
  auto lf = fixture_events("langfuse__framework-trace-google-adk-2025-08-28.langfuse-export.json");
  const auto req = whole("demo-session");
  auto reported = build_session_summary(req, lf, priced());
  REQUIRE(reported.stats.cost_usd);
  CHECK(*reported.stats.cost_usd == Approx(6.3e-06 + 4e-06));
  CHECK(reported.stats.cost_source == cost_origin::reported);
  for (auto& o : lf) o.cost_usd.reset();
  state::summary_tally tally;
  auto computed = build_session_summary(req, lf, priced(), &tally);
  REQUIRE(computed.stats.cost_usd);
  CHECK(*computed.stats.cost_usd == Approx(6.3e-06 + 4e-06).epsilon(1e-9));
  CHECK(computed.stats.cost_source == cost_origin::computed);
  CHECK(tally.cost_computed == 2);
  CHECK(*call_of(computed, "bded677884f031ce").cost_usd == Approx(39 * 0.10 / 1e6 + 6 * 0.40 / 1e6));
}
