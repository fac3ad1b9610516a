// tw_broker_faults: the brokers going away mid-run and coming back lose nothing, change nothing,
// do not make tracewatch's memory grow, and are told clearly in its log.
//
// What it proves, when it exits 0, for each fault (pause: the broker process is frozen with
// SIGSTOP, its connections open and unanswered; down: every connection is closed and new ones are
// refused, rd_kafka_mock_broker_set_down; down-expired: down, with a group session timeout
// (--expiry-session-timeout-ms, 6 s) shorter than the outage, so that the group expires the
// member meanwhile and the run goes through a rebalance — revocation and a new assignment —
// without any restart), each lasting --outage seconds (default 30) while `tracewatch run` is
// mid-run (at least a tenth and at most four fifths of the sessions out):
//   - its outputs equal those of a crash-free reference run of the same input, topic by topic
//     (the same (session_id, revision) identities and bytes, the same dead letters), and every
//     generated call came out as a session that agrees with its plan;
//   - its RSS (VmRSS, sampled every 100 ms) stays under the bound printed with the result: the
//     reference run's own peak plus --rss-margin-mb (default 192). Why that bound: while the
//     brokers are away nothing may accumulate in memory beyond what a normal run of the same
//     input holds — completed output waits in RocksDB's outbox, and the output stage keeps at most
//     10,000 records (~5 KB each, ~50 MB) in librdkafka's queue; the consumer's prefetch is
//     bounded by librdkafka's queue settings, as in the reference. The rest of the margin is the
//     run-to-run spread of the peak for the same input (323-391 MB measured, ~70 MB);
//   - its RSS grows by at most 16 MB over the second half of the outage: in the first half the
//     pipeline may still fill its bounded buffers (the prefetched input applied, its output
//     queued for the producer); after that, memory that keeps growing would grow with the
//     outage's length;
//   - its log says so: a warn line naming the brokers during the outage, a line saying they
//     are reachable again after it, and no flood (at most --max-lines warn/error lines during
//     the outage, default 30: about one a second).
// Then it stops cleanly (SIGTERM, exit 0).
//
// Exit codes: 0 no difference · 1 the harness could not run the scenario · 2 usage ·
//             3 ran, and found differences (the report says which).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
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
  std::vector<std::string> faults{"pause", "down", "down-expired"};
  int outage_s = 30;
  size_t events = 200000;
  int partitions = 64;
  uint64_t data_seed = 11;
  int rss_margin_mb = 192;
  int max_lines = 30;
  int session_timeout_ms = 0;  // 0: the deployment default (librdkafka's 45 s)
  int expiry_session_timeout_ms = 6000;  // down-expired
  std::string binary = TW_BINARY;
  std::string broker = TW_MOCK_BROKER;
  bool keep = false;
  std::vector<std::string> settings;
};

void usage() {
  std::printf(
      "usage: tw_broker_faults [--fault pause|down|down-expired|both|all] [--outage S] [--events N]\n"
      "                        [--partitions P] [--rss-margin-mb MB] [--max-lines N]\n"
      "                        [--session-timeout-ms MS] [--expiry-session-timeout-ms MS]\n"
      "                        [--binary PATH] [--broker PATH] [--set KEY=VALUE]... [--keep]\n"
      "  --fault          pause (SIGSTOP), down (connections refused), down-expired (down longer than\n"
      "                   the group session, which expires the member: a rebalance), both (pause and\n"
      "                   down) or all three, one after the other [all]\n"
      "  --outage S       how long the brokers stay away (default 30)\n"
      "  --session-timeout-ms  the pause and down runs' group session timeout (default: librdkafka's 45 s)\n"
      "  --expiry-session-timeout-ms  the down-expired run's (default 6000)\n");
}

