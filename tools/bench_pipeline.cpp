// tw_bench_pipeline: the whole pipeline's throughput against the raw Kafka consume rate of the
// same topic, measured in one run. docs/benchmarks.md explains every figure it prints.
//
// In order:
//   1. generates at least --events synthetic events (sim::generate_stream: keyed by trace id, a
//      call starting every second, so about twenty calls overlap), produces them to a topic of a
//      mock cluster inside this process, and writes the same payloads, one per line, to a file;
//   2. reads the whole topic with a plain librdkafka consumer (assign, no group join): the raw
//      consume rate, the ceiling for any consumer of this topic on this machine;
//   3. runs `tracewatch replay --topic` against the mock cluster, then `tracewatch replay FILE`,
//      both with --flush, each as a child process: wall time, and the child's CPU and peak RSS;
//      then the file again without --flush (the ingest alone, without completing the sessions
//      still open at the end) and an empty file (the fixed cost of starting and stopping);
//   4. checks that every generated call came out as a session, that the two flushed replays
//      wrote the same sessions, and that the replay without --flush wrote a subset of them.
//
// Invariants of the measurement:
//   - Every figure comes from this run on this machine; rates are compared as ratios.
//   - No message may be lost to the mock cluster's retention (about 5 MB per partition): the
//     partition count is derived from the bytes to produce, and before anything is timed the
//     low watermarks must all be 0 and the high ones must add up to the messages produced.
//   - Children are started through a re-exec of this binary (--measure-child), never forked from
//     this process: the kernel carries a process's RSS high-water mark over exec(), so a child
//     forked from here would report this process's RSS (the data set and the broker's logs) as
//     its own peak.
//
// Exit codes: 0 measured and every check passed · 1 could not measure · 2 usage ·
//             3 measured, but a correctness check failed (the report says which).
#include <fcntl.h>
#include <librdkafka/rdkafkacpp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "model/time.hpp"
#include "sim/call_generator.hpp"
#include "topics/kafka/client.hpp"
#include "topics/kafka/mock_cluster.hpp"
#include "topics/kafka/output_producer.hpp"

#ifndef TW_BINARY
#define TW_BINARY "tracewatch"
#endif

namespace tw::bench {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

const char* const input_topic = "bench.traces";
// The replay writes sessions and dead letters to files; these exist so that the cluster is
// shaped like a deployment (tracewatch's default output topic names).
const char* const sessions_topic = "tracewatch.sessions";
const char* const deadletter_topic = "tracewatch.deadletter";

// Bytes of log one partition may hold here. The mock deletes its oldest message sets once a
// partition holds about 5 MB; keyed messages spread unevenly, so aim at well under half of it.
constexpr double partition_budget_bytes = 2.0 * 1024 * 1024;
// Per-message log overhead of record batch v2 (record header, batch header shared over a few
// records), added to key and payload when sizing partitions. An estimate; the watermark check
// is what guarantees that nothing was dropped.
constexpr size_t record_overhead_bytes = 70;

struct bench_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct options {
  size_t events = 200000;
  int partitions = 0;  // 0: derived from the bytes generated
  std::string binary = TW_BINARY;
  uint64_t seed = 1;
  bool keep = false;
  int child_timeout_s = 600;  // a replay that takes longer is killed and reported
  std::vector<std::string> replay_settings;  // --set KEY=VALUE handed to every replay
};

// --- CPU and time ------------------------------------------------------------------------------

double seconds_since(steady::time_point t0, steady::time_point t1) {
  return std::chrono::duration<double>(t1 - t0).count();
}

struct cpu_times {
  double user_s = 0;
  double sys_s = 0;
  double total() const { return user_s + sys_s; }
  cpu_times operator-(const cpu_times& o) const { return {user_s - o.user_s, sys_s - o.sys_s}; }
};

double to_seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

cpu_times cpu_of(const rusage& ru) { return {to_seconds(ru.ru_utime), to_seconds(ru.ru_stime)}; }

// who: RUSAGE_SELF (every thread of this process) or RUSAGE_THREAD (the calling thread).
cpu_times rusage_cpu(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return cpu_of(ru);
}

// CPU time of every thread of this process, by thread id, from /proc/self/task/*/schedstat (its
// first field is the thread's run time in ns; it is brought up to date whenever the thread is
// descheduled, which the idle threads measured here are). Lets the raw consume's CPU be split
// between the consumer's own threads and the mock broker's, which live in this process too.
std::map<long, double> thread_cpu_seconds() {
  std::map<long, double> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/task", ec)) {
    long tid = std::strtol(entry.path().filename().c_str(), nullptr, 10);
    std::ifstream stat(entry.path() / "schedstat");
    unsigned long long ns = 0;
    if (!(stat >> ns)) continue;  // the thread ended while the directory was read
    out[tid] = static_cast<double>(ns) / 1e9;
  }
  return out;
}

long long rss_peak_self_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// --- children, measured -------------------------------------------------------------------------

struct child_run {
  int exit_code = -1;  // 128 + signal when killed
  bool timed_out = false;
  double wall_s = 0;
  cpu_times cpu;
  long long max_rss_kb = 0;
};

