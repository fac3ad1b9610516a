#include "state/session_window.hpp"

#include <algorithm>

namespace tw::state {

void session_window::add_activity(event_time t, duration gap) {
  // Find the first cluster whose end is not before t - gap: t merges with it if it starts within
  // t + gap; neighbours that the grown cluster now reaches are merged too.
  auto it = std::lower_bound(clusters_.begin(), clusters_.end(), t - gap,
                             [](const activity_cluster& c, event_time v) { return c.end < v; });
  if (it != clusters_.end() && it->start - gap <= t) {
    it->start = std::min(it->start, t);
    it->end = std::max(it->end, t);
    auto next = it + 1;
    while (next != clusters_.end() && next->start - it->end <= gap) {
      it->end = std::max(it->end, next->end);
      next = clusters_.erase(next);
      it = next - 1;
    }
  } else {
    clusters_.insert(it, activity_cluster{t, t});
  }
  if (clusters_.size() > max_clusters) {
    // Merge the two closest neighbours. Only reached by pathological sessions (dozens of
    // separate bursts, each longer apart than the gap, all still open).
    size_t best = 0;
    duration best_gap = duration::max();
    for (size_t i = 0; i + 1 < clusters_.size(); ++i) {
      duration d = clusters_[i + 1].start - clusters_[i].end;
      if (d < best_gap) {
        best_gap = d;
        best = i;
      }
    }
    clusters_[best].end = clusters_[best + 1].end;
    clusters_.erase(clusters_.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
}

void session_window::add_end_marker(event_time t, duration gap) {
  add_activity(t, gap);
  auto it = std::lower_bound(markers_.begin(), markers_.end(), t);
  if (it != markers_.end() && *it == t) return;
  markers_.insert(it, t);
  if (markers_.size() > max_markers) markers_.pop_back();
}

std::optional<completion_point> session_window::next_completion(const window_config& cfg) const {
  if (clusters_.empty()) return std::nullopt;
  const auto& first = clusters_.front();
  // Ties resolve end_marker, then max_duration, then gap: the more specific reason wins.
  completion_point best{first.end + cfg.gap, completion_reason::gap};
  event_time by_max = first.start + cfg.max_duration;
  if (by_max <= best.at) best = {by_max, completion_reason::max_duration};
  for (event_time m : markers_) {
    if (m < first.start) continue;
    if (m > first.end) break;
    event_time by_marker = m + cfg.settle_delay;
    if (by_marker <= best.at) best = {by_marker, completion_reason::end_marker};
    break;
  }
  return best;
}

void session_window::cut(event_time cutoff) {
  auto keep = std::find_if(clusters_.begin(), clusters_.end(),
                           [&](const activity_cluster& c) { return c.end > cutoff; });
  clusters_.erase(clusters_.begin(), keep);
  // A cluster that straddles the cutoff keeps only its part after it. Its first event there is not
  // known (only the cluster bounds are kept), so its start becomes the instant after the cutoff.
  if (!clusters_.empty() && clusters_.front().start <= cutoff)
    clusters_.front().start = cutoff + duration{1};
  markers_.erase(markers_.begin(), std::upper_bound(markers_.begin(), markers_.end(), cutoff));
}

}  // namespace tw::state
