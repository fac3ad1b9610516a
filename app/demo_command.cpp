// `tracewatch demo`: everything on one machine, in one command.
//
//   1. librdkafka's mock cluster on loopback, as an embedded Kafka broker (or --brokers);
//   2. a generator of synthetic calls to a clinic's scheduling voice agent (sim/), producing
//      Langfuse events to the input topic as the calls happen: tool successes and failures,
//      transfers, hang-ups, abandoned calls, some out-of-order and duplicate events;
//   3. the live pipeline, unchanged, with a short completion gap so results show within seconds;
//   4. a Kafka consumer of the output topics printing each verdict as its call is judged, each
//      diagnosis, and each alert as it fires and resolves.
//
// The calls include an incident: from --incident-at for --incident-for (10 s and 25 s by
// default) most calls' tools fail, as when the booking system is down; the built-in alert rules
// fire on it and resolve after it.
#include <cstdlib>
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
#include "app/io_support.hpp"
#include "app/signals.hpp"
#include "config/values.hpp"
#include "http/ops_endpoints.hpp"
#include "model/log.hpp"
#include "sim/call_generator.hpp"
#include "topics/contracts/alert_json.hpp"
#include "topics/contracts/diagnostic_json.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/verdict_json.hpp"
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
    // Personal data is redacted in all the demo writes (docs/privacy.md): the callers' phone
    // numbers become keyed hashes, the same for the same caller. The key is the demo's own, not
    // a secret; a deployment sets privacy.hash_key from its environment.
    "privacy.redact=true", "privacy.mode=hash", "privacy.fields=date_of_birth", "privacy.hash_key=tracewatch-demo-key",
};

struct shared_plans {
  std::mutex mutex;
  std::map<std::string, sim::call_plan> by_session;  // guarded by mutex
};

event_time wall_as_event_time() { return event_time::from_micros(system_clock::instance().now().micros()); }

