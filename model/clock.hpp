// The one seam through which code reads the processing clock.
//
// Judgement and window logic never call this: they take event time from the data. Only idle-input
// detection, rate limiting and telemetry ask a clock for "now", and tests hand them a
// manual_clock so that nothing depends on how fast the machine is.
#pragma once

#include <atomic>
#include <chrono>

#include "model/time.hpp"

namespace tw {

class clock {
 public:
  virtual ~clock() = default;
  // Thread-safe; may be called from any thread.
  virtual wall_time now() const = 0;
};

class system_clock final : public clock {
 public:
  wall_time now() const override {
    auto since = std::chrono::system_clock::now().time_since_epoch();
    return wall_time::from_micros(std::chrono::duration_cast<duration>(since).count());
  }
  static const system_clock& instance() {
    static const system_clock c;
    return c;
  }
};

// A clock that moves only when told to. Thread-safe.
class manual_clock final : public clock {
 public:
  explicit manual_clock(wall_time start = wall_time::from_millis(1'700'000'000'000)) : us_(start.micros()) {}
  wall_time now() const override { return wall_time::from_micros(us_.load(std::memory_order_acquire)); }
  void advance(duration d) { us_.fetch_add(d.count(), std::memory_order_acq_rel); }
  void set(wall_time t) { us_.store(t.micros(), std::memory_order_release); }

 private:
  std::atomic<int64_t> us_;
};

}  // namespace tw
