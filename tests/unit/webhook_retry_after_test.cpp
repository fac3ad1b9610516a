// Retry-After and HTTP-date parsing: a misread value would make the client hammer a server that
// asked for quiet, or stall for hours.
#define CATCH_CONFIG_ENABLE_CHRONO_STRINGMAKER  // print durations in failures
#include <catch2/catch.hpp>

#include "topics/webhook/retry_after.hpp"

using namespace tw;
using namespace tw::webhook;
using namespace std::chrono_literals;

TEST_CASE("the three HTTP-date forms parse to the same instant") {
  // RFC 9110's own example: Sunday, 6 November 1994, 08:49:37 UTC.
  const int64_t expected = 784111777;
  struct row {
    const char* description;
    const char* text;
  };
  const row rows[] = {
      {"IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT"},
      {"RFC 850 (two-digit year)", "Sunday, 06-Nov-94 08:49:37 GMT"},
      {"asctime (space-padded day)", "Sun Nov  6 08:49:37 1994"},
  };
  for (const auto& r : rows) {
    INFO(r.description << ": " << r.text);
    auto t = parse_http_date(r.text);
    REQUIRE(t);
    CHECK(t->micros() == expected * 1'000'000);
  }
}

TEST_CASE("HTTP-dates across the calendar") {
  struct row {
    const char* text;
    int64_t unix_seconds;
  };
  const row rows[] = {
      {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
      {"Thu, 29 Feb 2024 12:00:00 GMT", 1709208000},
      {"Tue, 14 Nov 2023 22:13:20 GMT", 1700000000},
      {"Friday, 31-Dec-49 23:59:59 GMT", 2524607999},  // 00-69 read as 20xx
      {"Fri Dec 31 23:59:59 1999", 946684799},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto t = parse_http_date(r.text);
    REQUIRE(t);
    CHECK(t->micros() == r.unix_seconds * 1'000'000);
  }
}

TEST_CASE("malformed HTTP-dates are refused rather than guessed") {
  for (const char* bad : {"", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37", "Sun, 6 Nov 1994 08:49:37 GMT",
                          "Sun, 31 Apr 1994 08:49:37 GMT", "Sun, 29 Feb 2023 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                          "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "1994-11-06T08:49:37Z",
                          "Sun, 06 Nov 1994 08:49:37 GMT junk"}) {
    INFO(bad);
    CHECK_FALSE(parse_http_date(bad));
  }
}

TEST_CASE("Retry-After is delta-seconds or a date measured from the injected now") {
  const wall_time now = wall_time::from_millis(1'700'000'000'000);  // Tue, 14 Nov 2023 22:13:20 GMT
  CHECK(parse_retry_after("120", now) == duration(120s));
  CHECK(parse_retry_after(" 5 ", now) == duration(5s));
  CHECK(parse_retry_after("0", now) == duration(0s));
  CHECK(parse_retry_after("Tue, 14 Nov 2023 22:13:21 GMT", now) == duration(1s));
  CHECK(parse_retry_after("Tue, 14 Nov 2023 23:13:20 GMT", now) == duration(1h));
  CHECK(parse_retry_after("Tue, 14 Nov 2023 22:13:19 GMT", now) == duration(0s));  // past: at once
  CHECK(parse_retry_after("99999999999999999999999", now) == duration(std::chrono::seconds(1'000'000'000)));
  for (const char* bad : {"", " ", "-1", "1.5", "5s", "soon"}) {
    INFO(bad);
    CHECK_FALSE(parse_retry_after(bad, now));
  }
}
