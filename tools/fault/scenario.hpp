// The pieces every fault scenario shares: the broker process, the generated input, `tracewatch run`
// command lines with each run's own names (state directory, consumer group, output topics), a
// tracker that follows a run's outputs while it runs, and the end-of-run comparison.
//
// Thread: single-threaded, like the tools.
#pragma once

#include <stdexcept>

#include <cstdlib>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/call_generator.hpp"
#include "tools/fault/kafka_io.hpp"
#include "tools/fault/outputs.hpp"
#include "tools/fault/process.hpp"

namespace tw::fault {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(steady::time_point t0);

// The scenario's temporary directory (state directories, logs, replay outputs). Removed when the
// scenario passed; after a failure (or a harness error) only the logs are kept, for the report's
// pointers — state directories and replay outputs run to hundreds of MB. --keep keeps everything.
class work_dir {
 public:
  work_dir(const std::string& tool, bool keep);
  ~work_dir();
  const std::string& path() const { return path_; }
  void passed() { passed_ = true; }

 private:
  std::string path_;
  bool keep_;
  bool passed_ = false;
};

// --- topics.watermarks --------------------------------------------------------------------------
// Every run gets a watermarks topic of its own (`--set topics.watermarks=<run>.watermarks`,
// created on the broker): the topic where a live run records the watermark decisions it takes on
// wall-clock evidence, and which the overload test's replay follows.
inline constexpr const char* watermarks_option = "topics.watermarks";

// --- the broker process (tools/mock_broker.cpp) ------------------------------------------------
class broker_process {
 public:
  broker_process(const std::string& broker_binary, const std::vector<topic_spec>& topics, const std::string& log_path);
  ~broker_process();
  const std::string& bootstrap() const { return bootstrap_; }
  void create(const topic_spec& t);
  void down();    // connections closed and refused (rd_kafka_mock_broker_set_down)
  void up();
  void pause();   // SIGSTOP: the process freezes, connections stay open and unanswered
  void resume();  // SIGCONT
  pid_t pid() const { return p_->pid(); }

 private:
  void command(const std::string& line);
  std::unique_ptr<process> p_;
  std::string bootstrap_;
};

// --- input --------------------------------------------------------------------------------------
struct input_data {
  std::vector<sim::message> messages;
  std::vector<sim::call_plan> plans;
  size_t events = 0;         // distinct events (sum of plan.events)
  size_t payload_bytes = 0;  // keys and payloads
};

// Synthetic calls (sim/call_generator.hpp) with the generator's defaults — producer retries
// (duplicates) and shuffled sends included — keyed by trace id, a call starting every `spacing`.
input_data generate_input(uint64_t seed, size_t min_events, std::chrono::milliseconds spacing);

// Produces the input and proves the broker kept all of it: every partition's low watermark is 0
// and the high watermarks add up to the messages produced. Returns the largest partition's
// message count.
int64_t produce_input(const std::string& brokers, const topic_spec& topic, const input_data& in);

// --- tracewatch runs ----------------------------------------------------------------------------
struct run_names {
  std::string label;  // "reference", "chaos", ...
  std::string state_dir, group, sessions, verdicts, diagnostics, deadletter, alerts, watermarks;
};
run_names names_for(const std::string& label, const std::string& work_dir);

struct output_partitions {
  int sessions = 32, verdicts = 16, diagnostics = 8, deadletter = 16, alerts = 4;
};
// The run's output topics (and its watermarks topic when `watermarks`).
std::vector<topic_spec> output_topics(const run_names& n, const output_partitions& p, bool watermarks);

// Completion windows short enough that sessions close within seconds (as the end-to-end tests'
// fast_windows()), the diagnostic rate limit lifted (at its default of one per 250 ms the
// backlog of a few thousand failures would take many minutes), and the generator's
// out-of-orderness (800 ms) inside the bound.
std::vector<std::string> fast_settings();

struct run_command_line {
  std::string binary;
  std::string brokers;
  std::string input_topic;
  bool watermarks = false;             // hand the run its watermarks topic
  std::vector<std::string> settings;   // KEY=VALUE, each passed as --set
};
std::vector<std::string> run_argv(const run_command_line& c, const run_names& n);

// Follows one run's output topics while it runs (and to their end afterwards).
class run_tracker {
 public:
  run_tracker(const std::string& brokers, const run_names& n, const output_partitions& p);
  // Reads what arrived within `wait`; returns how many new identities it brought.
  size_t poll(std::chrono::milliseconds wait);
  // Every planned call has a session, every session revision a verdict, every fail, partial
  // and error verdict a diagnostic.
  bool complete(const std::vector<sim::call_plan>& plans) const;
  steady::time_point last_growth() const { return last_growth_; }
  // Counts from now when waiting for quiet: after a pause of the test's own making (the brokers
  // away), silence before it says nothing about the run.
  void restart_quiet() { last_growth_ = steady::now(); }
  // Reads every output topic to its current end. Throws harness_error when the broker dropped
  // output to retention (the comparison would be meaningless).
  void read_to_end();
  const run_outputs& outputs() const { return outputs_; }
  size_t sessions_seen() const { return outputs_.sessions.latest_revision.size(); }
  size_t records_seen() const {
    size_t n = 0;
    for (auto kind : all_output_kinds) n += outputs_.of(kind).records;
    return n;
  }

