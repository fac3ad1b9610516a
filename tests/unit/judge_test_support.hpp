// Helpers for the judge tests: completed sessions built in code, and rules loaded from YAML text.
//
// session_builder writes a conversation in the order it happened. Ids and times are predictable:
// turn n is trace "t<n>", tool calls are "tool1", "tool2", ..., LLM calls "gen1", ...; each step
// starts one second after the previous one. Tool and LLM calls belong to the latest turn (a call
// before any turn belongs to trace "t0").
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "judge/judge.hpp"
#include "judge/rules.hpp"
#include "model/session.hpp"

namespace tw::test {

using namespace std::chrono_literals;

class session_builder {
 public:
  explicit session_builder(std::string session_id = "s1") {
    s_.session_id = std::move(session_id);
    s_.first_event_at = s_.last_event_at = s_.closed_at = now_;
    s_.stats.traces = 0;
  }

  session_builder& turn(std::string user_text, std::string assistant_text = "") {
    turn_summary t;
    t.trace_id = "t" + std::to_string(++turns_);
    t.at = tick();
    t.user_text = std::move(user_text);
    t.assistant_text = std::move(assistant_text);
    s_.turns.push_back(std::move(t));
    ++s_.stats.traces;
    return *this;
  }

  session_builder& tool(std::string name, std::string result = "{}", duration latency = 100ms) {
    return add_tool(std::move(name), true, std::move(result), "", latency);
  }
  session_builder& tool_error(std::string name, std::string error, duration latency = 100ms) {
    std::string result = "{\"error\":\"" + error + "\"}";
    return add_tool(std::move(name), false, std::move(result), std::move(error), latency);
  }
  session_builder& tool_slow(std::string name, duration latency) { return add_tool(std::move(name), true, "{}", "", latency); }

  session_builder& llm() { return add_llm(true, "", "stop", false, 500ms); }
  session_builder& llm_error(std::string error) { return add_llm(false, std::move(error), "", true, 500ms); }
  session_builder& llm_slow(duration latency) { return add_llm(true, "", "stop", false, latency); }
  session_builder& llm_finish(std::string finish_reason) { return add_llm(true, "", std::move(finish_reason), false, 500ms); }
  session_builder& llm_empty() { return add_llm(true, "", "stop", true, 500ms); }

  session_builder& metadata(std::string key, std::string value) {
    s_.metadata.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  session_builder& abandoned() {
    s_.abandoned = true;
    return *this;
  }
  session_builder& usage(double cost_usd, int64_t input_tokens, int64_t output_tokens) {
    s_.stats.cost_usd = cost_usd;
    s_.stats.input_tokens = input_tokens;
    s_.stats.output_tokens = output_tokens;
    return *this;
  }
  session_builder& revision(uint32_t r) {
    s_.revision = r;
    return *this;
  }

  session_summary build() const {
    session_summary out = s_;
    out.last_event_at = now_;
    out.closed_at = now_ + 5s;
    out.stats.session_duration = out.last_event_at - out.first_event_at;
    return out;
  }

 private:
  event_time tick() { return now_ = now_ + 1s; }
  std::string trace() const { return "t" + std::to_string(turns_); }

  session_builder& add_tool(std::string name, bool ok, std::string result, std::string error, duration latency) {
    tool_call_summary c;
    c.observation_id = "tool" + std::to_string(++tools_);
    c.trace_id = trace();
    c.name = std::move(name);
    c.ok = ok;
    c.result = std::move(result);
    c.error = std::move(error);
    c.at = tick();
    c.latency = latency;
    s_.tool_calls.push_back(std::move(c));
    ++s_.stats.tool_calls;
    ++s_.stats.observations;
    if (!ok) {
      ++s_.stats.tool_errors;
      ++s_.stats.errors;
    }
    return *this;
  }

  session_builder& add_llm(bool ok, std::string error, std::string finish_reason, bool empty, duration latency) {
    llm_call_summary c;
    c.observation_id = "gen" + std::to_string(++llms_);
    c.trace_id = trace();
    c.name = "chat";
    c.model = "gpt-4o-mini";
    c.at = tick();
    c.latency = latency;
    c.input_tokens = 400;
    c.output_tokens = empty ? 0 : 30;
    c.ok = ok;
    c.error = std::move(error);
    c.finish_reason = std::move(finish_reason);
    c.empty_output = empty;
    s_.llm_calls.push_back(std::move(c));
    ++s_.stats.generations;
    ++s_.stats.observations;
    if (!ok) ++s_.stats.errors;
    return *this;
  }

  session_summary s_;
  event_time now_ = event_time::from_millis(1'700'000'000'000);
  int turns_ = 0, tools_ = 0, llms_ = 0;
};

// Rules from YAML text that must load; the test stops with the loader's message otherwise.
inline std::shared_ptr<const judge::rule_set> load_rules(const std::string& yaml) {
  auto r = judge::load_rules_yaml(yaml, "<test>");
  INFO((r.error ? r.error->to_string() : std::string()));
  REQUIRE(r);
  return r.rules;
}

inline std::shared_ptr<const judge::rule_set> builtin() {
  auto r = judge::builtin_rules();
  INFO((r.error ? r.error->to_string() : std::string()));
  REQUIRE(r);
  return r.rules;
}

// The check with id `id` in `f`; the test stops when there is none.
inline const check_result& check_named(const fulfillment_result& f, const std::string& id) {
  for (const auto& c : f.checks)
    if (c.id == id) return c;
  FAIL("no check named " << id);
  return f.checks.front();  // not reached
}

inline std::vector<std::string> codes_of(const std::vector<finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(f.code);
  return out;
}

}  // namespace tw::test
