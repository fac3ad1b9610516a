// Completed results kept for queries (column family `results`): each session revision's summary,
// verdict and diagnosis; a secondary index of the verdicts for the query filters; verdict counts
// per event-time minute (the status page's verdict mix); and the alerts firing now.
//
// Each result is written by the stage that produced it, in the SAME RocksDB batch as its outbox
// entry (and the deletion of the queue item it came from), so a result is queryable exactly when
// it exists, after any crash. Results are kept for `query.retention` of event time past their
// window's closed_at and then deleted by the state stage as its watermark passes that point
// (results_sweeper), so what is kept depends on the data alone: a replay keeps what the live run
// kept. Readers (the HTTP threads) apply the same horizon, so a query never shows a result past
// its retention even while the sweep has not reached it yet.
//
// Key grammar (column family results). On disk: never change a grammar or reuse a kind byte.
//   pos    := fixed64(sortable closed_at) bytes(session_id) fixed32(revision)
//   fields := svarint(closed_at, us) u8(verdict_status) bytes(intent) bytes(agent)
//   's' bytes(session_id) fixed32(revision)  := u8(1) svarint(closed_at) bytes(session json)  state stage
//   'v' bytes(session_id) fixed32(revision)  := u8(1) fields bytes(verdict json)             judge stage
//   'd' bytes(session_id) fixed32(revision)  := u8(1) svarint(closed_at) bytes(diagnostic json)  diagnostic stage
//   'r' pos u8(kind 's' | 'v' | 'd')         := u8(1) [kind 'v': fields]     the retention list: one
//                                               entry per result above, written with it, by its writer
//   'a' pos                                  := u8(1) fields   every session's latest verdict   judge stage
//   'b' u8(verdict_status) pos               := u8(1) fields   the same, by status              judge stage
//   'i' bytes(intent) pos                    := u8(1) fields   the same, by intent              judge stage
//   'g' bytes(agent) pos                     := u8(1) fields   the same, by agent (when named)  judge stage
//   'm' fixed64(sortable minute start)       := u8(1) varint(count)^5   latest verdicts closed in
//                                               that minute, by verdict_status (pass..abandoned)  judge stage
//   'f' alert_id                             := u8(1) bytes(alert json)   the last firing event of
//                                               each alert firing now                       alert stage
// (bytes, varint, fixed64 as in state/codec.hpp; sortable as sortable_time.) Only a session's latest
// verdict is in the index and the counts: a new revision takes its predecessor's place.
//
// Thread-safety: each writer belongs to its stage's thread (RocksDB itself is thread-safe). The
// reader may be used from any thread, concurrently: every call reads one RocksDB snapshot.
#pragma once

#include <rocksdb/write_batch.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/time.hpp"
#include "model/verdict.hpp"
#include "state/store.hpp"

namespace tw::state {

// What the index holds of a verdict: what its filters look at.
struct verdict_fields {
  event_time closed_at;
  verdict_status status = verdict_status::pass;
  std::string intent;
  std::string agent;  // "" when the session names none
};

// Results whose window closed before this are past their retention; nullopt while the watermark
// says nothing usable (no event time yet, or a flush that moved it to the end of time).
std::optional<event_time> retention_horizon(event_time watermark, duration retention);

// --- writers ---------------------------------------------------------------------------------

// State stage: a completed session revision, as encoded for the sessions topic.
void put_session_result(store& s, rocksdb::WriteBatch& batch, std::string_view session_id, uint32_t revision,
                        event_time closed_at, std::string_view session_json);

// State stage: takes back a put_session_result of the batch not yet written (the sweep reads what
// is written, so it cannot see a result of its own batch that is already past the horizon).
void delete_session_result(store& s, rocksdb::WriteBatch& batch, std::string_view session_id, uint32_t revision,
                           event_time closed_at);

// Diagnostic stage: the diagnosis of a verdict (closed_at: that verdict's window.closed_at).
void put_diagnostic_result(store& s, rocksdb::WriteBatch& batch, std::string_view session_id, uint32_t revision,
                           event_time closed_at, std::string_view diagnostic_json);

// Judge stage: verdicts, the index and the per-minute counts. Owned by the judge stage's thread.
class verdict_results_writer {
 public:
  explicit verdict_results_writer(store& s) : store_(s) {}

  // Adds the verdict to `batch` and makes it its session's latest in the index and the counts,
  // in place of the revision stored before it (an older revision judged late is kept but not
  // indexed). Reads the session's stored verdicts; what earlier put() calls added to batches not
  // yet written is taken into account.
  [[nodiscard]] store_status put(rocksdb::WriteBatch& batch, std::string_view session_id, uint32_t revision,
                                 const verdict_fields& f, std::string_view verdict_json);
  // Everything put() added since the last call was written (or, with `written` false, the batch
  // was dropped and the stage stops: nothing of it may be remembered).
  void batch_done(bool written);

 private:
  struct latest {
    uint32_t revision = 0;
    verdict_fields fields;
  };
  store_status stored_latest(std::string_view session_id, std::optional<latest>& out);
  store_status count(rocksdb::WriteBatch& batch, event_time closed_at, verdict_status status, int delta);