options parse(int argc, char** argv) {
  options o;
  for (arguments args(argc, argv, usage); args.next();) {
    if (args.is("--fault")) {
      auto v = args.value();
      if (v == "both") o.faults = {"pause", "down"};
      else if (v == "all") o.faults = {"pause", "down", "down-expired"};
      else if (v == "pause" || v == "down" || v == "down-expired") o.faults = {v};
      else throw std::invalid_argument("--fault is pause, down, down-expired, both or all");
    } else if (args.is("--outage")) o.outage_s = std::stoi(args.value());
    else if (args.is("--events")) o.events = std::stoull(args.value());
    else if (args.is("--partitions")) o.partitions = std::stoi(args.value());
    else if (args.is("--rss-margin-mb")) o.rss_margin_mb = std::stoi(args.value());
    else if (args.is("--max-lines")) o.max_lines = std::stoi(args.value());
    else if (args.is("--session-timeout-ms")) o.session_timeout_ms = std::stoi(args.value());
    else if (args.is("--expiry-session-timeout-ms")) o.expiry_session_timeout_ms = std::stoi(args.value());
    else if (args.is("--binary")) o.binary = args.value();
    else if (args.is("--broker")) o.broker = args.value();
    else if (args.is("--set")) o.settings.push_back(args.value());
    else if (args.is("--keep")) o.keep = true;
    else args.unknown();
  }
  if (o.outage_s < 1 || o.outage_s > 600) throw std::invalid_argument("--outage must be in 1..600");
  return o;
}

// Peak and last VmRSS of a run, sampled while waiting.
struct rss_watch {
  long peak_kb = 0;
  long last_kb = 0;
  void sample(process& p) {
    auto m = p.memory();
    if (m.rss_kb < 0) return;
    last_kb = m.rss_kb;
    peak_kb = std::max({peak_kb, m.rss_kb, m.hwm_kb});
  }
};

bool mentions_brokers(const std::string& line) {
  return line.find("broker") != std::string::npos || line.find("Broker") != std::string::npos;
}