// Produces the calls' messages when their time comes. Runs on its own thread.
void generate(const std::string& brokers, const std::string& topic, double calls_per_second, uint64_t seed,
              duration incident_at, duration incident_for, std::atomic<bool>& stop, shared_plans& plans,
              std::atomic<uint64_t>& calls_started) {
  std::unique_ptr<kafka::output_producer> producer;
  if (auto st = kafka::output_producer::create(kafka::client_settings{brokers, {}}, producer); !st.ok()) {
    log::error("demo generator cannot produce", {{"error", st.message}});
    return;
  }
  sim::generator_options opts;
  opts.seed = seed;
  opts.turn_interval = std::chrono::milliseconds(1200);
  opts.max_shuffle = std::chrono::milliseconds(700);  // within time.max_out_of_orderness (1s)
  const event_time began = wall_as_event_time();
  opts.incident_start = began + incident_at;
  opts.incident_end = opts.incident_start + incident_for;
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

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// What the printer remembers of a session until its verdict arrives (bounded: oldest dropped).
struct session_note {
  std::string caller;
  size_t turns = 0;
};

void print_verdict(const verdict& v, const std::map<std::string, session_note>& notes, shared_plans& plans) {
  std::optional<sim::call_plan> plan;
  {
    std::lock_guard<std::mutex> lock(plans.mutex);
    auto it = plans.by_session.find(v.session_id);
    if (it != plans.by_session.end()) plan = it->second;
  }
  double judged_after = to_millis(wall_as_event_time() - v.last_event_at) / 1000.0;
  std::ostringstream line;
  line << clock_time() << "  " << std::left << std::setw(10) << upper(to_string(v.status)) << std::setw(22)
       << v.session_id;
  if (v.revision > 1) line << " rev " << v.revision;
  line << std::setw(23) << (v.intent.name + " (" + std::to_string(static_cast<int>(v.intent.confidence * 100 + 0.5)) + "%)");
  line << std::right << std::setw(2) << v.stats.traces << " turns  tools " << v.stats.tool_calls;
  if (v.stats.tool_errors) line << " (" << v.stats.tool_errors << " failed)";
  line << "  closed by " << to_string(v.reason);
  line << std::fixed << std::setprecision(1) << ", judged " << judged_after << "s after the last event";
  if (plan) line << "  [generator: " << sim::to_string(plan->outcome) << "]";
  for (const auto& c : v.fulfillment.checks)
    if (c.outcome == check_outcome::failed)
      line << "\n            check failed: " << c.id << " (" << to_string(c.implies) << ")"
           << (c.detail.empty() ? "" : ": " + c.detail.substr(0, 100));
  auto note = notes.find(v.session_id);
  if (note != notes.end() && !note->second.caller.empty())
    line << "\n            caller: \"" << note->second.caller.substr(0, 90) << "\"";
  std::cout << line.str() << std::endl;
}

void print_alert(const alerts::alert_event& e) {
  std::ostringstream line;
  const bool firing = e.state == alerts::alert_state::firing;
  line << clock_time() << "  ALERT " << (firing ? (e.repeat ? "REPEAT  " : "FIRING  ") : "RESOLVED") << " "
       << upper(to_string(e.level)) << " " << e.rule;
  for (const auto& [k, v] : e.labels) line << " " << k << "=" << v;
  line << "\n            " << e.summary.substr(0, 160);
  if (firing && !e.examples.empty()) {
    line << "\n            e.g.";
    for (const auto& id : e.examples) line << " " << id;
  }
  std::cout << line.str() << std::endl;
}

void print_diagnostic(const diagnostic& d) {
  std::ostringstream line;
  line << clock_time() << "    diagnosis of " << d.session_id << " (" << to_string(d.verdict) << "):";
  for (const auto& f : d.findings) {
    line << "\n            " << std::left << std::setw(18) << f.code << " " << std::setw(8) << to_string(f.level) << " "
         << f.message.substr(0, 110);
    if (f.advice && !f.advice->key.empty()) line << "\n              -> " << f.advice->key << ": " << f.advice->advice.substr(0, 90);
  }
  if (d.findings.empty()) line << " no expert found anything";
  if (d.webhook) line << "\n            webhook: " << d.webhook->status;
  std::cout << line.str() << std::endl;
}

// Reads the output topics like any downstream consumer would, and prints verdicts and diagnostics.
void print_output(const std::string& brokers, const config::settings& s, std::atomic<bool>& stop, shared_plans& plans,
                  std::atomic<uint64_t>& verdicts_seen, std::atomic<uint64_t>& dead_letters_seen,
                  std::atomic<uint64_t>& alerts_seen, bool quiet) {
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
  for (const auto* topic : {&s.topics.sessions, &s.topics.verdicts, &s.topics.diagnostics})
    for (int p = 0; p < 4; ++p) parts.push_back(RdKafka::TopicPartition::create(*topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  parts.push_back(RdKafka::TopicPartition::create(s.topics.deadletter, 0, RdKafka::Topic::OFFSET_BEGINNING));
  parts.push_back(RdKafka::TopicPartition::create(s.topics.alerts, 0, RdKafka::Topic::OFFSET_BEGINNING));
  consumer->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  std::map<std::string, session_note> notes;
  std::deque<std::string> note_order;
  while (!stop) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    std::string payload(static_cast<const char*>(m->payload()), m->len());
    const std::string& topic = m->topic_name();
    if (topic == s.topics.deadletter) {
      ++dead_letters_seen;
      if (!quiet) std::cout << clock_time() << "  dead letter: " << payload.substr(0, 200) << std::endl;
    } else if (topic == s.topics.sessions) {
      if (auto session = decode_session_json(payload)) {
        session_note n;
        n.turns = session->turns.size();
        if (!session->turns.empty()) n.caller = session->turns.front().user_text;
        if (notes.emplace(session->session_id, n).second) note_order.push_back(session->session_id);
        if (note_order.size() > 10000) {
          notes.erase(note_order.front());
          note_order.pop_front();
        }
      }
    } else if (topic == s.topics.verdicts) {
      if (auto v = decode_verdict_json(payload)) {
        ++verdicts_seen;
        if (!quiet) print_verdict(*v, notes, plans);
      }
    } else if (topic == s.topics.alerts) {
      if (auto e = decode_alert_json(payload)) {
        ++alerts_seen;
        if (!quiet) print_alert(*e);
      }
    } else if (topic == s.topics.diagnostics) {
      if (auto d = decode_diagnostic_json(payload); d && !quiet) print_diagnostic(*d);
    }
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
  auto incident_at = config::parse_duration(a.incident_at), incident_for = config::parse_duration(a.incident_for);
  if (!incident_at || !incident_for) {
    std::cerr << "tracewatch demo: --incident-at and --incident-for take durations (e.g. 20s; 0s: no incident)\n";
    return exit_usage;
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
      std::cerr << "tracewatch demo: cannot start the embedded broker: " << log::filtered("error", st.message) << "\n";
      return exit_failure;
    }
    brokers = cluster->bootstrap_servers();
    for (const auto& t : s->topics.input) cluster->create_topic(t, 4);
    cluster->create_topic(s->topics.sessions, 4);
    cluster->create_topic(s->topics.verdicts, 4);
    cluster->create_topic(s->topics.diagnostics, 4);
    cluster->create_topic(s->topics.deadletter, 1);
    cluster->create_topic(s->topics.alerts, 1);
  }
  s->kafka.bootstrap_servers = brokers;

  std::optional<scratch_dir> scratch;
  if (a.state_dir) {
    s->state.dir = *a.state_dir;
  } else {
    scratch.emplace("tracewatch-demo");
    if (!scratch->ok()) return exit_failure;
    s->state.dir = scratch->path();
  }

  int code = exit_ok;
  actors::pipeline p(*s, system_clock::instance());
  // Up before the pipeline starts (so /readyz can say it is restoring); destroyed before it.
  http::live_pipeline_view view(p);
  std::string http_error;
  auto ops = http::start_ops_server(*s, view, system_clock::instance(), http_error);
  if (!http_error.empty()) {
    std::cerr << "tracewatch demo: " << log::filtered("error", http_error) << "\n";
    return exit_failure;
  }

  std::cout << "tracewatch demo\n"
            << "  broker:   " << brokers << (a.brokers ? "" : " (embedded: librdkafka's mock cluster)") << "\n"
            << "  input:    " << config::join(s->topics.input, ",") << "   output: " << s->topics.sessions << ", "
            << s->topics.verdicts << ", " << s->topics.diagnostics << ", " << s->topics.deadletter << "\n"
            << "  calls:    " << a.calls_per_second << " per second, a scheduling voice agent (book, cancel, "
            << "reschedule, questions)\n"
            << "  windows:  gap " << config::format_duration(s->completion.gap) << ", end marker '"
            << config::join(s->completion.end_markers, ",") << "' + " << config::format_duration(s->completion.settle_delay)
            << ", min " << s->completion.min_traces << " turns\n"
            << "  rules:    " << s->judge.rules << "; diagnoses at most one per "
            << config::format_duration(s->diagnostics.interval) << "\n"
            << "  alerts:   " << s->alerts.rules << " on " << s->topics.alerts << "; incident: tools fail "
            << (incident_for->count() > 0 ? "from " + config::format_duration(*incident_at) + " for " +
                                                config::format_duration(*incident_for)
                                          : std::string("never"))
            << "\n"
            << "  inspect:  kcat -b " << brokers << " -t " << s->topics.verdicts << " -C -e\n"
            << (ops ? "  status:   http://" + ops->bound_address() + "/  (the status page; /metrics, /healthz, /readyz; " +
                          (s->query.token.empty() && !std::getenv(s->query.token_env.c_str())
                               ? std::string("queries off: no query token")
                               : std::string("/api/v1/... with the query token")) +
                          ")\n"
                    : std::string())
            << "Verdicts appear as the calls end (the first after ~15 s). Ctrl-C to stop.\n"
            << std::endl;

  {
    auto started = p.start_live();
    if (!started.ok) {
      std::cerr << "tracewatch demo: cannot start the pipeline: " << log::filtered("error", started.error) << "\n";
      return exit_failure;
    }
    std::atomic<bool> stop{false};
    shared_plans plans;
    std::atomic<uint64_t> calls{0}, verdicts{0}, dead_letters{0}, alert_events{0};
    std::thread generator([&] {
      generate(brokers, s->topics.input.front(), a.calls_per_second, a.seed, *incident_at, *incident_for, stop, plans,
               calls);
    });
    std::thread printer([&] { print_output(brokers, *s, stop, plans, verdicts, dead_letters, alert_events, a.quiet); });
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
    while (std::chrono::steady_clock::now() < until && verdicts < p.probes().judge.judged)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    printer.join();
    const auto& pr = p.probes();
    const auto& jp = pr.judge;
    std::cout << "\n" << calls << " calls started, " << pr.importer.records << " messages consumed, "
              << pr.engine.revisions_emitted << " sessions completed, " << jp.judged << " judged (" << verdicts
              << " printed): " << jp.by_verdict[0] << " pass, " << jp.by_verdict[1] << " fail, " << jp.by_verdict[2]
              << " partial, " << jp.by_verdict[3] << " error, " << jp.by_verdict[4] << " abandoned; "
              << pr.diagnostic.diagnosed << " diagnosed (" << pr.diagnostic.queue.depth() << " waiting), "
              << pr.engine.duplicates << " duplicate events dropped, " << pr.engine.pending_released
              << " early observations attached, " << dead_letters << " dead letters; alerts: " << pr.alerts.fired
              << " firing and " << pr.alerts.resolved << " resolved events (" << alert_events << " printed), "
              << pr.alerts.firing_now << " firing at the end.\n";
    if (!r.ok) {
      std::cerr << "tracewatch demo: the pipeline failed: " << log::filtered("error", r.error) << "\n";
      code = exit_failure;
    }
  }
  return code;
}

}  // namespace tw::app
