#include "state/watermark.hpp"

#include <algorithm>

namespace tw::state {

void watermark_tracker::assign(const topic_partition& tp, std::optional<event_time> stored_max, wall_time now) {
  auto& p = parts_[tp];
  if (stored_max && (!p.max_event || *p.max_event < *stored_max)) p.max_event = stored_max;
  p.last_record = now;
  p.caught_up = false;
  recompute();
}

void watermark_tracker::revoke(const topic_partition& tp) {
  parts_.erase(tp);
  recompute();
}

void watermark_tracker::observe(const topic_partition& tp, event_time t, wall_time now) {
  auto& p = parts_[tp];
  if (!p.max_event || *p.max_event < t) p.max_event = t;
  p.idle_max.reset();
  p.last_record = now;
  p.caught_up = false;
  recompute();
}

void watermark_tracker::touch(const topic_partition& tp, wall_time now) {
  auto& p = parts_[tp];
  p.last_record = now;
  p.caught_up = false;
}

void watermark_tracker::set_caught_up(const topic_partition& tp, bool caught_up) {
  auto it = parts_.find(tp);
  if (it != parts_.end()) it->second.caught_up = caught_up;
}

bool watermark_tracker::advance_idle(wall_time now, duration idle_timeout) {
  for (auto& [tp, p] : parts_) {
    if (!p.caught_up || !p.max_event) continue;
    duration idle = now - p.last_record;
    if (idle < idle_timeout) continue;
    event_time advanced = *p.max_event + idle;
    if (!p.idle_max || *p.idle_max < advanced) p.idle_max = advanced;
  }
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
  for (const auto& [tp, p] : parts_) {
    if (!p.max_event) continue;  // a partition without data does not hold the others back
    event_time effective = p.idle_max ? std::max(*p.idle_max, *p.max_event) : *p.max_event;
    event_time wm = effective - ooo_;
    if (!low || wm < *low) low = wm;
  }
  if (low && *low > current_) current_ = *low;
}

}  // namespace tw::state
