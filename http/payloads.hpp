// Every JSON body the query endpoints and the status page send (docs/queries.md) is assembled
// here, and every one leaves through the same last step (payloads.cpp, `finish`): the single place
// where a redaction pass over what queries and the status page return — PII, secrets — is to be
// applied. Stored results are embedded as the documents the topics carry (tracewatch.session.v1,
// .verdict.v1, .diagnostic.v1, .alert.v1), so the topic schemas describe them.
//
// Plain functions of their inputs: no I/O, no clock. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/kafka.hpp"
#include "model/time.hpp"
#include "state/results.hpp"

namespace tw::http::payloads {

// {"error": message}: the body of every 4xx and 5xx answer of the query endpoints.
std::string error(std::string_view message);

// tracewatch.query.session.v1: one session's kept revisions and, of `chosen` (the latest unless
// the request named one), its summary, verdict and diagnosis. `revisions` is not empty.
std::string session(std::string_view session_id, const std::vector<state::revision_results>& revisions,
                    const state::revision_results& chosen);

// tracewatch.query.verdicts.v1: a page of verdicts, newest first.
std::string verdicts(const state::verdict_page& page, std::optional<event_time> horizon);

// tracewatch.query.failures.v1: the latest failed, partial and error verdicts, each with the
// diagnosis of its revision when one was made.
struct failure {
  state::stored_verdict verdict;
  std::optional<std::string> diagnostic_json;
};
std::string failures(const std::vector<failure>& items, std::optional<event_time> horizon);

// tracewatch.query.alerts.v1: the alerts firing now (their last firing event), by alert_id.
std::string alerts(const std::vector<std::pair<std::string, std::string>>& firing);

// What the status page shows (tracewatch.status.v1). Aggregates only: no session content, no
// configuration value, nothing secret — it is served without a token.
struct status_report {
  wall_time at;
  std::string version;
  double uptime_s = 0;
  bool alive = false;
  bool ready = false;
  std::vector<std::string> not_ready;  // readiness's reasons, one phrase each
  bool stopping = false;
  std::optional<event_time> watermark;
  // Counters since the process started.
  uint64_t records = 0, observations = 0, sessions_completed = 0, verdicts = 0, diagnoses = 0, dead_letters = 0;
  std::array<uint64_t, 5> verdicts_by_status{};  // since start, by verdict_status
  // Per second over the last minute of requests to /status.json (none until two, a second apart).
  struct rates {
    double window_s = 0;
    double records = 0, sessions = 0, verdicts = 0;
  };
  std::optional<rates> per_second;
  uint64_t open_sessions = 0, pending_observations = 0;
  // The latest verdicts of the sessions whose window closed in the hour (event time) before the
  // watermark, to the minute; none while no watermark is known or results are not kept.
  struct hour_mix {
    event_time from, to;
    state::verdict_mix mix;
  };
  std::optional<hour_mix> last_hour;
  uint64_t alerts_firing = 0;                       // the alert stage's count
  std::optional<std::vector<std::string>> firing;   // the stored firing alerts (alert.v1 JSON); none: not kept
  struct lane {
    std::string name;
    uint64_t depth = 0;
    double oldest_wait_s = 0;
  };
  std::vector<lane> mailboxes;
  uint64_t outbox_depth = 0, outbox_stalled_lanes = 0;
  struct partition {
    topic_partition tp;
    std::optional<int64_t> next_offset;
    std::optional<uint64_t> lag;
    std::optional<event_time> watermark;
    bool idle = false;
  };
  std::vector<partition> partitions;
  bool queries_enabled = false;   // a query token is configured
  duration retention{0};          // query.retention
};
std::string status(const status_report& r);

}  // namespace tw::http::payloads
