// Fulfillment: the intent's checks, then the common checks, each passed, failed or skipped, and
// the status the failed ones imply (error > fail > partial; pass when none failed).
//
// Checks read the session's bounded lists. The state stage keeps the earliest entries when a list
// is capped (model/session.hpp `truncated`), so a check over a capped list says so in its detail:
// it judged what was kept.
#include <nlohmann/json.hpp>

#include "judge/evidence_text.hpp"
#include "judge/judge.hpp"
#include "judge/rules.hpp"

namespace tw::judge {
namespace {

int severity_rank(verdict_status v) {
  switch (v) {
    case verdict_status::partial: return 1;
    case verdict_status::fail: return 2;
    case verdict_status::error: return 3;
    default: return 0;
  }
}

std::string times(size_t n) { return std::to_string(n) + (n == 1 ? " time" : " times"); }

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1)
    out.push_back(path.substr(start, dot - start));
  out.push_back(path.substr(start));
  return out;
}

// Whether a tool result has `path` ("appointment_id", "booking.id"): as JSON, the field exists
// with a value other than null or false. A result that is not JSON — often an excerpt cut short —
// is searched as text for the quoted last name ("id"), which is the best an excerpt allows.
bool result_has(const std::string& result, const std::string& path) {
  const auto parts = split_path(path);
  const auto doc = nlohmann::json::parse(result, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return result.find("\"" + parts.back() + "\"") != std::string::npos;
  const nlohmann::json* at = &doc;
  for (const auto& p : parts) {
    if (!at->is_object()) return false;
    auto it = at->find(p);
    if (it == at->end()) return false;
    at = &*it;
  }
  return !at->is_null() && !(at->is_boolean() && !at->get<bool>());
}

std::vector<const tool_call_summary*> calls_of(const session_summary& s, const std::string& tool) {
  std::vector<const tool_call_summary*> out;
  for (const auto& c : s.tool_calls)
    if (c.name == tool) out.push_back(&c);
  return out;
}

std::string tool_truncation_note(const session_summary& s) {
  if (s.truncated.tool_calls == 0) return "";
  return " (judged on the kept tool calls: " + std::to_string(s.truncated.tool_calls) + " later ones were left out)";
}

void fail_with(check_result& r, std::string detail) {
  r.outcome = check_outcome::failed;
  r.detail = std::move(detail);
}
void skip_with(check_result& r, std::string detail) {
  r.outcome = check_outcome::skipped;
  r.detail = std::move(detail);
}

void tool_succeeded(const check_spec& c, const session_summary& s, check_result& r) {
  const auto calls = calls_of(s, c.tool);
  if (calls.empty()) {
    if (c.if_called) return skip_with(r, c.tool + " was not called");
    return fail_with(r, c.tool + " was never called" + tool_truncation_note(s));
  }
  size_t failed = 0, ok_without_field = 0;
  const tool_call_summary* last_failure = nullptr;
  for (const auto* call : calls) {
    if (!call->ok) {
      ++failed;
      last_failure = call;
      continue;
    }
    if (c.result_has.empty() || result_has(call->result, c.result_has)) {
      r.observation_ids = {call->observation_id};
      r.detail = c.tool + " succeeded" + (c.result_has.empty() ? "" : " with " + c.result_has) + ": " +
                 short_text(call->result);
      return;
    }
    ++ok_without_field;
  }
  for (const auto* call : calls) r.observation_ids.push_back(call->observation_id);
  std::string detail = c.tool + " was called " + times(calls.size()) + ":";
  if (failed)
    detail += " failed " + times(failed) + " (last error: " +
              (last_failure->error.empty() ? std::string("no message") : short_text(last_failure->error)) + ")";
  if (failed && ok_without_field) detail += ";";
  if (ok_without_field) detail += " succeeded " + times(ok_without_field) + " without " + c.result_has;
  fail_with(r, detail + tool_truncation_note(s));
}

// tool_called and tool_not_called: any call counts, failed ones included.
void tool_called(const check_spec& c, const session_summary& s, check_result& r) {
  const auto calls = calls_of(s, c.tool);
  if (calls.empty()) return fail_with(r, c.tool + " was not called" + tool_truncation_note(s));
  for (const auto* call : calls) r.observation_ids.push_back(call->observation_id);
  r.detail = c.tool + " was called " + times(calls.size());
}

void tool_not_called(const check_spec& c, const session_summary& s, check_result& r) {
  const auto calls = calls_of(s, c.tool);
  if (calls.empty()) {
    r.detail = c.tool + " was not called" + tool_truncation_note(s);
    return;
  }
  for (const auto* call : calls) r.observation_ids.push_back(call->observation_id);
  fail_with(r, c.tool + " was called " + times(calls.size()));
}

void no_tool_error_after_last_user_turn(const session_summary& s, check_result& r) {
  const turn_summary* last = nullptr;
  for (const auto& t : s.turns)
    if (!t.user_text.empty() && (!last || t.at >= last->at)) last = &t;
  if (!last) return skip_with(r, "no turn has user text");
  // A call belongs after the turn when it started at or after the turn did, or is part of that
  // turn's trace (whatever its clock says).
  std::string failures;
  for (const auto& call : s.tool_calls) {
    if (call.ok || !(call.at >= last->at || call.trace_id == last->trace_id)) continue;
    r.observation_ids.push_back(call.observation_id);
    if (r.observation_ids.size() <= 3)
      failures += (failures.empty() ? "" : "; ") + call.name + " (" +
                  (call.error.empty() ? std::string("no message") : short_text(call.error)) + ")";
  }
  std::string note = s.truncated.turns ? " (judged on the kept turns: " + std::to_string(s.truncated.turns) +
                                             " later ones were left out)"
                                       : "";
  if (r.observation_ids.empty()) {
    r.detail = "no tool failed at or after the last user turn (trace " + last->trace_id + ")" + note;
    return;
  }
  fail_with(r, std::to_string(r.observation_ids.size()) + " tool call(s) failed at or after the last user turn (trace " +
                   last->trace_id + "): " + failures + note + tool_truncation_note(s));
}

void no_llm_error(const session_summary& s, check_result& r) {
  const llm_call_summary* last = nullptr;
  for (const auto& call : s.llm_calls) {
    if (call.ok) continue;
    r.observation_ids.push_back(call.observation_id);
    last = &call;
  }
  if (!last) {
    r.detail = "none of " + std::to_string(s.llm_calls.size()) + " LLM call(s) failed";
    return;
  }
  fail_with(r, std::to_string(r.observation_ids.size()) + " LLM call(s) failed (last error: " +
                   short_text(last->error.empty() ? "no message" : last->error) + ")");
}

void min_turns(const check_spec& c, const session_summary& s, check_result& r) {
  const uint64_t n = s.turns.size() + s.truncated.turns;
  if (n >= c.min_turns) {
    r.detail = std::to_string(n) + " turn(s)";
    return;
  }
  fail_with(r, "only " + std::to_string(n) + " turn(s); at least " + std::to_string(c.min_turns) + " required");
}

check_result evaluate(const check_spec& c, const session_summary& s) {
  check_result r;
  r.id = c.id;
  r.description = c.description;
  r.implies = c.implies;
  r.outcome = check_outcome::passed;
  if (!c.skip_if_tool_succeeded.empty()) {
    for (const auto& call : s.tool_calls)
      if (call.ok && call.name == c.skip_if_tool_succeeded) {
        r.observation_ids = {call.observation_id};
        skip_with(r, c.skip_if_tool_succeeded + " succeeded");
        return r;
      }
  }
  switch (c.kind) {
    case check_kind::tool_succeeded: tool_succeeded(c, s, r); break;
    case check_kind::tool_not_called: tool_not_called(c, s, r); break;
    case check_kind::tool_called: tool_called(c, s, r); break;
    case check_kind::no_tool_error_after_last_user_turn: no_tool_error_after_last_user_turn(s, r); break;
    case check_kind::no_llm_error: no_llm_error(s, r); break;
    case check_kind::min_turns: min_turns(c, s, r); break;
  }
  return r;
}

}  // namespace

fulfillment_checker::fulfillment_checker(std::shared_ptr<const rule_set> rules) : rules_(std::move(rules)) {}

fulfillment_result fulfillment_checker::check(const session_summary& s, const intent_result& intent) const {
  const rule_set& r = *rules_;
  // An intent the rules do not know (a result made elsewhere) is judged as the fallback.
  const intent_spec* spec = intent.fallback ? nullptr : r.find_intent(intent.name);
  if (!spec) spec = &r.fallback();

  fulfillment_result out;
  out.status = verdict_status::pass;
  for (const auto* list : {&spec->checks, &r.common_checks()}) {
    for (const auto& c : *list) {
      check_result res = evaluate(c, s);
      if (res.outcome == check_outcome::failed && severity_rank(res.implies) > severity_rank(out.status))
        out.status = res.implies;
      out.checks.push_back(std::move(res));
    }
  }
  return out;
}

}  // namespace tw::judge
