// `tracewatch demo`: everything on one machine, in one command.
//
//   1. librdkafka's mock cluster on loopback, as an embedded Kafka broker (or --brokers);
//   2. a generator of synthetic calls to a clinic's scheduling voice agent (sim/), producing
//      Langfuse events to the input topic as the calls happen: tool successes and failures,
//      transfers, hang-ups, abandoned calls, some out-of-order and duplicate events;
//   3. the live pipeline, unchanged, with a short completion gap so results show within seconds;
//   4. a Kafka consumer of the sessions topic printing each session as it closes.
#include <deque>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <queue>
#include <sstream>
#include <thread>

#include "actors/pipeline.hpp"
#include "app/commands.hpp"
#include "app/config_support.hpp"
#include "app/signals.hpp"
#include "config/values.hpp"
#include "model/log.hpp"
#include "sim/call_generator.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/kafka/mock_cluster.hpp"
#include "topics/kafka/output_producer.hpp"

namespace tw::app {
namespace {

// Defaults for the demo, applied before any file or --set: short windows so that a call is
// judged a second or two after it hangs up, and quiet logs so that the sessions stand out.
const std::vector<std::string> demo_defaults = {
    "completion.gap=10s",           "completion.settle_delay=1s", "time.max_out_of_orderness=1s",
    "time.idle_timeout=3s",         "resolve.pending_timeout=15s", "pipeline.tick_interval=250ms",
    "pipeline.batch_max_wait=10ms", "log.level=warn",
};

struct shared_plans {
  std::mutex mutex;
  std::map<std::string, sim::call_plan> by_session;  // guarded by mutex
};

event_time wall_as_event_time() { return event_time::from_micros(system_clock::instance().now().micros()); }

// Produces the calls' messages when their time comes. Runs on its own thread.
void generate(const std::string& brokers, const std::string& topic, double calls_per_second, uint64_t seed,
              std::atomic<bool>& stop, shared_plans& plans, std::atomic<uint64_t>& calls_started) {
  std::unique_ptr<kafka::output_producer> producer;
  if (auto st = kafka::output_producer::create(kafka::client_settings{brokers, {}}, producer); !st.ok()) {
    log::error("demo generator cannot produce", {{"error", st.message}});
    return;
  }
  sim::generator_options opts;
  opts.seed = seed;
  opts.turn_interval = std::chrono::milliseconds(1200);
  opts.max_shuffle = std::chrono::milliseconds(700);  // within time.max_out_of_orderness (1s)
  sim::call_generator gen(opts);
  using item = std::pair<int64_t, std::pair<std::string, std::string>>;  // send_at, (key, payload)
  std::priority_queue<item, std::vector<item>, std::greater<item>> queue;
  auto interval = duration(static_cast<int64_t>(1e6 / calls_per_second));
  event_time next_call = wall_as_event_time();
  uint64_t seq = 0;
  std::vector<kafka::delivery> reports;
  while (!stop) {
    event_time now = wall_as_event_time();
    while (next_call <= now) {
      auto call = gen.next_call(now);
      {
        std::lock_guard<std::mutex> lock(plans.mutex);
        plans.by_session[call.plan.session_id] = call.plan;
      }
      for (auto& m : call.messages) queue.emplace(m.send_at.micros(), std::make_pair(m.key, std::move(m.payload)));
      ++calls_started;
      next_call = next_call + interval;
    }
    while (!queue.empty() && queue.top().first <= now.micros()) {
      const auto& [key, payload] = queue.top().second;
      if (!producer->produce(topic, key, payload, seq++).ok()) break;  // queue full: next round
      queue.pop();
    }
    reports.clear();
    producer->poll(std::chrono::milliseconds(20), reports);
    for (const auto& r : reports)
      if (!r.status.ok()) log::warn("demo generator: a message was not delivered", {{"error", r.status.message}});
  }
}

std::string clock_time() {
  auto t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

void print_session(const session_summary& s, shared_plans& plans) {
  std::optional<sim::call_plan> plan;
  {
    std::lock_guard<std::mutex> lock(plans.mutex);
    auto it = plans.by_session.find(s.session_id);
    if (it != plans.by_session.end()) plan = it->second;
  }
  double judged_after = to_millis(wall_as_event_time() - s.last_event_at) / 1000.0;
  std::ostringstream line;
  line << clock_time() << "  " << std::left << std::setw(14) << s.session_id;
  if (s.revision > 1) line << " rev " << s.revision;
  line << "  " << std::setw(11) << (plan ? std::string(sim::to_string(plan->intent)) : "?");
  line << std::right << std::setw(2) << s.stats.traces << " turns  ";
  line << "tools " << s.stats.tool_calls;
  if (s.stats.tool_errors) line << " (" << s.stats.tool_errors << " failed)";
  line << "  tokens " << s.stats.input_tokens << "/" << s.stats.output_tokens;
  line << "  closed by " << to_string(s.reason);
  if (s.abandoned) line << " [abandoned]";
  line << std::fixed << std::setprecision(1) << "  judged " << judged_after << "s after the last event";
  if (plan) line << "  (generator: " << sim::to_string(plan->outcome) << ")";
  if (!s.turns.empty() && !s.turns.front().user_text.empty())
    line << "\n            caller: \"" << s.turns.front().user_text.substr(0, 90) << "\"";
  std::cout << line.str() << std::endl;
}

// Reads the sessions and dead-letter topics like any downstream consumer would, and prints them.
void print_output(const std::string& brokers, const config::settings& s, std::atomic<bool>& stop, shared_plans& plans,
                  std::atomic<uint64_t>& sessions_seen, std::atomic<uint64_t>& dead_letters_seen, bool quiet) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("group.id", "tracewatch-demo-printer", err);
  conf->set("enable.auto.commit", "false", err);
  conf->set("log_level", "3", err);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) {
    log::error("demo printer cannot consume", {{"error", err}});
    return;
  }
  std::vector<RdKafka::TopicPartition*> parts;
  for (int p = 0; p < 4; ++p)
    parts.push_back(RdKafka::TopicPartition::create(s.topics.sessions, p, RdKafka::Topic::OFFSET_BEGINNING));
  parts.push_back(RdKafka::TopicPartition::create(s.topics.deadletter, 0, RdKafka::Topic::OFFSET_BEGINNING));
  consumer->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  while (!stop) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    std::string payload(static_cast<const char*>(m->payload()), m->len());
    if (m->topic_name() == s.topics.deadletter) {
      ++dead_letters_seen;
      if (!quiet) std::cout << clock_time() << "  dead letter: " << payload.substr(0, 200) << std::endl;
      continue;
    }
    auto session = decode_session_json(payload);
    if (!session) continue;
    ++sessions_seen;
    if (!quiet) print_session(*session, plans);
  }
  consumer->close();
}

}  // namespace

