// What one tracewatch run wrote to its output topics, and how two runs differ.
//
// Identity of an output record:
//   sessions, verdicts, diagnostics: (session_id, revision) — the contract's key and the revision
//     a consumer keeps the highest of (docs/topics.md);
//   dead letters: (source topic, partition, offset, index, reason);
//   alerts: (alert_id, started_at, state, repeat) — what a consumer deduplicates by.
// Delivery is at-least-once with deterministic content, so a run may repeat a record with the
// same bytes (a "repeat", allowed), but one identity must never carry two different payloads.
//
// A comparison of a run with a reference run of the same input counts, per topic:
//   lost       identities the reference has and the run does not;
//   redundant  identities the run has and the reference does not (e.g. a revision 2 that a
//              crash-free run never needed, or a dead letter it never wrote);
//   changed    identities in both whose payloads differ, or that carry two different payloads
//              within one run (conflicting) — except a session (or its verdict) that one run
//              closed because its input was idle and the other by its data, every other byte
//              equal: that is counted apart (relabelled_idle) and allowed, because whether a
//              partition went idle is wall-clock evidence that two live runs do not share;
// and names the first of each with both payloads, and the JSON members that differ.
#pragma once

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/call_generator.hpp"

namespace tw::fault {

enum class output_kind { sessions, verdicts, diagnostics, deadletter, alerts };
inline constexpr output_kind all_output_kinds[] = {output_kind::sessions, output_kind::verdicts, output_kind::diagnostics,
                                                   output_kind::deadletter, output_kind::alerts};
const char* to_string(output_kind k);

// One output topic of one run.
struct output_set {
  explicit output_set(output_kind k) : kind(k) {}
  output_kind kind;
  size_t records = 0;  // messages read, repeats included
  size_t repeats = 0;  // messages identical to one already read for the same identity
  // identity -> its distinct payloads, in the order they were read (more than one: conflicting)
  std::map<std::string, std::vector<std::string>> by_identity;
  std::set<std::string> needs_diagnosis;  // verdicts: identities of fail, partial and error verdicts
  std::map<std::string, long long> latest_revision;  // sessions: session_id -> highest revision
  size_t unreadable = 0;                   // payloads that are not a JSON document of the contract
  std::string first_unreadable;

  // Returns true when the payload added an identity not seen before.
  bool add(const std::string& payload);
};

struct run_outputs {
  output_set sessions{output_kind::sessions};
  output_set verdicts{output_kind::verdicts};
  output_set diagnostics{output_kind::diagnostics};
  output_set deadletter{output_kind::deadletter};
  output_set alerts{output_kind::alerts};
  output_set& of(output_kind k);
  const output_set& of(output_kind k) const;
};

struct topic_difference {
  output_kind kind = output_kind::sessions;
  size_t reference_identities = 0, run_identities = 0;
  size_t reference_records = 0, run_records = 0;
  size_t lost = 0, redundant = 0, changed = 0;
  // Closed because input was idle in one run and by its data in the other, otherwise equal:
  // allowed, since idleness is wall-clock evidence (counted, not part of changed).
  size_t relabelled_idle = 0;
  size_t conflicting_in_reference = 0, conflicting_in_run = 0;  // within one run (part of changed)
  size_t unreadable = 0;                                          // either run
  std::string first_lost, first_redundant, first_changed;        // identities
  std::string lost_payload, redundant_payload, changed_reference, changed_run;
  // changed identities by the JSON members that differ, e.g. "window.reason,window.closed_at"
  std::map<std::string, size_t> changed_members;
  std::map<std::string, size_t> redundant_by_reason;  // dead letters: by reason
  bool clean() const {
    return lost == 0 && redundant == 0 && changed == 0 && unreadable == 0 && conflicting_in_reference == 0 &&
           conflicting_in_run == 0;
  }
};

struct comparison {
  std::vector<topic_difference> topics;
  bool clean() const;
};

// Alert events depend on how far a run's alert clock got, and after the input ends it moves on
// with the wall clock (or a replay's --flush drains the windows): two runs stopped at different
// moments differ in their last events. Both runs passed every instant up to the earlier of their
// latest event times, and there they must agree: this keeps the alert events of both up to that
// instant and drops the later ones (counted in the result).
struct alert_horizon {
  std::string until;  // the latest `at` both runs passed (empty: one has no alert event, nothing dropped)
  size_t dropped_reference = 0, dropped_run = 0;
};
alert_horizon same_alert_horizon(run_outputs& reference, run_outputs& run);
void print(const alert_horizon& h, const std::string& reference_label, const std::string& run_label, std::FILE* out);

comparison compare(const run_outputs& reference, const run_outputs& run);
void print(const comparison& c, const std::string& reference_label, const std::string& run_label, std::FILE* out);

// Every generated call must have come out as a session whose latest revision agrees with the
// generator's plan (the truth per call).
struct plan_check {
  size_t plans = 0;
  size_t missing = 0;     // no session at all
  size_t mismatched = 0;  // the latest revision disagrees with the plan
  size_t unexpected = 0;  // sessions for which no call was generated
  std::string first_missing, first_mismatch, first_unexpected;
  bool clean() const { return missing == 0 && mismatched == 0 && unexpected == 0; }
};
plan_check check_plans(const output_set& sessions, const std::vector<sim::call_plan>& plans);
void print(const plan_check& c, const std::string& label, std::FILE* out);

// The members (dotted paths) in which two JSON documents differ, at most `limit`.
std::vector<std::string> differing_members(const std::string& a, const std::string& b, size_t limit = 8);
// "path: A | B" for each differing member, values truncated: what a reader needs to see first.
std::vector<std::string> differing_values(const std::string& a, const std::string& b, size_t limit = 6);
std::string truncated(const std::string& s, size_t n);

}  // namespace tw::fault
