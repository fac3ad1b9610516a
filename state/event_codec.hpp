// Stored form of one observation (an input event) in the `events` and `pending` column families.
//
// value := u8(version = 1) event_v1
// event_v1 := bytes(event_id) bytes(session_id) bytes(trace_id) bytes(observation_id)
//             u8(kind) u8(is_update) bytes(source_type) varint(source_index)
//             svarint(timestamp_us) varint(presence) field*
// presence is a bitmask (bit i set: field i follows, in bit order):
//   0 start svarint · 1 end svarint · 2 parent_id bytes · 3 name bytes · 4 level u8 ·
//   5 status_message bytes · 6 model bytes · 7 input_tokens svarint · 8 output_tokens svarint ·
//   9 cost_usd f64 · 10 finish_reason bytes · 11 tool_name bytes · 12 tool_call_id bytes ·
//   13 tool_result bytes · 14 user_text bytes · 15 assistant_text bytes · 16 user_id bytes ·
//   17 environment bytes · 18 metadata varint(n) (bytes bytes)^n · 19 score_value f64 ·
//   20 score_label bytes
// The numbering is on disk: never reorder or reuse a bit. A new field takes the next bit;
// readers of version 1 reject unknown bits rather than misread them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/observation.hpp"

namespace tw::state {

void encode_event(const observation& o, std::string& out);
std::optional<observation> decode_event(std::string_view in);

}  // namespace tw::state
