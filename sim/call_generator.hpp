// Synthetic calls to a clinic's scheduling voice agent, as Langfuse ingestion events on Kafka.
//
// Used by the demo, the benchmark and the end-to-end tests. Each call is one session: callers
// book, cancel or reschedule an appointment or ask a question (opening hours, address, insurance,
// parking). Alongside the messages, every call comes with its plan — the truth the pipeline's
// verdict should agree with.
//
// What one call looks like (notes/trace-formats.md §(a)):
//   - `traces` turns, each one trace: a `trace-create` (name "turn", sessionId, userId, input = the
//     caller's utterance, output = the agent's reply, metadata {agent, channel, turn}), a
//     `generation-create` per LLM call (usageDetails {input, output}, costDetails {total}), and in
//     a tool turn a `tool-create` between two generations (the first picks the tool, the second
//     phrases the reply). Some generations arrive as a create without end/output/usage followed by
//     a `generation-update` carrying them.
//   - Tool calls appear only as `tool-create` observations, never inside generation messages, so
//     plan.tool_calls is unambiguous. A failed tool has level "ERROR", a statusMessage and output
//     {"error": ...}.
//   - Observations carry `traceId` only; the session is known from the trace-create.
//   - Non-abandoned calls end with an `event-create` named options.end_marker in the last trace,
//     after the last activity; about a quarter of abandoned calls have one too.
//   With the defaults a call has about 6 turns, 19 events in 15 messages and 13 KB, and spans
//   about 20 s of event time; generation runs at a few hundred thousand events per second.
//
// Invariants the tests pin (tests/unit/call_generator_test.cpp):
//   - Deterministic: the same options (seed included) and the same sequence of next_call() starts
//     give byte-identical messages, on any standard library (only std::mt19937_64 is used, whose
//     output the standard fixes, with our own mapping from its 64-bit draws).
//   - All times are whole milliseconds (the start is truncated), so they survive ISO-8601 with
//     three fraction digits unchanged. An event's envelope `timestamp` is its own activity time:
//     endTime if it has one, else startTime, else the trace's timestamp.
//   - Envelope ids are unique per event and body ids unique per observation, all derived from
//     options.id_prefix; a producer retry repeats a message byte for byte.
//   - Every event goes out at most max_shuffle after its own activity time: send_at of a message
//     is the latest activity time of its events plus a delay, and a batch spans at most
//     max_shuffle of event time, the delay filling only what the span leaves. So max_shuffle is
//     the out-of-orderness bound of the stream, per event.
//
// Not thread-safe: one generator per thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "model/time.hpp"

