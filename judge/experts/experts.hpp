// The experts: one function each, independent of one another, over a completed session.
//
// Each returns its findings in the order of the first observation they point at; the
// diagnostician (judge/diagnostician.cpp) concatenates them in the order declared here. An expert
// never fails: data it needs but the session lacks (a latency, a cost) means no finding.
//
// Severity: `critical` for an error finding whose observations a failed fulfillment check cites
// (it is part of why the session failed), `warning` for other problems, `info` for budget
// indicators that are not failures in themselves.
#pragma once

#include <string>
#include <vector>

#include "judge/rules.hpp"
#include "model/session.hpp"
#include "model/verdict.hpp"

namespace tw::judge::experts {

// TOOL_ERROR: one finding per tool with failed calls.
std::vector<finding> tool_errors(const session_summary& s, const verdict& v, const tool_errors_options& o);
// LLM_ERROR, LLM_REFUSAL, LLM_EMPTY_OUTPUT, LLM_TRUNCATED (one per failure finish reason).
std::vector<finding> llm(const session_summary& s, const verdict& v, const llm_options& o);
// SLOW_LLM_CALL (one for all slow LLM calls), SLOW_TOOL_CALL (one per tool).
std::vector<finding> latency(const session_summary& s, const latency_options& o);
// TOOL_LOOP: one per run of consecutive calls of one tool at least o.consecutive_calls long.
std::vector<finding> loops(const session_summary& s, const loop_options& o);
// COST_OVER_BUDGET, TOKENS_OVER_BUDGET.
std::vector<finding> cost(const session_summary& s, const cost_options& o);

// --- shared by the experts ---

// Whether a failed check of `v` cites one of `observation_ids`.
bool cited_by_failed_check(const verdict& v, const std::vector<std::string>& observation_ids);

finding make_finding(const char* expert, severity level, const char* code, std::string message,
                     std::vector<std::string> observation_ids, const std::string& key, std::string advice);

}  // namespace tw::judge::experts
