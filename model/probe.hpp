// The building blocks of the stages' probes (actors/pipeline.hpp, state/engine_probe.hpp,
// state/mailbox.hpp): a heartbeat, a fixed-bucket histogram, a bounded set of label values, and a
// cell that publishes a snapshot of a value too large for one atomic.
//
// Thread-safety: every type here has one writer — the thread of the stage that owns the probe —
// and any number of readers (the HTTP server's threads, tests, the demo's summary). Writers never
// wait for readers: everything is a relaxed atomic except published<T>, whose mutex is held only
// to swap or copy a shared_ptr. Readers see statistics, not a consistent cut across fields.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "model/time.hpp"

namespace tw {

// When a stage last showed life, for /healthz. The stage beats when it handles a message or a
// timer; before a deliberate wait (a rate limit's next token, a retry's backoff, a blocking call
// with a known bound) it says until when it will be quiet, so that the wait is not taken for a
// wedge.
class heartbeat {
 public:
  void beat(wall_time now) { last_us_.store(now.micros(), std::memory_order_relaxed); }
  void quiet_until(wall_time until) { quiet_until_us_.store(until.micros(), std::memory_order_relaxed); }
  // The announced quiet period ended early (the blocking call returned): alive at `now`, and
  // silence counts from here again.
  void resume(wall_time now) {
    beat(now);
    quiet_until_us_.store(now.micros(), std::memory_order_relaxed);
  }
  // False until the stage's first beat.
  bool started() const { return last_us_.load(std::memory_order_relaxed) != 0; }
  // How long the stage has been silent beyond what it announced, at `now` (zero while it is
  // within an announced quiet period, or before its first beat).
  duration silent_for(wall_time now) const {
    const int64_t last = last_us_.load(std::memory_order_relaxed);
    if (last == 0) return duration{0};
    const int64_t from = std::max(last, quiet_until_us_.load(std::memory_order_relaxed));
    return duration{std::max<int64_t>(0, now.micros() - from)};
  }

 private:
  std::atomic<int64_t> last_us_{0};
  std::atomic<int64_t> quiet_until_us_{0};
};

// A histogram of durations over N fixed upper bounds (plus +Inf), as Prometheus exposes them.
// record() is a few relaxed increments; the buckets are kept non-cumulative and summed by the
// reader, so that the +Inf bucket always equals the count a reader computes.
template <size_t N>
class duration_histogram {
 public:
  explicit duration_histogram(const std::array<duration, N>& upper_bounds) : bounds_(upper_bounds) {}

  void record(duration d) {
    const int64_t us = std::max<int64_t>(0, d.count());
    size_t i = 0;
    while (i < N && us > bounds_[i].count()) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(static_cast<uint64_t>(us), std::memory_order_relaxed);
  }

  struct snapshot {
    std::array<duration, N> upper_bounds;
    std::array<uint64_t, N + 1> cumulative;  // [N] is +Inf: the count
    uint64_t sum_us = 0;
  };
  snapshot read() const {
    snapshot s;
    s.upper_bounds = bounds_;
    uint64_t total = 0;
    for (size_t i = 0; i <= N; ++i) s.cumulative[i] = total += counts_[i].load(std::memory_order_relaxed);
    s.sum_us = sum_us_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::array<duration, N> bounds_;
  std::array<std::atomic<uint64_t>, N + 1> counts_{};
  std::atomic<uint64_t> sum_us_{0};
};

// At most N label values, in the order first seen; every further value — and a value spelled
// like the overflow label — counts under the last slot, `other`. Keeps a metric's cardinality
// bounded whatever the data says. Values are cut to max_value_bytes.
//
// Thread-safety: slot_of() on the one writer's thread only; size() and name() anywhere (a name is
// written once, before size() publishes it).
template <size_t N>
class bounded_labels {
  static_assert(N >= 2, "one slot for values and one for `other` at least");

 public:
  static constexpr size_t capacity = N;
  static constexpr size_t max_value_bytes = 64;
  static constexpr std::string_view overflow = "other";

  bounded_labels() { names_[N - 1] = std::string(overflow); }

  size_t slot_of(std::string_view value) {
    value = value.substr(0, max_value_bytes);
    if (value == overflow) return N - 1;
    const size_t n = used_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < n; ++i)
      if (names_[i] == value) return i;
    if (n == N - 1) return N - 1;
    names_[n] = std::string(value);
    used_.store(n + 1, std::memory_order_release);
    return n;
  }
  // Slots in use before `other` (which always exists, at index capacity - 1).
  size_t size() const { return used_.load(std::memory_order_acquire); }
  const std::string& name(size_t slot) const { return names_[slot]; }

 private:
  std::array<std::string, N> names_;
  std::atomic<size_t> used_{0};
};

// A value published whole by one writer and read by anyone: the writer replaces it, a reader
// takes the latest as a shared_ptr it may keep. Empty (null) until the first publish().
template <class T>
class published {
 public:
  void publish(T value) {
    auto next = std::make_shared<const T>(std::move(value));
    std::lock_guard<std::mutex> lock(mutex_);
    value_.swap(next);
  }
  std::shared_ptr<const T> get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return value_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace tw