// Runs in the re-executed helper, which holds nothing but itself (see the file comment):
// forks `command`, waits for it with wait4() and writes its figures as one line on stdout.
// argv: --measure-child TIMEOUT_S STDOUT STDERR BINARY ARGS...
volatile sig_atomic_t measured_pid = 0;
volatile sig_atomic_t measured_timed_out = 0;
extern "C" void on_measure_deadline(int) {
  measured_timed_out = 1;
  if (measured_pid > 0) kill(static_cast<pid_t>(measured_pid), SIGKILL);  // async-signal-safe
}

int measure_child_main(int argc, char** argv) {
  if (argc < 6) return 2;
  const int timeout_s = std::atoi(argv[2]);
  const char* out_path = argv[3];
  const char* err_path = argv[4];
  const auto t0 = steady::now();
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) _exit(126);
    dup2(out, 1);
    dup2(err, 2);
    execv(argv[5], argv + 5);
    _exit(127);
  }
  measured_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = on_measure_deadline;  // no SA_RESTART: wait4 returns EINTR and is called again
  sigaction(SIGALRM, &sa, nullptr);
  alarm(static_cast<unsigned>(timeout_s));
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) return 1;
  }
  alarm(0);
  const auto t1 = steady::now();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::printf("exit=%d timed_out=%d wall_ns=%lld user_us=%lld sys_us=%lld maxrss_kb=%lld\n", code,
              static_cast<int>(measured_timed_out),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()),
              static_cast<long long>(ru.ru_utime.tv_sec) * 1000000 + ru.ru_utime.tv_usec,
              static_cast<long long>(ru.ru_stime.tv_sec) * 1000000 + ru.ru_stime.tv_usec,
              static_cast<long long>(ru.ru_maxrss));
  return 0;
}

std::string self_path() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw bench_error("cannot resolve /proc/self/exe: " + ec.message());
  return p.string();
}

