// Latency: LLM and tool calls slower than the rules allow. In a voice call the caller waits
// through every one of them.
#include <algorithm>

#include "judge/evidence_text.hpp"
#include "judge/experts/experts.hpp"

namespace tw::judge::experts {

std::vector<finding> latency(const session_summary& s, const latency_options& o) {
  std::vector<finding> out;

  std::vector<std::string> slow_llm;
  const llm_call_summary* slowest = nullptr;
  for (const auto& c : s.llm_calls) {
    if (!c.latency || *c.latency <= o.max_llm_call) continue;
    slow_llm.push_back(c.observation_id);
    if (!slowest || *c.latency > *slowest->latency) slowest = &c;
  }
  if (slowest) {
    std::string message = std::to_string(slow_llm.size()) + " LLM call(s) took longer than " +
                          millis_text(o.max_llm_call) + " (slowest: " + millis_text(*slowest->latency) +
                          (slowest->model.empty() ? "" : ", " + slowest->model) + ")";
    out.push_back(make_finding("latency", severity::warning, "SLOW_LLM_CALL", std::move(message), std::move(slow_llm),
                               o.slow_llm_key, "Use a faster model, a shorter prompt, or stream the answer"));
  }

  std::vector<std::string> tools;  // with a slow call, in order of the first one
  for (const auto& c : s.tool_calls)
    if (c.latency && *c.latency > o.max_tool_call && std::find(tools.begin(), tools.end(), c.name) == tools.end())
      tools.push_back(c.name);
  for (const auto& tool : tools) {
    std::vector<std::string> ids;
    duration worst{0};
    for (const auto& c : s.tool_calls) {
      if (c.name != tool || !c.latency || *c.latency <= o.max_tool_call) continue;
      ids.push_back(c.observation_id);
      worst = std::max(worst, *c.latency);
    }
    std::string message = tool + " took longer than " + millis_text(o.max_tool_call) + " in " +
                          std::to_string(ids.size()) + " call(s) (slowest: " + millis_text(worst) + ")";
    out.push_back(make_finding("latency", severity::warning, "SLOW_TOOL_CALL", std::move(message), std::move(ids),
                               o.slow_tool_key,
                               "Make " + tool + " faster, or give it a shorter timeout so that the agent can recover "
                               "while the caller is still listening"));
  }
  return out;
}

}  // namespace tw::judge::experts
