// tw_bench_http: what serving the HTTP endpoints costs, as a share of the pipeline's CPU (issue
// target: under 2% with /metrics scraped every second). docs/benchmarks.md, "HTTP endpoints".
//
//   1. generates at least --events synthetic events (a call every second of event time) and
//      produces them to a topic of the mock broker (tools/mock_broker.cpp, a process of its own);
//   2. runs `tracewatch run` over that backlog until every call came out as a session with its
//      verdict (and diagnosis): once with http.enabled=false, once with the server on and a
//      scraper that GETs /metrics, /healthz and /readyz every --interval-ms over one keep-alive
//      connection, as Prometheus and a health checker do, and fetches what an open status page
//      fetches (/ once, /status.json every 2 s, /api/v1/failures every 5 s with the query token);
//      --rounds times, alternating;
//   3. prints, per run, the child's CPU (utime + stime from /proc/PID/stat, read when its outputs
//      were complete, before it is stopped) and wall time; for the runs with the server, the
//      handlers' own CPU from the last scrape (tracewatch_http_handler_cpu_seconds_total, their
//      threads' clocks) as a share of the process's CPU in the same run.
//
// The in-run share is the precise figure (one run, one clock per handler thread); it leaves out
// what httplib spends outside the handlers (accepting, parsing, writing, keep-alive polling). The
// difference between the runs with and without includes all of that but also the noise of two
// runs on a shared machine, which is several percent here: it is printed, not judged.
// Nothing here asserts on timing.
//
// Exit codes: 0 measured · 1 could not measure · 2 usage.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "model/proc_stat.hpp"
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
  size_t events = 200000;
  int partitions = 16;
  int rounds = 2;
  int interval_ms = 1000;
  std::string binary = TW_BINARY;
  std::string broker = TW_MOCK_BROKER;
  bool keep = false;
};

void usage() {
  std::printf(
      "usage: tw_bench_http [--events N] [--partitions P] [--rounds R] [--interval-ms MS]\n"
      "                     [--binary PATH] [--broker PATH] [--keep]\n"
      "  --events N        at least N events, pre-produced (default 200000)\n"
      "  --rounds R        pairs of runs, without and with the HTTP server (default 2)\n"
      "  --interval-ms MS  the scrape interval (default 1000)\n");
}

options parse(int argc, char** argv) {
  options o;
  for (arguments args(argc, argv, usage); args.next();) {
    if (args.is("--events")) o.events = std::stoull(args.value());
    else if (args.is("--partitions")) o.partitions = std::stoi(args.value());
    else if (args.is("--rounds")) o.rounds = std::stoi(args.value());
    else if (args.is("--interval-ms")) o.interval_ms = std::stoi(args.value());
    else if (args.is("--binary")) o.binary = args.value();
    else if (args.is("--broker")) o.broker = args.value();
    else if (args.is("--keep")) o.keep = true;
    else args.unknown();
  }
  if (o.rounds < 1 || o.interval_ms < 10) throw std::invalid_argument("--rounds >= 1, --interval-ms >= 10");
  return o;
}

// utime + stime of a running process, in seconds.
double process_cpu_s(pid_t pid) {
  auto s = read_proc_stat(std::to_string(pid));
  if (!s) throw harness_error("cannot read /proc/" + std::to_string(pid) + "/stat");
  return s->cpu_seconds;
}

// The value of an unlabelled sample in a /metrics text; -1 when absent.
double sample_of(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return -1;
}

// The query token of the runs with the server (the status page's failures need it).
constexpr const char* bench_query_token = "tw-bench-http-query-token-0123";

// GETs the endpoints every interval over one keep-alive connection until stopped; keeps the last
// /metrics body. Its own thread.
class scraper {
 public:
  scraper(const std::string& host, int port, std::chrono::milliseconds every) : client_(host, port), every_(every) {
    client_.set_keep_alive(true);
    client_.set_read_timeout(std::chrono::seconds(10));
    thread_ = std::thread([this] { loop(); });
  }
  ~scraper() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t scrapes() const { return scrapes_; }
  size_t failures() const { return failures_; }
  size_t page_fetches() const { return page_fetches_; }
  std::string last_metrics() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_;
  }

 private:
  void loop() {
    // And a status page open all along, as the page itself fetches (http/status_page.html): the
    // page once, /status.json every 2 s, the recent failures (with the query token) every 5 s.
    if (auto r = client_.Get("/"); !r || r->status != 200) ++failures_;
    auto next = steady::now(), next_status = next, next_failures = next;
    const httplib::Headers auth{{"Authorization", std::string("Bearer ") + bench_query_token}};
    while (!stop_) {
      const auto now = steady::now();
      if (now >= next) {
        next += every_;
        auto m = client_.Get("/metrics");
        bool ok = m && m->status == 200;
        ok = client_.Get("/healthz") && ok;
        ok = client_.Get("/readyz") && ok;  // 503 while not ready still answers
        ++scrapes_;
        if (!ok) ++failures_;
        if (m && m->status == 200) {
          std::lock_guard<std::mutex> lock(mutex_);
          last_ = m->body;
        }
      }
      if (now >= next_status) {
        next_status += std::chrono::seconds(2);
        auto r = client_.Get("/status.json");
        if (!r || r->status != 200) ++failures_;
        ++page_fetches_;
      }
      if (now >= next_failures) {
        next_failures += std::chrono::seconds(5);
        auto r = client_.Get("/api/v1/failures?limit=10", auth);
        if (!r || (r->status != 200 && r->status != 503)) ++failures_;  // 503 until the state is open
        ++page_fetches_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the scrape schedule's tick
    }
  }
  httplib::Client client_;
  std::chrono::milliseconds every_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> scrapes_{0}, failures_{0}, page_fetches_{0};
  std::mutex mutex_;
  std::string last_;
  std::thread thread_;
};

