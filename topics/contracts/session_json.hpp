// tracewatch.session.v1: the JSON a completed session is produced as (docs/topics.md,
// docs/schemas/tracewatch.session.v1.json). Field order is fixed so that equal sessions encode to
// equal bytes: replay output can be compared with live output byte for byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/session.hpp"

namespace tw {

inline constexpr std::string_view session_schema_v1 = "tracewatch.session.v1";

std::string encode_session_json(const session_summary& s);

// A stable 64-bit hash of an encoded session with its revision number left out: two revisions
// with equal hashes say the same thing. Never 0. REQUIRES: `json` came from encode_session_json.
uint64_t session_content_hash(std::string_view json);

// Decodes what encode_session_json wrote (the judgement stage and `replay` of a sessions file
// read sessions back). Returns nullopt and sets `error` for anything that is not a valid
// tracewatch.session.v1 document.
std::optional<session_summary> decode_session_json(std::string_view json, std::string* error = nullptr);

}  // namespace tw
