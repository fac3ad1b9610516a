// tracewatch.deadletter.v1: an unusable input event with its reason and where it came from
// (docs/topics.md, docs/schemas/tracewatch.deadletter.v1.json).
#pragma once

#include <string>

#include "model/kafka.hpp"
#include "model/rejection.hpp"

namespace tw {

inline constexpr std::string_view deadletter_schema_v1 = "tracewatch.deadletter.v1";

// The payload is embedded as a string when it is valid UTF-8 ("payload_encoding": "utf8"),
// otherwise base64 ("base64"), so that any bytes survive the trip.
std::string encode_deadletter_json(const rejected_event& r, const record_position& source);

}  // namespace tw
