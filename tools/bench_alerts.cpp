// tw_bench_alerts: what the alert stage costs, as a share of the whole pipeline's CPU in the same
// run (issue target: under 5% with 20 rules and 1,000 groups). docs/benchmarks.md, "Alerts".
//
//   1. generates at least --events synthetic events, a call starting every --spacing-ms of event
//      time, the calls spread over --agents agents (metadata `agent`), to a file;
//   2. writes 20 alert rules, every one grouped by agent (some by agent and intent, or agent and
//      tool, capped at alerts.max_groups = 1,000 groups per rule): every signal kind;
//   3. runs `tracewatch replay FILE --flush` with those rules, as a child: its CPU (getrusage of
//      the child) and the alert stage thread's own CPU (the replay's "replay finished" line,
//      alert_stage_cpu_ms, measured with CLOCK_THREAD_CPUTIME_ID around the stage's work);
//   4. runs the same replay with alerts.rules=off, for the whole-process difference.
//
// The share is the alert stage's thread CPU over the child's CPU in step 3 (one run); the
// difference between 3 and 4 also includes what alerts cost the other stages (facts built and
// queued by the judge stage, marks by the state stage) and is noisier (two runs).
//
// Exit codes: 0 measured · 1 could not measure · 2 usage.
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/time.hpp"
#include "sim/call_generator.hpp"

