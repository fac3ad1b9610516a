// tracewatch.diagnostic.v1: the JSON a diagnosis of a failed, partial or erroneous session is
// produced as (docs/topics.md, docs/schemas/tracewatch.diagnostic.v1.json). Field order is fixed
// so that equal diagnostics encode to equal bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/verdict.hpp"

namespace tw {

inline constexpr std::string_view diagnostic_schema_v1 = "tracewatch.diagnostic.v1";

std::string encode_diagnostic_json(const diagnostic& d);

// Decodes what encode_diagnostic_json wrote. Strict: every member must be present with its
// contract type and no other member may be, as the schema says. Returns nullopt and sets `error`
// (naming the member, e.g. "findings[1].severity: not one of the contract's values") otherwise;
// never throws.
std::optional<diagnostic> decode_diagnostic_json(std::string_view json, std::string* error = nullptr);

}  // namespace tw