int run(const options& o) {
  const auto t0 = steady::now();
  work_dir work("tw-broker-faults", o.keep);
  const std::string dir = work.path();
  std::printf("tw_broker_faults: outage %d s; work dir %s\n", o.outage_s, dir.c_str());
  std::fflush(stdout);

  const auto input = generate_input(o.data_seed, o.events, std::chrono::milliseconds(2000));
  const bool watermarks = true;  // every run records its watermark decisions (scenario.hpp)
  const topic_spec input_topic{"faults.input", o.partitions};
  const output_partitions parts;
  std::vector<run_names> runs{names_for("reference", dir)};
  for (const auto& f : o.faults) runs.push_back(names_for(f, dir));
  std::vector<topic_spec> topics{input_topic};
  for (const auto& r : runs)
    for (const auto& t : output_topics(r, parts, watermarks)) topics.push_back(t);
  broker_process broker(o.broker, topics, dir + "/broker.log");
  produce_input(broker.bootstrap(), input_topic, input);
  std::printf("input: %zu calls, %zu events in %zu messages (%.1f MB), %d partitions, produced after %.1f s\n",
              input.plans.size(), input.events, input.messages.size(), static_cast<double>(input.payload_bytes) / 1e6,
              o.partitions, seconds_since(t0));
  std::fflush(stdout);

  run_command_line cmd;
  cmd.binary = o.binary;
  cmd.brokers = broker.bootstrap();
  cmd.input_topic = input_topic.name;
  cmd.watermarks = watermarks;
  cmd.settings = fast_settings();
  for (const auto& s : o.settings) cmd.settings.push_back(s);
  run_command_line faulted = cmd, expiring = cmd;
  if (o.session_timeout_ms > 0)
    faulted.settings.push_back("kafka.consumer.session.timeout.ms=" + std::to_string(o.session_timeout_ms));
  expiring.settings.push_back("kafka.consumer.session.timeout.ms=" + std::to_string(o.expiry_session_timeout_ms));
  expiring.settings.push_back("kafka.consumer.heartbeat.interval.ms=" + std::to_string(o.expiry_session_timeout_ms / 10));

  std::vector<std::string> problems;
  // --- the reference, alone on the broker
  const auto& ref = runs.front();
  run_tracker ref_out(broker.bootstrap(), ref, parts);
  rss_watch ref_rss;
  {
    auto p = process::start(run_argv(cmd, ref), process_options{"", dir + "/reference.log"});
    const auto until = steady::now() + 300s;
    settled end = settled::timed_out;
    while (steady::now() < until) {
      ref_rss.sample(*p);
      end = wait_settled(ref_out, input.plans, *p, 3s, 20s, 200ms);
      if (end != settled::timed_out) break;
    }
    ref_rss.sample(*p);
    auto code = stop(*p, 60s);
    if (end != settled::complete)
      throw harness_error(std::string("the reference run did not complete (") + to_string(end) + ")");
    if (!code || *code != 0) problems.push_back("the reference run's SIGTERM did not end with exit 0");
    ref_out.read_to_end();
  }
  const long bound_kb = ref_rss.peak_kb + o.rss_margin_mb * 1024L;
  std::printf("reference: complete after %.0f s, peak RSS %ld MB; RSS bound for the faulted runs: %ld MB\n",
              seconds_since(t0), ref_rss.peak_kb / 1024, bound_kb / 1024);
  std::fflush(stdout);

  bool all_clean = true;
  for (size_t i = 1; i < runs.size(); ++i) {
    const auto& names = runs[i];
    const std::string fault = names.label;
    const std::string log_path = dir + "/" + fault + ".log";
    run_tracker out(broker.bootstrap(), names, parts);
    rss_watch rss;
    const bool expiry = fault == "down-expired";
    auto p = process::start(run_argv(expiry ? expiring : faulted, names), process_options{"", log_path});
    log_follower log(log_path);
    // Mid-run: once a tenth of the sessions is out.
    const auto until = steady::now() + 120s;
    while (out.sessions_seen() < input.plans.size() / 10 && p->running() && steady::now() < until) {
      out.poll(50ms);
      rss.sample(*p);
      log.poll();
    }
    if (!p->running()) throw harness_error(fault + ": the run exited before the outage");
    const size_t at_start = out.sessions_seen();
    if (at_start >= input.plans.size() * 4 / 5)
      problems.push_back(fault + ": the outage came late (" + std::to_string(at_start) + " of " +
                         std::to_string(input.plans.size()) + " sessions already out): not mid-run");
    log.poll();
    if (fault == "pause") broker.pause();
    else broker.down();
    const auto outage_start = steady::now();
    std::printf("%s: brokers away at %.0f s with %zu of %zu sessions out\n", fault.c_str(), seconds_since(t0),
                at_start, input.plans.size());
    std::fflush(stdout);
    // The outage: its length is the fault itself, not a synchronisation. Meanwhile RSS and log.
    std::vector<std::string> during;
    long rss_half = -1;
    std::string timeline;
    auto next_mark = outage_start;
    while (steady::now() - outage_start < std::chrono::seconds(o.outage_s) && p->running()) {
      std::this_thread::sleep_for(100ms);  // the sampling interval of RSS
      rss.sample(*p);
      if (rss_half < 0 && steady::now() - outage_start >= std::chrono::seconds(o.outage_s) / 2) rss_half = rss.last_kb;
      if (steady::now() >= next_mark) {
        timeline += (timeline.empty() ? "" : " ") + std::to_string(rss.last_kb / 1024);
        next_mark += 5s;
      }
      for (auto& l : log.poll()) during.push_back(std::move(l));
    }
    const long rss_last = rss.last_kb;
    if (fault == "pause") broker.resume();
    else broker.up();
    out.restart_quiet();
    std::printf("%s: brokers back at %.0f s\n", fault.c_str(), seconds_since(t0));
    std::fflush(stdout);
    std::vector<std::string> after;
    settled end = settled::timed_out;
    const auto settle_until = steady::now() + 300s;
    while (steady::now() < settle_until) {
      rss.sample(*p);
      for (auto& l : log.poll()) after.push_back(std::move(l));
      end = wait_settled(out, input.plans, *p, 3s, 30s, 200ms);
      if (end != settled::timed_out) break;
    }
    rss.sample(*p);
    for (auto& l : log.poll()) after.push_back(std::move(l));
    size_t rebalanced = 0;  // revocations before the SIGTERM (which revokes too)
    for (const auto& l : during) rebalanced += l.find("msg=\"partition revoked\"") != std::string::npos;
    for (const auto& l : after) rebalanced += l.find("msg=\"partition revoked\"") != std::string::npos;
    auto code = stop(*p, 60s);
    for (auto& l : log.poll()) after.push_back(std::move(l));
    out.read_to_end();
    if (expiry && rebalanced == 0)
      problems.push_back(fault + ": the group did not expire the member (no partition revoked): not the scenario");
    if (!expiry && rebalanced != 0)
      problems.push_back(fault + ": " + std::to_string(rebalanced) + " partitions were revoked mid-run");

    size_t loud = 0, naming = 0;
    for (const auto& l : during) {
      const bool warn = l.find("level=warn") != std::string::npos || l.find("level=error") != std::string::npos;
      loud += warn;
      naming += warn && mentions_brokers(l);
    }
    size_t back = 0;
    for (const auto& l : after)
      if (l.find("reachable again") != std::string::npos) ++back;

    std::printf("%s: %s after %.0f s, exit %s; peak RSS %ld MB (bound %ld MB); RSS during the outage every 5 s: "
                "%s MB; %zu warn/error lines during the outage (%zu name the brokers), %zu 'reachable again' "
                "lines after it; %zu partitions revoked mid-run\n",
                fault.c_str(), to_string(end), seconds_since(t0), code ? std::to_string(*code).c_str() : "none",
                rss.peak_kb / 1024, bound_kb / 1024, timeline.c_str(), loud, naming, back, rebalanced);
    std::printf("  its log during the outage (first lines):\n");
    for (size_t j = 0; j < during.size() && j < 12; ++j) std::printf("    %s\n", truncated(during[j], 240).c_str());
    if (end != settled::complete) problems.push_back(fault + ": the run did not complete (" + to_string(end) + ")");
    if (!code || *code != 0) problems.push_back(fault + ": SIGTERM did not end the run with exit 0");
    if (rss.peak_kb > bound_kb)
      problems.push_back(fault + ": peak RSS " + std::to_string(rss.peak_kb / 1024) + " MB over the bound of " +
                         std::to_string(bound_kb / 1024) + " MB");
    if (rss_half >= 0 && rss_last - rss_half > 16 * 1024)
      problems.push_back(fault + ": RSS grew by " + std::to_string((rss_last - rss_half) / 1024) +
                         " MB over the second half of the outage");
    if (loud > static_cast<size_t>(o.max_lines))
      problems.push_back(fault + ": " + std::to_string(loud) + " warn/error lines during the outage (at most " +
                         std::to_string(o.max_lines) + ")");
    if (naming == 0) problems.push_back(fault + ": no warn line during the outage says the brokers are away");
    if (back == 0) problems.push_back(fault + ": no line after the outage says the brokers are reachable again");

    run_outputs ref_outputs = ref_out.outputs(), fault_outputs = out.outputs();
    print(same_alert_horizon(ref_outputs, fault_outputs), "reference", fault, stdout);
    auto diff = compare(ref_outputs, fault_outputs);
    print(diff, "reference", fault, stdout);
    auto plans = check_plans(out.outputs().sessions, input.plans);
    print(plans, fault, stdout);
    all_clean = all_clean && diff.clean() && plans.clean();
    std::fflush(stdout);
  }
  auto ref_plans = check_plans(ref_out.outputs().sessions, input.plans);
  print(ref_plans, "reference", stdout);
  for (const auto& p : problems) std::printf("  ** PROBLEM: %s\n", p.c_str());
  const bool ok = all_clean && ref_plans.clean() && problems.empty();
  std::printf("\n%s after %.0f s\n", ok ? "PASS" : "FAIL", seconds_since(t0));
  if (ok) work.passed();
  return ok ? 0 : 3;
}

}  // namespace
}  // namespace tw::fault

int main(int argc, char** argv) {
  return tw::fault::tool_main("tw_broker_faults", argc, argv, tw::fault::parse, tw::fault::usage, tw::fault::run);
}