namespace {

struct options {
  size_t events = 200000;
  uint32_t agents = 1000;
  int64_t spacing_ms = 1000;  // a call starts every this often (event time): the stream's density
  std::string binary;
  bool keep = false;
};

struct child_result {
  double cpu_s = 0, wall_s = 0;
  std::map<std::string, std::string> finished;  // the fields of the "replay finished" log line
};

// Runs `args` with stdout and stderr to files; waits; its CPU from wait4.
child_result run_child(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) != pid) throw std::runtime_error("wait4 failed");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("`" + args[1] + "` failed; its log: " + err);
  child_result r;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  std::ifstream log(err);
  std::string line;
  while (std::getline(log, line)) {
    if (line.find("msg=\"replay finished\"") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string kv;
    while (fields >> kv)
      if (auto eq = kv.find('='); eq != std::string::npos) r.finished[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (r.finished.empty()) throw std::runtime_error("no \"replay finished\" line in " + err);
  return r;
}

double field(const child_result& r, const std::string& key) {
  auto it = r.finished.find(key);
  return it == r.finished.end() ? 0 : std::stod(it->second);
}

// 20 rules, each signal kind at least once, every one grouped by agent.
std::string twenty_rules() {
  struct rule {
    const char* name;
    const char* signal;
    const char* condition;
    const char* group_by;
  };
  const rule rules[] = {
      {"failure_ratio", "verdict_ratio: {numerator: [fail, error]}", "{op: \">\", threshold: 0.3}", "[agent]"},
      {"failure_ratio_intent", "verdict_ratio: {numerator: [fail, error]}", "{op: \">\", threshold: 0.3}", "[agent, intent]"},
      {"partial_ratio", "verdict_ratio: {numerator: [partial]}", "{op: \">\", threshold: 0.2}", "[agent]"},
      {"pass_ratio_low", "verdict_ratio: {numerator: [pass]}", "{op: \"<\", threshold: 0.3}", "[agent]"},
      {"abandoned_ratio", "verdict_ratio: {numerator: [abandoned], denominator: [pass, fail, partial, error, abandoned]}",
       "{op: \">\", threshold: 0.3}", "[agent]"},
      {"verdict_volume", "verdict_count: {}", "{op: \">\", threshold: 50}", "[agent]"},
      {"failure_rate", "verdict_count: {statuses: [fail], rate: per_minute}", "{op: \">\", threshold: 5}", "[agent]"},
      {"tool_errors", "tool_error_ratio: {}", "{op: \">\", threshold: 0.75}", "[agent, tool]"},
      {"lookup_errors", "tool_error_ratio: {tools: [lookup_patient]}", "{op: \">\", threshold: 0.5}", "[agent]"},
      {"transfers", "tool_call_ratio: {tools: [transfer_to_human]}", "{op: \">\", threshold: 0.3}", "[agent]"},
      {"llm_errors", "llm_error_ratio: {}", "{op: \">\", threshold: 0.2}", "[agent]"},
      {"llm_p50", "latency: {of: llm, percentile: 50}", "{op: \">\", threshold: 2000}", "[agent]"},
      {"llm_p95", "latency: {of: llm, percentile: 95}", "{op: \">\", threshold: 4000}", "[agent]"},
      {"llm_p99", "latency: {of: llm, percentile: 99}", "{op: \">\", threshold: 8000}", "[agent]"},
      {"tool_p95", "latency: {of: tool, percentile: 95}", "{op: \">\", threshold: 1500}", "[agent, tool]"},
      {"cost", "cost_sum: {}", "{op: \">\", threshold: 0.5}", "[agent]"},
      {"cost_model", "cost_sum: {}", "{op: \">\", threshold: 0.5}", "[agent, model]"},
      {"deadletters", "deadletter_count: {}", "{op: \">\", threshold: 10}", "[]"},
  };
  std::string y = "alerts:\n";
  for (const auto& r : rules)
    y += std::string("  - name: ") + r.name + "\n    severity: warning\n    signal: {" + r.signal +
         "}\n    window: 5m\n    every: 30s\n    condition: " + r.condition +
         "\n    min_samples: 3\n    for: 30s\n    keep_firing_for: 30s\n    repeat_interval: 10m\n    group_by: " + r.group_by +
         "\n    summary: \"{{rule}} {{value}}\"\n";
  // A drop against the preceding hour, and the hourly budget (tumbling): the other two shapes.
  y += "  - name: quality_drop\n    severity: warning\n    signal: {verdict_ratio: {numerator: [pass]}}\n    window: 10m\n"
       "    every: 1m\n    change: {against: baseline, windows: 6}\n    condition: {op: \"<\", threshold: -0.1}\n"
       "    min_samples: 5\n    group_by: [agent]\n    summary: \"{{rule}} {{value}}\"\n";
  y += "  - name: budget\n    signal: {cost_sum: {budget: 0.5, warn_at: 0.8}}\n    window: 1h\n    every: 1m\n"
       "    kind: tumbling\n    group_by: [agent]\n    summary: \"{{rule}} {{value}}\"\n";
  return y;
}

int run(const options& o) {
  namespace fs = std::filesystem;
  const std::string dir = fs::temp_directory_path() / ("tw-bench-alerts-" + std::to_string(getpid()));
  fs::create_directories(dir);
  tw::sim::generator_options g;
  g.agents = o.agents;
  tw::sim::call_generator gen(g);
  auto msgs = tw::sim::generate_stream(gen, o.events, *tw::parse_iso8601("2025-03-01T08:00:00Z"), std::chrono::milliseconds(o.spacing_ms));
  {
    std::ofstream input(dir + "/input.jsonl");
    for (const auto& m : msgs) input << m.payload << "\n";
    std::ofstream(dir + "/rules.yaml") << twenty_rules();
  }
  std::printf("tw_bench_alerts: %zu messages of at least %zu events, a call every %lld ms, %u agents, 20 alert "
              "rules (work dir %s)\n",
              msgs.size(), o.events, static_cast<long long>(o.spacing_ms), o.agents, dir.c_str());
  auto replay = [&](const std::string& rules, const std::string& tag) {
    return run_child({o.binary, "replay", dir + "/input.jsonl", "--flush", "--out", "/dev/null", "--alerts-out",
                      dir + "/" + tag + ".alerts", "--set", "alerts.rules=" + rules, "--set", "alerts.max_groups=1000",
                      "--set", "log.level=info"},
                     dir + "/" + tag + ".out", dir + "/" + tag + ".log");
  };
  const auto with = replay(dir + "/rules.yaml", "alerts");
  const auto without = replay("off", "off");
  const double verdicts = field(with, "verdicts"), alert_cpu = field(with, "alert_stage_cpu_ms") / 1000;
  std::printf("with 20 rules:  %.0f verdicts, %.0f alert groups, %.0f firing and %.0f resolved events\n", verdicts,
              field(with, "alert_groups"), field(with, "alerts_fired"), field(with, "alerts_resolved"));
  std::printf("  process CPU %.2f s (wall %.2f s), of which the alert stage's thread %.3f s\n", with.cpu_s, with.wall_s,
              alert_cpu);
  std::printf("  alert stage: %.1f us of CPU per verdict; pipeline: %.1f us per verdict\n", 1e6 * alert_cpu / verdicts,
              1e6 * with.cpu_s / verdicts);
  std::printf("  alert stage share of the pipeline's CPU (same run): %.2f %%   (target: under 5 %%)\n",
              100 * alert_cpu / with.cpu_s);
  std::printf("without alerts: process CPU %.2f s (wall %.2f s): alerts add %.1f %% to the whole run (two runs: noisy)\n",
              without.cpu_s, without.wall_s, 100 * (with.cpu_s - without.cpu_s) / without.cpu_s);
  if (!o.keep) fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  o.binary = TW_BINARY;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--events") o.events = std::stoul(value());
      else if (a == "--agents") o.agents = static_cast<uint32_t>(std::stoul(value()));
      else if (a == "--spacing-ms") o.spacing_ms = std::stoll(value());
      else if (a == "--binary") o.binary = value();
      else if (a == "--keep") o.keep = true;
      else throw std::invalid_argument("unknown argument " + a);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\nusage: tw_bench_alerts [--events N] [--agents A] [--spacing-ms MS] [--binary PATH] [--keep]\n", e.what());
      return 2;
    }
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tw_bench_alerts: %s\n", e.what());
    return 1;
  }
}