 private:
  void take(std::vector<record>& records);
  run_names names_;
  std::vector<topic_spec> topics_;
  topic_reader reader_;
  run_outputs outputs_;
  steady::time_point last_growth_ = steady::now();
};

enum class settled { complete, quiet, exited, timed_out };
const char* to_string(settled s);
// Polls the tracker until the run's outputs are complete (and nothing new came for
// `after_complete`), or nothing new came for `quiet` (a run that lost sessions never completes),
// or the process exited, or `deadline` passed. Before the run's first output, quiet means at
// least 180 s: the first sessions complete only once every partition has been read past them,
// which on a loaded machine takes long.
settled wait_settled(run_tracker& t, const std::vector<sim::call_plan>& plans, process& p,
                     std::chrono::milliseconds after_complete, std::chrono::milliseconds quiet,
                     std::chrono::milliseconds deadline);

// Stops a run with SIGTERM and returns its exit code; SIGKILLs it (and returns nullopt) when it
// does not exit within `deadline`.
std::optional<int> stop(process& p, std::chrono::milliseconds deadline);

// --- reporting ----------------------------------------------------------------------------------
// Log lines at warn or error, grouped by their msg, for a report; at most `limit` groups.
std::vector<std::string> log_problems(const std::string& log_path, size_t limit = 8);

// The command line of a tool, one flag at a time:
//   for (arguments args(argc, argv, usage); args.next();)
//     if (args.is("--events")) o.events = std::stoull(args.value());
//     else args.unknown();
// -h and --help print the usage and exit 0; a missing value or an unknown flag throws
// std::invalid_argument (tool_main turns it into exit 2 with the usage).
class arguments {
 public:
  arguments(int argc, char** argv, void (*usage)()) : argc_(argc), argv_(argv), usage_(usage) {}
  bool next() {
    if (++i_ >= argc_) return false;
    flag_ = argv_[i_];
    if (flag_ == "-h" || flag_ == "--help") {
      usage_();
      std::exit(0);
    }
    return true;
  }
  bool is(const char* flag) const { return flag_ == flag; }
  std::string value() {
    if (i_ + 1 >= argc_) throw std::invalid_argument(flag_ + " needs a value");
    return argv_[++i_];
  }
  [[noreturn]] void unknown() const { throw std::invalid_argument("unknown argument " + flag_); }

 private:
  int argc_;
  char** argv_;
  void (*usage_)();
  int i_ = 0;
  std::string flag_;
};

// The main() of every fault tool: exit 2 with the usage on bad arguments, 1 when the scenario
// could not be run (harness_error), else what run() says (0 pass, 3 a difference).
template <class Options>
int tool_main(const char* name, int argc, char** argv, Options (*parse)(int, char**), void (*usage)(),
              int (*run)(const Options&)) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    usage();
    return 2;
  }
  try {
    return run(o);
  } catch (const harness_error& e) {
    std::printf("%s: cannot run the scenario: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace tw::fault
