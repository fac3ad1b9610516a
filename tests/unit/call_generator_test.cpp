// The synthetic call generator: the demo, the benchmark and the end-to-end tests trust its plans as
// the truth, so the plans must agree with the bytes, and the bytes must be real Langfuse ingestion.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/call_generator.hpp"

using namespace tw;
using namespace tw::sim;
using nlohmann::json;

namespace {

const event_time t0 = event_time::from_millis(1'767'225'600'000);  // 2026-01-01T00:00:00Z

std::vector<json> events_of(const message& m) {
  json payload = json::parse(m.payload);
  if (payload.contains("batch")) return payload["batch"].get<std::vector<json>>();
  return {payload};
}

bool is_observation(const std::string& type) { return type != "trace-create"; }

// The activity time a reader derives from the body: endTime, else startTime, else the trace's
// timestamp.
event_time activity_of(const json& ev) {
  const json& body = ev["body"];
  for (const char* field : {"endTime", "startTime", "timestamp"}) {
    if (body.contains(field)) return *parse_iso8601(body[field].get<std::string>());
  }
  FAIL("no time in " << ev.dump());
  return {};
}

// What a reader of the messages can count, duplicates removed by envelope id.
struct observed {
  std::set<std::string> trace_ids;
  std::set<std::string> generation_ids;
  int tool_calls = 0;
  int tool_errors = 0;
  int llm_errors = 0;
  bool hangup = false;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double cost_usd = 0;
  event_time first = event_time::max();
  event_time last = event_time::min();
  int events = 0;
  std::vector<json> tools;  // tool bodies in activity order
};

observed observe(const generated_call& call, const std::string& end_marker = "hangup") {
  observed o;
  std::set<std::string> seen;
  std::vector<std::pair<event_time, json>> tools;
  for (const message& m : call.messages) {
    for (const json& ev : events_of(m)) {
      if (!seen.insert(ev["id"].get<std::string>()).second) continue;
      ++o.events;
      const std::string type = ev["type"];
      const json& body = ev["body"];
      const event_time at = activity_of(ev);
      o.first = std::min(o.first, at);
      o.last = std::max(o.last, at);
      if (type == "trace-create") o.trace_ids.insert(body["id"].get<std::string>());
      if (type == "generation-create" || type == "generation-update") {
        o.generation_ids.insert(body["id"].get<std::string>());
        if (body.value("level", "") == "ERROR") ++o.llm_errors;
        if (body.contains("usageDetails")) {
          o.input_tokens += body["usageDetails"]["input"].get<int64_t>();
          o.output_tokens += body["usageDetails"]["output"].get<int64_t>();
          o.cost_usd += body["costDetails"]["total"].get<double>();
        }
      }
      if (type == "tool-create") {
        ++o.tool_calls;
        if (body["level"] == "ERROR") ++o.tool_errors;
        tools.emplace_back(at, body);
      }
      if (type == "event-create" && body["name"] == end_marker) o.hangup = true;
    }
  }
  std::stable_sort(tools.begin(), tools.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& t : tools) o.tools.push_back(std::move(t.second));
  return o;
}

std::vector<generated_call> calls(generator_options options, int n) {
  call_generator g(std::move(options));
  std::vector<generated_call> out;
  for (int i = 0; i < n; ++i) out.push_back(g.next_call(t0 + std::chrono::seconds(30) * i));
  return out;
}

}  // namespace

TEST_CASE("the same seed gives byte-identical messages and a different seed gives different ones") {
  generator_options a;
  a.seed = 42;
  generator_options b = a;
  b.seed = 43;
  auto first = calls(a, 50);
  auto again = calls(a, 50);
  auto other = calls(b, 50);
  bool differs = false;
  for (size_t i = 0; i < first.size(); ++i) {
    REQUIRE(first[i].messages.size() == again[i].messages.size());
    for (size_t j = 0; j < first[i].messages.size(); ++j) {
      CHECK(first[i].messages[j].payload == again[i].messages[j].payload);
      CHECK(first[i].messages[j].key == again[i].messages[j].key);
      CHECK(first[i].messages[j].send_at == again[i].messages[j].send_at);
    }
    differs = differs || first[i].messages.size() != other[i].messages.size() ||
              first[i].messages.front().payload != other[i].messages.front().payload;
  }
  CHECK(differs);
}

