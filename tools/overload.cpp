// tw_overload: a backlog far larger than the pipeline's buffers is worked off with bounded memory,
// and gives what a replay of the same data gives.
//
// What it proves, when it exits 0: with --events (default 2,000,000) events pre-produced to an
// input topic of --partitions (512: the mock broker keeps ~5 MB per partition) partitions,
// `tracewatch run` with the default settings — except completion.gap=5s and
// time.idle_timeout=2s, so that the tail closes within seconds once the input is consumed, and
// diagnostics.interval=1ms, without which the default rate limit (one per 250 ms) would need
// hours for the ~26,000 failures — works off the whole backlog:
//   - its RSS (VmRSS sampled every 100 ms, and VmHWM) stays under --rss-limit-mb (default 768;
//     docs/operations.md gives the measured figures and what the bound is made of);
//   - every generated call came out as a session that agrees with its plan;
//   - its sessions, verdicts and diagnostics equal — identity by identity, byte for byte —
//     those of `tracewatch replay --topic <input> --flush` of the same data with the same
//     settings, and it wrote the same dead letters (none).
// Differences are reported per topic, with the JSON members in which they differ.
//
// Until topics.watermarks lands (scenario.hpp), a session the live run closed because the input
// went idle is closed by the replay's --flush instead; should the two differ for the sessions
// still open when the input ended, the report counts them by the JSON members that differ (e.g.
// window.reason, window.closed_at). Measured on the code before it: no difference.
//
// Exit codes: 0 no difference · 1 the harness could not run the scenario · 2 usage ·
//             3 ran, and found differences (the report says which).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tools/fault/scenario.hpp"

#ifndef TW_BINARY
#define TW_BINARY "tracewatch"
#endif
#ifndef TW_MOCK_BROKER
#define TW_MOCK_BROKER "tw_mock_broker"
#endif

