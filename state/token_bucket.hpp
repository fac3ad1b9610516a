// A token bucket: work may start when a token is available; tokens accrue one per `interval`, up
// to `burst`. Time comes from the caller (an injected clock), never from the system.
// Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "model/time.hpp"

namespace tw::state {

class token_bucket {
 public:
  // interval: nullopt means unlimited (every request gets a token at once).
  token_bucket(std::optional<duration> interval, int64_t burst, wall_time now)
      : interval_(interval), burst_(std::max<int64_t>(1, burst)), tokens_(burst_), last_(now) {}

  // Takes a token if one is available at `now`.
  bool try_take(wall_time now) {
    if (!interval_) return true;
    refill(now);
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }
  // When the next token will be available (now when one already is).
  wall_time next_token_at(wall_time now) {
    if (!interval_) return now;
    refill(now);
    if (tokens_ > 0) return now;
    return last_ + *interval_;
  }
  int64_t tokens(wall_time now) {
    if (!interval_) return burst_;
    refill(now);
    return tokens_;
  }

 private:
  void refill(wall_time now) {
    if (now <= last_) return;
    int64_t earned = (now - last_).count() / interval_->count();
    if (earned <= 0) return;
    if (tokens_ + earned >= burst_) {
      tokens_ = burst_;
      last_ = now;  // a full bucket does not bank time
    } else {
      tokens_ += earned;
      last_ = last_ + *interval_ * earned;  // keep the remainder: no drift
    }
  }

  std::optional<duration> interval_;
  int64_t burst_;
  int64_t tokens_;
  wall_time last_;
};

}  // namespace tw::state
