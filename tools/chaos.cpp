// tw_chaos: one correct answer per session whatever crashes and restarts do (issue 6).
//
// What it proves, when it exits 0: `tracewatch run`, killed at least --kills times at random
// moments and restarted on the same state directory each time, finally writes exactly what a
// crash-free run of the same input writes — on every output topic (sessions, verdicts,
// diagnostics), the same set of (session_id, revision) identities with the same bytes, no
// identity with two different payloads, the same dead letters (by source topic, partition,
// offset, index and reason) — and every call of the generator's plans came out as a session that
// agrees with its plan, in both runs. Repeats of identical records are allowed (at-least-once).
//
// How:
//   1. tw_mock_broker runs as a process of its own; the input topic has --partitions (128)
//      partitions, and every run has output topics of its own.
//   2. The input is generated (sim/call_generator.hpp: the generator's defaults, so producer
//      retries repeat messages and shuffled sends reorder them; keyed by trace id, so a call is
//      spread over partitions) and produced before any run starts. The broker must have kept
//      all of it (low watermarks 0).
//   3. The reference run — its own state directory, consumer group and output topics, the
//      deployment's default group session timeout — runs once, crash-free, alongside.
//   4. The chaos run is started --kills times on one state directory and one group, each time
//      stopped at a moment drawn from --seed:
//        --mode kill  SIGKILL during start-up (RocksDB open, restore, group join), right after
//                     the partitions were assigned, mid-batch, or during a SIGTERM drain
//                     (SIGTERM, then SIGKILL after a random short delay);
//        --mode term  SIGTERM at the same kinds of moments; each stop must end with exit 0.
//      A mid-batch or drain stop comes at its drawn delay, or sooner once the run has committed
//      its share of the input still to go (spread over the working stops left; the run commits
//      its durable positions to its consumer group every 250 ms), so that a fast machine does
//      not finish the input in the first few runs.
//      Then it runs to the end, and both runs' output topics are compared (tools/fault/outputs.hpp).
//
// The seed is printed first; --seed S repeats the schedule (the moments are drawn relative to
// what the run logs, so they repeat in kind and delay, not to the microsecond).
//
// Exit codes: 0 no difference · 1 the harness could not run the scenario · 2 usage ·
//             3 ran, and found differences (the report says which, with the first of each).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
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

enum class stop_mode { kill, term };

struct options {
  stop_mode mode = stop_mode::kill;
  int kills = 36;
  std::optional<uint64_t> seed;
  uint64_t data_seed = 6;
  size_t events = 400000;  // ~21,000 calls, as in issue 6
  int partitions = 128;
  std::string binary = TW_BINARY;
  std::string broker = TW_MOCK_BROKER;
  // A SIGKILLed member keeps its partitions until its group session expires, so a restart waits
  // that long plus the mock's fixed 3 s initial join delay. The session must outlast that delay
  // itself: the mock expires a member that waits in JoinGroup longer than its session timeout
  // (2000 ms never joined; 3000 ms joined; 3500 ms leaves a margin for a loaded machine).
  int session_timeout_ms = 3500;
  int heartbeat_ms = 300;
  int deadline_s = 540;  // the whole scenario; beyond it the harness gives up (exit 1)
  bool keep = false;
  std::vector<std::string> settings;  // extra --set for both runs
};

void usage() {
  std::printf(
      "usage: tw_chaos [--mode kill|term] [--kills N] [--seed S] [--events N] [--partitions P]\n"
      "                [--data-seed D] [--session-timeout-ms MS] [--heartbeat-ms MS] [--deadline S]\n"
      "                [--binary PATH] [--broker PATH] [--set KEY=VALUE]... [--keep]\n"
      "  --mode kill   SIGKILL at random moments (start-up, assignment, mid-batch, SIGTERM drain) [default]\n"
      "  --mode term   SIGTERM at random moments; every stop must exit 0\n"
      "  --kills N     stops before the final run (default 36); 0 compares two crash-free runs (the\n"
      "                harness's null test: it must report no difference)\n"
      "  --seed S      the kill schedule's seed (default: random, printed)\n"
      "  --events N    at least N generated events (default 400000, ~21,000 calls)\n"
      "  --partitions  input topic partitions (default 128)\n"
      "  --data-seed   the call generator's seed (default 6)\n"
      "  --set K=V     a tracewatch option for both runs (repeatable)\n"
      "  --keep        keep the work directory (logs, state) even when everything matched\n");
}

