// The state stage's logic: routes observations to sessions, keeps per-session state in RocksDB,
// runs the event-time completion windows and writes completed sessions (and dead letters) to the
// outbox — all of a batch's effects, together with the input offsets it consumed, in ONE RocksDB
// write. A restart resumes exactly where the last write ended: nothing is lost, nothing applied
// twice.
//
// Semantics (docs/architecture.md, "Session completion"):
//   - Trace → session: an observation without a session id is held (column family `pending`) until
//     its trace's session id is known, or the watermark passes its earliest held event time plus
//     resolve.pending_timeout, when the trace becomes a session of its own. The first binding of
//     a trace wins, for every event of the trace (a later claim is counted, not obeyed).
//   - Events are stored as they come, one chunk per session per batch. A repeated event id (a
//     producer retry) is recognised by the session's fingerprints and changes nothing, until the
//     session is sealed; updates are merged when the session is summarised.
//   - Windows (session_window.hpp) complete on the gap, an end marker or the maximum duration,
//     when the watermark passes (is later than) the completion point. Timers fire after EVERY
//     record, not per batch, so batch boundaries never change a result. A completion that only
//     idleness or a flush made possible says so (completion_reason::idle / flush).
//   - A late event (at or before the last emitted cutoff) reopens the session within the grace
//     period, and a new revision is emitted if its content changed; while a later segment is open
//     the event is folded into that segment's revision instead. After the grace period the
//     session is sealed (its events deleted) and later events are dead-lettered as late_event;
//     after tombstone_retention it is forgotten.
//   - A record at an offset below the partition's stored next offset was applied already (a
//     redelivery after a rebalance): it is skipped.
//   - Live runs record every watermark decision the data alone does not determine (idleness,
//     wakes, assignments) as a tracewatch.watermark.v1 record in the sessions outbox lane, so
//     that a replay can take the same decisions at the same positions (apply_watermark_record).
//
// Thread-safety: not thread-safe. Owned by the state actor's thread. The probe may be read from
// anywhere.
//
// Errors: any store error leaves the in-memory state ahead of the database; the caller must stop
// (and restart from the last committed write) rather than continue.
#pragma once

#include <rocksdb/write_batch.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model/kafka.hpp"
#include "model/observation.hpp"
#include "model/rejection.hpp"
#include "model/watermark_record.hpp"
#include "state/engine_probe.hpp"
#include "state/lru_cache.hpp"
#include "state/mailbox.hpp"
#include "state/outbox.hpp"
#include "state/results.hpp"
#include "state/session_header.hpp"
#include "state/session_summary.hpp"
#include "state/store.hpp"
#include "state/watermark.hpp"

namespace tw::state {

struct engine_config {
  window_config window;
  duration grace{std::chrono::minutes(30)};
  duration tombstone_retention{std::chrono::hours(24 * 7)};
  duration pending_timeout{std::chrono::minutes(2)};
  duration max_out_of_orderness{std::chrono::seconds(5)};
  std::vector<std::string> end_markers{"hangup"};
  summary_limits summary;
  uint64_t max_events_per_session = 5000;
  size_t header_cache_entries = 20000;
  size_t trace_cache_entries = 200000;
  std::string sessions_topic = "tracewatch.sessions";
  std::string deadletter_topic = "tracewatch.deadletter";
  // Where watermark decisions are recorded (live runs); empty: none are (replays, tests).
  std::string watermarks_topic;
  std::string group_id;  // named in each watermark record
  // Completed sessions handed to the judge stage in memory between two takes; the rest it reads
  // back from its durable queue. Bounds what a burst of completions holds in memory.
  size_t judge_handover_max = 1000;
  // A batch whose write grows past this while timers fire is committed, and firing goes on in a
  // new batch: a watermark jump that completes tens of thousands of sessions at once does not
  // become one huge write held in memory. Dues left unfired are durable timers (a crash fires
  // them after the restart, in the same order).
  size_t split_batch_bytes = 16u << 20;
  // The alert stage's clock (state/queue_items.hpp): the judge queue also carries the watermark
  // after each commit that moved it past an alert instant (crosses_alert_instant), and a note per
  // dead letter. Off when no alert rule exists.
  bool alert_clock = false;
  // With alert_clock: while every input is idle the alert clock (not the watermark: sessions do
  // not close early) moves on to just past the last multiple of this (the alert rules' evaluation
  // step) that the wall clock allows, so that the quiet night reaches the alert stage. Recorded
  // with the idle decisions, so that a replay moves it at the same input positions.
  duration alert_tick{0};
  // query.retention: each emitted revision is also kept for queries (state/results.hpp) for this
  // much event time past its closed_at, and deleted as the watermark passes that point. 0: no
  // results are kept.
  duration results_retention{0};
};

// One consumed input message after parsing.
struct consumed_record {
  record_position position;
  std::string key;
  std::string payload;                    // the original bytes (for dead letters of late events)
  std::vector<observation> observations;
  std::vector<rejected_event> rejected;
};

class session_engine {
 public:
  session_engine(store& s, engine_config cfg, engine_probe& probe);
  ~session_engine();

