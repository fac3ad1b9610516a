// Shared helpers of the input-format parsers: reading simdjson DOM values without exceptions,
// numbers that arrive as numbers or strings, ids, bounded compact JSON, text excerpts from
// arbitrary message shapes, flattened metadata and Langfuse-style usage.
//
// Internal to topics/formats: nothing outside the parsers includes this header.
//
// Invariants every helper keeps:
//   - no function throws on any input (simdjson is used through its error-code API);
//   - every returned string is valid UTF-8 (simdjson validates its input, and excerpts cut on
//     character boundaries);
//   - 64-bit integers are read as integers, never through a double.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/bounds.hpp"
#include "model/observation.hpp"
#include "model/text.hpp"
#include "model/rejection.hpp"
#include "topics/formats/formats.hpp"

namespace tw::formats {

namespace dom = simdjson::dom;

// The bounds of ids, names and finish reasons are tracewatch's, for every format:
// model/bounds.hpp (bounds::max_id_bytes, max_name_bytes, max_finish_reason_bytes).

// Why one event (or a whole message) cannot be used: becomes a rejected_event.
struct problem {
  reject_code code;
  std::string detail;  // "body.traceId: missing"
};
inline problem missing(std::string_view path) { return {reject_code::missing_field, std::string(path) + ": missing"}; }
inline problem invalid(std::string_view path, std::string_view why) {
  return {reject_code::invalid_field, std::string(path) + ": " + std::string(why)};
}

// ---------------------------------------------------------------------------------------------
// DOM access

// The member `key` of `obj`, or nullopt when absent. A JSON null is returned as an element.
std::optional<dom::element> member(dom::object obj, std::string_view key);
// Like member(), but a JSON null counts as absent.
std::optional<dom::element> member_not_null(dom::object obj, std::string_view key);
std::optional<dom::object> as_object(dom::element e);
std::optional<dom::array> as_array(dom::element e);
std::optional<std::string_view> as_string(dom::element e);
bool is_null(dom::element e);
// A string member, nullopt when absent, null or not a string.
std::optional<std::string_view> string_member(dom::object obj, std::string_view key);

// An object's members listed once, so that many lookups by key cost a scan of a small array
// instead of a walk of simdjson's tape each time (at_key). For the objects every event has
// (envelope, body, span). The first occurrence of a duplicated key wins, as with at_key.
class object_view {
 public:
  object_view() = default;
  explicit object_view(dom::object obj);

  std::optional<dom::element> get(std::string_view key) const;
  std::optional<dom::element> get_not_null(std::string_view key) const;  // null counts as absent
  std::optional<std::string_view> get_string(std::string_view key) const;
  bool has(std::string_view key) const { return get(key).has_value(); }
  dom::object object() const { return obj_; }

 private:
  static constexpr size_t inline_members = 32;  // bodies have ~10; larger objects fall back to at_key
  dom::object obj_;
  size_t size_ = 0;
  bool overflow_ = false;
  std::array<std::string_view, inline_members> keys_;
  std::array<dom::element, inline_members> values_;
};

// How a field appeared: absent, explicitly null, or with a value. Langfuse updates clear a
// field with null, so the difference matters.
enum class presence { absent, null, value };
presence presence_of(dom::object obj, std::string_view key);

// ---------------------------------------------------------------------------------------------
// Numbers

// An int64 from an integer literal, an integral double, or a decimal string ("1983516295378495150").
// Nullopt for anything else, including out-of-range values and fractions.
std::optional<int64_t> read_int64(dom::element e);
// A uint64 (e.g. Unix nanoseconds) from an integer literal, a decimal string, or a non-negative
// integral double below 2^64. Integer literals are read as integers: no precision is lost.
std::optional<uint64_t> read_uint64(dom::element e);
// A double from a number literal or a numeric string ("0.0045"). Nullopt for non-finite values.
std::optional<double> read_double(dom::element e);
// Decimal text to integers; the whole text must be digits (with an optional '-' for int64).
std::optional<int64_t> parse_int64_text(std::string_view s);
std::optional<uint64_t> parse_uint64_text(std::string_view s);
std::optional<double> parse_double_text(std::string_view s);

// An ISO-8601 string field, or epoch milliseconds when `allow_epoch_millis` (native format).
std::optional<event_time> read_time(dom::element e, bool allow_epoch_millis = false);

// ---------------------------------------------------------------------------------------------
// Ids

// The id rules, for every format: a string, non-empty, at most bounds::max_id_bytes bytes, no
// carriage return (Langfuse's rule). An id over the bound is rejected, never cut: two long ids
// with a common prefix would become one session or observation. (Langfuse allows 800 UTF-16
// characters; tracewatch is stricter, see docs/input-formats.md.) Returns the problem, or nullopt.
std::optional<problem> check_id(dom::element e, std::string_view path);
// The same rules without a path: why the id is unusable, or nullptr when it is fine (so that hot
// paths build the path only for a rejection).
const char* id_problem(dom::element e);
const char* id_text_problem(std::string_view id);  // for ids read as text (OTLP attribute values)
// UTF-16 code units in valid UTF-8 text (what JavaScript's String.length reports).
size_t utf16_length(std::string_view s);

// OTLP trace/span ids: `bytes` long (16 or 8). Accepts hex in any case (-> lower-case hex) and
// base64 as protobuf's JSON mapping writes it (24 or 12 characters; -> lower-case hex). An
// all-zero id is invalid (the OTLP spec says so).
std::optional<std::string> normalize_otlp_id(std::string_view text, size_t bytes);

// ---------------------------------------------------------------------------------------------
// JSON text

// Compact JSON of `e`, at most `max_bytes` bytes (cut on a character boundary, then "…").
// Deterministic: numbers print as integers when they are integers, doubles in shortest form.
std::string compact_json(dom::element e, size_t max_bytes);
// Appends compact JSON of `e` to `out`, stopping soon after out.size() reaches `limit`.
void append_compact_json(std::string& out, dom::element e, size_t limit);

// JSON that producers put inside JSON strings ("{\"role\":\"user\"...}"), sometimes twice.
// Decodes such a string with a parser of its own per nesting level, so that elements of the outer
// document stay valid. An element returned for level L stays valid until the next decode at level
// L: callers copy what they need before decoding another string at the same level.
class nested_json {
 public:
  static constexpr size_t max_levels = 3;
  // The decoded value when `text` (trimmed) starts like a JSON object, array or string and parses;
  // nullopt otherwise or when level >= max_levels.
  std::optional<dom::element> decode(std::string_view text, size_t level);

