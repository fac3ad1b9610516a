// `tracewatch replay FILE` / `tracewatch replay --topic T`: a file of messages, one per line, or
// Kafka topics up to their current end, through the same stages as a live run, with sessions
// written to stdout (or --out). State lives in a temporary directory unless
// --state-dir keeps it.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <tuple>

#include "actors/pipeline.hpp"
#include "app/commands.hpp"
#include "app/config_support.hpp"
#include "model/log.hpp"

namespace tw::app {

int replay_command(const replay_args& a) {
  auto s = load_settings(a.cfg);
  if (!s) return exit_usage;
  configure_logging(*s);

  std::filesystem::path temp;
  if (a.state_dir) {
    s->state.dir = *a.state_dir;
  } else {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tracewatch-replay-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::cerr << "tracewatch: cannot create a temporary state directory\n";
      return exit_failure;
    }
    temp = tmpl;
    s->state.dir = tmpl;
  }
  std::ofstream out_file, dl_file;
  std::ostream* out = &std::cout;
  if (a.out) {
    out_file.open(*a.out, std::ios::binary | std::ios::trunc);
    if (!out_file) {
      std::cerr << "tracewatch: cannot write " << *a.out << "\n";
      return exit_usage;
    }
    out = &out_file;
  }
  std::ofstream verdicts_file, diagnostics_file;
  std::ostream* dl = nullptr;
  std::ostream* verdicts = nullptr;
  std::ostream* diagnostics = nullptr;
  for (auto [path, file, stream] : {std::tuple{&a.deadletter_out, &dl_file, &dl},
                                    std::tuple{&a.verdicts_out, &verdicts_file, &verdicts},
                                    std::tuple{&a.diagnostics_out, &diagnostics_file, &diagnostics}}) {
    if (!*path) continue;
    file->open(**path, std::ios::binary | std::ios::trunc);
    if (!*file) {
      std::cerr << "tracewatch: cannot write " << **path << "\n";
      return exit_usage;
    }
    *stream = file;
  }

  int code = exit_ok;
  {
    actors::pipeline p(*s, system_clock::instance());
    actors::replay_options opts;
    opts.input_path = a.input;
    opts.topics = a.topics;
    opts.sessions_out = out;
    opts.deadletter_out = dl;
    opts.verdicts_out = verdicts;
    opts.diagnostics_out = diagnostics;
    opts.flush = a.flush;
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
               {"still_open", r.open_sessions}});
    if (!r.ok) {
      log::error("replay failed", {{"error", r.error}});
      code = exit_failure;
    } else if (r.open_sessions > 0) {
      std::string ids;
      for (const auto& id : r.open_session_ids) ids += (ids.empty() ? "" : ",") + id;
      log::warn("sessions still open at the end of the input (not completed: pass --flush to complete them)",
                {{"count", r.open_sessions}, {"first", ids}});
    }
  }
  if (!temp.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp, ec);
  }
  return code;
}

}  // namespace tw::app
