// When does a session complete? The event-time window logic, free of storage and clocks.
//
// A session's activity after its last emitted revision (the "open segment") is kept as clusters:
// activity instants merged when closer than the completion gap. The clusters are a function of
// the SET of activity times, not of their arrival order, so shuffled input yields the same
// completion points as ordered input. The open segment completes at the earliest of
//   - its first cluster's end + gap                      (reason gap)
//   - its first end marker in that cluster + settle delay (reason end_marker)
//   - its first cluster's start + max duration           (reason max_duration)
// Events after that point belong to the next segment (a later revision).
//
// Bounded: at most max_clusters clusters (the closest two are merged beyond that) and
// max_markers end markers (the earliest are kept).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "model/session.hpp"
#include "model/time.hpp"

namespace tw::state {

struct window_config {
  duration gap{std::chrono::minutes(5)};
  duration max_duration{std::chrono::hours(4)};
  duration settle_delay{std::chrono::seconds(2)};
};

struct activity_cluster {
  event_time start;
  event_time end;
  friend bool operator==(const activity_cluster& a, const activity_cluster& b) {
    return a.start == b.start && a.end == b.end;
  }
};

struct completion_point {
  event_time at;
  completion_reason reason;
};

class session_window {
 public:
  static constexpr size_t max_clusters = 64;
  static constexpr size_t max_markers = 16;

  void add_activity(event_time t, duration gap);
  void add_end_marker(event_time t, duration gap);

  bool empty() const { return clusters_.empty(); }
  std::optional<completion_point> next_completion(const window_config& cfg) const;

  // Forgets everything at or before `cutoff`, after a revision up to it was emitted.
  void cut(event_time cutoff);

  const std::vector<activity_cluster>& clusters() const { return clusters_; }
  const std::vector<event_time>& markers() const { return markers_; }
  // For the codec: restores stored state as-is.
  void restore(std::vector<activity_cluster> clusters, std::vector<event_time> markers) {
    clusters_ = std::move(clusters);
    markers_ = std::move(markers);
  }

 private:
  std::vector<activity_cluster> clusters_;  // sorted, disjoint, separated by more than the gap
  std::vector<event_time> markers_;         // sorted
};

}  // namespace tw::state
