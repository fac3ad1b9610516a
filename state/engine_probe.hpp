// Counters of the state stage. Written by the state stage's thread, read by anyone (metrics,
// status, tests): every field is atomic and relaxed — they are statistics, not synchronisation.
#pragma once

#include <atomic>
#include <cstdint>

namespace tw::state {

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
  std::atomic<int64_t> watermark_us{INT64_MIN};  // the processor watermark
  std::atomic<uint64_t> outbox_end{0};           // next outbox sequence to be written
};

}  // namespace tw::state