options parse(int argc, char** argv) {
  options o;
  for (arguments args(argc, argv, usage); args.next();) {
    if (args.is("--mode")) {
      auto v = args.value();
      if (v == "kill") o.mode = stop_mode::kill;
      else if (v == "term") o.mode = stop_mode::term;
      else throw std::invalid_argument("--mode is kill or term");
    } else if (args.is("--kills")) o.kills = std::stoi(args.value());
    else if (args.is("--seed")) o.seed = std::stoull(args.value());
    else if (args.is("--events")) o.events = std::stoull(args.value());
    else if (args.is("--partitions")) o.partitions = std::stoi(args.value());
    else if (args.is("--data-seed")) o.data_seed = std::stoull(args.value());
    else if (args.is("--session-timeout-ms")) o.session_timeout_ms = std::stoi(args.value());
    else if (args.is("--heartbeat-ms")) o.heartbeat_ms = std::stoi(args.value());
    else if (args.is("--deadline")) o.deadline_s = std::stoi(args.value());
    else if (args.is("--binary")) o.binary = args.value();
    else if (args.is("--broker")) o.broker = args.value();
    else if (args.is("--set")) o.settings.push_back(args.value());
    else if (args.is("--keep")) o.keep = true;
    else args.unknown();
  }
  if (o.kills < 0 || o.kills > 1000) throw std::invalid_argument("--kills must be in 0..1000");
  if (o.partitions < 1 || o.partitions > 2000) throw std::invalid_argument("--partitions must be in 1..2000");
  if (o.events < 1) throw std::invalid_argument("--events must be positive");
  return o;
}

// When, in one run of the chaos run, it is stopped.
enum class moment { startup, assignment, mid_batch, drain };
const char* to_string(moment m) {
  switch (m) {
    case moment::startup: return "start-up";
    case moment::assignment: return "assignment";
    case moment::mid_batch: return "mid-batch";
    case moment::drain: return "drain";
  }
  return "?";
}

struct planned_stop {
  moment when = moment::startup;
  std::chrono::milliseconds delay{0};        // after spawn (start-up) or after the assignment was logged
  std::chrono::milliseconds drain_delay{0};  // drain: SIGTERM to SIGKILL
};

// The schedule is drawn up front from the seed, so that it is the same whatever the runs do.
std::vector<planned_stop> draw_schedule(uint64_t seed, int kills, stop_mode mode) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](int lo, int hi) {  // our own mapping: portable across standard libraries
    return std::chrono::milliseconds(lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1)));
  };
  std::vector<planned_stop> out;
  for (int i = 0; i < kills; ++i) {
    planned_stop s;
    const auto r = rng() % 100;
    if (mode == stop_mode::kill) {
      s.when = r < 25 ? moment::startup : r < 45 ? moment::assignment : r < 80 ? moment::mid_batch : moment::drain;
    } else {
      s.when = r < 30 ? moment::startup : r < 50 ? moment::assignment : moment::mid_batch;
    }
    switch (s.when) {
      case moment::startup: s.delay = uniform(0, 3500); break;
      case moment::assignment: s.delay = uniform(0, 30); break;
      case moment::mid_batch: s.delay = uniform(50, 2500); break;
      case moment::drain:
        s.delay = uniform(50, 2500);
        s.drain_delay = uniform(0, 1500);
        break;
    }
    out.push_back(s);
  }
  return out;
}

bool logged_assignment(log_follower& log) {
  for (const auto& l : log.poll())
    if (l.find("msg=\"partition assigned\"") != std::string::npos) return true;
  return false;
}