TEST_CASE("options out of bounds are refused, naming the option") {
  CHECK_FALSE(validate(generator_options{}));
  struct row {
    const char* description;
    void (*spoil)(generator_options&);
    const char* names;
  };
  const row rows[] = {
      {"a negative fraction", [](generator_options& o) { o.shuffle_fraction = -0.1; }, "shuffle_fraction"},
      {"a fraction above one", [](generator_options& o) { o.batch_fraction = 1.5; }, "batch_fraction"},
      {"outcomes adding up to more than all calls",
       [](generator_options& o) { o.abandoned_fraction = o.tool_failure_fraction = 0.6; }, "abandoned_fraction"},
      {"a negative shuffle", [](generator_options& o) { o.max_shuffle = duration{-1}; }, "max_shuffle"},
      {"turns closer than a millisecond", [](generator_options& o) { o.turn_interval = duration{10}; },
       "turn_interval"},
      {"no end marker", [](generator_options& o) { o.end_marker.clear(); }, "end_marker"},
      {"an id prefix with a space", [](generator_options& o) { o.id_prefix = "my call"; }, "id_prefix"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    generator_options o;
    r.spoil(o);
    auto error = validate(o);
    REQUIRE(error);
    CHECK_THAT(*error, Catch::Contains(r.names));
    CHECK_THROWS_AS(call_generator(o), std::invalid_argument);
  }
}

TEST_CASE("every payload is a Langfuse ingestion event or batch") {
  const std::set<std::string> known = {"trace-create", "generation-create", "generation-update", "tool-create",
                                       "event-create"};
  const std::regex iso_millis(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  std::map<std::string, std::string> payload_of_envelope;  // a repeated id must repeat the bytes
  std::set<std::string> created;
  int singles = 0, batches = 0, updates = 0;
  for (const auto& call : calls({}, 200)) {
    for (const message& m : call.messages) {
      const json payload = json::parse(m.payload);  // throws on invalid JSON
      (payload.contains("batch") ? batches : singles) += 1;
      for (const json& ev : events_of(m)) {
        REQUIRE(ev.is_object());
        REQUIRE(ev["id"].is_string());
        REQUIRE(ev["type"].is_string());
        REQUIRE(ev["timestamp"].is_string());
        REQUIRE(ev["body"].is_object());
        const std::string id = ev["id"];
        auto [first_copy, fresh] = payload_of_envelope.emplace(id, m.payload);
        if (!fresh) {  // a producer retry: the same bytes, checked once
          CHECK(first_copy->second == m.payload);
          continue;
        }
        const std::string type = ev["type"];
        const json& body = ev["body"];
        INFO(ev.dump());
        CHECK(known.count(type) == 1);
        CHECK(std::regex_match(ev["timestamp"].get<std::string>(), iso_millis));
        CHECK(parse_iso8601(ev["timestamp"].get<std::string>()) == activity_of(ev));
        for (const char* field : {"timestamp", "startTime", "endTime", "completionStartTime"}) {
          if (body.contains(field)) CHECK(std::regex_match(body[field].get<std::string>(), iso_millis));
        }
        REQUIRE(body["id"].is_string());
        if (is_observation(type)) {
          CHECK(body["traceId"].is_string());
          CHECK_FALSE(body.contains("sessionId"));
        } else {
          CHECK(body["sessionId"] == call.plan.session_id);
          CHECK(body["input"].is_string());
          CHECK(body["output"].is_string());
          CHECK(body["metadata"]["agent"] == "clinic-scheduler");
        }
        if (type == "generation-update") {
          ++updates;
        } else {
          CHECK(created.insert(body["id"].get<std::string>()).second);  // body ids unique per observation
        }
      }
    }
  }
  CHECK(singles > 0);
  CHECK(batches > 0);
  CHECK(updates > 0);
}

TEST_CASE("the plan matches the events it describes") {
  for (const auto& call : calls({}, 300)) {
    const call_plan& plan = call.plan;
    INFO(plan.session_id << " " << to_string(plan.intent) << " " << to_string(plan.outcome));
    const observed o = observe(call);
    CHECK(static_cast<int>(o.trace_ids.size()) == plan.traces);
    CHECK(static_cast<int>(o.generation_ids.size()) == plan.generations);
    CHECK(o.tool_calls == plan.tool_calls);
    CHECK(o.tool_errors == plan.tool_errors);
    CHECK(o.llm_errors == plan.llm_errors);
    CHECK(o.hangup == plan.hangup);
    CHECK(o.input_tokens == plan.input_tokens);
    CHECK(o.output_tokens == plan.output_tokens);
    CHECK(o.cost_usd == Approx(plan.cost_usd).epsilon(1e-12));
    CHECK(o.first == plan.first_event);
    CHECK(o.last == plan.last_event);
    CHECK(o.events == plan.events);
    if (plan.outcome == call_outcome::abandoned) {
      CHECK(plan.traces >= 1);
      CHECK(plan.traces <= 3);
    } else {
      CHECK(plan.traces >= 4);
      CHECK(plan.traces <= 8);
      CHECK(plan.hangup);
    }
  }
}

TEST_CASE("the hang-up is the last event of the call, in its last trace") {
  for (const auto& call : calls({}, 100)) {
    if (!call.plan.hangup) continue;
    const std::string last_trace = call.plan.session_id + "-t" + std::to_string(call.plan.traces);
    bool found = false;
    for (const message& m : call.messages) {
      for (const json& ev : events_of(m)) {
        if (ev["type"] != "event-create") continue;
        found = true;
        CHECK(ev["body"]["name"] == "hangup");
        CHECK(ev["body"]["traceId"] == last_trace);
        CHECK(activity_of(ev) == call.plan.last_event);
      }
    }
    CHECK(found);
  }
}

TEST_CASE("each outcome shows in the tool calls the way the fulfillment checks expect") {
  const std::map<call_intent, std::string> expected_field = {{call_intent::book, "appointment_id"},
                                                             {call_intent::cancel, "cancelled"},
                                                             {call_intent::reschedule, "new_slot"}};
  for (const auto& call : calls({}, 400)) {
    const call_plan& plan = call.plan;
    INFO(plan.session_id << " " << to_string(plan.intent) << " " << to_string(plan.outcome));
    const observed o = observe(call);
    const std::string key = plan.intent == call_intent::question ? "lookup_patient" : std::string(key_tool(plan.intent));
    int key_successes = 0, key_failures = 0;
    for (const json& tool : o.tools) {
      if (tool["name"] != key) continue;
      if (tool["level"] == "ERROR") {
        ++key_failures;
        CHECK(tool["statusMessage"].is_string());
        CHECK(tool["output"].contains("error"));
      } else {
        ++key_successes;
      }
    }
    switch (plan.outcome) {
      case call_outcome::fulfilled:
        if (plan.intent == call_intent::question) {
          CHECK(plan.tool_errors == 0);
        } else {
          REQUIRE_FALSE(o.tools.empty());
          const json& last = o.tools.back();
          CHECK(last["name"] == key);
          CHECK(last["level"] == "DEFAULT");
          CHECK(last["output"].contains(expected_field.at(plan.intent)));
        }
        break;
      case call_outcome::tool_failed:
        CHECK(key_failures >= 1);
        CHECK(key_successes == 0);
        break;
      case call_outcome::transferred:
        REQUIRE_FALSE(o.tools.empty());
        CHECK(o.tools.back()["name"] == "transfer_to_human");
        CHECK(o.tools.back()["level"] == "DEFAULT");
        if (plan.intent != call_intent::question) CHECK(key_successes == 0);
        break;
      case call_outcome::abandoned:
        if (plan.intent != call_intent::question) CHECK(key_successes + key_failures == 0);
        break;
      case call_outcome::agent_error:
        CHECK(plan.llm_errors == 1);  // where the key tool would have run: it never did
        if (plan.intent != call_intent::question) CHECK(key_successes + key_failures == 0);
        CHECK(plan.hangup);
        break;
    }
  }
}

TEST_CASE("the caller's first words carry a phrase an intent rule can catch") {
  const std::map<call_intent, std::regex> rules = {
      {call_intent::book, std::regex("(book|schedule|make) an appointment", std::regex::icase)},
      {call_intent::cancel, std::regex("cancel", std::regex::icase)},
      {call_intent::reschedule, std::regex("(move|reschedule|change) my appointment", std::regex::icase)},
      {call_intent::question, std::regex("open|address|located|insurance|accept|park", std::regex::icase)},
  };
  std::map<call_intent, std::set<std::string>> wordings;
  for (const auto& call : calls({}, 300)) {
    std::string first_words;
    for (const message& m : call.messages) {
      for (const json& ev : events_of(m)) {
        if (ev["type"] == "trace-create" && ev["body"]["metadata"]["turn"] == 1) first_words = ev["body"]["input"];
      }
    }
    INFO(to_string(call.plan.intent) << ": " << first_words);
    for (const auto& [intent, rule] : rules) {
      CHECK(std::regex_search(first_words, rule) == (intent == call.plan.intent));
    }
    wordings[call.plan.intent].insert(first_words);
  }
  for (const auto& [intent, set] : wordings) {
    INFO(to_string(intent));
    CHECK(set.size() >= 4);  // more than one way to say it
  }
}

// Regression: a batch used to hold a whole turn, so its first event could be sent seconds after
// its own time (6.6 s with a 0.8 s bound), beyond the out-of-orderness the stream promises. Every
// event is checked, not just a message's latest one.
TEST_CASE("every event is late by at most max_shuffle, so some observations arrive before their trace") {
  generator_options options;
  options.shuffle_fraction = 0.3;
  options.max_shuffle = std::chrono::milliseconds(500);
  int late = 0, total = 0;
  bool observation_before_trace = false;
  for (const auto& call : calls(options, 200)) {
    std::set<std::string> traces_sent;
    event_time previous = event_time::min();
    for (const message& m : call.messages) {
      CHECK(previous <= m.send_at);  // sorted
      previous = m.send_at;
      event_time latest = event_time::min();
      for (const json& ev : events_of(m)) {
        latest = std::max(latest, activity_of(ev));
        CHECK(m.send_at - activity_of(ev) <= options.max_shuffle);
        const std::string trace = ev["type"] == "trace-create" ? ev["body"]["id"] : ev["body"]["traceId"];
        if (ev["type"] == "trace-create") traces_sent.insert(trace);
        else if (!traces_sent.count(trace)) observation_before_trace = true;
      }
      const duration delay = m.send_at - latest;
      CHECK(delay >= duration{0});
      CHECK(delay <= options.max_shuffle);
      late += delay > duration{0};
      ++total;
    }
  }
  CHECK(observation_before_trace);
  CHECK(late > total / 5);
}

TEST_CASE("a producer retry repeats the message byte for byte, and later") {
  generator_options options;
  options.duplicate_fraction = 0.1;
  int copies = 0, total = 0;
  for (const auto& call : calls(options, 200)) {
    std::map<std::string, const message*> first_copy;  // by first envelope id
    for (const message& m : call.messages) {
      ++total;
      const std::string id = events_of(m).front()["id"];
      auto [it, fresh] = first_copy.emplace(id, &m);
      if (fresh) continue;
      ++copies;
      CHECK(it->second->payload == m.payload);
      CHECK(it->second->key == m.key);
      CHECK(it->second->send_at <= m.send_at);
    }
  }
  // About a tenth of the originals; loose, the draw is random.
  CHECK(copies > total * 0.06);
  CHECK(copies < total * 0.14);
}

TEST_CASE("message keys follow the key mode") {
  for (key_mode mode : {key_mode::session_id, key_mode::trace_id, key_mode::none}) {
    INFO(to_string(mode));
    generator_options options;
    options.keys = mode;
    for (const auto& call : calls(options, 20)) {
      for (const message& m : call.messages) {
        const json first = events_of(m).front();
        const std::string trace = first["type"] == "trace-create" ? first["body"]["id"] : first["body"]["traceId"];
        switch (mode) {
          case key_mode::session_id: CHECK(m.key == call.plan.session_id); break;
          case key_mode::trace_id: CHECK(m.key == trace); break;
          case key_mode::none: CHECK(m.key.empty()); break;
        }
      }
    }
  }
}

TEST_CASE("a large stream has roughly the configured outcome mix and every intent") {
  generator_options options;
  options.seed = 7;
  call_generator g(options);
  std::vector<call_plan> plans;
  const auto stream = generate_stream(g, 60'000, t0, std::chrono::milliseconds(500), &plans);
  REQUIRE(plans.size() >= 2000);
  CHECK(g.calls_generated() == plans.size());

  size_t events = 0;
  double abandoned = 0, abandoned_with_hangup = 0;
  std::set<std::string> sessions;
  std::map<call_outcome, double> outcomes;
  std::map<call_intent, double> intents;
  for (const auto& p : plans) {
    events += static_cast<size_t>(p.events);
    sessions.insert(p.session_id);
    outcomes[p.outcome] += 1.0 / static_cast<double>(plans.size());
    intents[p.intent] += 1.0 / static_cast<double>(plans.size());
    if (p.outcome == call_outcome::abandoned) {
      abandoned += 1;
      abandoned_with_hangup += p.hangup;
    }
  }
  CHECK(events >= 60'000);
  CHECK(sessions.size() == plans.size());
  CHECK(outcomes[call_outcome::abandoned] == Approx(options.abandoned_fraction).margin(0.03));
  CHECK(outcomes[call_outcome::tool_failed] == Approx(options.tool_failure_fraction).margin(0.03));
  CHECK(outcomes[call_outcome::transferred] == Approx(options.transfer_fraction).margin(0.02));
  CHECK(outcomes[call_outcome::agent_error] == Approx(options.agent_error_fraction).margin(0.02));
  // Callers who drop mostly leave no hang-up event, so only the completion gap ends their session.
  CHECK(abandoned_with_hangup / abandoned > 0.1);
  CHECK(abandoned_with_hangup / abandoned < 0.45);
  for (call_intent i : {call_intent::book, call_intent::cancel, call_intent::reschedule, call_intent::question}) {
    INFO(to_string(i));
    CHECK(intents[i] > 0.1);
  }
  CHECK(std::is_sorted(stream.begin(), stream.end(),
                       [](const message& a, const message& b) { return a.send_at < b.send_at; }));
}
