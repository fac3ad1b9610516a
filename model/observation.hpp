// The normalised observation: what every input format becomes, and all the session stage sees.
//
// One observation is one producer event: a create, or an update that amends an earlier event
// with the same observation_id. Optional fields are present only when the event carried them, so
// that an update applies exactly what it says (a Langfuse `null` arrives as an engaged empty
// value: it clears). Text fields are excerpts, already bounded by the importer's parse_limits.
//
// Invariants (established by topics/formats, relied on by state/):
//   - event_id is non-empty and identical for retries of the same producer event;
//   - observation_id is non-empty; for kind == trace it equals trace_id;
//   - trace_id is non-empty unless session_id is (a score keyed only by session);
//   - all strings are valid UTF-8.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/time.hpp"

namespace tw {

// On disk (state/event_codec.hpp): never renumber, only append.
enum class obs_kind : uint8_t {
  trace = 0,       // a turn: Langfuse trace-create, or an OTLP trace (implicit, from its spans)
  span = 1,        // a unit of work: span, agent, chain, retriever, evaluator, guardrail
  generation = 2,  // an LLM call (generation, embedding; OTLP chat/generate_content/...)
  tool = 3,        // a tool execution
  event = 4,       // a point in time: Langfuse event-create, OTLP span event or GenAI log record
  score = 5,       // an evaluation score attached to a trace, observation or session
};
std::string_view to_string(obs_kind k);

// On disk: never renumber, only append.
enum class obs_level : uint8_t { debug = 0, normal = 1, warning = 2, error = 3 };
std::string_view to_string(obs_level l);

using metadata_entries = std::vector<std::pair<std::string, std::string>>;

struct observation {
  // --- identity ---
  std::string event_id;        // dedup key; producers repeat it when they retry
  std::string session_id;      // empty: unknown here, resolved from trace_id downstream
  std::string trace_id;
  std::string observation_id;
  obs_kind kind = obs_kind::span;
  bool is_update = false;      // amends the observation with the same observation_id
  std::string source_type;     // the producer's label, kept as evidence ("tool-create", "execute_tool")
  uint32_t source_index = 0;   // position inside its message: batch entry, OTLP span/log ordinal,
                               // export observation (the dead-letter contract's source.index)

  // --- time ---
  event_time timestamp;        // when the producer emitted the event
  std::optional<event_time> start;
  std::optional<event_time> end;

  // --- what happened ---
  std::optional<std::string> parent_id;
  std::optional<std::string> name;
  std::optional<obs_level> level;
  std::optional<std::string> status_message;  // the error text when level == error
  std::optional<std::string> model;
  std::optional<int64_t> input_tokens;
  std::optional<int64_t> output_tokens;
  std::optional<double> cost_usd;
  std::optional<std::string> finish_reason;

  // --- tools (kind == tool, or a span that executes one) ---
  std::optional<std::string> tool_name;
  std::optional<std::string> tool_call_id;
  std::optional<std::string> tool_result;     // excerpt of the output

  // --- conversation excerpts ---
  std::optional<std::string> user_text;       // what the user said in this step
  std::optional<std::string> assistant_text;  // what the agent answered

  // --- trace context ---
  std::optional<std::string> user_id;
  std::optional<std::string> environment;
  std::optional<metadata_entries> metadata;   // flattened scalars, bounded

  // --- scores ---
  std::optional<double> score_value;
  std::optional<std::string> score_label;     // categorical / string score value

  // The instant this event shows activity at: its end, else its start, else its emission time.
  // Watermarks and completion windows run on it.
  event_time activity_time() const { return end ? *end : start ? *start : timestamp; }
};

}  // namespace tw
