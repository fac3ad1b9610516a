// Event time parsing and formatting: every completion decision rests on these.
#include <catch2/catch.hpp>

#include "model/time.hpp"

using namespace tw;

TEST_CASE("ISO-8601 timestamps parse to microseconds since the epoch") {
  struct row {
    const char* description;
    const char* text;
    int64_t micros;
  };
  const row rows[] = {
      {"the epoch", "1970-01-01T00:00:00Z", 0},
      {"Langfuse's millisecond form", "2025-01-01T00:00:00.001Z", 1735689600001000},
      {"microseconds are kept", "2025-01-01T00:00:00.123456Z", 1735689600123456},
      {"nanoseconds are truncated, not rounded", "2025-01-01T00:00:00.123456789Z", 1735689600123456},
      {"a positive offset is subtracted", "2025-01-01T02:00:00+02:00", 1735689600000000},
      {"a negative offset without colon", "2024-12-31T19:00:00-0500", 1735689600000000},
      {"a space instead of T", "2025-01-01 00:00:00Z", 1735689600000000},
      {"no offset reads as UTC", "2025-01-01T00:00:00", 1735689600000000},
      {"a leap day", "2024-02-29T12:00:00Z", 1709208000000000},
      {"before the epoch", "1969-12-31T23:59:59.500Z", -500000},
  };
  for (const auto& r : rows) {
    INFO(r.description << ": " << r.text);
    auto t = parse_iso8601(r.text);
    REQUIRE(t);
    CHECK(t->micros() == r.micros);
  }
}

TEST_CASE("malformed timestamps are refused rather than guessed") {
  for (const char* bad : {"", "2025", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2025-01-01T24:00:00Z",
                          "2025-01-01T00:00:00.Z", "2025-01-01T00:00:00Zjunk", "2023-02-29T00:00:00Z",
                          "01/01/2025 00:00:00", "2025-01-01T00:00:00+25:00"}) {
    INFO(bad);
    CHECK_FALSE(parse_iso8601(bad));
  }
}

TEST_CASE("formatting is UTC with three fraction digits and round-trips at millisecond precision") {
  CHECK(format_iso8601(event_time::from_micros(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(event_time::from_micros(1735689600123456)) == "2025-01-01T00:00:00.123Z");
  CHECK(format_iso8601(event_time::from_micros(-500000)) == "1969-12-31T23:59:59.500Z");
  auto t = event_time::from_millis(1790607508650);
  CHECK(parse_iso8601(format_iso8601(t)) == t);
}

TEST_CASE("OTLP nanoseconds become microseconds without passing through a double") {
  // 1777555053780274700 is above 2^53: a double would already have changed its last digits.
  CHECK(from_unix_nanos(1777555053780274700ULL).micros() == 1777555053780274);
}

TEST_CASE("event-time arithmetic saturates at the sentinels instead of wrapping") {
  CHECK(event_time::max() + duration{1} == event_time::max());
  CHECK(event_time::min() - duration{1} == event_time::min());
  CHECK(event_time::from_micros(10) + duration{5} == event_time::from_micros(15));
  CHECK(event_time::from_micros(10) - event_time::from_micros(4) == duration{6});
}
