// The per-format parsers behind payload_parser (formats.hpp), and what they share while one
// message is parsed. Internal to topics/formats.
//
// Each parser takes the message's root JSON value, appends observations and rejections to the
// context's result, and never throws. A parser handed a root of the wrong shape (a fixed format
// on the wrong topic) rejects the message as unknown_format.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "topics/formats/formats.hpp"
#include "topics/formats/json_util.hpp"

namespace tw::formats {

// State for one parse() call. Lives on the calling thread's stack.
struct parse_context {
  const parse_limits& limits;
  nested_json& nested;
  parse_result& result;
  std::string_view payload;  // the whole message, kept as evidence when all of it is unusable

  // The whole message is unusable: the dead letter carries its original bytes.
  void reject_message(problem p) {
    result.rejected.push_back(rejected_event{p.code, std::move(p.detail), std::nullopt, std::string(payload)});
  }
  // One event of a message that holds several: the dead letter carries that event's compact JSON.
  // `index` is the item's position in the message when the message is a list of events.
  void reject_item(problem p, std::optional<uint32_t> index, dom::element item) {
    result.rejected.push_back(rejected_event{p.code, std::move(p.detail), index, simdjson::minify(item)});
  }
};

// Which format a message's JSON shape belongs to; nullopt for none (see detect.cpp for the rules).
std::optional<input_format> detect_format(dom::element root);

void parse_langfuse(dom::element root, parse_context& ctx);         // langfuse.cpp
void parse_langfuse_export(dom::element root, parse_context& ctx);  // langfuse_export.cpp
void parse_otlp(dom::element root, parse_context& ctx);             // otlp.cpp
void parse_native(dom::element root, parse_context& ctx);           // native.cpp

}  // namespace tw::formats
