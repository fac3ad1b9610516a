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