  store& store_;
  std::unordered_map<std::string, latest> in_batch_;  // sessions put since the last write
  std::map<int64_t, std::array<uint64_t, 5>> minutes_;  // counts per minute start (us), batch included
};

// Alert stage: an alert fires (its latest firing event, repeats included), or resolved.
void put_firing_alert(store& s, rocksdb::WriteBatch& batch, std::string_view alert_id, std::string_view alert_json);
void remove_firing_alert(store& s, rocksdb::WriteBatch& batch, std::string_view alert_id);

// --- retention -------------------------------------------------------------------------------

struct sweep_stats {
  uint64_t entries = 0;  // retention entries handled (each deletes its result and index entries)
  bool more = false;     // the budget ran out before the horizon: the next call goes on
};

// State stage: deletes the results past their retention, a bounded amount per call, in the
// state stage's own batches. Owned by the state stage's thread.
//
// The retention list is ordered by closed_at, so a call handles the entries between where the
// last call stopped and the horizon. A result written with a closed_at the sweep has already
// passed (a verdict or diagnosis that waited longer than the retention in its stage's queue)
// would sit behind it: it is invisible to readers, and the sweep goes through the whole list
// again once per `retention` of event time (and after each start) to delete such results.
class results_sweeper {
 public:
  results_sweeper(store& s, duration retention, size_t budget = 4096)
      : store_(s), retention_(retention), budget_(budget) {}

  [[nodiscard]] store_status sweep(rocksdb::WriteBatch& batch, event_time horizon, sweep_stats& out);
  // The last sweep ran out of budget: the next one has work even if the horizon stays.
  bool pending() const { return more_; }

 private:
  store& store_;
  duration retention_;
  size_t budget_;
  std::string resume_;                                 // the first retention key not yet handled ("" : from the start)
  std::optional<event_time> swept_until_;              // every entry before this is handled (as far as seen)
  std::optional<event_time> full_from_;                // the horizon at which the last whole pass began
  int64_t minutes_deleted_until_ = INT64_MIN;          // counts of minutes before this are deleted
  bool more_ = false;
};

// --- reader ----------------------------------------------------------------------------------

// One revision of a session, as far as its results are kept.
struct revision_results {
  uint32_t revision = 0;
  event_time closed_at;
  std::optional<std::string> session_json;
  std::optional<std::string> verdict_json;
  std::optional<verdict_status> status;
  std::optional<std::string> diagnostic_json;
};

struct verdict_query {
  std::vector<verdict_status> statuses;  // any of these; empty: every status
  std::optional<std::string> intent;
  std::optional<std::string> agent;
  std::optional<event_time> from;        // closed_at >= from
  std::optional<event_time> to;          // closed_at < to
  std::optional<std::string> cursor;     // a previous page's next_cursor (decoded by parse_cursor)
  size_t limit = 50;
};

struct stored_verdict {
  std::string session_id;
  uint32_t revision = 0;
  verdict_fields fields;
  std::string json;
};

struct verdict_page {
  std::vector<stored_verdict> verdicts;  // newest closed_at first
  std::optional<std::string> next_cursor;  // where the next page starts; none: no more
  uint64_t scanned = 0;                    // index entries examined
};

struct verdict_mix {
  std::array<uint64_t, 5> by_status{};  // indexed by verdict_status
};

class results_reader {
 public:
  // Index entries one page examines at most: a filter that matches little ends a page early,
  // with a cursor to go on from, rather than scanning the whole retention in one request.
  static constexpr uint64_t default_scan_budget = 10000;

  explicit results_reader(store& s, uint64_t scan_budget = default_scan_budget) : store_(s), scan_budget_(scan_budget) {}

  // Every revision of the session whose window closed at or after `horizon`, oldest first.
  [[nodiscard]] store_status session(std::string_view session_id, std::optional<event_time> horizon,
                                     std::vector<revision_results>& out) const;
  // Latest verdicts (one per session) matching `q`, newest first.
  [[nodiscard]] store_status verdicts(const verdict_query& q, std::optional<event_time> horizon, verdict_page& out) const;
  // The diagnosis of one revision, when there is one.
  [[nodiscard]] store_status diagnostic(std::string_view session_id, uint32_t revision,
                                        std::optional<std::string>& out) const;
  // The alerts firing now: (alert_id, its last firing event as tracewatch.alert.v1), by alert_id.
  [[nodiscard]] store_status firing_alerts(std::vector<std::pair<std::string, std::string>>& out) const;
  // Latest verdicts whose window closed in [from, to), to the minute: every minute that begins
  // in the range counts whole.
  [[nodiscard]] store_status mix(event_time from, event_time to, verdict_mix& out) const;

 private:
  store& store_;
  uint64_t scan_budget_;
};

// A cursor is the hex of a position (pos above); nullopt for text that is not one.
std::string format_cursor(std::string_view pos);
std::optional<std::string> parse_cursor(std::string_view text);

}  // namespace tw::state
