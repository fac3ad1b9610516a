// The diagnostician runs every expert (judge/experts/) and concatenates their findings in a fixed
// order: tool errors, LLM, latency, loops, cost.
#include "judge/experts/experts.hpp"
#include "judge/judge.hpp"
#include "judge/rules.hpp"

namespace tw::judge {

diagnostician::diagnostician(std::shared_ptr<const rule_set> rules) : rules_(std::move(rules)) {}

std::vector<finding> diagnostician::examine(const session_summary& s, const verdict& v) const {
  const expert_options& o = rules_->experts();
  std::vector<finding> out;
  auto add = [&out](std::vector<finding> found) {
    for (auto& f : found) out.push_back(std::move(f));
  };
  add(experts::tool_errors(s, v, o.tool_errors));
  add(experts::llm(s, v, o.llm));
  add(experts::latency(s, o.latency));
  add(experts::loops(s, o.loops));
  add(experts::cost(s, o.cost));
  return out;
}

}  // namespace tw::judge
