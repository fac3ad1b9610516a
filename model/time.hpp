// Time on two axes that must never mix.
//
// event_time: when something happened, taken from the data (microseconds since the Unix epoch,
//   UTC). All completion, lateness and watermark decisions use it, so a replay decides exactly as
//   the live run did.
// wall_time: the processing clock, read only through a clock (see clock.hpp). Used for idle-input
//   detection, logging and metrics — never for judgement.
//
// Both are distinct types over std::chrono::microseconds so that one cannot be passed for the
// other, and so that arithmetic with a duration reads naturally.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace tw {

using duration = std::chrono::microseconds;

template <class Tag>
class time_point_of {
 public:
  constexpr time_point_of() = default;
  static constexpr time_point_of from_micros(int64_t us) { return time_point_of{us}; }
  static constexpr time_point_of from_millis(int64_t ms) { return time_point_of{ms * 1000}; }
  static constexpr time_point_of min() {
    return time_point_of{std::numeric_limits<int64_t>::min()};
  }
  static constexpr time_point_of max() {
    return time_point_of{std::numeric_limits<int64_t>::max()};
  }

  constexpr int64_t micros() const { return us_; }
  constexpr int64_t millis() const { return us_ / 1000; }

  // Saturating: adding to min()/max() or overflowing stays at the bound. Deadlines such as
  // "last activity + gap" must not wrap around when a sentinel is involved.
  constexpr time_point_of operator+(duration d) const { return time_point_of{sat_add(us_, d.count())}; }
  constexpr time_point_of operator-(duration d) const {
    return time_point_of{sat_add(us_, d.count() == std::numeric_limits<int64_t>::min()
                                          ? std::numeric_limits<int64_t>::max()
                                          : -d.count())};
  }
  constexpr duration operator-(time_point_of o) const { return duration{us_ - o.us_}; }

  constexpr bool operator==(time_point_of o) const { return us_ == o.us_; }
  constexpr bool operator!=(time_point_of o) const { return us_ != o.us_; }
  constexpr bool operator<(time_point_of o) const { return us_ < o.us_; }
  constexpr bool operator<=(time_point_of o) const { return us_ <= o.us_; }
  constexpr bool operator>(time_point_of o) const { return us_ > o.us_; }
  constexpr bool operator>=(time_point_of o) const { return us_ >= o.us_; }

 private:
  constexpr explicit time_point_of(int64_t us) : us_(us) {}
  static constexpr int64_t sat_add(int64_t a, int64_t b) {
    if (b > 0 && a > std::numeric_limits<int64_t>::max() - b) return std::numeric_limits<int64_t>::max();
    if (b < 0 && a < std::numeric_limits<int64_t>::min() - b) return std::numeric_limits<int64_t>::min();
    return a + b;
  }
  int64_t us_ = 0;
};

struct event_time_tag {};
struct wall_time_tag {};
using event_time = time_point_of<event_time_tag>;
using wall_time = time_point_of<wall_time_tag>;

// ISO-8601 / RFC 3339: "2025-01-01T00:00:00Z", "...T00:00:00.123456+02:00", a space instead of
// 'T', any number of fraction digits (truncated to microseconds), and a missing offset (read as
// UTC, as Langfuse does). Returns nullopt for anything else.
std::optional<event_time> parse_iso8601(std::string_view text);

// "2025-01-01T00:00:00.123Z": UTC, always three fraction digits. Deterministic, so that a replay
// produces byte-identical output. Instants outside years 0000-9999 are clamped to that range.
std::string format_iso8601(event_time t);
// The same into `out` (room for iso8601_length bytes); returns the end.
inline constexpr size_t iso8601_length = 24;
char* format_iso8601_to(char* out, event_time t);

// Unix epoch nanoseconds (OTLP) to event time; truncates to microseconds.
event_time from_unix_nanos(uint64_t ns);

// Milliseconds as a JSON-friendly double with microsecond precision (0.093 for 93 us).
inline double to_millis(duration d) { return static_cast<double>(d.count()) / 1000.0; }

}  // namespace tw
