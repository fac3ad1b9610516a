// The observation invariants (model/observation.hpp) and the parse_limits bounds
// (topics/formats/formats.hpp) as a checkable list. Free of Catch2, so that the fuzz harness
// (tests/fuzz) and the unit tests check exactly the same promises.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/bounds.hpp"
#include "model/observation.hpp"
#include "model/text.hpp"
#include "topics/formats/formats.hpp"

namespace tw::test {

// Every invariant of model/observation.hpp that `o` breaks, in words; empty when it holds them
// all. `limits` bounds the excerpts (excerpt() may add a 3-byte ellipsis).
inline std::vector<std::string> invariant_violations(const observation& o, const parse_limits& limits = {}) {
  std::vector<std::string> out;
  if (o.event_id.empty()) out.push_back("event_id is empty");
  if (o.observation_id.empty()) out.push_back("observation_id is empty");
  if (o.kind == obs_kind::trace && o.observation_id != o.trace_id) out.push_back("trace observation_id != trace_id");
  if (o.trace_id.empty() && o.session_id.empty()) out.push_back("neither trace_id nor session_id");
  auto utf8 = [&](const char* name, const std::string& s) {
    if (!is_valid_utf8(s)) out.push_back(std::string(name) + " is not valid UTF-8");
  };
  auto opt = [&](const char* name, const std::optional<std::string>& s, size_t bound) {
    if (!s) return;
    utf8(name, *s);
    if (s->size() > bound + 3) out.push_back(std::string(name) + " exceeds its bound");
  };
  // Ids are never cut, so their bound is exact (model/bounds.hpp).
  auto id = [&](const char* name, const std::string& s, size_t bound) {
    utf8(name, s);
    if (s.size() > bound) out.push_back(std::string(name) + " is longer than " + std::to_string(bound) + " bytes");
  };
  id("event_id", o.event_id, bounds::max_id_bytes + 16);  // "export:" + id, "otlp-log:..." are derived
  id("session_id", o.session_id, bounds::max_id_bytes);
  id("trace_id", o.trace_id, bounds::max_id_bytes);
  id("observation_id", o.observation_id, bounds::max_id_bytes);
  if (o.parent_id) id("parent_id", *o.parent_id, bounds::max_id_bytes);
  opt("source_type", o.source_type, bounds::max_name_bytes);
  opt("name", o.name, bounds::max_name_bytes);
  opt("status_message", o.status_message, limits.result_excerpt_bytes);
  opt("model", o.model, bounds::max_name_bytes);
  opt("finish_reason", o.finish_reason, bounds::max_finish_reason_bytes);
  opt("tool_name", o.tool_name, bounds::max_name_bytes);
  opt("tool_call_id", o.tool_call_id, bounds::max_id_bytes);
  opt("tool_result", o.tool_result, limits.result_excerpt_bytes);
  opt("user_text", o.user_text, limits.text_excerpt_bytes);
  opt("assistant_text", o.assistant_text, limits.text_excerpt_bytes);
  opt("user_id", o.user_id, bounds::max_id_bytes);
  opt("environment", o.environment, 40);
  opt("score_label", o.score_label, limits.metadata_value_bytes);
  if (o.metadata) {
    if (o.metadata->size() > limits.metadata_entries) out.push_back("too many metadata entries");
    for (const auto& [k, v] : *o.metadata) {
      opt("metadata key", k, limits.metadata_value_bytes);
      opt("metadata value", v, limits.metadata_value_bytes);
    }
  }
  if (o.input_tokens && *o.input_tokens < 0) out.push_back("negative input_tokens");
  if (o.output_tokens && *o.output_tokens < 0) out.push_back("negative output_tokens");
  return out;
}

}  // namespace tw::test
