// tracewatch.verdict.v1: the JSON a session's verdict is produced as (docs/topics.md,
// docs/schemas/tracewatch.verdict.v1.json). Field order is fixed so that equal verdicts encode to
// equal bytes: a consumer that keeps the highest revision per session sees each verdict once, and
// a backtest's output can be compared with live output byte for byte.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "model/verdict.hpp"

namespace tw {

inline constexpr std::string_view verdict_schema_v1 = "tracewatch.verdict.v1";

std::string encode_verdict_json(const verdict& v);

// Bounds `v` so that it can be delivered. Texts tracewatch composed from the session and the
// rules (evidence and check details, check descriptions) are cut to bounds::max_message_bytes;
// when the encoding would still exceed `max_bytes` (output.max_record_bytes), observation ids
// are left out of the middle of the checks' lists — always the list that takes the most bytes,
// down to its first and last id before any list loses those — and each such check's detail says
// how many. Deterministic. Call before encoding: the
// diagnostic stage reads the verdict back from what was encoded.
void fit_verdict_json(verdict& v, size_t max_bytes);

// Decodes what encode_verdict_json wrote. Strict: every member must be present with its contract
// type and no other member may be, as the schema says. Returns nullopt and sets `error` (naming
// the member, e.g. "intent.evidence[0].kind: not a string") otherwise; never throws.
//
// The contract carries a subset of session_stats: stats.generations and stats.errors of the
// result are 0. Event times are carried at millisecond precision.
std::optional<verdict> decode_verdict_json(std::string_view json, std::string* error = nullptr);

}  // namespace tw
