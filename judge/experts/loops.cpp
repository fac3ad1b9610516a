// Loops: the agent calling the same tool again and again in a row, typically retrying a failure
// without changing course.
#include "judge/experts/experts.hpp"

namespace tw::judge::experts {

std::vector<finding> loops(const session_summary& s, const loop_options& o) {
  std::vector<finding> out;
  const auto& calls = s.tool_calls;
  for (size_t begin = 0; begin < calls.size();) {
    size_t end = begin + 1;
    while (end < calls.size() && calls[end].name == calls[begin].name) ++end;
    if (end - begin >= o.consecutive_calls) {
      std::vector<std::string> ids;
      size_t failed = 0;
      for (size_t i = begin; i < end; ++i) {
        ids.push_back(calls[i].observation_id);
        failed += calls[i].ok ? 0 : 1;
      }
      out.push_back(make_finding("loops", severity::warning, "TOOL_LOOP",
                                 calls[begin].name + " was called " + std::to_string(end - begin) + " times in a row (" +
                                     std::to_string(failed) + " failed)",
                                 std::move(ids), o.key,
                                 "Cap how often the agent repeats a tool call, and have it change course (explain, "
                                 "offer a person) after repeated failures"));
    }
    begin = end;
  }
  return out;
}

}  // namespace tw::judge::experts
