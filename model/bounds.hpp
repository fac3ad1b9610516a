// Bounds on what tracewatch copies from its input into its output (docs/topics.md, "Bounds").
//
// Every string an input event carries is either rejected when it is over its bound — ids, because
// cutting one could merge two distinct sessions, traces or observations — or cut to it on a
// character boundary with "…" appended (excerpt() in model/text.hpp, deterministic). The bounds an
// operator may want to change are options (input.text_excerpt_bytes, input.result_excerpt_bytes,
// input.metadata_entries, the session.max_* list lengths, output.max_record_bytes); these are
// fixed, because no consumer needs more and a bound that never moves keeps the output's worst case
// known. Changing one changes the output contract: docs/topics.md and docs/schemas say the same.
#pragma once

#include <cstddef>

namespace tw::bounds {

// Session, trace, observation, parent and event ids: at most this many bytes of UTF-8. A longer id
// rejects its event as invalid_field (never cut: two ids with a common prefix would merge). Ten
// times a UUID, sixteen times an OTLP trace id.
inline constexpr size_t max_id_bytes = 512;

// End-user ids and tool call ids: cut (not rejected) to max_id_bytes. Nothing is keyed by them.

// Names of observations, tools, models and scores: cut to this many bytes. Rules match tool names
// exactly; real ones are a few dozen bytes.
inline constexpr size_t max_name_bytes = 256;

// A finish reason is a short token ("stop", "length", "content_filter", "MAX_TOKENS"): cut to this.
inline constexpr size_t max_finish_reason_bytes = 64;

// Texts tracewatch writes about its input — dead-letter details, verdict check and evidence
// details, diagnostic finding messages and advice — are cut to this many bytes. They quote input
// only through bounded pieces (names, ids, short excerpts); this is the last word.
inline constexpr size_t max_message_bytes = 2048;

// A session's metadata (the union of its traces' metadata): at most this many entries, the first
// keys in event-time order (a later trace still overrides the value of a kept key).
inline constexpr size_t max_session_metadata = 64;

// Distinct models listed per session (`models`): the first ones in event-time order.
inline constexpr size_t max_session_models = 16;

// Default of output.max_record_bytes: the largest value (JSON document) of any output record.
// Comfortably under librdkafka's default message.max.bytes (1,000,000), which also bounds key and
// value together.
inline constexpr size_t default_max_record_bytes = 900000;

// What a producer's message.max.bytes must leave above output.max_record_bytes: the record's key
// (an id: at most max_id_bytes) and its framing.
inline constexpr size_t record_overhead_bytes = 1024;

// The payload of the dead letter that replaces an undeliverable output record: the record's first
// bytes, at most this many. Small, so that the dead letter passes a broker whose limit was lower
// than the record.
inline constexpr size_t undeliverable_excerpt_bytes = 64 * 1024;

}  // namespace tw::bounds