int run(const options& o) {
  const auto t0 = steady::now();
  const uint64_t seed = o.seed ? *o.seed : std::random_device{}();
  const char* mode_name = o.mode == stop_mode::kill ? "kill" : "term";
  std::printf("tw_chaos: mode %s, seed %llu (repeat this schedule with --seed %llu)\n", mode_name,
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  work_dir work("tw-chaos", o.keep);
  const std::string dir = work.path();
  std::printf("work dir: %s\n", dir.c_str());
  std::fflush(stdout);

  const auto input = generate_input(o.data_seed, o.events, std::chrono::milliseconds(2000));
  const bool watermarks = true;  // every run records its watermark decisions (scenario.hpp)
  const topic_spec input_topic{"chaos.input", o.partitions};
  const run_names ref = names_for("reference", dir), chaos = names_for("chaos", dir);
  output_partitions ref_parts, chaos_parts;
  // The known defect dead-letters hundreds of thousands of events; keep them all (~5 MB each).
  chaos_parts.deadletter = 128;
  std::vector<topic_spec> topics{input_topic};
  for (const auto& t : output_topics(ref, ref_parts, watermarks)) topics.push_back(t);
  for (const auto& t : output_topics(chaos, chaos_parts, watermarks)) topics.push_back(t);
  broker_process broker(o.broker, topics, dir + "/broker.log");
  const auto largest = produce_input(broker.bootstrap(), input_topic, input);
  std::printf("input: %zu calls, %zu events in %zu messages (%.1f MB), %d partitions (largest %lld messages), "
              "produced in %.1f s; watermarks topics: %s\n",
              input.plans.size(), input.events, input.messages.size(), static_cast<double>(input.payload_bytes) / 1e6,
              o.partitions, static_cast<long long>(largest), seconds_since(t0), watermarks ? "yes" : "no (not supported)");
  std::fflush(stdout);

  run_command_line base;
  base.binary = o.binary;
  base.brokers = broker.bootstrap();
  base.input_topic = input_topic.name;
  base.watermarks = watermarks;
  base.settings = fast_settings();
  for (const auto& s : o.settings) base.settings.push_back(s);
  run_command_line ref_cmd = base, chaos_cmd = base;
  chaos_cmd.settings.push_back("kafka.consumer.session.timeout.ms=" + std::to_string(o.session_timeout_ms));
  chaos_cmd.settings.push_back("kafka.consumer.heartbeat.interval.ms=" + std::to_string(o.heartbeat_ms));
  chaos_cmd.settings.push_back("kafka.group_commit_interval=250ms");  // the schedule's measure of progress

  run_tracker ref_out(broker.bootstrap(), ref, ref_parts), chaos_out(broker.bootstrap(), chaos, chaos_parts);
  auto reference = process::start(run_argv(ref_cmd, ref), process_options{"", dir + "/reference.log"});

  // --- the schedule
  const auto schedule = draw_schedule(seed, o.kills, o.mode);
  const auto deadline = t0 + std::chrono::seconds(o.deadline_s);
  std::vector<std::string> problems;
  int after_assignment = 0, with_input_left = 0;
  // How far the chaos run has durably got: its commits to the group (kafka.group_commit_interval).
  group_offsets progress(broker.bootstrap(), chaos.group);
  const int64_t ninety_percent = static_cast<int64_t>(input.messages.size()) * 9 / 10;
  std::vector<int> working_stops_from(schedule.size() + 1, 0);  // mid-batch and drain stops from i on
  for (size_t i = schedule.size(); i-- > 0;)
    working_stops_from[i] = working_stops_from[i + 1] +
                            (schedule[i].when == moment::mid_batch || schedule[i].when == moment::drain ? 1 : 0);
  std::printf("\n%d stops (%s):\n", o.kills, o.mode == stop_mode::kill ? "SIGKILL" : "SIGTERM");
  for (int i = 0; i < o.kills; ++i) {
    if (steady::now() > deadline) throw harness_error("the scenario's deadline passed during the schedule");
    const auto& s = schedule[static_cast<size_t>(i)];
    const std::string log_path = dir + "/chaos." + std::to_string(i + 1) + ".log";
    const auto spawned = steady::now();
    auto p = process::start(run_argv(chaos_cmd, chaos), process_options{"", log_path});
    log_follower log(log_path);
    bool assigned = false, cut_by_share = false;
    double assigned_after = -1;
    // Waits for `cond` (or the process ending, or `limit`), polling the outputs meanwhile.
    auto wait_until = [&](auto cond, std::chrono::milliseconds limit) {
      const auto until = steady::now() + limit;
      while (!cond() && p->running() && steady::now() < until) {
        ref_out.poll(2ms);
        chaos_out.poll(3ms);
      }
    };
    auto check_assigned = [&] {
      if (!assigned && logged_assignment(log)) {
        assigned = true;
        assigned_after = seconds_since(spawned);
      }
      return assigned;
    };
    if (s.when == moment::startup) {
      wait_until([&] { check_assigned(); return steady::now() - spawned >= s.delay; }, s.delay + 1s);
    } else {
      wait_until(check_assigned, 60s);
      if (!assigned) problems.push_back("stop " + std::to_string(i + 1) + ": no partition assigned within 60 s");
      const auto from = steady::now();
      // A run on a fast machine can consume its input inside one drawn delay, and the stops after
      // it would then prove nothing. So each working stop also comes once the run has committed
      // its share of what is left: the input to go, spread over the working stops still to come.
      const int64_t at_start = progress.committed(input_topic);
      const int64_t left = std::max<int64_t>(0, ninety_percent - at_start);
      const int64_t share = std::max<int64_t>(1000, left / std::max(1, working_stops_from[static_cast<size_t>(i)]));
      auto checked = steady::now();
      wait_until(
          [&] {
            if (steady::now() - from >= s.delay) return true;
            if (steady::now() - checked < 100ms) return false;
            checked = steady::now();
            cut_by_share = progress.committed(input_topic) >= at_start + share;
            return cut_by_share;
          },
          s.delay + 1s);
    }
    const bool ran_until_stop = p->running();
    if (!ran_until_stop)
      problems.push_back("stop " + std::to_string(i + 1) + ": the run exited on its own with " +
                         std::to_string(p->exit_code().value_or(-1)) + " (" + log_path + ")");
    const size_t seen = chaos_out.sessions_seen();
    if (assigned) ++after_assignment;
    std::string what;
    if (o.mode == stop_mode::kill) {
      if (s.when == moment::drain) {
        p->signal(SIGTERM);
        auto code = p->wait_exit(s.drain_delay);
        what = code ? "SIGTERM, exited " + std::to_string(*code) + " before the SIGKILL"
                    : "SIGTERM, SIGKILL " + std::to_string(s.drain_delay.count()) + " ms later";
        if (!code) p->signal(SIGKILL);
        else if (*code != 0)
          problems.push_back("stop " + std::to_string(i + 1) + " (drain): " + what + " (" + log_path + ")");
      } else {
        p->signal(SIGKILL);
        what = "SIGKILL";
      }
      auto code = p->wait_exit(30s);
      if (!code) throw harness_error("a SIGKILLed run did not exit");
    } else {
      auto code = stop(*p, 60s);
      what = "SIGTERM, exit " + (code ? std::to_string(*code) : std::string("none within 60 s"));
      // Exit 0, or death by SIGTERM before tracewatch blocked the signal (it has then logged
      // nothing of its pipeline yet).
      const bool early = read_whole_file(log_path).find("msg=\"pipeline started\"") == std::string::npos;
      if (!code || !(*code == 0 || (*code == 128 + SIGTERM && early)))
        problems.push_back("stop " + std::to_string(i + 1) + " (" + to_string(s.when) + "): " + what + " (" +
                           log_path + ")");
    }
    // Stopped: what it committed is what the next run starts from.
    const int64_t committed = progress.committed(input_topic);
    if (committed < ninety_percent) ++with_input_left;
    std::printf("  %2d %-10s %5lld ms%s  %s; assigned %s; input committed %3lld%%; chaos sessions so far %zu, "
                "reference %zu\n",
                i + 1,
                to_string(s.when), static_cast<long long>(s.delay.count()),
                s.when == moment::startup ? " after spawn     "
                : cut_by_share           ? " (its share)     "
                                         : " after assignment",
                what.c_str(),
                assigned ? ("after " + std::to_string(assigned_after).substr(0, 4) + " s").c_str() : "no",
                static_cast<long long>(committed * 100 / static_cast<int64_t>(input.messages.size())), seen,
                ref_out.sessions_seen());
    std::fflush(stdout);
  }

  // --- the final run, and the end of the reference
  std::printf("\nfinal run of the chaos run, after %.0f s\n", seconds_since(t0));
  std::fflush(stdout);
  const std::string final_log = dir + "/chaos.final.log";
  auto last = process::start(run_argv(chaos_cmd, chaos), process_options{"", final_log});
  const auto remaining = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  };
  // Quiet counts from the final run's start: the silence of the stopped runs before it says
  // nothing about this one, which must first join the group and read what is left.
  chaos_out.restart_quiet();
  auto chaos_end = wait_settled(chaos_out, input.plans, *last, 3s, 60s, std::max(remaining(), 1000ms));
  auto chaos_code = stop(*last, 60s);
  auto ref_end = wait_settled(ref_out, input.plans, *reference, 3s, 20s, std::max(remaining(), 1000ms));
  auto ref_code = stop(*reference, 60s);
  std::printf("reference: %s, exit %s; chaos final run: %s, exit %s; after %.0f s\n", to_string(ref_end),
              ref_code ? std::to_string(*ref_code).c_str() : "none (killed)", to_string(chaos_end),
              chaos_code ? std::to_string(*chaos_code).c_str() : "none (killed)", seconds_since(t0));
  if (ref_end != settled::complete)
    throw harness_error(std::string("the reference run did not complete (") + to_string(ref_end) + "); log " + dir +
                        "/reference.log");
  if (!ref_code || *ref_code != 0) problems.push_back("the reference run's SIGTERM ended with no exit 0");
  if (!chaos_code || *chaos_code != 0) problems.push_back("the chaos run's final SIGTERM ended with no exit 0");

  ref_out.read_to_end();
  chaos_out.read_to_end();
  run_outputs ref_outputs = ref_out.outputs(), chaos_outputs = chaos_out.outputs();
  print(same_alert_horizon(ref_outputs, chaos_outputs), "reference", "chaos", stdout);
  auto diff = compare(ref_outputs, chaos_outputs);
  print(diff, "reference", "chaos", stdout);
  auto ref_plans = check_plans(ref_out.outputs().sessions, input.plans);
  auto chaos_plans = check_plans(chaos_out.outputs().sessions, input.plans);
  std::printf("\n");
  print(ref_plans, "reference", stdout);
  print(chaos_plans, "chaos", stdout);
  std::printf("  chaos repeats (identical re-deliveries, allowed): sessions %zu, verdicts %zu, diagnostics %zu, "
              "dead letters %zu\n",
              chaos_out.outputs().sessions.repeats, chaos_out.outputs().verdicts.repeats,
              chaos_out.outputs().diagnostics.repeats, chaos_out.outputs().deadletter.repeats);

  // The schedule must have hit the runs where it matters, or a pass would prove little.
  const int need = o.kills / 3;
  if (after_assignment < need)
    problems.push_back("only " + std::to_string(after_assignment) + " stops came after a partition assignment (need " +
                       std::to_string(need) + ")");
  if (with_input_left < need)
    problems.push_back("only " + std::to_string(with_input_left) +
                       " stops came while a tenth of the input was still to commit (need " + std::to_string(need) + ")");
  std::printf("  schedule: %d of %d stops after an assignment, %d while input was left\n", after_assignment, o.kills,
              with_input_left);

  std::printf("\nlog lines at warn/error, reference:\n");
  for (const auto& l : log_problems(dir + "/reference.log")) std::printf("    %s\n", l.c_str());
  std::printf("log lines at warn/error, chaos final run:\n");
  for (const auto& l : log_problems(final_log)) std::printf("    %s\n", l.c_str());

  for (const auto& p : problems) std::printf("  ** PROBLEM: %s\n", p.c_str());
  const bool ok = diff.clean() && ref_plans.clean() && chaos_plans.clean() && problems.empty();
  std::printf("\n%s after %.0f s (seed %llu)\n", ok ? "PASS" : "FAIL", seconds_since(t0),
              static_cast<unsigned long long>(seed));
  if (ok) work.passed();
  return ok ? 0 : 3;
}

}  // namespace
}  // namespace tw::fault

int main(int argc, char** argv) {
  return tw::fault::tool_main("tw_chaos", argc, argv, tw::fault::parse, tw::fault::usage, tw::fault::run);
}