  // Loads the stored watermark and partition progress. Call once before anything else.
  store_status open(wall_time now);

  // Partitions the input consumer was given, all at once (the watermark is the minimum over all
  // of them, never over the first few). Fills `resume_at` with, per partition, the offset to
  // resume from (nullopt: nothing stored, start where the consumer's reset policy says). A live
  // run records the assignment as a watermark decision (and commits it).
  store_status assign(const std::vector<topic_partition>& tps, wall_time now,
                      std::vector<std::pair<topic_partition, std::optional<offset>>>& resume_at);
  // Partitions taken away: they keep holding the watermark where their progress was until they
  // are assigned again (watermark.hpp).
  void revoke(const std::vector<topic_partition>& tps, wall_time now);
  // Partitions revoked before `before` and not assigned back: another consumer holds them.
  std::vector<std::pair<topic_partition, wall_time>> away_since(wall_time before) const {
    return tracker_.away_since(before);
  }
  // A bounded replay read the whole range of tp: it stops holding the watermark back.
  store_status finish_partition(const topic_partition& tp, wall_time now);
  void set_caught_up(const topic_partition& tp, bool caught_up) { tracker_.set_caught_up(tp, caught_up); }

  // Applies records in order and commits them (state + outbox + offsets) in one write.
  store_status apply(std::vector<consumed_record>& records, wall_time now);
  // Live mode: lets idle partitions advance the watermark (when all are idle, only as far as the
  // next due completion, seal or timeout that the wall clock has reached); commits what that
  // completes and records the decision.
  store_status tick(wall_time now, duration idle_timeout);
  // A replay reached the positions of a recorded watermark decision: takes it (the same idle
  // partitions, the same watermark) and commits what that completes.
  store_status apply_watermark_record(const watermark_record& r, wall_time now);
  // End of a bounded replay asked to flush: the watermark jumps to the end of time.
  store_status flush(wall_time now);

  event_time watermark() const { return tracker_.current(); }
  // One past the last committed entry of the sessions outbox lane.
  uint64_t outbox_end() const { return outbox_.next(); }
  // A completed session enqueued for judgement, with its summary (so the judge stage need not
  // decode what it would read back).
  struct judge_handover {
    mailbox_item item;
    std::shared_ptr<const session_summary> session;
  };
  // The sessions to judge that the commits since the last take enqueued (durably), to hand over
  // in memory — at most judge_handover_max of them; the judge stage reads the rest back from the
  // queue, whose end (one past the last sequence enqueued) is judge_queue_end().
  std::vector<judge_handover> take_judge_items() { return std::move(committed_judge_items_); }
  uint64_t judge_queue_end() const { return judge_queue_.next(); }
  std::optional<offset> stored_offset(const topic_partition& tp) const;
  // The partitions owned now, with their committed next offset and watermark (for the probe).
  std::vector<partition_position> partition_positions() const;
  // Per partition with progress: the next offset to consume, as committed. Call between
  // operations: once one returned ok, nothing of it is pending.
  std::map<topic_partition, offset> committed_positions() const;
  // Sessions not completed yet (for the end-of-replay report), at most `limit` ids listed.
  store_status open_sessions(size_t limit, std::vector<std::string>& ids, uint64_t& total);

 private:
  struct session_slot {
    session_header h;
    bool exists = false;   // stored, or created in this batch
    bool deleted = false;  // expired in this batch
    bool was_open = false; // open as loaded, before this batch (the open-session gauge)
    event_time indexed_due = event_time::max();
  };
  struct pending_slot {
    event_time due = event_time::max();
    event_time persisted_due = event_time::max();
    uint64_t count = 0;
    uint64_t was_held = 0;  // count as loaded, before this batch (the held-event gauge)
    bool exists = false;
    bool deleted = false;
    event_time indexed_due = event_time::max();
  };
  struct held_event {
    observation o;
    record_position from;  // the message it arrived in
  };
  struct progress {
    offset next;
    std::optional<event_time> max_event;
  };
  enum class due_kind : char { session = 's', pending = 'p' };
  using due_entry = std::tuple<int64_t, char, std::string>;

  // The open-session and held-event gauges, as stored (or counted, in an older directory).
  store_status load_gauges();
  void begin_batch();
  store_status commit();
  // Something in this batch's working set awaits commit().
  bool batch_dirty() const;
  store_status fire_due();
  store_status fire_due_until_split(bool& split);
  store_status scan_persisted_timers(event_time up_to);
  // The earliest due time the watermark has not passed yet (working set and stored timers).
  store_status next_due(std::optional<event_time>& out);
  // Appends a watermark decision to the sessions lane (live runs only).
  void record_decision(watermark_decision d, wall_time now);