namespace tw::sim {

enum class call_intent { book, cancel, reschedule, question };
std::string_view to_string(call_intent i);

// What really happened; the verdict the pipeline should reach follows from it:
//   fulfilled   the key tool for the intent succeeded (questions: answered without a tool error
//               after the last question; a failed attempt may precede a successful retry)
//   tool_failed the key tool failed at least once and was never retried successfully
//               (questions: the insurance lookup, lookup_patient, failed)
//   transferred the last tool call is a successful transfer_to_human
//   abandoned   1-3 turns, the caller dropped before the key tool ran
//   agent_error the agent's LLM call failed (level ERROR, no output) where the key tool would have
//               run; the agent apologised with a canned reply and the call ended
enum class call_outcome { fulfilled, tool_failed, transferred, abandoned, agent_error };
std::string_view to_string(call_outcome o);

// How the Kafka message key is chosen.
enum class key_mode {
  session_id,  // every message of a call on one partition: the easy case
  trace_id,    // a call spread over partitions: the importer must resolve trace -> session
  none,        // empty key: the producer's partitioner decides
};
std::string_view to_string(key_mode k);

// The tool whose success fulfils the intent: schedule_appointment, cancel_appointment,
// reschedule_appointment; empty for question (answered from the agent's knowledge).
std::string_view key_tool(call_intent i);

// The truth about one call.
struct call_plan {
  std::string session_id;
  std::string user_id;  // the caller's phone number
  call_intent intent = call_intent::book;
  call_outcome outcome = call_outcome::fulfilled;
  int traces = 0;        // turns; 4-8, abandoned 1-3
  bool hangup = false;   // an end_marker event-create was emitted
  int generations = 0;   // generation observations (a create plus its update count once)
  int tool_calls = 0;
  int tool_errors = 0;   // tool observations with level ERROR
  int llm_errors = 0;    // generation observations with level ERROR
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double cost_usd = 0;   // the sum of costDetails.total (kept in integer nanodollars, then converted)
  event_time first_event;  // earliest and latest activity time over all events
  event_time last_event;
  int events = 0;        // distinct events (envelope ids), duplicates not counted
};

// One Kafka record to produce.
struct message {
  std::string key;       // empty under key_mode::none
  std::string payload;   // one Langfuse event, or {"batch":[...]} of events of one turn
  event_time send_at;    // when a live producer would send it (event time)
};

struct generated_call {
  call_plan plan;
  std::vector<message> messages;  // sorted by send_at; stable, so a retry follows its original
};

// Each option: default; bounds (checked by validate()).
struct generator_options {
  uint64_t seed = 1;
  // Outcome mix, fractions of calls; each in [0, 1] and their sum at most 1. The rest fulfilled.
  double abandoned_fraction = 0.12;
  double tool_failure_fraction = 0.15;
  double transfer_fraction = 0.06;
  double agent_error_fraction = 0.04;
  // Fraction of messages produced twice (a producer retry), in [0, 1].
  double duplicate_fraction = 0.03;
  // Fraction of messages sent late, by up to max_shuffle, in [0, 1]. Late messages overtake
  // later ones, so observations do arrive before their trace-create.
  double shuffle_fraction = 0.1;
  // The largest delay of any message behind its own events' activity time; >= 0. It is also the
  // out-of-orderness a watermark needs to tolerate for this stream.
  duration max_shuffle = std::chrono::milliseconds(800);
  // The caller's pause between the end of one turn and the start of the next, jittered by ±50%;
  // > 0 and at least 1 ms (times are whole milliseconds).
  duration turn_interval = std::chrono::seconds(2);
  key_mode keys = key_mode::trace_id;
  // Fraction of turns whose events go out as {"batch":[...]} chunks of 1-4 events rather than
  // one event per message, in [0, 1].
  double batch_fraction = 0.5;
  // Name of the event-create that marks the end of a call; non-empty.
  std::string end_marker = "hangup";
  // Prefix of every session, trace, observation and envelope id; non-empty, no whitespace.
  std::string id_prefix = "call";
  // An incident (the demo's tool outage): a call starting in [incident_start, incident_end) has
  // its tool fail (outcome tool_failed) with this probability, in [0, 1]. An empty window (the
  // default) is no incident, and calls outside the window are drawn exactly as without one.
  event_time incident_start = event_time::min();
  event_time incident_end = event_time::min();
  double incident_failure_fraction = 0.9;
  // Agents the calls are spread over (metadata `agent`): 1 is "clinic-scheduler"; more are
  // "clinic-scheduler-0000" ... drawn per call (the alert benchmark's 1,000 groups). 1..100000.
  uint32_t agents = 1;
};

// Names the first offending option and why, or nullopt when `o` is usable.
std::optional<std::string> validate(const generator_options& o);

class call_generator {
 public:
  // REQUIRES: validate(options) is nullopt; throws std::invalid_argument with its message otherwise.
  explicit call_generator(generator_options options);

  // The next call, its first turn starting at `start` (truncated to the millisecond).
  generated_call next_call(event_time start);

  uint64_t calls_generated() const { return calls_; }
  const generator_options& options() const { return options_; }

 private:
  generator_options options_;
  std::mt19937_64 engine_;
  uint64_t calls_ = 0;
};

// For benchmarks and tests: calls starting every `spacing` from `start` (so they overlap) until
// their distinct events number at least `min_events`; all messages merged and sorted by send_at
// (stable). The plans, in call order, go to `plans` when given.
std::vector<message> generate_stream(call_generator& generator, size_t min_events, event_time start,
                                     duration spacing, std::vector<call_plan>* plans = nullptr);

}  // namespace tw::sim
