// tracewatch: judges the conversations of LLM agents from their traces on Kafka.
//
//   tracewatch run     --config FILE [--set key=value ...]   the live pipeline
//   tracewatch replay  FILE [--out FILE] [--flush] ...        a file of messages, same code path
//   tracewatch demo    [--duration 60s] ...                   embedded broker + synthetic calls
//   tracewatch generate [-n EVENTS] [--topic T | -o FILE]     synthetic calls (load generator)
//   tracewatch judge   SESSIONS [--rules FILE] [-o FILE]      judgement alone (backtesting rules)
//   tracewatch rules   check FILE                             validate a rules file (judgement and alerts)
//   tracewatch alerts  backtest HISTORY [--rules F] [--against F]  what alert rules would have fired
//   tracewatch config  check|show|docs                        configuration tools
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/commands.hpp"

namespace {

void add_config_options(CLI::App* cmd, tw::app::config_source& src) {
  cmd->add_option("-c,--config", src.file, "YAML configuration file")->check(CLI::ExistingFile);
  cmd->add_option("--set", src.overrides, "Override one option: key=value (repeatable); see `tracewatch config docs`")
      ->allow_extra_args(false);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tw::app;
  CLI::App app{"tracewatch: judges LLM-agent conversations from their traces on Kafka"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tracewatch 0.1.0");

  config_source run_cfg;
  auto* run = app.add_subcommand("run", "Run the live pipeline against a Kafka cluster until SIGTERM/SIGINT");
  add_config_options(run, run_cfg);

  replay_args replay;
  auto* rp = app.add_subcommand("replay",
                                "Replay a file of messages (one per line), or Kafka topics up to their current end, "
                                "through the pipeline");
  auto* input_opt = rp->add_option("input", replay.input, "Input file, one message per line; - for stdin");
  auto* topic_opt = rp->add_option("--topic", replay.topics,
                                   "Replay this Kafka topic from its earliest retained message to its current end "
                                   "(repeatable; brokers from kafka.bootstrap.servers)");
  input_opt->excludes(topic_opt);
  rp->callback([&] {
    if (replay.input.empty() && replay.topics.empty()) throw CLI::RequiredError("an input file or --topic");
  });
  add_config_options(rp, replay.cfg);
  rp->add_option("-o,--out", replay.out, "Write sessions here instead of stdout");
  rp->add_option("--deadletter-out", replay.deadletter_out, "Write dead letters here (otherwise only counted)");
  rp->add_option("--state-dir", replay.state_dir,
                 "Keep the state here (default: a temporary directory; state.dir is not used, so a replay never "
                 "touches a live run's state)");
  rp->add_option("--verdicts-out", replay.verdicts_out, "Write verdicts here (otherwise only counted)");
  rp->add_option("--diagnostics-out", replay.diagnostics_out, "Write diagnostics here (otherwise only counted)");
  rp->add_option("--alerts-out", replay.alerts_out,
                 "Write alert events (tracewatch.alert.v1) here (otherwise only counted): a backtest of the alert "
                 "rules on this history");
  rp->add_flag("--flush", replay.flush, "Complete the sessions still open at the end of the input");
  rp->add_flag("--ignore-watermarks", replay.ignore_watermarks,
               "With --topic: do not take the watermark decisions a live run of the same consumer group recorded "
               "(topics.watermarks); the data alone decides, so sessions the live run closed because input was idle "
               "may close differently");

  judge_args judge;
  auto* jd = app.add_subcommand("judge",
                                "Judge completed sessions (tracewatch.session.v1, one per line) again: backtest a "
                                "rules change without re-importing traces");
  jd->add_option("input", judge.input, "Sessions file, one per line; - for stdin")->required();
  add_config_options(jd, judge.cfg);
  jd->add_option("-r,--rules", judge.rules, "Rules file to judge with (overrides judge.rules)");
  jd->add_option("-o,--out", judge.out, "Write verdicts here instead of stdout");
  jd->add_option("--diagnostics-out", judge.diagnostics_out, "Write diagnostics here (otherwise only counted)");

  demo_args demo;
  auto* dm = app.add_subcommand("demo", "Embedded broker, synthetic calls and the live pipeline, printing sessions");
  add_config_options(dm, demo.cfg);
  dm->add_option("-d,--duration", demo.duration, "Stop after this long (e.g. 60s); default: until Ctrl-C");
  dm->add_option("--calls-per-second", demo.calls_per_second, "New calls per second")->capture_default_str();
  dm->add_option("--seed", demo.seed, "Seed of the call generator")->capture_default_str();
  dm->add_option("--brokers", demo.brokers, "Use this Kafka cluster instead of the embedded one");
  dm->add_option("--state-dir", demo.state_dir, "Keep the state here (default: a temporary directory)");
  dm->add_flag("-q,--quiet", demo.quiet, "Print only the summary");
  dm->add_option("--incident-at", demo.incident_at, "The tool outage starts this long after the start")
      ->capture_default_str();
  dm->add_option("--incident-for", demo.incident_for, "How long the tool outage lasts (0s: none)")->capture_default_str();

  generate_args gen;
  auto* gn = app.add_subcommand("generate", "Write synthetic calls (Langfuse events) to a file or a Kafka topic");
  gn->add_option("-n,--events", gen.events, "At least this many events (whole calls)")->capture_default_str();
  gn->add_option("--seed", gen.seed, "Seed")->capture_default_str();
  gn->add_option("--start", gen.start, "Event time of the first call (ISO-8601)")->capture_default_str();
  gn->add_option("--spacing", gen.spacing, "Time between call starts")->capture_default_str();
  auto* gen_out = gn->add_option("-o,--out", gen.out, "Write messages here, one per line (default stdout)");
  auto* gen_topic = gn->add_option("--topic", gen.topic, "Produce to this Kafka topic instead");
  gn->add_option("--brokers", gen.brokers, "Kafka brokers for --topic")->capture_default_str();
  gen_out->excludes(gen_topic);

  auto* rules = app.add_subcommand("rules", "Rules tools");
  rules->require_subcommand(1);
  std::string rules_path;
  auto* rules_check = rules->add_subcommand("check", "Validate a rules file; exit 2 names what is wrong and where");
  rules_check->add_option("file", rules_path, "Rules file (or builtin:scheduling)")->required();

  auto* alerts_cmd = app.add_subcommand("alerts", "Alert tools");
  alerts_cmd->require_subcommand(1);
  alerts_backtest_args backtest;
  auto* bt = alerts_cmd->add_subcommand(
      "backtest", "What the alert rules would have fired and resolved on a history of sessions or verdicts "
                  "(tracewatch.session.v1 or tracewatch.verdict.v1, one per line), in event time");
  bt->add_option("input", backtest.input, "History file, one document per line; - for stdin")->required();
  add_config_options(bt, backtest.cfg);
  bt->add_option("-r,--rules", backtest.rules, "Alert rules to evaluate (overrides alerts.rules)");
  bt->add_option("--against", backtest.against,
                 "Previous alert rules: print the difference of their alert events ('-' only before, '+' only now)");
  bt->add_option("-o,--out", backtest.out, "Write alert events (or the difference) here instead of stdout");

  auto* cfg = app.add_subcommand("config", "Configuration tools");
  cfg->require_subcommand(1);
  config_source check_cfg, show_cfg;
  auto* check = cfg->add_subcommand("check", "Validate a configuration; exit 2 naming the key when it is bad");
  add_config_options(check, check_cfg);
  auto* show = cfg->add_subcommand("show", "Print the effective configuration (defaults, file, overrides)");
  add_config_options(show, show_cfg);
  auto* docs = cfg->add_subcommand("docs", "Print the configuration reference (docs/configuration.md)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports usage errors and --help by exception; this is its boundary.
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }
  if (*run) return run_command(run_cfg);
  if (*rp) return replay_command(replay);
  if (*jd) return judge_command(judge);
  if (*rules_check) return rules_check_command(rules_path);
  if (*bt) return alerts_backtest_command(backtest);
  if (*dm) return demo_command(demo);
  if (*gn) return generate_command(gen);
  if (*check) return config_check_command(check_cfg);
  if (*show) return config_show_command(show_cfg);
  if (*docs) return config_docs_command();
  return exit_usage;
}
