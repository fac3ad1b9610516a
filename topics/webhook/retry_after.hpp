// Reading a server's Retry-After (RFC 9110 §10.2.3): how long it asked us to wait.
#pragma once

#include <optional>
#include <string_view>

#include "model/time.hpp"

namespace tw::webhook {

// An HTTP-date (RFC 9110 §5.6.7) in any of the three forms a recipient must accept:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"   (the one senders use)
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"  (two-digit year: 70-99 -> 19xx, 00-69 -> 20xx)
//   asctime      "Sun Nov  6 08:49:37 1994"
// The day name is checked to be a day name but not against the date. Returns nullopt for anything
// else, including impossible dates (31 Apr) and times (25:00:00).
std::optional<wall_time> parse_http_date(std::string_view text);

// The wait a Retry-After value asks for: delta-seconds ("120") or an HTTP-date, which is taken
// relative to `now` (the injected clock, so tests control it). A date in the past means "now"
// (zero). Surrounding whitespace is ignored. nullopt when the value is neither form; the caller
// then falls back to its own backoff. Huge delta-seconds saturate rather than overflow.
std::optional<duration> parse_retry_after(std::string_view value, wall_time now);

}  // namespace tw::webhook
