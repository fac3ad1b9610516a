// Liveness and readiness of a live pipeline, decided from its probes (/healthz, /readyz, and the
// tracewatch_ready and tracewatch_stage_wedged metrics). Plain functions of the probes and "now":
// tested without threads or sockets (tests/unit/http_health_test.cpp).
//
// Alive: no stage failed, and no stage is wedged. A stage is wedged when it has work and has
// shown no sign of life (its heartbeat, model/probe.hpp) for stall_timeout beyond the waits it
// announced. Work, per stage:
//   source      always (the live poll loop beats at least every batch_max_wait, and while it
//               waits for backpressure or a rebalance)
//   importer    records handed to it and not yet parsed
//   state       always (a live state stage ticks every pipeline.tick_interval)
//   judge, diagnostic, alerts, notifier   items in its durable queue
//   output      outbox entries not yet acknowledged
// A stage that never beat has not started (or does not exist in this configuration: alerts
// without rules, notifier without a target) and is not judged. While the pipeline stops, stages
// end one after the other: nobody is called wedged then.
//
// Ready: alive; the state is opened (not restoring: RocksDB replayed its log and the state stage
// loaded offsets, the watermark and the gauges — there is no changelog restore in this version);
// at least one input partition is assigned; every assigned partition's high watermark is known;
// and the consumer lag summed over them is at most ready_max_lag; and not stopping.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/pipeline.hpp"
#include "model/kafka.hpp"
#include "model/time.hpp"

namespace tw::http {

struct health_settings {
  duration stall_timeout{std::chrono::seconds(60)};
  uint64_t ready_max_lag = 10000;
  // Where the consumer starts a partition with nothing stored (input.start_from): its lag is then
  // the whole log (earliest) or nothing (latest).
  bool start_from_latest = false;
};

struct stage_report {
  std::string_view stage;  // source, importer, state, judge, diagnostic, alerts, notifier, output
  bool running = false;    // it beat at least once
  uint64_t work = 0;       // what waits for it (queue items, records, outbox entries); 1 for "always"
  duration silent_for{0};  // since its last sign of life, beyond announced waits
  bool wedged = false;
};

struct liveness {
  bool ok = true;
  std::optional<std::string> failure;  // a stage failed: the pipeline stops
  std::vector<stage_report> stages;
};

liveness check_liveness(const actors::pipeline_probes& p, const std::optional<std::string>& failure, bool stopping,
                        const health_settings& s, wall_time now);

// One assigned input partition: the state stage's committed position and watermark joined with
// the consumer's view of the log.
struct partition_progress {
  topic_partition tp;
  std::optional<offset> next;             // committed next offset; none: nothing applied yet
  std::optional<partition_extent> extent; // none: the consumer has not fetched from it yet
  std::optional<event_time> watermark;
  bool idle = false;
  // Records between the position (or, with nothing applied yet, where input.start_from begins)
  // and the high watermark; none while the extent is unknown.
  std::optional<uint64_t> lag;
};

std::vector<partition_progress> input_progress(const actors::pipeline_probes& p, bool start_from_latest);

struct readiness {
  bool ok = false;
  bool state_opened = false;
  size_t partitions = 0;
  std::optional<uint64_t> lag;       // none: some partition's lag is not known yet
  std::vector<std::string> reasons;  // why not ready, one phrase each
};

readiness check_readiness(const actors::pipeline_probes& p, const liveness& alive, bool stopping,
                          const health_settings& s);

// The response bodies (JSON objects; docs/operations.md shows them).
std::string to_json(const liveness& l, bool stopping);
std::string to_json(const readiness& r, const health_settings& s);

}  // namespace tw::http
