#include "state/watermark.hpp"

#include <algorithm>

namespace tw::state {

void watermark_tracker::assign(const std::vector<std::pair<topic_partition, std::optional<event_time>>>& tps,
                               wall_time now) {
  for (const auto& [tp, stored_max] : tps) {
    auto& p = parts_[tp];
    if (stored_max && (!p.max_event || *p.max_event < *stored_max)) p.max_event = stored_max;
    p.last_record = now;
    p.quiet_since = now;
    p.caught_up = false;
    p.idle = false;
    p.finished = false;
    p.away = false;
  }
  floor_dirty_ = true;
  recompute();
}

void watermark_tracker::revoke(const topic_partition& tp, wall_time now) {
  auto it = parts_.find(tp);
  if (it == parts_.end() || it->second.away) return;
  it->second.away = true;
  it->second.away_since = now;
  it->second.caught_up = false;
}

void watermark_tracker::forget(const topic_partition& tp) {
  parts_.erase(tp);
  floor_dirty_ = true;
}

std::vector<std::pair<topic_partition, wall_time>> watermark_tracker::away_since(wall_time before) const {
  std::vector<std::pair<topic_partition, wall_time>> out;
  for (const auto& [tp, p] : parts_)
    if (p.away && p.away_since < before) out.emplace_back(tp, p.away_since);
  return out;
}

void watermark_tracker::finish(const topic_partition& tp) {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return;
  it->second.finished = true;
  it->second.idle = false;
  recompute();
}

bool watermark_tracker::wake_all(wall_time now) {
  bool any = false;
  for (auto& [tp, p] : parts_) {
    if (!p.idle) continue;
    any = true;
    p.idle = false;
    p.quiet_since = now;  // quiet for idle_timeout again before it stops counting
  }
  return any;
}

void watermark_tracker::observe(const topic_partition& tp, event_time t, wall_time now) {
  wake(tp, now);
  auto& p = parts_[tp];
  if (!p.max_event || *p.max_event < t) {
    p.max_event = t;
    floor_dirty_ = true;
  }
  p.last_record = now;
  p.quiet_since = now;
  p.caught_up = false;
  recompute();
}

void watermark_tracker::touch(const topic_partition& tp, wall_time now) {
  wake(tp, now);
  auto& p = parts_[tp];
  p.last_record = now;
  p.quiet_since = now;
  p.caught_up = false;
}

void watermark_tracker::set_caught_up(const topic_partition& tp, bool caught_up) {
  auto it = parts_.find(tp);
  if (it != parts_.end()) it->second.caught_up = caught_up;
}

watermark_tracker::idle_step watermark_tracker::advance_idle(wall_time now, duration idle_timeout) {
  idle_step step;
  for (auto& [tp, p] : parts_) {
    if (p.idle || p.finished || p.away || !p.caught_up || now - p.quiet_since < idle_timeout) continue;
    p.idle = true;
    step.idle_changed = true;
  }
  if (step.idle_changed) recompute();
  std::optional<event_time> latest;   // the latest event seen on any partition
  std::optional<wall_time> latest_at;  // when the last record arrived on any partition with data
  for (const auto& [tp, p] : parts_) {
    if (!p.idle && !p.finished) return step;  // something still counts (away ones too): no wall-clock flow
    if (!p.max_event) continue;
    if (!latest || *latest < *p.max_event) latest = p.max_event;
    if (!latest_at || *latest_at < p.last_record) latest_at = p.last_record;
  }
  // Input has stopped everywhere: event time may flow on from the latest event seen.
  if (latest) step.wall_target = *latest + (now - *latest_at) - ooo_;
  return step;
}

void watermark_tracker::set_idle(const std::vector<topic_partition>& idle) {
  for (auto& [tp, p] : parts_)
    if (!p.away) p.idle = std::find(idle.begin(), idle.end(), tp) != idle.end() && !p.finished;
  recompute();
}

std::vector<topic_partition> watermark_tracker::idle_partitions() const {
  std::vector<topic_partition> out;
  for (const auto& [tp, p] : parts_)
    if (p.idle) out.push_back(tp);
  return out;
}

std::vector<topic_partition> watermark_tracker::known_partitions() const {
  std::vector<topic_partition> out;
  for (const auto& [tp, p] : parts_) out.push_back(tp);
  return out;
}

event_time watermark_tracker::data_floor() const {
  if (floor_dirty_) {
    std::optional<event_time> low;
    for (const auto& [tp, p] : parts_)
      if (p.max_event && (!low || *p.max_event - ooo_ < *low)) low = *p.max_event - ooo_;
    floor_ = low.value_or(event_time::min());
    floor_dirty_ = false;
  }
  return floor_;
}

std::optional<event_time> watermark_tracker::max_event_time(const topic_partition& tp) const {
  auto it = parts_.find(tp);
  if (it == parts_.end()) return std::nullopt;
  return it->second.max_event;
}

std::vector<topic_partition> watermark_tracker::partitions() const {
  std::vector<topic_partition> out;
  for (const auto& [tp, p] : parts_)
    if (!p.away) out.push_back(tp);
  return out;
}

void watermark_tracker::recompute() {
  std::optional<event_time> low, finished_high;
  bool all_finished = !parts_.empty();
  for (const auto& [tp, p] : parts_) {
    if (p.finished) {
      if (p.max_event && (!finished_high || *p.max_event - ooo_ > *finished_high)) finished_high = *p.max_event - ooo_;
      continue;  // it does not hold the others back
    }
    all_finished = false;
    if (p.idle) continue;      // nor does an idle one
    if (!p.max_event) return;  // its first records may be old: wait for them
    event_time wm = *p.max_event - ooo_;
    if (!low || wm < *low) low = wm;
  }
  if (low) raise_to(*low);
  // Every range read: nothing holds event time back, and it ends where one file of the same data
  // would end it — not where the partition that happened to finish last left it.
  else if (all_finished && finished_high) raise_to(*finished_high);
}

}  // namespace tw::state