int demo_command(const demo_args& a) {
  std::optional<duration> run_for;
  if (a.duration) {
    run_for = config::parse_duration(*a.duration);
    if (!run_for) {
      std::cerr << "tracewatch demo: --duration: '" << *a.duration << "' is not a duration (e.g. 60s, 5m)\n";
      return exit_usage;
    }
  }
  if (!(a.calls_per_second > 0 && a.calls_per_second <= 1000)) {
    std::cerr << "tracewatch demo: --calls-per-second must be in (0, 1000]\n";
    return exit_usage;
  }
  auto s = load_settings(a.cfg, demo_defaults);
  if (!s) return exit_usage;
  configure_logging(*s);
  block_shutdown_signals();

  std::unique_ptr<kafka::mock_cluster> cluster;
  std::string brokers;
  if (a.brokers) {
    brokers = *a.brokers;
  } else {
    if (auto st = kafka::mock_cluster::start(1, cluster); !st.ok()) {
      std::cerr << "tracewatch demo: cannot start the embedded broker: " << st.message << "\n";
      return exit_failure;
    }
    brokers = cluster->bootstrap_servers();
    for (const auto& t : s->topics.input) cluster->create_topic(t, 4);
    cluster->create_topic(s->topics.sessions, 4);
    cluster->create_topic(s->topics.deadletter, 1);
  }
  s->kafka.bootstrap_servers = brokers;

  std::filesystem::path temp;
  if (a.state_dir) {
    s->state.dir = *a.state_dir;
  } else {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tracewatch-demo-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::cerr << "tracewatch demo: cannot create a temporary state directory\n";
      return exit_failure;
    }
    temp = tmpl;
    s->state.dir = tmpl;
  }

  std::cout << "tracewatch demo\n"
            << "  broker:   " << brokers << (a.brokers ? "" : " (embedded: librdkafka's mock cluster)") << "\n"
            << "  input:    " << config::join(s->topics.input, ",") << "   sessions: " << s->topics.sessions
            << "   dead letters: " << s->topics.deadletter << "\n"
            << "  calls:    " << a.calls_per_second << " per second, a scheduling voice agent (book, cancel, "
            << "reschedule, questions)\n"
            << "  windows:  gap " << config::format_duration(s->completion.gap) << ", end marker '"
            << config::join(s->completion.end_markers, ",") << "' + " << config::format_duration(s->completion.settle_delay)
            << ", min " << s->completion.min_traces << " turns\n"
            << "  inspect:  kcat -b " << brokers << " -t " << s->topics.sessions << " -C -e\n"
            << "Sessions appear as the calls end (the first after ~15 s). Ctrl-C to stop.\n"
            << std::endl;

  int code = exit_ok;
  {
    actors::pipeline p(*s, system_clock::instance());
    auto started = p.start_live();
    if (!started.ok) {
      std::cerr << "tracewatch demo: cannot start the pipeline: " << started.error << "\n";
      return exit_failure;
    }
    std::atomic<bool> stop{false};
    shared_plans plans;
    std::atomic<uint64_t> calls{0}, sessions{0}, dead_letters{0};
    std::thread generator([&] { generate(brokers, s->topics.input.front(), a.calls_per_second, a.seed, stop, plans, calls); });
    std::thread printer([&] { print_output(brokers, *s, stop, plans, sessions, dead_letters, a.quiet); });
    auto started_at = std::chrono::steady_clock::now();
    while (true) {
      if (wait_for_shutdown_signal(std::chrono::milliseconds(200))) break;
      if (p.failed()) break;
      if (run_for && std::chrono::steady_clock::now() - started_at >= *run_for) break;
    }
    stop = true;
    generator.join();
    p.request_stop();
    auto r = p.wait();
    // Give the printer a moment to show what the drain delivered.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (std::chrono::steady_clock::now() < until && sessions < p.probes().engine.revisions_emitted)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    printer.join();
    const auto& pr = p.probes();
    std::cout << "\n" << calls << " calls started, " << pr.importer.records << " messages consumed, "
              << pr.engine.revisions_emitted << " sessions completed (" << sessions << " printed), "
              << pr.engine.duplicates << " duplicate events ignored, " << pr.engine.pending_released
              << " early observations attached, " << dead_letters << " dead letters.\n";
    if (!r.ok) {
      std::cerr << "tracewatch demo: the pipeline failed: " << r.error << "\n";
      code = exit_failure;
    }
  }
  if (!temp.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp, ec);
  }
  return code;
}

}  // namespace tw::app
