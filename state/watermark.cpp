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
  p.idle_max.reset();
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
  for (auto& [tp, p] : parts_) {
    if (!p.caught_up) continue;
    duration quiet = now - p.last_record;
    if (quiet < idle_timeout) continue;
    p.idle = true;
    if (!p.max_event) continue;
    event_time advanced = *p.max_event + quiet;
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
    if (!p.max_event) {
      if (p.idle) continue;  // known to be empty: it does not hold the others back
      low = event_time::min();  // its first records may be old: wait for them
      break;
    }
    event_time effective = p.idle_max ? std::max(*p.idle_max, *p.max_event) : *p.max_event;
    event_time wm = effective - ooo_;
    if (!low || wm < *low) low = wm;
  }
  if (low && *low > current_) current_ = *low;
}

}  // namespace tw::state
