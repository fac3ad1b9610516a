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

// Trims `s` until encode_session_json(s) is at most `max_bytes` long, so that the record can be
// delivered (output.max_record_bytes). Entries are left out of the middle of turns, tool_calls,
// llm_calls and errors — always the list that takes the most bytes — and counted in
// s.truncated; only when those are empty do scores, then metadata, then models lose their last
// entries (not counted: those have no counter in the contract). Deterministic: the same summary
// always gives the same result. Most sessions are far under the budget and are not encoded here.
void fit_session_json(session_summary& s, size_t max_bytes);

// A stable 64-bit hash of an encoded session with its revision number left out: two revisions
// with equal hashes say the same thing. Never 0. REQUIRES: `json` came from encode_session_json.
uint64_t session_content_hash(std::string_view json);

// Decodes what encode_session_json wrote (the judgement stage and `replay` of a sessions file
// read sessions back). Returns nullopt and sets `error` for anything that is not a valid
// tracewatch.session.v1 document.
std::optional<session_summary> decode_session_json(std::string_view json, std::string* error = nullptr);

}  // namespace tw