namespace tw::fault {
namespace {

struct options {
  size_t events = 2000000;
  int partitions = 512;
  uint64_t data_seed = 21;
  int rss_limit_mb = 768;
  int deadline_s = 1200;
  std::string binary = TW_BINARY;
  std::string broker = TW_MOCK_BROKER;
  bool keep = false;
  std::vector<std::string> settings;  // extra --set for the live run and the replay
};

void usage() {
  std::printf(
      "usage: tw_overload [--events N] [--partitions P] [--rss-limit-mb MB] [--deadline S]\n"
      "                   [--binary PATH] [--broker PATH] [--set KEY=VALUE]... [--keep]\n"
      "  --events N        at least N events, pre-produced (default 2000000)\n"
      "  --partitions P    input partitions (default 512; the mock keeps ~5 MB per partition)\n"
      "  --rss-limit-mb    the live run's RSS bound (default 768)\n"
      "  --set K=V         a tracewatch option for the live run and the replay (repeatable),\n"
      "                    e.g. kafka.consumer.queued.max.messages.kbytes=16384\n");
}

options parse(int argc, char** argv) {
  options o;
  for (arguments args(argc, argv, usage); args.next();) {
    if (args.is("--events")) o.events = std::stoull(args.value());
    else if (args.is("--partitions")) o.partitions = std::stoi(args.value());
    else if (args.is("--rss-limit-mb")) o.rss_limit_mb = std::stoi(args.value());
    else if (args.is("--deadline")) o.deadline_s = std::stoi(args.value());
    else if (args.is("--binary")) o.binary = args.value();
    else if (args.is("--broker")) o.broker = args.value();
    else if (args.is("--set")) o.settings.push_back(args.value());
    else if (args.is("--keep")) o.keep = true;
    else args.unknown();
  }
  if (o.partitions < 1 || o.partitions > 4000) throw std::invalid_argument("--partitions must be in 1..4000");
  return o;
}

// Peak RSS, and every 10 s the RSS with how far the outputs got (where a backlog sits).
struct rss_trace {
  long peak_kb = 0;
  std::vector<std::string> every_10s;
  steady::time_point next = steady::now();
  void sample(process& p, const run_tracker* progress = nullptr) {
    auto m = p.memory();
    if (m.rss_kb < 0) return;
    peak_kb = std::max({peak_kb, m.rss_kb, m.hwm_kb});
    if (steady::now() >= next) {
      std::string at = std::to_string(m.rss_kb / 1024) + " MB";
      if (progress)
        at += " (" + std::to_string(progress->outputs().sessions.by_identity.size()) + "/" +
              std::to_string(progress->outputs().verdicts.by_identity.size()) + "/" +
              std::to_string(progress->outputs().diagnostics.by_identity.size()) + ")";
      every_10s.push_back(at);
      next += std::chrono::seconds(10);
    }
  }
  std::string timeline() const {
    std::string t;
    for (size_t i = 0; i < every_10s.size(); ++i) t += (i % 6 == 0 ? "\n    " : ", ") + every_10s[i];
    return t;
  }
};

void read_lines_into(const std::string& path, output_set& out) {
  std::ifstream f(path, std::ios::binary);
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) out.add(line);
}

int run(const options& o) {
  const auto t0 = steady::now();
  const auto deadline = t0 + std::chrono::seconds(o.deadline_s);
  work_dir work("tw-overload", o.keep);
  const std::string dir = work.path();
  std::printf("tw_overload: work dir %s\n", dir.c_str());
  std::fflush(stdout);

  auto input = generate_input(o.data_seed, o.events, std::chrono::milliseconds(1000));
  const bool watermarks = true;  // every run records its watermark decisions (scenario.hpp)
  const topic_spec input_topic{"overload.input", o.partitions};
  const run_names live = names_for("live", dir);
  output_partitions parts;
  parts.sessions = 256;  // ~100,000 sessions of ~5 KB, under ~5 MB per partition
  parts.verdicts = 128;
  parts.diagnostics = 32;
  parts.deadletter = 4;
  std::vector<topic_spec> topics{input_topic};
  for (const auto& t : output_topics(live, parts, watermarks)) topics.push_back(t);
  broker_process broker(o.broker, topics, dir + "/broker.log");
  const auto largest = produce_input(broker.bootstrap(), input_topic, input);
  std::printf("input: %zu calls, %zu events in %zu messages (%.1f MB), %d partitions (largest %lld messages), "
              "produced after %.0f s; watermarks topics: %s\n",
              input.plans.size(), input.events, input.messages.size(), static_cast<double>(input.payload_bytes) / 1e6,
              o.partitions, static_cast<long long>(largest), seconds_since(t0), watermarks ? "yes" : "no (not supported)");
  std::fflush(stdout);
  std::vector<sim::message>().swap(input.messages);  // the broker holds them now; keep only the plans

  std::vector<std::string> settings{"completion.gap=5s", "time.idle_timeout=2s", "diagnostics.interval=1ms",
                                    "diagnostics.burst=1000"};
  for (const auto& s : o.settings) settings.push_back(s);
  run_command_line cmd;
  cmd.binary = o.binary;
  cmd.brokers = broker.bootstrap();
  cmd.input_topic = input_topic.name;
  cmd.watermarks = watermarks;
  cmd.settings = settings;

  std::vector<std::string> problems;
  run_tracker out(broker.bootstrap(), live, parts);
  rss_trace rss;
  const auto live_start = steady::now();
  auto p = process::start(run_argv(cmd, live), process_options{"", dir + "/live.log"});
  settled end = settled::timed_out;
  while (steady::now() < deadline) {
    rss.sample(*p, &out);
    // Quiet only after long: with 512 partitions the first sessions complete only once every
    // partition has been read past them (the watermark is their minimum), which takes most of
    // the backlog.
    end = wait_settled(out, input.plans, *p, 3s, 180s, 100ms);
    if (end != settled::timed_out) break;
  }
  rss.sample(*p, &out);
  const double live_s = seconds_since(live_start);
  auto code = stop(*p, 60s);
  out.read_to_end();
  std::printf("live run: %s after %.0f s (%.0f events/s), exit %s; peak RSS %ld MB (limit %d MB)\n"
              "  RSS every 10 s (sessions/verdicts/diagnostics out so far):%s\n",
              to_string(end), live_s, static_cast<double>(input.events) / live_s,
              code ? std::to_string(*code).c_str() : "none", rss.peak_kb / 1024, o.rss_limit_mb,
              rss.timeline().c_str());
  std::fflush(stdout);
  if (end != settled::complete) problems.push_back(std::string("the live run did not complete: ") + to_string(end));
  if (!code || *code != 0) problems.push_back("the live run's SIGTERM did not end with exit 0");
  if (rss.peak_kb > o.rss_limit_mb * 1024L)
    problems.push_back("peak RSS " + std::to_string(rss.peak_kb / 1024) + " MB over the limit of " +
                       std::to_string(o.rss_limit_mb) + " MB");

  // --- the replay of the same topic
  std::vector<std::string> replay{o.binary,
                                  "replay",
                                  "--topic",
                                  input_topic.name,
                                  "--flush",
                                  "--out",
                                  dir + "/replay.sessions.jsonl",
                                  "--verdicts-out",
                                  dir + "/replay.verdicts.jsonl",
                                  "--diagnostics-out",
                                  dir + "/replay.diagnostics.jsonl",
                                  "--deadletter-out",
                                  dir + "/replay.deadletter.jsonl",
                                  "--alerts-out",
                                  dir + "/replay.alerts.jsonl",
                                  "--state-dir",
                                  dir + "/replay.state",
                                  "--set",
                                  "kafka.bootstrap.servers=" + broker.bootstrap(),
                                  "--set",
                                  "topics.sessions=" + live.sessions,
                                  "--set",
                                  "topics.verdicts=" + live.verdicts,
                                  "--set",
                                  "topics.diagnostics=" + live.diagnostics,
                                  "--set",
                                  "topics.deadletter=" + live.deadletter,
                                  "--set",
                                  "topics.alerts=" + live.alerts};
  if (watermarks) {
    replay.push_back("--set");
    replay.push_back(std::string(watermarks_option) + "=" + live.watermarks);  // the live run's idle advances
    replay.push_back("--set");
    replay.push_back("kafka.group.id=" + live.group);  // a replay follows the decisions of its own group
  }
  for (const auto& s : settings) {
    replay.push_back("--set");
    replay.push_back(s);
  }
  const auto replay_start = steady::now();
  auto r = process::start(replay, process_options{"", dir + "/replay.log"});
  rss_trace replay_rss;
  std::optional<int> replay_code;
  while (!(replay_code = r->wait_exit(100ms))) {
    replay_rss.sample(*r);
    if (steady::now() > deadline) {
      r->signal(SIGKILL);
      throw harness_error("the replay did not finish before the deadline");
    }
  }
  std::printf("replay --topic --flush: exit %d after %.0f s, peak RSS %ld MB; RSS every 10 s:%s\n", *replay_code,
              seconds_since(replay_start), replay_rss.peak_kb / 1024, replay_rss.timeline().c_str());
  if (*replay_code != 0) throw harness_error("the replay failed; its log: " + dir + "/replay.log");

  run_outputs replayed;
  read_lines_into(dir + "/replay.sessions.jsonl", replayed.sessions);
  read_lines_into(dir + "/replay.verdicts.jsonl", replayed.verdicts);
  read_lines_into(dir + "/replay.diagnostics.jsonl", replayed.diagnostics);
  read_lines_into(dir + "/replay.deadletter.jsonl", replayed.deadletter);
  read_lines_into(dir + "/replay.alerts.jsonl", replayed.alerts);
  run_outputs live_outputs = out.outputs();
  // The replay's --flush drains the alert windows the live run left open: its later events are
  // not compared (tools/fault/outputs.hpp, same_alert_horizon).
  print(same_alert_horizon(replayed, live_outputs), "replay", "live", stdout);
  auto diff = compare(replayed, live_outputs);
  print(diff, "replay", "live", stdout);
  std::printf("\n");
  auto live_plans = check_plans(out.outputs().sessions, input.plans);
  auto replay_plans = check_plans(replayed.sessions, input.plans);
  print(live_plans, "live", stdout);
  print(replay_plans, "replay", stdout);
  std::printf("\nlog lines at warn/error, live run:\n");
  for (const auto& l : log_problems(dir + "/live.log")) std::printf("    %s\n", l.c_str());

  for (const auto& pr : problems) std::printf("  ** PROBLEM: %s\n", pr.c_str());
  const bool ok = problems.empty() && diff.clean() && live_plans.clean() && replay_plans.clean();
  std::printf("\n%s after %.0f s\n", ok ? "PASS" : "FAIL", seconds_since(t0));
  if (ok) work.passed();
  return ok ? 0 : 3;
}

}  // namespace
}  // namespace tw::fault

int main(int argc, char** argv) {
  return tw::fault::tool_main("tw_overload", argc, argv, tw::fault::parse, tw::fault::usage, tw::fault::run);
}
