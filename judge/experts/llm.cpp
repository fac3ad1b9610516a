// LLM problems: failed calls, refusals in what the agent said, empty answers, and answers that
// stopped for a reason that counts as a failure (a token limit, a content filter).
#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "judge/evidence_text.hpp"
#include "judge/experts/experts.hpp"

namespace tw::judge::experts {
namespace {

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool contains_ignoring_case(std::string_view text, std::string_view word) {
  if (word.size() > text.size()) return false;
  for (size_t i = 0; i + word.size() <= text.size(); ++i)
    if (same_ignoring_case(text.substr(i, word.size()), word)) return true;
  return false;
}

std::optional<finding> errors(const session_summary& s, const verdict& v, const llm_options& o) {
  std::vector<std::string> ids;
  std::string last_error;
  bool rate_limited = false;
  for (const auto& c : s.llm_calls) {
    if (c.ok) continue;
    ids.push_back(c.observation_id);
    last_error = c.error.empty() ? "no message" : c.error;
    rate_limited = rate_limited || contains_ignoring_case(c.error, "rate limit") || c.error.find("429") != std::string::npos;
  }
  if (ids.empty()) return std::nullopt;
  std::string message = std::to_string(ids.size()) + " of " + std::to_string(s.llm_calls.size()) +
                        " LLM call(s) failed (last error: " + short_text(last_error) + ")";
  std::string advice = rate_limited ? "The provider is rate-limiting: raise the quota, or retry with backoff and a "
                                      "fallback model"
                                    : "Retry failed LLM calls with backoff, or configure a fallback model";
  const severity level = cited_by_failed_check(v, ids) ? severity::critical : severity::warning;
  return make_finding("llm", level, "LLM_ERROR", std::move(message), std::move(ids), o.error_key, std::move(advice));
}

std::optional<finding> refusals(const session_summary& s, const llm_options& o) {
  std::vector<std::string> ids;  // trace ids: the refusal is in the turn's reply
  std::string first;
  for (const auto& t : s.turns) {
    if (t.assistant_text.empty()) continue;
    for (const auto& p : o.refusal_patterns) {
      re2::StringPiece found;
      if (!p.re->Match(t.assistant_text, 0, t.assistant_text.size(), RE2::UNANCHORED, &found, 1)) continue;
      if (ids.empty())
        first = excerpt_around(t.assistant_text, static_cast<size_t>(found.data() - t.assistant_text.data()),
                               found.size());
      ids.push_back(t.trace_id);
      break;
    }
  }
  if (ids.empty()) return std::nullopt;
  std::string message = "the agent refused in " + std::to_string(ids.size()) + " turn(s): \"" + first + "\"";
  return make_finding("llm", severity::warning, "LLM_REFUSAL", std::move(message), std::move(ids), o.refusal_key,
                      "Review the system prompt and guardrails: the agent refused a request it is meant to handle");
}

std::optional<finding> empty_outputs(const session_summary& s, const llm_options& o) {
  std::vector<std::string> ids;
  for (const auto& c : s.llm_calls)
    if (c.ok && c.empty_output) ids.push_back(c.observation_id);  // a failed call is LLM_ERROR already
  if (ids.empty()) return std::nullopt;
  std::string message = std::to_string(ids.size()) + " LLM call(s) returned no output";
  return make_finding("llm", severity::warning, "LLM_EMPTY_OUTPUT", std::move(message), std::move(ids),
                      o.empty_output_key, "Find why the model answered nothing (prompt, provider); retry an empty answer once");
}

std::vector<finding> stopped_early(const session_summary& s, const llm_options& o) {
  std::vector<finding> out;
  for (const auto& reason : o.failure_finish_reasons) {
    std::vector<std::string> ids;
    for (const auto& c : s.llm_calls)
      if (same_ignoring_case(c.finish_reason, reason)) ids.push_back(c.observation_id);
    if (ids.empty()) continue;
    const bool length = same_ignoring_case(reason, "length") || same_ignoring_case(reason, "max_tokens");
    std::string advice = length ? "Raise the output token limit, or ask the model for shorter answers"
                                : "Review why the model stopped ('" + reason + "'): the prompt and the provider's "
                                  "content-filter settings";
    std::string message = std::to_string(ids.size()) + " LLM call(s) stopped with finish reason '" + reason + "'";
    out.push_back(make_finding("llm", severity::warning, "LLM_TRUNCATED", std::move(message), std::move(ids),
                               o.truncated_key, std::move(advice)));
  }
  return out;
}

}  // namespace

std::vector<finding> llm(const session_summary& s, const verdict& v, const llm_options& o) {
  std::vector<finding> out;
  if (auto f = errors(s, v, o)) out.push_back(std::move(*f));
  if (auto f = refusals(s, o)) out.push_back(std::move(*f));
  if (auto f = empty_outputs(s, o)) out.push_back(std::move(*f));
  for (auto& f : stopped_early(s, o)) out.push_back(std::move(f));
  return out;
}

}  // namespace tw::judge::experts
