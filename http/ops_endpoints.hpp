// The operational endpoints on the server (docs/operations.md, "Health and metrics"):
//   GET /healthz   200 alive, 503 a stage failed or is wedged     JSON (http/health.hpp)
//   GET /readyz    200 ready, 503 with the reasons                JSON
//   GET /metrics   the Prometheus text format                    (http/metrics.hpp)
// No authentication: they say how the process is, not what the data holds, and listen on
// loopback unless http.listen says otherwise.
//
// Thread: the handlers run on the server's threads; they read the view and the clock only.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/settings.hpp"
#include "http/health.hpp"
#include "http/pipeline_view.hpp"
#include "http/server.hpp"
#include "model/clock.hpp"

namespace tw::http {

// The health settings the http.* and input.* options give.
health_settings health_settings_from(const config::settings& s);

// Registers the three routes. `v`, `clk` and `srv` must outlive the server's threads.
void add_ops_endpoints(server& srv, const pipeline_view& v, const health_settings& s, const clock& clk);

// With http.enabled: a server on http.listen with the operational endpoints, the status page
// (http/status_page.hpp) and the query endpoints (http/query_endpoints.hpp), started, its address
// logged (msg="http server listening" address=host:port), and whether queries are on and where
// their token came from (never the token). Null when disabled, or when it cannot start — then
// `error` says why, naming http.listen, or the environment variable holding a bad query token.
std::unique_ptr<server> start_ops_server(const config::settings& s, const pipeline_view& v, const clock& clk,
                                         std::string& error);

}  // namespace tw::http
