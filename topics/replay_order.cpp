#include "topics/replay_order.hpp"

#include <algorithm>
#include <set>

namespace tw {

decision_history select_history(std::vector<watermark_record> all, const std::string& group) {
  decision_history h;
  std::map<std::string, wall_time> last_recorded;  // per state directory of the group
  for (const auto& r : all)
    if (r.group == group) {
      auto [it, fresh] = last_recorded.emplace(r.state_id, r.recorded_at);
      if (!fresh && it->second < r.recorded_at) it->second = r.recorded_at;
    }
  if (last_recorded.empty()) return h;
  auto newest = std::max_element(last_recorded.begin(), last_recorded.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
  h.state_id = newest->first;
  h.other_histories = last_recorded.size() - 1;
  std::set<uint64_t> seen;
  for (auto& r : all)
    if (r.group == group && r.state_id == h.state_id && seen.insert(r.seq).second) h.records.push_back(std::move(r));
  std::sort(h.records.begin(), h.records.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  if (!h.records.empty()) h.missing = h.records.back().seq - h.records.size();
  return h;
}

replay_order::replay_order(std::vector<watermark_record> decisions, std::map<topic_partition, range> ranges) {
  for (auto& [tp, r] : ranges) parts_[tp] = partition_state{r, r.from, {}, false, false};
  for (size_t i = 0; i < decisions.size(); ++i) {
    bool reproducible = true;
    for (const auto& [tp, pos] : decisions[i].positions) {
      auto it = parts_.find(tp);
      if (it != parts_.end() && it->second.r.to < pos) reproducible = false;
    }
    if (!reproducible) {
      beyond_range_ = decisions.size() - i;
      break;
    }
    decisions_.push_back(std::move(decisions[i]));
  }
}

std::optional<offset> replay_order::barrier(const topic_partition& tp) const {
  if (decisions_.empty()) return std::nullopt;
  for (const auto& [p, pos] : decisions_.front().positions)
    if (p == tp) return pos;
  return std::nullopt;
}

bool replay_order::reached(const topic_partition& tp, const partition_state& p) const {
  auto b = barrier(tp);
  if (!b) return true;
  // Everything before the position has been released: the next one to release is at or after
  // it, or nothing more will come.
  return !(p.next < *b) || (!p.held.empty() && !(p.held.front().position.off < *b)) ||
         (p.read_to_end && p.held.empty());
}

void replay_order::release(std::vector<replay_item>& out) {
  for (;;) {
    // Records before the current decision's positions go out as they are.
    for (auto& [tp, p] : parts_) {
      auto b = barrier(tp);
      while (!p.held.empty() && (!b || p.held.front().position.off < *b)) {
        p.next = p.held.front().position.off.next_to_consume();
        replay_item item;
        item.record = std::move(p.held.front());
        p.held.pop_front();
        out.push_back(std::move(item));
      }
      if (p.read_to_end && p.held.empty() && !p.ended) {
        // The whole range is out: nothing more will come from it, so it may stop holding the
        // watermark back (it still counts for the data floor).
        p.ended = true;
        replay_item item;
        item.what = replay_item::kind::partition_end;
        item.partition = tp;
        out.push_back(std::move(item));
      }
    }
    if (decisions_.empty()) return;
    for (const auto& [tp, p] : parts_)
      if (!reached(tp, p)) return;
    replay_item item;
    item.what = replay_item::kind::decision;
    item.decision = std::move(decisions_.front());
    decisions_.pop_front();
    out.push_back(std::move(item));
  }
}

void replay_order::offer(raw_record r, std::vector<replay_item>& out) {
  auto it = parts_.find(r.position.tp);
  if (it == parts_.end()) {  // not part of the range: passes through
    replay_item item;
    item.record = std::move(r);
    out.push_back(std::move(item));
    return;
  }
  it->second.held.push_back(std::move(r));
  release(out);
}

void replay_order::finished(const topic_partition& tp, std::vector<replay_item>& out) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) {
    replay_item item;
    item.what = replay_item::kind::partition_end;
    item.partition = tp;
    out.push_back(std::move(item));
    return;
  }
  it->second.read_to_end = true;
  release(out);
}

bool replay_order::blocked(const topic_partition& tp) const {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return false;
  const auto& p = it->second;
  if (!p.held.empty()) return true;
  auto b = barrier(tp);
  return b && !(p.next < *b);
}

}  // namespace tw
