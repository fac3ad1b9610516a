// Cost: a session over its budget in dollars or tokens. Budgets are optional; a session without
// cost data is not judged on cost.
#include <cstdio>

#include "judge/experts/experts.hpp"

namespace tw::judge::experts {
namespace {

std::string usd(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "$%.4f", v);
  return buf;
}

}  // namespace

std::vector<finding> cost(const session_summary& s, const cost_options& o) {
  std::vector<finding> out;
  if (o.max_cost_usd && s.stats.cost_usd && *s.stats.cost_usd > *o.max_cost_usd) {
    out.push_back(make_finding("cost", severity::warning, "COST_OVER_BUDGET",
                               "the session cost " + usd(*s.stats.cost_usd) + ", over the budget of " +
                                   usd(*o.max_cost_usd),
                               {}, o.cost_key, "Use a cheaper model for routine turns, or send less context per call"));
  }
  const int64_t tokens = s.stats.input_tokens + s.stats.output_tokens;
  if (o.max_total_tokens && tokens > *o.max_total_tokens) {
    out.push_back(make_finding("cost", severity::info, "TOKENS_OVER_BUDGET",
                               "the session used " + std::to_string(tokens) + " tokens (" +
                                   std::to_string(s.stats.input_tokens) + " in, " +
                                   std::to_string(s.stats.output_tokens) + " out), over the budget of " +
                                   std::to_string(*o.max_total_tokens),
                               {}, o.tokens_key, "Send less context per call: trim the history and tool results"));
  }
  return out;
}

}  // namespace tw::judge::experts
