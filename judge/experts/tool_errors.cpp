// Tool errors: which tools failed, how often, and whether a later call recovered.
#include <algorithm>

#include "judge/evidence_text.hpp"
#include "judge/experts/experts.hpp"

namespace tw::judge::experts {

std::vector<finding> tool_errors(const session_summary& s, const verdict& v, const tool_errors_options& o) {
  std::vector<std::string> tools;  // with a failure, in order of the first one
  for (const auto& c : s.tool_calls)
    if (!c.ok && std::find(tools.begin(), tools.end(), c.name) == tools.end()) tools.push_back(c.name);

  std::vector<finding> out;
  for (const auto& tool : tools) {
    std::vector<std::string> ids;
    size_t calls = 0;
    bool recovered = false;  // a call succeeded after the last failure
    bool timeout = false;
    std::string last_error;
    for (const auto& c : s.tool_calls) {
      if (c.name != tool) continue;
      ++calls;
      if (c.ok) {
        recovered = !ids.empty();
        continue;
      }
      recovered = false;
      ids.push_back(c.observation_id);
      last_error = c.error.empty() ? "no message" : c.error;
      timeout = timeout || c.error.find("timeout") != std::string::npos ||
                c.error.find("timed out") != std::string::npos;
    }
    std::string message = tool + " failed " + std::to_string(ids.size()) + " of " + std::to_string(calls) +
                          " call(s) (last error: " + short_text(last_error) + ")" +
                          (recovered ? "; a later call succeeded" : "; no later call succeeded");
    std::string advice = timeout ? tool + " timed out: raise its timeout or make the service behind it faster"
                                 : "Check the service behind " + tool + " and how the agent retries it and recovers "
                                   "from its errors";
    const severity level = cited_by_failed_check(v, ids) ? severity::critical : severity::warning;
    out.push_back(make_finding("tool_errors", level, "TOOL_ERROR", std::move(message), std::move(ids), o.key_for(tool),
                               std::move(advice)));
  }
  return out;
}

}  // namespace tw::judge::experts