  store_status route(observation& o, const consumed_record* from);
  // `from` is the record the event arrived in; for a held event, `held_at` says where it came from.
  store_status add_to_session(const std::string& session_id, observation& o, const consumed_record* from,
                              const record_position* held_at = nullptr);
  // Binds the trace to the session unless it is bound already; `bound` is the trace's session
  // after the call (the first binding wins).
  store_status bind_trace(const std::string& trace_id, const std::string& session_id, std::string* bound = nullptr);
  store_status lookup_trace(const std::string& trace_id, std::optional<std::string>& out);
  store_status hold_pending(observation& o, const consumed_record* from);
  store_status release_pending(const std::string& trace_id, const std::string& session_id);

  store_status load_session(const std::string& id, session_slot*& out);
  store_status load_pending(const std::string& trace_id, pending_slot*& out);
  void reindex(const std::string& id, session_slot& slot);
  void reindex(const std::string& trace_id, pending_slot& slot);
  event_time due_of(const session_header& h) const;

  store_status handle_session_due(const std::string& id);
  // `first`: the first emission at this cutoff (its reason may become idle or flush); otherwise a
  // re-emission after late events, which keeps the reason it had.
  store_status emit(const std::string& id, session_header& h, event_time cutoff, completion_reason reason, bool first);
  store_status seal(const std::string& id, session_header& h);
  store_status expire(const std::string& id, session_slot& slot);
  store_status scan_prefix(cf c, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out);
  store_status session_events(const std::string& id, std::vector<observation>& out);
  store_status held_events(const std::string& trace_id, std::vector<held_event>& out);

  void dead_letter(const rejected_event& r, const record_position& pos, const std::string& key);
  // Appends to the judge queue; handed over in memory too while under judge_handover_max.
  void enqueue_for_judge(std::string payload, std::shared_ptr<const session_summary> summary = nullptr);
  void late(const observation& o, const consumed_record* from, const record_position* held_at, std::string detail);

  bool is_end_marker(const observation& o) const;

  store& store_;
  engine_config cfg_;
  engine_probe& probe_;
  watermark_tracker tracker_;

  // --- this batch's working set; written by commit() in one WriteBatch, then cleared ---
  rocksdb::WriteBatch batch_;                                // what cannot wait for commit()
  std::unordered_map<std::string, session_slot> sessions_;
  std::unordered_map<std::string, pending_slot> pending_;
  std::set<due_entry> due_index_;                            // due times of the working set
  std::unordered_map<std::string, std::vector<observation>> new_events_;  // per session: one chunk
  std::unordered_map<std::string, std::vector<held_event>> new_held_;     // per trace: one chunk
  std::unordered_set<std::string> events_cleared_;  // sessions whose stored chunks this batch deleted
  std::unordered_set<std::string> held_cleared_;    // traces whose stored held chunks this batch deleted
  std::unordered_map<std::string, std::string> new_bindings_;              // trace -> session
  std::unordered_map<std::string, std::vector<std::string>> new_session_traces_;  // session -> traces
  std::set<topic_partition> touched_;                        // partitions with progress this batch

  std::map<topic_partition, progress> progress_;             // all known partitions
  lru_cache<session_header> header_cache_;
  lru_cache<std::string> trace_cache_;
  // Traces with held events. Bounded by the rate of traces that arrive before their session id
  // times resolve.pending_timeout, not by the number of open sessions.
  std::unordered_set<std::string> pending_traces_;

  event_time scanned_until_ = event_time::min();         // persisted timers up to here are handled
  event_time next_persisted_due_ = event_time::min();    // earliest persisted timer after that
  outbox_writer outbox_;                                 // the sessions lane
  std::optional<results_sweeper> results_sweeper_;       // with results_retention only
  struct kept_result {
    std::string session_id;
    uint32_t revision;
    event_time closed_at;
  };
  std::vector<kept_result> results_in_batch_;            // put in this batch (the sweep cannot see them)
  mailbox_writer judge_queue_;                           // completed sessions to judge
  std::vector<judge_handover> judge_items_;              // enqueued in this batch
  std::vector<judge_handover> committed_judge_items_;    // enqueued by the last commit
  event_time marked_ = event_time::min();                // the last watermark put into the judge queue
  // Whether moving the alert clock from `from` to `to` passes an alert instant (a multiple of
  // alert_tick): the alert stage evaluates instant e once its clock is past e, so a mark that
  // passes none changes nothing there, and is not queued (most commits move the watermark by
  // less than a step; each mark costs four queue writes on its way).
  bool crosses_alert_instant(event_time from, event_time to) const;
  bool splitting_ = false;                               // committing part of a fire_due: no mark
  event_time alert_clock_ = event_time::min();           // idleness moved the alert clock here
  uint64_t chunk_next_ = 0;                              // this batch's chunk number
  wall_time wall_now_;                                   // the processing clock, for queue metrics only
  std::string state_id_;                                 // identifies this state directory's history
  uint64_t decisions_ = 0;                               // watermark decisions recorded so far
  uint64_t open_sessions_ = 0;                           // as of the last commit (meta open_sessions)
  uint64_t held_events_ = 0;                             // as of the last commit (meta held_events)
};

}  // namespace tw::state
