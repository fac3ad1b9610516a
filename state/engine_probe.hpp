// Counters of the state stage. Written by the state stage's thread, read by anyone (metrics,
// status, tests): every field is atomic and relaxed — they are statistics, not synchronisation —
// or a published snapshot (model/probe.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <iterator>
#include <optional>
#include <vector>

#include "model/kafka.hpp"
#include "model/probe.hpp"
#include "model/rejection.hpp"
#include "model/session.hpp"

namespace tw::state {

// One input partition the state stage owns, as of its last publication.
struct partition_position {
  topic_partition tp;
  std::optional<offset> next;           // the next offset to consume, as committed; none: nothing applied yet
  std::optional<event_time> watermark;  // its largest event time minus time.max_out_of_orderness
  bool idle = false;                    // caught up and quiet: it does not hold the watermark back
};

struct engine_probe {
  std::atomic<uint64_t> records{0};              // input records applied
  std::atomic<uint64_t> records_skipped{0};      // records below the stored offset: applied already
  std::atomic<uint64_t> events{0};               // observations routed
  std::atomic<uint64_t> duplicates{0};           // events ignored: same event id already stored
  std::atomic<uint64_t> dead_letters{0};         // dead letters written (parse rejections + late)
  std::atomic<uint64_t> late_events{0};          // events refused as late
  std::atomic<uint64_t> pending_held{0};         // events held for an unknown trace
  std::atomic<uint64_t> pending_released{0};     // held events attached once the session was known
  std::atomic<uint64_t> pending_timeouts{0};     // traces that became their own session
  std::atomic<uint64_t> trace_conflicts{0};      // a trace claimed by a second session id (first wins)
  std::atomic<uint64_t> sessions_opened{0};
  std::atomic<uint64_t> revisions_emitted{0};
  std::atomic<uint64_t> sessions_reopened{0};    // late events that reopened an emitted revision
  std::atomic<uint64_t> revisions_unchanged{0};  // re-emissions not made: same content as the last
  std::atomic<uint64_t> late_folded{0};          // late events taken into the open segment's revision
  std::atomic<uint64_t> watermark_decisions{0};  // idle/wake/assign decisions recorded
  std::atomic<uint64_t> sessions_sealed{0};
  std::atomic<uint64_t> sessions_expired{0};
  std::atomic<uint64_t> events_not_stored{0};    // over session.max_events
  // Emitted revisions by where their cost came from (stats.cost_source); those without a known
  // cost are the rest of revisions_emitted.
  std::atomic<uint64_t> cost_reported{0};        // every known cost was reported by the producer
  std::atomic<uint64_t> cost_computed{0};        // every known cost was computed from tokens (cost.prices)
  std::atomic<uint64_t> cost_mixed{0};           // some of each
  std::atomic<uint64_t> calls_unpriced{0};       // counted calls with tokens, no cost and no price
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> batches_split{0};        // commits made early because a batch grew too large
  std::atomic<uint64_t> results_expired{0};      // query results deleted after query.retention (entries
                                                 // of the retention list: one per result)
  std::atomic<int64_t> watermark_us{INT64_MIN};  // the processor watermark
  std::atomic<uint64_t> outbox_end{0};           // next outbox sequence to be written

  // Per reason, indexed by the enum's value (all_reject_codes, all_completion_reasons).
  std::atomic<uint64_t> dead_letters_by_reason[std::size(all_reject_codes)] = {};
  std::atomic<uint64_t> completed_by_reason[std::size(all_completion_reasons)] = {};  // revisions emitted
  // Gauges, as of the last commit (kept durably with the state: they survive restarts).
  std::atomic<uint64_t> open_sessions{0};        // sessions with activity not yet emitted, or to re-emit
  std::atomic<uint64_t> pending_events{0};       // observations held for a trace whose session is unknown
  std::atomic<bool> opened{false};               // the state is loaded: the stage applies records

  // Written by the state stage's shell (actors/state_actor.cpp), not by the engine.
  heartbeat alive;
  // Wall time to apply and commit one input batch.
  duration_histogram<13> batch_duration{{std::chrono::milliseconds(1), std::chrono::microseconds(2500),
                                         std::chrono::milliseconds(5), std::chrono::milliseconds(10),
                                         std::chrono::milliseconds(25), std::chrono::milliseconds(50),
                                         std::chrono::milliseconds(100), std::chrono::milliseconds(250),
                                         std::chrono::milliseconds(500), std::chrono::seconds(1),
                                         std::chrono::milliseconds(2500), std::chrono::seconds(5),
                                         std::chrono::seconds(10)}};
  // The partitions the stage owns, republished after assignments and on its live tick.
  published<std::vector<partition_position>> partitions;
};

}  // namespace tw::state
