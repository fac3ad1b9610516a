// tracewatch.watermark.v1: a live run's watermark decision that the data alone does not determine
// (model/watermark_record.hpp; docs/topics.md; docs/schemas/tracewatch.watermark.v1.json).
// Written by the state stage to `topics.watermarks`; read back by `replay --topic`, which takes
// the same decisions at the same input positions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/watermark_record.hpp"

namespace tw {

inline constexpr std::string_view watermark_schema_v1 = "tracewatch.watermark.v1";

std::string encode_watermark_json(const watermark_record& r);

// The message key: unique per record ("group/state_id/seq"), so that compaction of the topic can
// never remove a record.
std::string watermark_record_key(const watermark_record& r);

// Decodes what encode_watermark_json wrote; nullopt and `error` for anything else.
std::optional<watermark_record> decode_watermark_json(std::string_view json, std::string* error = nullptr);

}  // namespace tw
