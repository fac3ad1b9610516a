// `tracewatch judge FILE`: judgement alone, from completed sessions (tracewatch.session.v1, one per
// line, as the sessions topic or `replay --out` holds them), with the configured rules or
// --rules. Backtests a rules change without re-importing traces: the same judge and diagnostic
// stages as a live run, at full speed, without calling the webhook.
//
// `tracewatch rules check FILE`: validates a rules file; exit 2 names the place that is wrong.
#include <yaml-cpp/yaml.h>

#include <iostream>

#include "actors/pipeline.hpp"
#include "app/commands.hpp"
#include "app/config_support.hpp"
#include "app/io_support.hpp"
#include "alerts/alerts.hpp"
#include "judge/judge.hpp"
#include "model/log.hpp"

namespace tw::app {

namespace {

// Whether the file has any top-level key of the judgement rules (docs/rules.md).
bool has_judgement_rules(const std::string& path) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap()) return true;  // let the judgement loader say what is wrong
    for (const char* key : {"intents", "intent_labels", "fallback_intent", "common_checks", "experts"})
      if (root[key].IsDefined()) return true;
    return false;
  } catch (const YAML::Exception&) {
    return true;  // the loaders report it, with the position
  }
}

}  // namespace

int judge_command(const judge_args& a) {
  config_source src = a.cfg;
  if (a.rules) src.overrides.push_back("judge.rules=" + *a.rules);
  auto s = load_settings(src);
  if (!s) return exit_usage;
  configure_logging(*s);

  scratch_dir scratch("tracewatch-judge");
  if (!scratch.ok()) return exit_failure;
  s->state.dir = scratch.path();
  output_file verdicts(a.out, &std::cout), diagnostics(a.diagnostics_out, nullptr);
  if (!verdicts.ok() || !diagnostics.ok()) return exit_usage;

  actors::pipeline p(*s, system_clock::instance());
  actors::judge_options opts;
  opts.input_path = a.input;
  opts.verdicts_out = verdicts.stream();
  opts.diagnostics_out = diagnostics.stream();
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
    return exit_failure;
  }
  return exit_ok;
}

// A file may hold judgement rules, alert rules (its `alerts` section), or both; builtin:scheduling
// names both built-in sets. Whatever is there is checked.
int rules_check_command(const std::string& path) {
  const bool builtin = path == "builtin:scheduling";
  auto a = builtin ? alerts::builtin_alert_rules() : alerts::load_alert_rules_file(path);
  if (!a) {
    std::cerr << "tracewatch: alert rules error: " << path << ": " << a.error->to_string() << "\n";
    return exit_usage;
  }
  const size_t alert_rules = alerts::rule_count(*a.rules);
  if (!builtin && alert_rules > 0 && !has_judgement_rules(path)) {
    std::cout << "alert rules ok (" << alert_rules << " rules)\n";
    return exit_ok;
  }
  auto r = builtin ? judge::builtin_rules() : judge::load_rules_file(path);
  if (!r) {
    std::cerr << "tracewatch: rules error: " << path << ": " << r.error->to_string() << "\n";
    return exit_usage;
  }
  std::cout << "rules ok (version " << judge::rules_version(*r.rules) << ")";
  if (alert_rules > 0) std::cout << "; alert rules ok (" << alert_rules << " rules)";
  std::cout << "\n";
  return exit_ok;
}

}  // namespace tw::app
