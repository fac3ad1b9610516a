// A completed session: the content of tracewatch.session.v1 (docs/topics.md), and everything the
// judgement stage needs. Built by state/session_summary.cpp from the stored events of a session,
// encoded by topics/contracts/session_json.cpp.
//
// Lists are bounded (state config: session.*): a list over its bound keeps its first and last
// halves (how a session ended matters as much as how it began). They are ordered by event time
// then id, so that the same input always yields byte-identical output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/observation.hpp"
#include "model/time.hpp"

namespace tw {

// On disk and in the contract: never renumber or rename, only append.
enum class completion_reason : uint8_t {
  gap = 0,           // the watermark passed last activity + completion gap
  end_marker = 1,    // an end marker (e.g. a hang-up event) was seen; closed after the settle delay
  max_duration = 2,  // the session ran longer than the maximum duration
  flush = 3,         // closed by an explicit flush at the end of a bounded replay
  idle = 4,          // closed because input stopped: only idle partitions (live) or finished ranges
                     // (replay) let the watermark pass the point, which the data alone had not
};
std::string_view to_string(completion_reason r);
// Every reason, in order (for per-reason counters): append here too.
inline constexpr completion_reason all_completion_reasons[] = {completion_reason::gap, completion_reason::end_marker,
                                                               completion_reason::max_duration, completion_reason::flush,
                                                               completion_reason::idle};

// Where a cost figure came from. In the contract: never rename, only append.
enum class cost_origin : uint8_t {
  reported = 0,  // the producer sent it (Langfuse costDetails, an OTLP cost attribute, ...)
  computed = 1,  // tracewatch computed it from the tokens and the model's price (cost.prices)
  mixed = 2,     // a session's total: some of its calls reported their cost, others were computed
};
std::string_view to_string(cost_origin o);

struct tool_call_summary {
  std::string observation_id;
  std::string trace_id;
  std::string name;
  bool ok = true;
  std::string result;  // excerpt of the output
  std::string error;   // status message when !ok
  event_time at;
  std::optional<duration> latency;
};

struct llm_call_summary {
  std::string observation_id;
  std::string trace_id;
  std::string name;
  std::string model;
  event_time at;
  std::optional<duration> latency;
  std::optional<int64_t> input_tokens;
  std::optional<int64_t> output_tokens;
  std::optional<double> cost_usd;         // reported, or computed from the tokens
  std::optional<cost_origin> cost_source;  // reported or computed; absent with cost_usd
  bool counted = true;  // false when its usage is already counted by a nested LLM call
  bool ok = true;
  std::string error;
  std::string finish_reason;
  bool empty_output = false;
};

struct error_summary {
  std::string observation_id;
  std::string trace_id;
  obs_kind kind = obs_kind::span;
  std::string name;
  std::string message;
  event_time at;
};

struct turn_summary {
  std::string trace_id;
  event_time at;
  std::string user_text;
  std::string assistant_text;
};

struct score_summary {
  std::string name;
  std::optional<double> value;
  std::string label;
};

// What had to be left out to keep a session bounded.
struct truncation_counts {
  uint64_t events_not_stored = 0;  // events past session.max_events: in the window, not in stats
  uint64_t tool_calls = 0;
  uint64_t llm_calls = 0;
  uint64_t errors = 0;
  uint64_t turns = 0;
};

struct session_stats {
  uint64_t traces = 0;
  uint64_t observations = 0;  // everything that is not a trace
  uint64_t generations = 0;
  uint64_t tool_calls = 0;
  uint64_t tool_errors = 0;
  uint64_t errors = 0;        // observations at level error, tools included
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  std::optional<double> cost_usd;  // absent when no call's cost is known (reported or computed)
  duration session_duration{0};
  std::optional<cost_origin> cost_source;  // absent with cost_usd
};

struct session_summary {
  std::string session_id;
  uint32_t revision = 1;
  completion_reason reason = completion_reason::gap;
  bool abandoned = false;  // fewer than completion.min_traces traces
  event_time first_event_at;
  event_time last_event_at;
  event_time closed_at;    // the event-time point at which the window closed

  session_stats stats;
  std::string user_id;
  std::string environment;
  std::vector<std::string> models;
  metadata_entries metadata;  // from the traces; a later trace overrides an earlier one per key
  std::vector<turn_summary> turns;
  std::vector<tool_call_summary> tool_calls;
  std::vector<llm_call_summary> llm_calls;
  std::vector<error_summary> errors;
  std::vector<score_summary> scores;
  truncation_counts truncated;
};

}  // namespace tw