// Runs `command` through the helper and returns the child's figures. Blocks until the helper
// ends, which its own alarm bounds to timeout_s (plus the kill).
child_run run_measured(const std::vector<std::string>& command, const std::string& stdout_path,
                       const std::string& stderr_path, int timeout_s) {
  std::vector<std::string> all{self_path(), "--measure-child", std::to_string(timeout_s), stdout_path, stderr_path};
  all.insert(all.end(), command.begin(), command.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw bench_error("pipe failed");  // dup2 below clears it on fd 1
  pid_t helper = fork();
  if (helper < 0) throw bench_error("fork failed");
  if (helper == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string report;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    report.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(helper, &status, 0);
  child_run r;
  int timed_out = 0;
  long long wall_ns = 0, user_us = 0, sys_us = 0;
  if (std::sscanf(report.c_str(), "exit=%d timed_out=%d wall_ns=%lld user_us=%lld sys_us=%lld maxrss_kb=%lld",
                  &r.exit_code, &timed_out, &wall_ns, &user_us, &sys_us, &r.max_rss_kb) != 6)
    throw bench_error("the measuring helper failed (status " + std::to_string(status) + ") running " + command[0]);
  r.timed_out = timed_out != 0;
  r.wall_s = static_cast<double>(wall_ns) / 1e9;
  r.cpu = {static_cast<double>(user_us) / 1e6, static_cast<double>(sys_us) / 1e6};
  return r;
}

// The memory measurement's second data set has this many times the calls of the first.
constexpr size_t memory_factor = 4;

// --- the data set -------------------------------------------------------------------------------

struct data_set {
  std::vector<sim::message> messages;
  std::vector<sim::call_plan> plans;
  size_t events = 0;         // distinct events: sum of plan.events (duplicate copies not counted)
  size_t payload_bytes = 0;
  size_t log_bytes = 0;      // estimate of what the broker stores: key + payload + overhead
};

// `spacing`: event time between the starts of two calls.
data_set generate(const options& o, size_t events, uint64_t seed, duration spacing = std::chrono::seconds(1)) {
  sim::generator_options g;
  g.seed = seed;
  g.keys = sim::key_mode::trace_id;
  sim::call_generator gen(g);
  data_set d;
  const auto start = parse_iso8601("2025-01-01T09:00:00Z");
  d.messages = sim::generate_stream(gen, events, *start, spacing, &d.plans);
  for (const auto& p : d.plans) d.events += static_cast<size_t>(p.events);
  for (const auto& m : d.messages) {
    if (m.payload.find('\n') != std::string::npos) throw bench_error("a generated payload holds a newline");
    d.payload_bytes += m.payload.size();
    d.log_bytes += m.key.size() + m.payload.size() + record_overhead_bytes;
  }
  return d;
}

void write_lines(const std::string& path, const std::vector<sim::message>& messages) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  for (const auto& m : messages) f << m.payload << '\n';
  f.flush();
  if (!f) throw bench_error("writing " + path + " failed");
}

// Produces every message and waits until all are acknowledged; returns the wall seconds.
double produce_all(const std::string& brokers, const std::vector<sim::message>& messages) {
  std::unique_ptr<kafka::output_producer> p;
  if (auto st = kafka::output_producer::create(kafka::client_settings{brokers, {}}, p); !st.ok())
    throw bench_error("producer: " + st.message);
  const auto t0 = steady::now();
  const auto deadline = t0 + std::chrono::seconds(120);
  std::vector<kafka::delivery> reports;
  size_t acked = 0;
  auto collect = [&](std::chrono::milliseconds wait) {
    reports.clear();
    p->poll(wait, reports);
    for (const auto& r : reports) {
      if (!r.status.ok()) throw bench_error("produce failed: " + r.status.message);
      ++acked;
    }
    if (steady::now() > deadline) throw bench_error("producing timed out");
  };
  for (size_t i = 0; i < messages.size(); ++i) {
    while (true) {
      auto st = p->produce(input_topic, messages[i].key, messages[i].payload, i);
      if (st.ok()) break;
      if (st.code != kafka::kafka_errc::retriable) throw bench_error("produce: " + st.message);
      collect(std::chrono::milliseconds(10));  // the local queue is full
    }
  }
  while (acked < messages.size()) collect(std::chrono::milliseconds(50));
  return seconds_since(t0, steady::now());
}

// --- the raw consume baseline -------------------------------------------------------------------

struct raw_consume {
  size_t messages = 0;
  size_t bytes = 0;                 // payload bytes
  size_t largest_partition_bytes = 0;
  double setup_s = 0;               // consumer creation and watermark queries (not in wall_s)
  double wall_s = 0;                // from the first consume() to the last message
  double first_message_s = 0;       // from the first consume() to the first message
  double poll_thread_cpu_s = 0;     // the thread calling consume() (RUSAGE_THREAD)
  double client_threads_cpu_s = 0;  // threads the consumer started (fetching, decoding)
  double broker_cpu_s = 0;          // every other thread of this process: the mock broker
  double process_cpu_s = 0;         // RUSAGE_SELF over the same interval
  size_t client_threads = 0;
};

// The same client and configuration as tracewatch's replay reader (topics/kafka/range_reader.cpp):
// a KafkaConsumer with partitions assigned directly, so the baseline differs from the pipeline's
// source only in what is done with each message: here, nothing but counting its bytes.
raw_consume consume_all(const std::string& brokers, int partitions, size_t expected) {
  raw_consume r;
  const auto threads0 = thread_cpu_seconds();
  const auto process0 = rusage_cpu(RUSAGE_SELF);
  const auto thread0 = rusage_cpu(RUSAGE_THREAD);
  const auto setup0 = steady::now();

  std::unique_ptr<RdKafka::Conf> conf;
  auto st = kafka::make_conf(kafka::client_settings{brokers, {}},
                             {{"fetch.wait.max.ms", "50"}, {"queued.max.messages.kbytes", "262144"}},
                             {{"group.id", "tw-bench-raw"}, {"enable.auto.commit", "false"},
                              {"enable.auto.offset.store", "false"}, {"enable.partition.eof", "false"}},
                             conf);
  if (!st.ok()) throw bench_error(st.message);
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) throw bench_error("raw consumer: " + err);

  // Nothing may have been dropped by retention: every partition starts at 0 and together they
  // hold exactly what was produced.
  int64_t total = 0;
  std::vector<RdKafka::TopicPartition*> assign;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    auto e = consumer->query_watermark_offsets(input_topic, p, &low, &high, 10000);
    if (e != RdKafka::ERR_NO_ERROR)
      throw bench_error("watermarks of partition " + std::to_string(p) + ": " + RdKafka::err2str(e));
    if (low != 0)
      throw bench_error("partition " + std::to_string(p) + " lost its first " + std::to_string(low) +
                        " messages to the mock cluster's retention: pass more --partitions");
    total += high;
    // An explicit offset, as the replay reader assigns: with OFFSET_BEGINNING librdkafka 2.0.2
    // first asks for the offset before it knows the partition's leader and retries only after
    // 500 ms, which would be a fixed stall in the baseline that the pipeline does not pay.
    assign.push_back(RdKafka::TopicPartition::create(input_topic, p, low));
  }
  if (static_cast<size_t>(total) != expected)
    throw bench_error("the topic holds " + std::to_string(total) + " messages, " + std::to_string(expected) +
                      " were produced");
  auto e = consumer->assign(assign);
  RdKafka::TopicPartition::destroy(assign);
  if (e != RdKafka::ERR_NO_ERROR) throw bench_error("assign: " + RdKafka::err2str(e));

  std::vector<size_t> partition_bytes(static_cast<size_t>(partitions), 0);
  const auto t0 = steady::now();
  r.setup_s = seconds_since(setup0, t0);
  const auto deadline = t0 + std::chrono::seconds(120);
  auto last = t0;
  while (r.messages < expected) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() == RdKafka::ERR__TIMED_OUT) {
      if (steady::now() > deadline)
        throw bench_error("raw consume read " + std::to_string(r.messages) + " of " + std::to_string(expected) +
                          " messages before its deadline");
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) throw bench_error("raw consume: " + m->errstr());
    if (r.messages == 0) r.first_message_s = seconds_since(t0, steady::now());
    ++r.messages;
    r.bytes += m->len();
    partition_bytes[static_cast<size_t>(m->partition())] += m->len();
    last = steady::now();
  }
  r.wall_s = seconds_since(t0, last);

  // Snapshot before close(): the consumer's threads end with it.
  const auto thread1 = rusage_cpu(RUSAGE_THREAD);
  const auto process1 = rusage_cpu(RUSAGE_SELF);
  const auto threads1 = thread_cpu_seconds();
  r.poll_thread_cpu_s = (thread1 - thread0).total();
  r.process_cpu_s = (process1 - process0).total();
  const long self_tid = static_cast<long>(gettid());
  for (const auto& [tid, cpu_s] : threads1) {
    if (tid == self_tid) continue;
    auto before = threads0.find(tid);
    if (before == threads0.end()) {
      r.client_threads_cpu_s += cpu_s;
      ++r.client_threads;
    } else {
      r.broker_cpu_s += cpu_s - before->second;
    }
  }
  r.largest_partition_bytes = *std::max_element(partition_bytes.begin(), partition_bytes.end());
  consumer->close();
  return r;
}

