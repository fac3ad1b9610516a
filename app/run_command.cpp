// `tracewatch run`: the live pipeline against a Kafka cluster, until SIGTERM/SIGINT.
#include <csignal>
#include <iostream>

#include "actors/pipeline.hpp"
#include "app/commands.hpp"
#include "app/config_support.hpp"
#include "app/signals.hpp"
#include "http/ops_endpoints.hpp"
#include "model/log.hpp"

namespace tw::app {

int run_command(const config_source& src) {
  auto s = load_settings(src);
  if (!s) return exit_usage;
  configure_logging(*s);
  block_shutdown_signals();
  actors::pipeline p(*s, system_clock::instance());
  // Up before the state opens, so that /readyz can say it is restoring. Stopped (destroyed)
  // before the pipeline it reads.
  http::live_pipeline_view view(p);
  std::string http_error;
  auto ops = http::start_ops_server(*s, view, system_clock::instance(), http_error);
  if (!http_error.empty()) {
    log::error("cannot start", {{"error", http_error}});
    return exit_failure;
  }
  auto started = p.start_live();
  if (!started.ok) {
    log::error("cannot start", {{"error", started.error}});
    return exit_failure;
  }
  while (true) {
    if (auto sig = wait_for_shutdown_signal(std::chrono::milliseconds(200))) {
      log::info("shutting down", {{"signal", *sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      break;
    }
    if (p.failed()) break;
  }
  p.request_stop();
  auto r = p.wait();
  if (ops) ops->stop();
  const auto& probes = p.probes();
  log::info("run finished",
            {{"records", probes.importer.records.load()},
             {"sessions_emitted", probes.engine.revisions_emitted.load()},
             {"dead_letters", probes.engine.dead_letters.load()},
             {"verdicts", probes.judge.judged.load()},
             {"diagnostics", probes.diagnostic.diagnosed.load()},
             {"alerts_fired", probes.alerts.fired.load()},
             {"cost_reported", probes.engine.cost_reported.load()},
             {"cost_computed", probes.engine.cost_computed.load()},
             {"cost_mixed", probes.engine.cost_mixed.load()},
             {"calls_unpriced", probes.engine.calls_unpriced.load()},
             {"group_commits", probes.group_commits.commits.load()},
             {"group_commits_failed", probes.group_commits.commits_failed.load()}});
  if (!r.ok) {
    log::error("stopped after a failure", {{"error", r.error}});
    return exit_failure;
  }
  return exit_ok;
}

}  // namespace tw::app
