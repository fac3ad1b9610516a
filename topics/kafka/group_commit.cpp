#include "topics/kafka/group_commit.hpp"

namespace tw::kafka {

void group_commit_schedule::assigned(const std::vector<topic_partition>& tps) {
  for (const auto& tp : tps) {
    assigned_.insert(tp);
    accepted_.erase(tp);
  }
}

void group_commit_schedule::revoked(const std::vector<topic_partition>& tps) {
  for (const auto& tp : tps) assigned_.erase(tp);
}

positions group_commit_schedule::due(wall_time now, const positions& durable) {
  positions out;
  if (!enabled() || in_flight_ > 0) return out;
  if (last_sent_ && now - *last_sent_ < interval_) return out;
  for (const auto& [tp, next] : durable) {
    if (!assigned_.count(tp)) continue;  // held by another member, or not yet ours: not ours to commit
    auto it = accepted_.find(tp);
    if (it != accepted_.end() && it->second == group_position(next)) continue;
    out.emplace(tp, group_position(next));
  }
  if (out.empty()) return out;
  last_sent_ = now;
  ++in_flight_;
  ++probe_.commits;
  return out;
}

positions group_commit_schedule::on_revoke(const std::vector<topic_partition>& tps,
                                           const std::vector<std::optional<offset>>& next) {
  positions out;
  if (!enabled()) return out;
  for (size_t i = 0; i < tps.size() && i < next.size(); ++i) {
    if (!next[i] || !assigned_.count(tps[i])) continue;
    auto it = accepted_.find(tps[i]);
    if (it != accepted_.end() && it->second == group_position(*next[i])) continue;
    out.emplace(tps[i], group_position(*next[i]));
  }
  if (out.empty()) return out;
  ++in_flight_;
  ++probe_.commits;
  return out;
}

std::optional<uint64_t> group_commit_schedule::on_result(wall_time now, const positions& accepted, bool ok) {
  if (in_flight_ > 0) --in_flight_;
  for (const auto& [tp, off] : accepted) accepted_[tp] = off;
  probe_.partitions_committed += accepted.size();
  if (ok) return std::nullopt;
  ++probe_.commits_failed;
  ++failures_unreported_;
  if (last_report_ && now - *last_report_ < interval_) return std::nullopt;
  last_report_ = now;
  const uint64_t n = failures_unreported_;
  failures_unreported_ = 0;
  return n;
}

}  // namespace tw::kafka