// --- the pipeline runs --------------------------------------------------------------------------

// The counters of the replay's final log line (msg="replay finished", logfmt).
struct replay_summary {
  bool found = false;
  long long records = 0, observations = 0, rejected = 0, sessions_emitted = 0, dead_letters = 0, still_open = 0;
};

// What the replay does with the sessions still open when the input ends.
enum class at_end {
  flush,       // --flush: completes them, so every call comes out
  leave_open,  // reports them; shows the cost of the ingest alone
};

struct pipeline_run {
  std::string label;
  at_end end = at_end::flush;
  child_run child;
  double broker_cpu_s = 0;  // this process's CPU while the child ran: the mock broker serving it
  std::vector<std::string> sessions;     // lines written to --out, sorted
  size_t dead_letters = 0;               // lines written to --deadletter-out
  replay_summary summary;
  std::vector<std::string> stderr_problems;  // log lines at warn or error
};

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream f(path, std::ios::binary);
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

long long logfmt_int(const std::string& line, const std::string& key) {
  auto at = line.find(" " + key + "=");
  if (at == std::string::npos) return -1;
  return std::atoll(line.c_str() + at + key.size() + 2);
}

pipeline_run run_replay(const options& o, const std::string& label, const std::string& dir, const std::string& name,
                        std::vector<std::string> source_args, at_end end) {
  pipeline_run r;
  r.label = label;
  r.end = end;
  const std::string out = dir + "/sessions." + name + ".jsonl";
  const std::string dl = dir + "/deadletter." + name + ".jsonl";
  const std::string err = dir + "/stderr." + name + ".log";
  std::vector<std::string> cmd{o.binary, "replay"};
  cmd.insert(cmd.end(), source_args.begin(), source_args.end());
  // log.level=info: the replay's last line carries its counters; the few other info lines (one
  // per partition, progress every 5 s) cost nothing measurable. --state-dir rather than
  // --set state.dir: replay puts its state in a temporary directory unless --state-dir is given.
  for (const std::string& a : {std::string("--out"), out, std::string("--deadletter-out"), dl,
                               std::string("--state-dir"), dir + "/state." + name, std::string("--set"),
                               std::string("log.level=info")})
    cmd.push_back(a);
  if (end == at_end::flush) cmd.emplace_back("--flush");
  for (const auto& kv : o.replay_settings) {
    cmd.emplace_back("--set");
    cmd.push_back(kv);
  }

  const auto process0 = rusage_cpu(RUSAGE_SELF);
  r.child = run_measured(cmd, dir + "/stdout." + name + ".log", err, o.child_timeout_s);
  r.broker_cpu_s = (rusage_cpu(RUSAGE_SELF) - process0).total();

  r.sessions = read_lines(out);
  std::sort(r.sessions.begin(), r.sessions.end());
  r.dead_letters = read_lines(dl).size();
  for (const auto& line : read_lines(err)) {
    if (line.find("msg=\"replay finished\"") != std::string::npos) {
      r.summary.found = true;
      r.summary.records = logfmt_int(line, "records");
      r.summary.observations = logfmt_int(line, "observations");
      r.summary.rejected = logfmt_int(line, "rejected");
      r.summary.sessions_emitted = logfmt_int(line, "sessions_emitted");
      r.summary.dead_letters = logfmt_int(line, "dead_letters");
      r.summary.still_open = logfmt_int(line, "still_open");
    } else if (line.find("level=info") == std::string::npos && line.find("level=debug") == std::string::npos) {
      const bool expected = end == at_end::leave_open && line.find("msg=\"sessions still open") != std::string::npos;
      if (!expected) r.stderr_problems.push_back(line);
    }
  }
  return r;
}

// --- correctness checks -------------------------------------------------------------------------

