// Builds a completed session's summary (model/session.hpp) from its stored events.
//
// Events are merged into observations in a fixed order — emission timestamp, creates before
// updates, then event id — so an update amends its create whatever order they arrived in, and the
// same set of events always gives the same summary. Fields an event carries overwrite earlier
// values; metadata maps merge key by key. An event id seen twice is a producer's retry: the
// repeat is dropped (it carries the same content).
//
// Bounded by construction: lists by summary_limits (first and last halves kept, the rest counted
// in `truncated`), metadata and models by model/bounds.hpp, strings by the importer, and the
// whole by summary_limits::max_record_bytes (see fit_session_json).
//
// LLM usage is counted once: one call is often recorded at two or three nested levels (ADK
// call_llm › generate_content, kagent call_llm › generate_content › openai.chat), each with the
// same usage. An observation with usage is counted only when no observation below it (by parent
// links) carries usage too; the others are listed with counted = false.
//
// Cost: an observation's cost is the one its producer reported; when it reported tokens but no
// cost, it is computed from the tokens and its model's price (summary_limits::prices), and says
// so (cost_source computed). A reported cost is never replaced. The session's cost_usd sums the
// counted observations whose cost is known, and its cost_source says whether those costs were
// reported, computed or both (mixed). Observations with tokens whose model has no price add
// nothing (counted in summary_tally::unpriced).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/bounds.hpp"
#include "model/observation.hpp"
#include "model/pricing.hpp"
#include "model/session.hpp"

namespace tw::state {

struct summary_limits {
  int64_t min_traces = 4;
  size_t max_turns = 50;
  size_t max_tool_calls = 100;
  size_t max_llm_calls = 100;
  size_t max_errors = 50;
  size_t max_scores = 50;
  // output.max_record_bytes: the summary is trimmed until its tracewatch.session.v1 encoding fits
  // (fit_session_json), so that the record can be delivered.
  size_t max_record_bytes = bounds::default_max_record_bytes;
  // Not a limit but how usage is priced (cost.prices), kept here because this struct is what
  // build_session_summary is configured with. Null or empty: costs are only what was reported.
  std::shared_ptr<const price_table> prices;
};

// What building one summary counted, for the state stage's probe.
struct summary_tally {
  uint64_t duplicates = 0;          // events repeating an event id already seen (producer retries)
  uint64_t cost_reported = 0;       // counted observations whose cost was reported
  uint64_t cost_computed = 0;       // counted observations whose cost was computed from tokens
  uint64_t unpriced = 0;            // counted observations with tokens, no cost and no price
};

struct summary_request {
  std::string session_id;
  uint32_t revision = 1;
  completion_reason reason = completion_reason::gap;
  event_time cutoff;                // only events with activity at or before it are included
  uint64_t events_not_stored = 0;
};

// `events` is consumed (sorted and merged in place). Events repeating an event id already seen
// (a producer's retry) are dropped. What was counted is added to `tally` when given.
session_summary build_session_summary(const summary_request& req, std::vector<observation> events,
                                      const summary_limits& limits, summary_tally* tally = nullptr);

}  // namespace tw::state
