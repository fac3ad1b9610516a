// Judgement results: a session's verdict (tracewatch.verdict.v1) and its diagnostics
// (tracewatch.diagnostic.v1). Built by judge/ from a session_summary alone, so judgement can be
// re-run from a sessions topic or file with other rules (backtesting). Encoded by
// topics/contracts/verdict_json.cpp and diagnostic_json.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/session.hpp"

namespace tw {

// In the contracts as strings: never rename, only append.
enum class verdict_status : uint8_t { pass, fail, partial, error, abandoned };
std::string_view to_string(verdict_status v);
std::optional<verdict_status> parse_verdict_status(std::string_view s);
// Every status, in order (for per-status counters): append here too.
inline constexpr verdict_status all_verdict_statuses[] = {verdict_status::pass, verdict_status::fail,
                                                          verdict_status::partial, verdict_status::error,
                                                          verdict_status::abandoned};

// Why the judge believes something: which rule, what it looked at.
struct evidence_item {
  std::string rule;            // rule or check id from the rules file
  std::string kind;            // user_text | tool_used | metadata | tool_result | turn | llm_call | session
  std::string observation_id;  // the observation (or trace) it points at; empty for session-wide facts
  std::string detail;          // what matched, excerpted
};

struct intent_result {
  std::string name;
  double confidence = 0;       // 0..1
  bool fallback = false;       // no rule matched: the rules file's fallback intent
  std::vector<evidence_item> evidence;
};

enum class check_outcome : uint8_t { passed, failed, skipped };
std::string_view to_string(check_outcome c);

struct check_result {
  std::string id;
  std::string description;
  check_outcome outcome = check_outcome::passed;
  verdict_status implies = verdict_status::fail;  // what a failure of this check makes the session
  std::vector<std::string> observation_ids;
  std::string detail;
};

struct fulfillment_result {
  verdict_status status = verdict_status::pass;  // pass | fail | partial | error
  std::vector<check_result> checks;
};

struct verdict {
  std::string session_id;
  uint32_t revision = 1;
  verdict_status status = verdict_status::pass;
  intent_result intent;
  fulfillment_result fulfillment;
  session_stats stats;
  event_time first_event_at;
  event_time last_event_at;
  event_time closed_at;  // the completion point (session window.closed_at): an alert fact's time
  completion_reason reason = completion_reason::gap;
  std::string rules_version;  // identifies the rules that decided (a hash of the rules file)
};

enum class severity : uint8_t { info, warning, critical };
std::string_view to_string(severity s);

struct recommendation {
  std::string key;     // the configuration key to change (of the monitored agent), when one applies
  std::string advice;
};

struct finding {
  std::string expert;  // tool_errors | llm | latency | loops | cost
  severity level = severity::warning;
  std::string code;    // stable, e.g. TOOL_ERROR, LLM_REFUSAL, SLOW_LLM_CALL, TOOL_LOOP, COST_OVER_BUDGET
  std::string message;
  std::vector<std::string> observation_ids;
  std::optional<recommendation> advice;
};

// The outcome of the optional outbound webhook call for a diagnostic.
struct webhook_outcome {
  std::string status;              // delivered | failed | circuit_open
  std::optional<int> http_status;  // of the last attempt, when there was a response
  std::string response;            // excerpt of the last response body
  int attempts = 0;
  std::string error;               // why it failed, when it did
};

struct diagnostic {
  std::string session_id;
  uint32_t revision = 1;
  verdict_status verdict = verdict_status::fail;
  std::string intent;
  std::vector<finding> findings;
  std::vector<recommendation> recommendations;  // distinct, in the order their findings came
  std::optional<webhook_outcome> webhook;
  std::string rules_version;
};

}  // namespace tw
