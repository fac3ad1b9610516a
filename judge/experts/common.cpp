#include <algorithm>

#include "judge/experts/experts.hpp"

namespace tw::judge::experts {

bool cited_by_failed_check(const verdict& v, const std::vector<std::string>& observation_ids) {
  for (const auto& c : v.fulfillment.checks) {
    if (c.outcome != check_outcome::failed) continue;
    for (const auto& id : c.observation_ids)
      if (std::find(observation_ids.begin(), observation_ids.end(), id) != observation_ids.end()) return true;
  }
  return false;
}

finding make_finding(const char* expert, severity level, const char* code, std::string message,
                     std::vector<std::string> observation_ids, const std::string& key, std::string advice) {
  finding f;
  f.expert = expert;
  f.level = level;
  f.code = code;
  f.message = std::move(message);
  f.observation_ids = std::move(observation_ids);
  f.advice = recommendation{key, std::move(advice)};
  return f;
}

}  // namespace tw::judge::experts
