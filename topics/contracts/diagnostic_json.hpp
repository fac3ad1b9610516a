// tracewatch.diagnostic.v1: the JSON a diagnosis of a failed, partial or erroneous session is
// produced as (docs/topics.md, docs/schemas/tracewatch.diagnostic.v1.json). Field order is fixed
// so that equal diagnostics encode to equal bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "model/verdict.hpp"

namespace tw {

inline constexpr std::string_view diagnostic_schema_v1 = "tracewatch.diagnostic.v1";

std::string encode_diagnostic_json(const diagnostic& d);

// Bounds `d` so that it can be delivered. Finding messages and advice, and the webhook's error,
// are cut to bounds::max_message_bytes; when the encoding would still exceed `max_bytes`
// (output.max_record_bytes), observation ids are left out of the middle of the findings' lists,
// down to their first and last (each such finding's message says how many), and then, should
// that not do, findings are left
// out of the middle of the list, with a last finding of code FINDINGS_LEFT_OUT (expert
// `tracewatch`, severity info) saying how many, and the recommendations of none of the kept
// findings dropped. Deterministic.
void fit_diagnostic_json(diagnostic& d, size_t max_bytes);

// Decodes what encode_diagnostic_json wrote. Strict: every member must be present with its
// contract type and no other member may be, as the schema says. Returns nullopt and sets `error`
// (naming the member, e.g. "findings[1].severity: not one of the contract's values") otherwise;
// never throws.
std::optional<diagnostic> decode_diagnostic_json(std::string_view json, std::string* error = nullptr);

}  // namespace tw