std::string json_string_member(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  auto at = line.find(needle);
  if (at == std::string::npos) return {};
  at += needle.size();
  return line.substr(at, line.find('"', at) - at);
}

long long json_int_member(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  auto at = line.find(needle);
  return at == std::string::npos ? -1 : std::atoll(line.c_str() + at + needle.size());
}

struct session_check {
  size_t distinct = 0;
  size_t revised = 0;  // lines with revision > 1
  std::vector<std::string> missing;     // generated calls without a session
  std::vector<std::string> unexpected;  // sessions no call was generated for
};

session_check check_sessions(const pipeline_run& r, const data_set& d) {
  session_check c;
  std::set<std::string> seen;
  for (const auto& line : r.sessions) {
    seen.insert(json_string_member(line, "session_id"));
    if (json_int_member(line, "revision") > 1) ++c.revised;
  }
  c.distinct = seen.size();
  std::set<std::string> planned;
  for (const auto& p : d.plans) {
    planned.insert(p.session_id);
    if (!seen.count(p.session_id)) c.missing.push_back(p.session_id);
  }
  for (const auto& id : seen)
    if (!planned.count(id)) c.unexpected.push_back(id);
  return c;
}

// --- report -------------------------------------------------------------------------------------

std::string thousands(double v) {
  auto n = static_cast<long long>(std::llround(v));
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return (n < 0 ? "-" : "") + s;
}

std::string truncated(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n) + "..."; }

void print_usage() {
  std::printf(
      "usage: tw_bench_pipeline [--events N] [--partitions P] [--binary PATH] [--seed S] [--timeout SECONDS]\n"
      "                         [--set KEY=VALUE]... [--keep]\n"
      "  --events N       at least N synthetic events, whole calls (default 200000)\n"
      "  --partitions P   input topic partitions (default: enough for ~2 MB per partition)\n"
      "  --binary PATH    the tracewatch binary (default: the one built with this benchmark)\n"
      "  --seed S         seed of the call generator (default 1)\n"
      "  --timeout S      kill a replay that runs longer (default 600)\n"
      "  --set KEY=VALUE  a tracewatch option for every replay (repeatable), e.g. pipeline.batch_max_records=5000\n"
      "  --keep           keep the temporary directory (data file, sessions, child logs)\n");
}

bool parse_args(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--events") {
      o.events = std::stoull(value());
    } else if (a == "--partitions") {
      o.partitions = std::stoi(value());
    } else if (a == "--binary") {
      o.binary = value();
    } else if (a == "--seed") {
      o.seed = std::stoull(value());
    } else if (a == "--timeout") {
      o.child_timeout_s = std::stoi(value());
    } else if (a == "--set") {
      o.replay_settings.push_back(value());
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "-h" || a == "--help") {
      print_usage();
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown argument " + a);
    }
  }
  if (o.events == 0) throw std::invalid_argument("--events must be positive");
  if (o.partitions < 0 || o.partitions > 1000) throw std::invalid_argument("--partitions must be in 1..1000");
  if (o.child_timeout_s <= 0) throw std::invalid_argument("--timeout must be positive");
  return true;
}

std::string today_and_host() {
  char date[32];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&now));
  char host[256] = "?";
  gethostname(host, sizeof host);
  return std::string(date) + ", " + host + ", nproc " + std::to_string(std::thread::hardware_concurrency());
}