struct run_figures {
  bool http = false;
  double cpu_s = 0, wall_s = 0;
  double handler_cpu_s = -1, process_cpu_s_scraped = -1;  // from the last scrape (http runs)
  size_t scrapes = 0, scrape_failures = 0, page_fetches = 0;
};

run_figures run_once(const options& o, broker_process& broker, const topic_spec& input_topic, const input_data& input,
                     const std::string& dir, const std::string& label, bool http) {
  const run_names names = names_for(label, dir);
  output_partitions parts;
  for (const auto& t : output_topics(names, parts, false)) broker.create(t);
  run_command_line cmd;
  cmd.binary = o.binary;
  cmd.brokers = broker.bootstrap();
  cmd.input_topic = input_topic.name;
  // As tw_overload: the tail closes within seconds, diagnoses are not rate-limited.
  cmd.settings = {"completion.gap=5s", "time.idle_timeout=2s", "diagnostics.interval=1ms", "diagnostics.burst=1000"};
  if (!http) cmd.settings.push_back("http.enabled=false");
  else cmd.settings.push_back(std::string("query.token=") + bench_query_token);
  run_tracker out(broker.bootstrap(), names, parts);
  const std::string log = dir + "/" + label + ".log";
  const auto start = steady::now();
  auto p = process::start(run_argv(cmd, names), process_options{"", log});
  std::unique_ptr<scraper> scrape;
  if (http) {
    static const std::regex line(R"(msg="http server listening" address=([0-9.]+):([0-9]+))");
    log_follower follow(log);
    const auto until = steady::now() + std::chrono::seconds(30);
    while (!scrape && steady::now() < until && p->running()) {
      for (const auto& l : follow.poll()) {
        std::smatch m;
        if (std::regex_search(l, m, line))
          scrape = std::make_unique<scraper>(m[1].str(), std::stoi(m[2].str()), std::chrono::milliseconds(o.interval_ms));
      }
      if (!scrape) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the log, with a deadline
    }
    if (!scrape) throw harness_error("the run did not log the address it listens on; see " + log);
  }
  settled end = settled::timed_out;
  const auto deadline = steady::now() + std::chrono::minutes(20);
  while (steady::now() < deadline && (end = wait_settled(out, input.plans, *p, 3s, 180s, 100ms)) == settled::timed_out) {
  }
  if (end != settled::complete) throw harness_error(label + " did not complete (" + to_string(end) + "); see " + log);
  run_figures f;
  f.http = http;
  f.cpu_s = process_cpu_s(p->pid());
  f.wall_s = seconds_since(start);
  if (scrape) {
    scrape->stop();
    const auto last = scrape->last_metrics();
    f.handler_cpu_s = sample_of(last, "tracewatch_http_handler_cpu_seconds_total");
    f.process_cpu_s_scraped = sample_of(last, "process_cpu_seconds_total");
    f.scrapes = scrape->scrapes();
    f.scrape_failures = scrape->failures();
    f.page_fetches = scrape->page_fetches();
  }
  if (auto code = stop(*p, 60s); !code || *code != 0) throw harness_error(label + " did not stop cleanly; see " + log);
  return f;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int run(const options& o) {
  work_dir work("tw-bench-http", o.keep);
  const std::string dir = work.path();
  auto input = generate_input(1, o.events, std::chrono::milliseconds(1000));
  const topic_spec input_topic{"bench.http.input", o.partitions};
  broker_process broker(o.broker, {input_topic}, dir + "/broker.log");
  produce_input(broker.bootstrap(), input_topic, input);
  std::printf("tw_bench_http: %zu calls, %zu events in %zu messages on %d partitions; scrape every %d ms; work dir %s\n",
              input.plans.size(), input.events, input.messages.size(), o.partitions, o.interval_ms, dir.c_str());
  std::fflush(stdout);
  std::vector<sim::message>().swap(input.messages);

  std::vector<double> without, with, shares;
  for (int r = 1; r <= o.rounds; ++r) {
    for (bool http : {false, true}) {
      const std::string label = std::string(http ? "http" : "nohttp") + std::to_string(r);
      auto f = run_once(o, broker, input_topic, input, dir, label, http);
      (http ? with : without).push_back(f.cpu_s);
      std::printf("  round %d, %-22s CPU %6.2f s, wall %6.1f s", r, http ? "server on, scraped:" : "server off:", f.cpu_s,
                  f.wall_s);
      if (http) {
        const double share = f.handler_cpu_s / f.process_cpu_s_scraped;
        shares.push_back(share);
        std::printf("; %zu scrapes and %zu status page fetches (%zu failed), handlers %.4f s of %.2f s: %.3f %% of the run's CPU, %.0f us a scrape",
                    f.scrapes, f.page_fetches, f.scrape_failures, f.handler_cpu_s, f.process_cpu_s_scraped, 100 * share,
                    1e6 * f.handler_cpu_s / std::max<size_t>(1, f.scrapes));
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  const double a = median(without), b = median(with);
  std::printf("median CPU: %.2f s without, %.2f s with the server scraped: %+.1f %% (two sets of runs: noisy)\n", a, b,
              100 * (b - a) / a);
  std::printf("handlers' share of the pipeline's CPU, same run: median %.3f %%   (target: under 2 %%)\n",
              100 * median(shares));
  work.passed();
  return 0;
}

}  // namespace
}  // namespace tw::fault

int main(int argc, char** argv) {
  return tw::fault::tool_main("tw_bench_http", argc, argv, tw::fault::parse, tw::fault::usage, tw::fault::run);
}
