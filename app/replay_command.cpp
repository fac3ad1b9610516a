// `tracewatch replay FILE` / `tracewatch replay --topic T`: a file of messages, one per line, or
// Kafka topics up to their current end, through the same stages as a live run, with sessions
// written to stdout (or --out), verdicts and diagnostics to files when asked. State lives in a
// temporary directory unless --state-dir keeps it.
#include <iostream>

#include "actors/pipeline.hpp"
#include "app/commands.hpp"
#include "app/config_support.hpp"
#include "app/io_support.hpp"
#include "model/log.hpp"

namespace tw::app {

int replay_command(const replay_args& a) {
  auto s = load_settings(a.cfg);
  if (!s) return exit_usage;
  configure_logging(*s);

  std::optional<scratch_dir> scratch;
  if (a.state_dir) {
    s->state.dir = *a.state_dir;
  } else {
    scratch.emplace("tracewatch-replay");
    if (!scratch->ok()) return exit_failure;
    s->state.dir = scratch->path();
  }
  output_file sessions(a.out, &std::cout), dead_letters(a.deadletter_out, nullptr), verdicts(a.verdicts_out, nullptr),
      diagnostics(a.diagnostics_out, nullptr), alert_events(a.alerts_out, nullptr);
  for (auto* f : {&sessions, &dead_letters, &verdicts, &diagnostics, &alert_events})
    if (!f->ok()) return exit_usage;

  actors::pipeline p(*s, system_clock::instance());
  actors::replay_options opts;
  opts.input_path = a.input;
  opts.topics = a.topics;
  opts.sessions_out = sessions.stream();
  opts.deadletter_out = dead_letters.stream();
  opts.verdicts_out = verdicts.stream();
  opts.diagnostics_out = diagnostics.stream();
  opts.alerts_out = alert_events.stream();
  opts.flush = a.flush;
  opts.recorded_decisions = !a.ignore_watermarks;
  auto r = p.run_replay(opts);
  const auto& probes = p.probes();
  log::info("replay finished",
            {{"records", probes.importer.records.load()},
             {"observations", probes.importer.observations.load()},
             {"rejected", probes.importer.rejected.load()},
             {"sessions_emitted", probes.engine.revisions_emitted.load()},
             {"dead_letters", probes.engine.dead_letters.load()},
             {"verdicts", probes.judge.judged.load()},
             {"diagnostics", probes.diagnostic.diagnosed.load()},
             {"alerts_fired", probes.alerts.fired.load()},
             {"alerts_resolved", probes.alerts.resolved.load()},
             {"alert_groups", probes.alerts.groups.load()},
             {"alert_stage_cpu_ms", probes.alerts.cpu_us.load() / 1000},
             // Sessions emitted by where their cost came from (stats.cost_source), and the LLM
             // calls with tokens that no price (cost.prices) covered.
             {"cost_reported", probes.engine.cost_reported.load()},
             {"cost_computed", probes.engine.cost_computed.load()},
             {"cost_mixed", probes.engine.cost_mixed.load()},
             {"calls_unpriced", probes.engine.calls_unpriced.load()},
             {"still_open", r.open_sessions}});
  if (!r.ok) {
    log::error("replay failed", {{"error", r.error}});
    return exit_failure;
  }
  if (r.open_sessions > 0) {
    std::string ids;
    for (const auto& id : r.open_session_ids) ids += (ids.empty() ? "" : ",") + id;
    log::warn("sessions still open at the end of the input (not completed: pass --flush to complete them)",
              {{"count", r.open_sessions}, {"first", ids}});
  }
  return exit_ok;
}

}  // namespace tw::app
