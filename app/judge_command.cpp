// `tracewatch judge FILE`: judgement alone, from completed sessions (tracewatch.session.v1, one per
// line, as the sessions topic or `replay --out` holds them), with the configured rules or
// --rules. Backtests a rules change without re-importing traces: the same judge and diagnostic
// stages as a live run, at full speed, without calling the webhook.
//
// `tracewatch rules check FILE`: validates a rules file; exit 2 names the place that is wrong.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "actors/pipeline.hpp"
#include "app/commands.hpp"
#include "app/config_support.hpp"
#include "judge/judge.hpp"
#include "model/log.hpp"

namespace tw::app {

int judge_command(const judge_args& a) {
  config_source src = a.cfg;
  if (a.rules) src.overrides.push_back("judge.rules=" + *a.rules);
  auto s = load_settings(src);
  if (!s) return exit_usage;
  configure_logging(*s);

  std::string tmpl = (std::filesystem::temp_directory_path() / "tracewatch-judge-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    std::cerr << "tracewatch: cannot create a temporary state directory\n";
    return exit_failure;
  }
  s->state.dir = tmpl;
  std::ofstream out_file, diag_file;
  std::ostream* out = &std::cout;
  if (a.out) {
    out_file.open(*a.out, std::ios::binary | std::ios::trunc);
    if (!out_file) {
      std::cerr << "tracewatch: cannot write " << *a.out << "\n";
      return exit_usage;
    }
    out = &out_file;
  }
  std::ostream* diagnostics = nullptr;
  if (a.diagnostics_out) {
    diag_file.open(*a.diagnostics_out, std::ios::binary | std::ios::trunc);
    if (!diag_file) {
      std::cerr << "tracewatch: cannot write " << *a.diagnostics_out << "\n";
      return exit_usage;
    }
    diagnostics = &diag_file;
  }
  int code = exit_ok;
  {
    actors::pipeline p(*s, system_clock::instance());
    actors::judge_options opts;
    opts.input_path = a.input;
    opts.verdicts_out = out;
    opts.diagnostics_out = diagnostics;
    auto r = p.run_judge(opts);
    const auto& pr = p.probes();
    log::info("judging finished", {{"sessions", pr.judge.judged.load()},
                                   {"pass", pr.judge.by_verdict[0].load()},
                                   {"fail", pr.judge.by_verdict[1].load()},
                                   {"partial", pr.judge.by_verdict[2].load()},
                                   {"error", pr.judge.by_verdict[3].load()},
                                   {"abandoned", pr.judge.by_verdict[4].load()},
                                   {"diagnostics", pr.diagnostic.diagnosed.load()},
                                   {"invalid_lines", pr.judge.invalid.load()}});
    if (!r.ok) {
      log::error("judging failed", {{"error", r.error}});
      code = exit_failure;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  return code;
}

int rules_check_command(const std::string& path) {
  auto r = path.rfind("builtin:", 0) == 0 && path == "builtin:scheduling" ? judge::builtin_rules()
                                                                          : judge::load_rules_file(path);
  if (!r) {
    std::cerr << "tracewatch: rules error: " << path << ": " << r.error->to_string() << "\n";
    return exit_usage;
  }
  std::cout << "rules ok (version " << judge::rules_version(*r.rules) << ")\n";
  return exit_ok;
}

}  // namespace tw::app