 private:
  struct slot {
    dom::parser parser;
    std::string buffer;  // the text plus simdjson's padding
  };
  std::array<slot, max_levels> slots_;
};

// True when `s` is a placeholder that means "content not captured" ("<elided>", "").
bool is_placeholder_text(std::string_view s);

// ---------------------------------------------------------------------------------------------
// Conversation text

enum class speaker { user, assistant };

// Text that `who` said in a message-shaped value: the last matching message of a chat array
// ({role, content} with string or parts content, Gemini {role, parts}), an object wrapping one
// (messages, contents, new_message, choices[0].message, candidates[0].content, ...), parts
// [{type:"text", text}], or a plain string. JSON inside strings is decoded (up to
// nested_json::max_levels). Nullopt when no such text is found. Not bounded: callers excerpt.
std::optional<std::string> find_text(dom::element v, speaker who, nested_json& nested, size_t level = 0);

// find_text(), else a plain string as it is, else compact JSON; bounded to max_bytes.
// Nullopt for null. Used where any input is worth showing (Langfuse trace input/output).
std::optional<std::string> text_or_json(dom::element v, speaker who, nested_json& nested, size_t max_bytes);

// A tool's output as evidence: a string as it is, anything else as compact JSON; bounded.
std::optional<std::string> result_excerpt(dom::element v, size_t max_bytes);

// finish_reason / finishReason / stop_reason of an output value, choices[0] or candidates[0],
// or of the last message of an output array; bounded (finish_reason_text).
std::optional<std::string> find_finish_reason(dom::element v, nested_json& nested, size_t level = 0);
// A finish reason as kept: cut to bounds::max_finish_reason_bytes (real ones are short tokens; a
// producer once sent 2 MB in gen_ai.response.finish_reasons, issue 6).
std::string finish_reason_text(std::string_view s);

// ---------------------------------------------------------------------------------------------
// Metadata

// Appends bounded entries to `entries` (at most limits.metadata_entries in total): an object's
// top-level members (strings as they are, anything else as compact JSON), a string holding a JSON
// object decoded first, any other value as one entry named `fallback_key`. `level` is the
// nested_json level `v` was decoded at (0 for the message itself).
void flatten_metadata(dom::element v, const parse_limits& limits, nested_json& nested, metadata_entries& entries,
                      std::string_view fallback_key = "metadata", size_t level = 0);
// Adds one entry if there is room; key and value are bounded by limits.metadata_value_bytes.
void add_metadata(metadata_entries& entries, std::string_view key, std::string_view value, const parse_limits& limits);

// Langfuse observation types (fern's ObservationType, v3 types included) to kinds: GENERATION and
// EMBEDDING are generations, TOOL a tool, EVENT an event, SPAN/AGENT/CHAIN/RETRIEVER/EVALUATOR/
// GUARDRAIL spans. Nullopt for anything else.
std::optional<obs_kind> langfuse_observation_kind(std::string_view type);
// DEBUG | DEFAULT | WARNING | ERROR.
std::optional<obs_level> langfuse_level(std::string_view level);

// Langfuse environment normalisation: lower-cased; kept when it matches
// ^(?!langfuse)[a-z0-9_-]{1,40}$, otherwise "default".
std::string normalize_environment(std::string_view raw);

// ---------------------------------------------------------------------------------------------
// Usage (Langfuse `usage`, `usageDetails`, `costDetails`; also used for exports)

struct usage_totals {
  std::optional<int64_t> input_tokens;
  std::optional<int64_t> output_tokens;
  std::optional<double> cost_usd;
};

// Reads tokens from `usageDetails` first (a map of integers, or OpenAI chat/Responses usage), then
// `usage` (legacy {input, output, unit, ...costs} or {promptTokens, completionTokens}; counted only
// when unit is absent or TOKENS), per field. Cost: costDetails.total, else the sum of
// costDetails, else usage.totalCost, else usage.inputCost + usage.outputCost.
usage_totals read_langfuse_usage(const object_view& body);

}  // namespace tw::formats
