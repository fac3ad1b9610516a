// The status page (docs/queries.md, "Status page"):
//   GET /             one self-contained HTML page (http/status_page.html, compiled in: inline CSS
//                     and JS, no external resource) that refreshes itself from /status.json every
//                     2 s, and lists recent failures from /api/v1/failures when given the query token
//   GET /status.json  tracewatch.status.v1: throughput, open sessions, the verdict mix of the last
//                     hour, alerts firing, work queues, partitions and lag. Aggregates only — no
//                     session content, no configuration value — so it needs no token; what names
//                     sessions (recent failures, alert examples) stays behind the query token.
//
// Thread: the handlers run on the server's threads. They read probes, the health checks and the
// results kept in state (a RocksDB snapshot per request); the throughput sampler's mutex is taken
// by these handlers alone, never by a stage.
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <string_view>

#include "http/health.hpp"
#include "http/payloads.hpp"
#include "http/pipeline_view.hpp"
#include "http/server.hpp"
#include "model/clock.hpp"
#include "privacy/redactor.hpp"

namespace tw::http {

// Rates over the last minute, from the counters seen at each request (at most one point a second).
// Thread-safe.
class rate_sampler {
 public:
  std::optional<payloads::status_report::rates> sample(wall_time now, uint64_t records, uint64_t sessions,
                                                       uint64_t verdicts);

 private:
  struct point {
    wall_time at;
    uint64_t records, sessions, verdicts;
  };
  std::mutex mutex_;
  std::deque<point> points_;  // oldest first, at least a second apart, spanning at most a minute
};

struct status_settings {
  health_settings health;
  bool queries_enabled = false;  // a query token is configured
  duration retention{0};         // query.retention
  wall_time started;             // when the process started serving (uptime)
  // PII redaction (privacy.redact): the alerts firing carry labels and example session ids.
  std::shared_ptr<const privacy::redactor> redactor;
};

// What /status.json says now.
payloads::status_report collect_status(const pipeline_view& v, const status_settings& s, rate_sampler& rates,
                                       wall_time now);

// The page itself.
std::string_view status_page_html();

// Registers / and /status.json. `v` and `clk` must outlive the server's threads.
void add_status_endpoints(server& srv, const pipeline_view& v, status_settings s, const clock& clk);

}  // namespace tw::http