int run(const options& o) {
  if (access(o.binary.c_str(), X_OK) != 0) throw bench_error("not an executable: " + o.binary);
  std::string tmpl = (fs::temp_directory_path() / "tw-bench-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw bench_error("cannot create a temporary directory");
  const std::string dir = tmpl;

  std::printf("tw_bench_pipeline: %s\n", today_and_host().c_str());
  std::printf("tracewatch: %s\nwork dir:   %s\n", o.binary.c_str(), dir.c_str());
  for (const auto& kv : o.replay_settings) std::printf("replay --set %s\n", kv.c_str());
  std::fflush(stdout);

  const data_set d = generate(o, o.events, o.seed);
  const int partitions =
      o.partitions > 0 ? o.partitions
                       : std::max(4, static_cast<int>(std::ceil(static_cast<double>(d.log_bytes) / partition_budget_bytes)));
  const std::string file = dir + "/input.jsonl";
  write_lines(file, d.messages);

  std::unique_ptr<kafka::mock_cluster> cluster;
  if (auto st = kafka::mock_cluster::start(1, cluster); !st.ok()) throw bench_error(st.message);
  for (auto [topic, n] : {std::pair<const char*, int>{input_topic, partitions}, {sessions_topic, 1}, {deadletter_topic, 1}})
    if (auto st = cluster->create_topic(topic, n); !st.ok()) throw bench_error(st.message);
  const double produce_s = produce_all(cluster->bootstrap_servers(), d.messages);

  const double ev_per_msg = static_cast<double>(d.events) / static_cast<double>(d.messages.size());
  std::printf("\ndata set:   %zu calls, %s events in %s messages (%.3f events/message), %.1f MB of payload\n",
              d.plans.size(), thousands(static_cast<double>(d.events)).c_str(),
              thousands(static_cast<double>(d.messages.size())).c_str(), ev_per_msg,
              static_cast<double>(d.payload_bytes) / 1e6);
  std::fflush(stdout);

  const raw_consume raw = consume_all(cluster->bootstrap_servers(), partitions, d.messages.size());
  std::printf("topic:      %s, %d partition%s, largest %.2f MB of payload (the mock keeps ~5 MB); produced in %.2f s\n",
              input_topic, partitions, partitions == 1 ? "" : "s", static_cast<double>(raw.largest_partition_bytes) / 1e6,
              produce_s);
  std::fflush(stdout);

  const pipeline_run from_kafka = run_replay(o, "replay --topic", dir, "kafka",
                                             {"--topic", input_topic, "--set",
                                              "kafka.bootstrap.servers=" + cluster->bootstrap_servers()},
                                             at_end::flush);
  const pipeline_run from_file = run_replay(o, "replay FILE", dir, "file", {file}, at_end::flush);
  const pipeline_run ingest = run_replay(o, "replay FILE, no --flush", dir, "ingest", {file}, at_end::leave_open);
  const std::string empty = dir + "/empty.jsonl";
  std::ofstream(empty).close();
  const pipeline_run idle = run_replay(o, "replay of an empty file", dir, "empty", {empty}, at_end::flush);

  // Memory against open sessions: nothing completes (a gap of 7 days, the most the option allows,
  // and no end markers), so every call stays open, and the caches are capped at their minimum so
  // that both runs are past their caps. The data set, then one with memory_factor times as many
  // calls (written to a file only): peak RSS must not grow with the number of open sessions (they
  // live in RocksDB). The larger set's calls start closer together, so that it spans at most 6
  // days of event time whatever its size: were it longer than the gap, its first calls would
  // complete and the per-session figure would be wrong (the check below says so if one does).
  const std::string bigger = dir + "/input.bigger.jsonl";
  size_t bigger_calls = 0;
  {
    const auto span = std::chrono::duration_cast<duration>(std::chrono::hours(24 * 6));
    const duration spacing = std::clamp<duration>(span / std::max<size_t>(1, memory_factor * d.plans.size()),
                                                  std::chrono::milliseconds(1), std::chrono::seconds(1));
    const data_set big = generate(o, o.events * memory_factor, o.seed + 1, spacing);
    write_lines(bigger, big.messages);
    bigger_calls = big.plans.size();
  }
  const std::vector<std::string> keep_open{"--set", "completion.gap=7d",         "--set", "completion.max_duration=30d",
                                           "--set", "completion.end_markers=",    "--set", "resolve.trace_cache_entries=5000",
                                           "--set", "state.cache_sessions=1000",  "--set", "state.block_cache_mb=8",
                                           "--set", "state.write_buffer_mb=8",    "--set", "pipeline.max_inflight_records=4000"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const pipeline_run open_fifth =
      run_replay(o, "all open, the data set", dir, "open-fifth", with({file}, keep_open), at_end::leave_open);
  const pipeline_run open_all = run_replay(o, "all open, " + std::to_string(memory_factor) + "x the calls", dir,
                                           "open-all", with({bigger}, keep_open), at_end::leave_open);

  // --- figures
  const double events = static_cast<double>(d.events);
  const double raw_events_per_s = events / raw.wall_s;
  const double raw_client_cpu = raw.poll_thread_cpu_s + raw.client_threads_cpu_s;
  std::printf("\n%-26s %8s %12s %14s %10s %9s %10s\n", "", "wall s", "events/s", "events/CPU-s", "CPU s", "peak RSS",
              "x raw rate");
  std::printf("%-26s %8.3f %12s %14s %10.3f %9s %10.2f\n", "raw consume (librdkafka)", raw.wall_s,
              thousands(raw_events_per_s).c_str(), thousands(events / raw_client_cpu).c_str(), raw_client_cpu, "-",
              1.0);
  for (const pipeline_run* r : {&from_kafka, &from_file, &ingest}) {
    const double rate = events / r->child.wall_s;
    std::printf("%-26s %8.3f %12s %14s %10.3f %6.0f MB %10.3f\n", r->label.c_str(), r->child.wall_s,
                thousands(rate).c_str(), thousands(events / r->child.cpu.total()).c_str(), r->child.cpu.total(),
                static_cast<double>(r->child.max_rss_kb) / 1024.0, rate / raw_events_per_s);
  }
  std::printf("%-26s %8.3f %12s %14s %10.3f %6.0f MB %10s\n", idle.label.c_str(), idle.child.wall_s, "-", "-",
              idle.child.cpu.total(), static_cast<double>(idle.child.max_rss_kb) / 1024.0, "-");

  std::printf("\nraw consume: %s messages/s, %.1f MB/s of payload; first message %.3f s after the first poll;\n"
              "  setup before the first poll (consumer, watermarks, assign) %.3f s, not in wall\n",
              thousands(static_cast<double>(raw.messages) / raw.wall_s).c_str(),
              static_cast<double>(raw.bytes) / 1e6 / raw.wall_s, raw.first_message_s, raw.setup_s);
  std::printf("  CPU: polling thread %.3f s + the consumer's librdkafka threads %.3f s (%zu threads) = %.3f s;\n"
              "       mock broker %.3f s; whole process %.3f s\n",
              raw.poll_thread_cpu_s, raw.client_threads_cpu_s, raw.client_threads, raw_client_cpu,
              raw.broker_cpu_s, raw.process_cpu_s);
  for (const pipeline_run* r : {&from_kafka, &from_file, &ingest}) {
    std::printf("%s: user %.3f s + sys %.3f s (%.2f cores busy on average)", r->label.c_str(), r->child.cpu.user_s,
                r->child.cpu.sys_s, r->child.cpu.total() / r->child.wall_s);
    if (r == &from_kafka) std::printf("; mock broker serving it %.3f s (not counted above)", r->broker_cpu_s);
    std::printf("\n");
  }

  std::printf("\nmemory against open sessions (nothing completes; caches capped small):\n");
  for (const pipeline_run* r : {&open_fifth, &open_all})
    std::printf("  %-26s %7lld open sessions, peak RSS %4.0f MB\n", r->label.c_str(), r->summary.still_open,
                static_cast<double>(r->child.max_rss_kb) / 1024.0);
  const double more_sessions = static_cast<double>(open_all.summary.still_open - open_fifth.summary.still_open);
  const double more_kb = static_cast<double>(open_all.child.max_rss_kb - open_fifth.child.max_rss_kb);
  if (more_sessions > 0)
    std::printf("  growth: %.2f KB of RSS per additional open session (%.0f MB for %s more)\n", more_kb / more_sessions,
                more_kb / 1024.0, thousands(more_sessions).c_str());

  // --- correctness
  std::printf("\nchecks:\n");
  bool ok = true;
  auto problem = [&](const std::string& what) {
    ok = false;
    std::printf("  ** PROBLEM: %s\n", what.c_str());
  };
  for (const pipeline_run* r : {&from_kafka, &from_file, &ingest, &idle, &open_fifth, &open_all}) {
    if (r->child.timed_out) problem(r->label + " was killed after --timeout " + std::to_string(o.child_timeout_s) + " s");
    if (r->child.exit_code != 0) problem(r->label + " exited with " + std::to_string(r->child.exit_code));
    if (!r->summary.found) problem(r->label + " did not log its \"replay finished\" line");
    for (size_t i = 0; i < r->stderr_problems.size() && i < 5; ++i)
      problem(r->label + " logged: " + truncated(r->stderr_problems[i], 300));
    if (r->stderr_problems.size() > 5)
      problem(r->label + " logged " + std::to_string(r->stderr_problems.size()) + " warnings/errors in all");
  }
  // The memory figures are per open session: every call of each set must still be open.
  for (const auto& [r, calls] : {std::pair<const pipeline_run*, size_t>{&open_fifth, d.plans.size()}, {&open_all, bigger_calls}})
    if (r->summary.still_open != static_cast<long long>(calls))
      problem(r->label + ": " + std::to_string(r->summary.still_open) + " sessions still open of " + std::to_string(calls) +
              " calls: some completed, so the RSS per open session above is not what it says");
  for (const pipeline_run* r : {&from_kafka, &from_file, &ingest}) {
    const auto c = check_sessions(*r, d);
    std::printf("  %-23s records %lld/%zu, observations %lld, rejected %lld; %zu session lines for %zu of %zu calls "
                "(%zu revised), dead letters %zu, still open %lld\n",
                r->label.c_str(), r->summary.records, d.messages.size(), r->summary.observations, r->summary.rejected,
                r->sessions.size(), c.distinct - c.unexpected.size(), d.plans.size(), c.revised, r->dead_letters,
                r->summary.still_open);
    if (r->summary.records != static_cast<long long>(d.messages.size()))
      problem(r->label + " read " + std::to_string(r->summary.records) + " records, " +
              std::to_string(d.messages.size()) + " were produced");
    if (r->summary.rejected != 0) problem(r->label + " rejected " + std::to_string(r->summary.rejected) + " events");
    // Without --flush the calls still open at the end have no session yet, and only they.
    const size_t may_miss = r->end == at_end::flush ? 0 : static_cast<size_t>(std::max(0LL, r->summary.still_open));
    if (c.missing.size() != may_miss)
      problem(r->label + ": " + std::to_string(c.missing.size()) + " generated calls have no session" +
              (may_miss ? " (" + std::to_string(may_miss) + " reported still open)" : std::string()) +
              (c.missing.empty() ? std::string() : ", first " + c.missing.front()));
    if (!c.unexpected.empty())
      problem(r->label + ": " + std::to_string(c.unexpected.size()) + " sessions match no generated call (first " +
              c.unexpected.front() + ")");
    if (r->end == at_end::flush && r->sessions.size() != d.plans.size())
      problem(r->label + " wrote " + std::to_string(r->sessions.size()) + " session lines for " +
              std::to_string(d.plans.size()) + " calls");
    if (r->dead_letters != 0) problem(r->label + " dead-lettered " + std::to_string(r->dead_letters) + " records");
  }
  // A topic's partitions finish at different points and stop holding the watermark back, so a
  // topic replay closes some sessions before the end of the data (window.reason "idle") that the
  // file's single partition closes by their data: otherwise the lines are the same (the e2e test
  // "the replay of a Kafka topic gives the replay of a file's sessions..." pins this).
  auto any_reason = [](std::string line) {
    const std::string key = "\"reason\":\"";
    if (auto at = line.find(key); at != std::string::npos) {
      const auto from = at + key.size(), to = line.find('"', from);
      if (to != std::string::npos) line.replace(from, to - from, "*");
    }
    return line;
  };
  std::multiset<std::string> kafka_any, file_any;
  size_t closed_by_finished = 0;
  for (const auto& l : from_kafka.sessions) {
    kafka_any.insert(any_reason(l));
    closed_by_finished += l.find("\"reason\":\"idle\"") != std::string::npos;
  }
  for (const auto& l : from_file.sessions) file_any.insert(any_reason(l));
  if (from_kafka.sessions == from_file.sessions) {
    std::printf("  replay --topic and replay FILE wrote the same %zu session lines (byte-identical after sorting)\n",
                from_kafka.sessions.size());
  } else if (kafka_any == file_any) {
    std::printf("  replay --topic and replay FILE wrote the same %zu session lines, %zu of them closed by a finished "
                "partition in the topic replay (reason idle) where the file closed them by their data\n",
                from_kafka.sessions.size(), closed_by_finished);
  } else {
    std::vector<std::string> only_kafka, only_file;
    std::set_difference(from_kafka.sessions.begin(), from_kafka.sessions.end(), from_file.sessions.begin(),
                        from_file.sessions.end(), std::back_inserter(only_kafka));
    std::set_difference(from_file.sessions.begin(), from_file.sessions.end(), from_kafka.sessions.begin(),
                        from_kafka.sessions.end(), std::back_inserter(only_file));
    problem("replay --topic and replay FILE wrote different sessions: " + std::to_string(only_kafka.size()) +
            " lines only from Kafka, " + std::to_string(only_file.size()) + " only from the file");
    if (!only_kafka.empty()) std::printf("     first only from Kafka: %s\n", truncated(only_kafka.front(), 400).c_str());
    if (!only_file.empty()) {
      // The same session's line from the file, when there is one, shows what differs.
      const auto id = only_kafka.empty() ? std::string() : json_string_member(only_kafka.front(), "session_id");
      auto same = std::find_if(only_file.begin(), only_file.end(),
                               [&](const std::string& l) { return json_string_member(l, "session_id") == id; });
      std::printf("     first only from file:  %s\n",
                  truncated(same != only_file.end() ? *same : only_file.front(), 400).c_str());
    }
  }

  // What was completed during the input must not depend on whether the end is flushed.
  if (std::includes(from_file.sessions.begin(), from_file.sessions.end(), ingest.sessions.begin(),
                    ingest.sessions.end())) {
    std::printf("  the %zu session lines written before the end of the input are among those of replay FILE\n",
                ingest.sessions.size());
  } else {
    problem("replay FILE without --flush wrote session lines that replay FILE with --flush did not");
  }

  // --- targets (design targets, not gated)
  const double kafka_eps_cpu = events / from_kafka.child.cpu.total();
  const double file_eps_cpu = events / from_file.child.cpu.total();
  const double ratio = (events / from_kafka.child.wall_s) / raw_events_per_s;
  std::printf("\ntargets (not gated):\n");
  std::printf("  >= 100,000 events per CPU-second end to end: %s (replay --topic %s, replay FILE %s)\n",
              kafka_eps_cpu >= 100000 && file_eps_cpu >= 100000 ? "met" : "NOT met", thousands(kafka_eps_cpu).c_str(),
              thousands(file_eps_cpu).c_str());
  std::printf("  pipeline rate >= 0.6x the raw consume rate:  %s (%.3fx)\n", ratio >= 0.6 ? "met" : "NOT met", ratio);
  std::printf("\nthis process: peak RSS %.0f MB (the data set and the mock broker's logs)\n",
              static_cast<double>(rss_peak_self_kb()) / 1024.0);

  if (o.keep || !ok) {
    std::printf("kept %s\n", dir.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(dir, ec);  // best effort: a leftover temporary directory harms nothing
  }
  return ok ? 0 : 3;
}

}  // namespace tw::bench

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--measure-child") return tw::bench::measure_child_main(argc, argv);
  tw::bench::options o;
  try {
    tw::bench::parse_args(argc, argv, o);
  } catch (const std::exception& e) {  // std::invalid_argument, or std::stoi's own
    std::fprintf(stderr, "tw_bench_pipeline: %s\n", e.what());
    tw::bench::print_usage();
    return 2;
  }
  try {
    return tw::bench::run(o);
  } catch (const tw::bench::bench_error& e) {
    std::fprintf(stderr, "tw_bench_pipeline: %s\n", e.what());
    return 1;
  }
}
