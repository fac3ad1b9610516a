#include "http/ops_endpoints.hpp"

#include <cstdlib>

#include "config/values.hpp"
#include "http/metrics.hpp"
#include "http/query_endpoints.hpp"
#include "http/status_page.hpp"
#include "privacy/redactor.hpp"
#include "model/log.hpp"

namespace tw::http {

namespace {
constexpr const char* json_type = "application/json";
// What Prometheus asks for and expects (the text format, version 0.0.4).
constexpr const char* exposition_type = "text/plain; version=0.0.4; charset=utf-8";
}  // namespace

health_settings health_settings_from(const config::settings& s) {
  health_settings h;
  h.stall_timeout = s.http.stall_timeout;
  h.ready_max_lag = static_cast<uint64_t>(s.http.ready_max_lag);
  h.start_from_latest = s.input.start_from == "latest";
  return h;
}

void add_ops_endpoints(server& srv, const pipeline_view& v, const health_settings& s, const clock& clk) {
  srv.get("/healthz", [&v, s, &clk](const request&) {
    const bool stopping = v.stopping();
    auto alive = check_liveness(v.probes(), v.failure(), stopping, s, clk.now());
    return response{alive.ok ? 200 : 503, json_type, to_json(alive, stopping), {}};
  });
  srv.get("/readyz", [&v, s, &clk](const request&) {
    const bool stopping = v.stopping();
    auto alive = check_liveness(v.probes(), v.failure(), stopping, s, clk.now());
    auto ready = check_readiness(v.probes(), alive, stopping, s);
    return response{ready.ok ? 200 : 503, json_type, to_json(ready, s), {}};
  });
  srv.get("/metrics", [&v, s, &clk, &srv](const request&) {
    return response{200, exposition_type, render_metrics(v, s, srv.stats(), clk.now()), {}};
  });
}

std::unique_ptr<server> start_ops_server(const config::settings& s, const pipeline_view& v, const clock& clk,
                                         std::string& error) {
  if (!s.http.enabled) return nullptr;
  auto token = resolve_query_token(s, [](const char* name) { return std::getenv(name); });
  if (token.error) {
    error = *token.error;
    return nullptr;
  }
  auto srv = std::make_unique<server>(
      server_settings{s.http.listen_host, s.http.listen_port, static_cast<size_t>(s.http.threads)});
  const auto health = health_settings_from(s);
  add_ops_endpoints(*srv, v, health, clk);
  std::string privacy_error;
  auto redactor = privacy::redactor_from(s, privacy_error);
  if (!privacy_error.empty()) {
    error = privacy_error;
    return nullptr;
  }
  add_status_endpoints(*srv, v, status_settings{health, token.token.has_value(), s.query.retention, clk.now(), redactor},
                       clk);
  add_query_endpoints(*srv, v, query_endpoint_settings{token.token, s.query.retention, redactor});
  if (auto err = srv->start()) {
    error = "http.listen: " + *err;
    return nullptr;
  }
  log::info("http server listening",
            {{"address", srv->bound_address()},
             {"endpoints", "/ /status.json /healthz /readyz /metrics /api/v1/{session,verdicts,failures,alerts}"}});
  // Where the token came from, never the token.
  if (token.token)
    log::info("query endpoints on", {{"token_from", token.token->source},
                                    {"retention", config::format_duration(s.query.retention)}});
  else
    log::warn("query endpoints off: no query token is configured; they answer 403 (set query.token or the "
              "environment variable named by query.token_env)",
              {{"token_env", s.query.token_env}});
  return srv;
}

}  // namespace tw::http
