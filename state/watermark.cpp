#include "state/watermark.hpp"

#include <algorithm>

namespace tw::state {

void watermark_tracker::assign(const topic_partition& tp, std::optional<event_time> stored_max, wall_time now) {
  auto& p = parts_[tp];
  if (stored_max && (!p.max_event || *p.max_event < *stored_max)) p.max_event = stored_max;
  p.last_record = now;
  p.caught_up = false;
  p.idle = false;
  recompute();
}

void watermark_tracker::revoke(const topic_partition& tp) {
  parts_.erase(tp);
  recompute();
}

void watermark_tracker::observe(const topic_partition& tp, event_time t, wall_time now) {
  auto& p = parts_[tp];
  if (!p.max_event || *p.max_event < t) p.max_event = t;
  p.last_record = now;
  p.caught_up = false;
  p.idle = false;
  recompute();
}

void watermark_tracker::touch(const topic_partition& tp, wall_time now) {
  auto& p = parts_[tp];
  p.last_record = now;
  p.caught_up = false;
  p.idle = false;
}

void watermark_tracker::set_caught_up(const topic_partition& tp, bool caught_up) {
  auto it = parts_.find(tp);
  if (it != parts_.end()) it->second.caught_up = caught_up;
}

bool watermark_tracker::advance_idle(wall_time now, duration idle_timeout) {
  for (auto& [tp, p] : parts_)
    if (p.caught_up && now - p.last_record >= idle_timeout) p.idle = true;
  idle_now_ = now;
  event_time before = current_;
  recompute();
  return current_ != before;
}

std::optional<event_time> watermark_tracker::max_event_time(const topic_partition& tp) const {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return std::nullopt;
  return it->second.max_event;
}

std::vector<topic_partition> watermark_tracker::partitions() const {
  std::vector<topic_partition> out;
  for (const auto& [tp, p] : parts_) out.push_back(tp);
  return out;
}

void watermark_tracker::recompute() {
  std::optional<event_time> low;
  std::optional<event_time> latest;  // the latest event seen on any partition
  std::optional<wall_time> latest_at;  // when the last record arrived on any partition with data
  bool any_active = false;
  for (const auto& [tp, p] : parts_) {
    if (p.max_event) {
      if (!latest || *latest < *p.max_event) latest = p.max_event;
      if (!latest_at || *latest_at < p.last_record) latest_at = p.last_record;
    }
    if (p.idle) continue;  // caught up and quiet: it does not hold the others back
    any_active = true;
    if (!p.max_event) {
      low = event_time::min();  // its first records may be old: wait for them
      continue;
    }
    event_time wm = *p.max_event - ooo_;
    if (!low || wm < *low) low = wm;
  }
  if (!any_active && latest && idle_now_) {
    // Input has stopped everywhere: event time flows on from the latest event seen.
    low = *latest + (*idle_now_ - *latest_at) - ooo_;
  }
  if (low && *low > current_) current_ = *low;
}

}  // namespace tw::state
