// tracewatch.deadletter.v1: an unusable input event (or an undeliverable output record) with its
// reason and where it came from (docs/topics.md, docs/schemas/tracewatch.deadletter.v1.json).
#pragma once

#include <cstddef>
#include <string>

#include "model/bounds.hpp"
#include "model/kafka.hpp"
#include "model/rejection.hpp"

namespace tw {

inline constexpr std::string_view deadletter_schema_v1 = "tracewatch.deadletter.v1";

// The payload is embedded as a string when it is valid UTF-8 ("payload_encoding": "utf8"),
// otherwise base64 ("base64"), so that any bytes survive the trip.
//
// The document is at most `max_bytes` long, so that it can be delivered: `detail` is cut to
// bounds::max_message_bytes, and a payload that does not fit is cut to the longest prefix that
// does (UTF-8: on a character boundary, ending in "…"; base64: a whole number of 3-byte groups),
// with detail saying how much of it is there. Deterministic: the same rejection gives the same
// bytes.
std::string encode_deadletter_json(const rejected_event& r, const record_position& source,
                                   size_t max_bytes = bounds::default_max_record_bytes);

}  // namespace tw
