// /metrics: everything the probes hold, in the Prometheus text format (http/exposition.hpp).
// docs/operations.md, "Metrics", lists every family with its meaning; the test that builds a
// dashboard query list against a live scrape (tests/e2e/prometheus_test.cpp) keeps the two and
// docs/grafana/ in step.
//
// Conventions: the tracewatch_ prefix; counters end in _total; times in seconds, sizes in bytes;
// label values come from closed sets — enum values (reasons, statuses, lanes, stages, column
// families), the rules' intents (at most judge_probe::intent_labels, the rest as `other`), the
// assigned input partitions, and the HTTP routes — so cardinality is bounded by configuration,
// never by the data. The standard process_* families (CPU, resident memory, start time) come from
// /proc/self, without a prefix, as Prometheus's client libraries name them.
//
// Thread: called on the HTTP server's threads; reads atomics and published snapshots only.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "http/health.hpp"
#include "http/pipeline_view.hpp"
#include "http/server.hpp"

namespace tw::http {

std::string render_metrics(const pipeline_view& v, const health_settings& s, const server_stats& self, wall_time now);

}  // namespace tw::http
