#include "actors/pipeline.hpp"

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <thread>

#include "actors/stages.hpp"
#include "alerts/alert_rules.hpp"
#include "config/values.hpp"
#include "model/log.hpp"
#include "privacy/redactor.hpp"
#include "topics/kafka/input_consumer.hpp"
#include "topics/kafka/output_producer.hpp"
#include "topics/kafka/range_reader.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/watermark_json.hpp"
#include "topics/replay_order.hpp"
#include "topics/sinks.hpp"

namespace tw::actors {

namespace {

// cost.prices: the operator's rows over the built-in ones, or none at all (`off`).
std::shared_ptr<const price_table> price_table_from(const config::settings& s) {
  if (s.cost.prices_off) return nullptr;
  std::vector<price_row> own;
  for (const auto& [pattern, p] : s.cost.prices) own.push_back(price_row{pattern, {p.input_per_mtok, p.output_per_mtok}});
  return std::make_shared<const price_table>(std::move(own), price_table::builtin_rows());
}

state::engine_config engine_config_from(const config::settings& s) {
  state::engine_config c;
  c.window.gap = s.completion.gap;
  c.window.max_duration = s.completion.max_duration;
  c.window.settle_delay = s.completion.settle_delay;
  c.grace = s.completion.grace;
  c.tombstone_retention = s.completion.tombstone_retention;
  c.pending_timeout = s.resolve.pending_timeout;
  c.max_out_of_orderness = s.time.max_out_of_orderness;
  c.end_markers = s.completion.end_markers;
  c.summary.min_traces = s.completion.min_traces;
  c.summary.max_turns = static_cast<size_t>(s.session.max_turns);
  c.summary.max_tool_calls = static_cast<size_t>(s.session.max_tool_calls);
  c.summary.max_llm_calls = static_cast<size_t>(s.session.max_llm_calls);
  c.summary.max_errors = static_cast<size_t>(s.session.max_errors);
  c.summary.max_scores = static_cast<size_t>(s.session.max_scores);
  c.summary.max_record_bytes = static_cast<size_t>(s.output.max_record_bytes);
  c.summary.prices = price_table_from(s);
  c.max_events_per_session = static_cast<uint64_t>(s.session.max_events);
  c.header_cache_entries = static_cast<size_t>(s.state.cache_sessions);
  c.trace_cache_entries = static_cast<size_t>(s.resolve.trace_cache_entries);
  c.sessions_topic = s.topics.sessions;
  c.deadletter_topic = s.topics.deadletter;
  c.judge_handover_max = static_cast<size_t>(s.diagnostics.memory_queue);
  c.results_retention = s.query.retention;
  return c;
}

importer_config importer_config_from(const config::settings& s) {
  importer_config c;
  c.limits.max_message_bytes = static_cast<size_t>(s.input.max_message_bytes);
  c.limits.text_excerpt_bytes = static_cast<size_t>(s.input.text_excerpt_bytes);
  c.limits.result_excerpt_bytes = static_cast<size_t>(s.input.result_excerpt_bytes);
  c.limits.metadata_entries = static_cast<size_t>(s.input.metadata_entries);
  // Both were validated against the same list when the configuration loaded.
  c.default_format = parse_input_format(s.input.format).value_or(input_format::auto_detect);
  for (const auto& [topic, fmt] : s.input.format_by_topic)
    c.format_by_topic[topic] = parse_input_format(fmt).value_or(input_format::auto_detect);
  return c;
}

// kafka.librdkafka for every client, then the client kind's own section on top.
}  // namespace

namespace {

// PII redaction of what leaves (docs/privacy.md): nullptr when privacy.redact is off. The
// configuration was checked when it was loaded (app/config_support.cpp), so a pattern that does
// not compile cannot reach here; should one, it is a programming error, not silence.
std::shared_ptr<const privacy::redactor> redactor_of(const config::settings& s) {
  std::string error;
  auto r = privacy::redactor_from(s, error);
  if (!error.empty()) throw std::invalid_argument(error);
  return r;
}

// A webhook or notification body as it leaves: redacted as a document.
std::function<std::string(const std::string&)> body_filter_of(const config::settings& s) {
  auto r = redactor_of(s);
  if (!r) return {};
  return [r](const std::string& body) { return r->document(body); };
}

}  // namespace

std::optional<webhook::webhook_settings> webhook_settings_from(const config::settings& s) {
  if (s.webhook.url.empty()) return std::nullopt;
  webhook::webhook_settings w;
  w.url = s.webhook.url;
  w.timeout = s.webhook.timeout;
  w.max_attempts = static_cast<int>(s.webhook.max_attempts);
  w.backoff_initial = s.webhook.backoff_initial;
  w.backoff_max = s.webhook.backoff_max;
  w.retry_after_max = s.webhook.retry_after_max;
  w.breaker_failures = static_cast<int>(s.webhook.breaker_failures);
  w.breaker_cooldown = s.webhook.breaker_cooldown;
  w.headers = s.webhook.headers;
  w.body_filter = body_filter_of(s);
  return w;
}

alerts::alert_rules_result load_alert_rules(const std::string& setting) {
  if (setting == "off") return {};
  if (setting == "builtin:scheduling") return alerts::builtin_alert_rules();
  return alerts::load_alert_rules_file(setting);
}

std::optional<std::string> validate_webhook(const config::settings& s) {
  auto w = webhook_settings_from(s);
  if (w)
    if (auto err = webhook::validate(*w)) return "webhook." + *err;  // validate() names the field first
  if (auto n = notifier_settings_from(s))
    if (auto err = alertmanager::validate(*n)) {
      // validate() names the notifier_settings field; say the option instead.
      for (const auto& [field, key] : {std::pair<std::string, std::string>{"delivery.", "notify."},
                                       {"retry_", "notify.retry_"},
                                       {"resend_interval", "alertmanager.resend_interval"}})
        if (err->rfind(field, 0) == 0) return "alerts." + key + err->substr(field.size());
      return "alerts." + *err;
    }
  return std::nullopt;
}

std::optional<alertmanager::notifier_settings> notifier_settings_from(const config::settings& s) {
  const auto& a = s.alerts;
  if (a.alertmanager_url.empty() && a.webhook_url.empty()) return std::nullopt;
  alertmanager::notifier_settings n;
  if (!a.alertmanager_url.empty())
    n.alertmanager = alertmanager::target_settings{a.alertmanager_url, a.alertmanager_headers};
  if (!a.webhook_url.empty()) n.webhook = alertmanager::target_settings{a.webhook_url, a.webhook_headers};
  n.delivery.timeout = a.timeout;
  n.delivery.max_attempts = static_cast<int>(a.max_attempts);
  n.delivery.backoff_initial = a.backoff_initial;
  n.delivery.backoff_max = a.backoff_max;
  n.delivery.retry_after_max = a.retry_after_max;
  n.delivery.breaker_failures = static_cast<int>(a.breaker_failures);
  n.delivery.breaker_cooldown = a.breaker_cooldown;
  n.retry_initial = a.retry_initial;
  n.retry_max = a.retry_max;
  n.resend_interval = a.resend_interval;
  n.payload.receiver = a.receiver;
  n.payload.external_url = a.external_url;
  n.payload.generator_url = a.generator_url;
  n.delivery.body_filter = body_filter_of(s);
  return n;
}

namespace {

diagnostic_stage_config diagnostic_config_from(const config::settings& s, std::shared_ptr<const judge::rule_set> rules,
                                               bool live) {
  diagnostic_stage_config c;
  c.rules = std::move(rules);
  c.diagnostics_topic = s.topics.diagnostics;
  c.mailbox.memory_capacity = static_cast<size_t>(s.diagnostics.memory_queue);
  c.mailbox.burst = s.diagnostics.burst;
  // A bounded replay or backtest has no live downstream to protect, and calls no webhook: it
  // diagnoses at full speed, with the experts alone.
  if (live) c.mailbox.interval = s.diagnostics.interval;
  if (live) c.webhook = webhook_settings_from(s);
  c.max_record_bytes = static_cast<size_t>(s.output.max_record_bytes);
  c.keep_results = s.query.retention.count() > 0;
  return c;
}

kafka::client_settings client_settings_from(const config::settings& s, const std::map<std::string, std::string>& own) {
  auto props = s.kafka.librdkafka;
  for (const auto& [k, v] : own) props[k] = v;
  return kafka::client_settings{s.kafka.bootstrap_servers, std::move(props)};
}
kafka::client_settings consumer_settings_from(const config::settings& s) { return client_settings_from(s, s.kafka.consumer); }
kafka::client_settings producer_settings_from(const config::settings& s) { return client_settings_from(s, s.kafka.producer); }

}  // namespace

struct pipeline::impl : kafka::rebalance_listener {
  config::settings settings;
  const clock& clk;
  shared_ptr_t shared = std::make_shared<pipeline_shared>();
  std::shared_ptr<state::store> store;
  std::atomic<state::store*> opened_store{nullptr};  // `store` once open, for other threads' reads
  std::unique_ptr<state::results_reader> results;
  std::atomic<const state::results_reader*> opened_results{nullptr};  // `results` once the store is open
  std::shared_ptr<record_writer> writer;
  // What the output stage writes through: `writer`, or a filtering_writer that redacts each key
  // and payload when privacy.redact is on (docs/privacy.md).
  std::shared_ptr<record_writer> redacted(std::shared_ptr<record_writer> w) const {
    auto r = redactor_of(settings);
    if (!r) return w;
    return std::make_shared<filtering_writer>(
        std::move(w), [r](const std::string& key) { return r->identifier(key); },
        [r](const std::string& payload) { return r->document(payload); });
  }
  // Declared before the actor handles: handles must be released before the system goes away.
  std::unique_ptr<caf::actor_system_config> system_config;
  std::unique_ptr<caf::actor_system> system;
  caf::actor importer, state_stage, judge, intent, fulfillment, diagnostic, alert_stage, notifier, output;
  std::shared_ptr<const judge::rule_set> rules;
  std::shared_ptr<const alerts::alert_rule_set> alert_rules;  // null: alerts off, or no rule
  std::thread source;
  std::atomic<bool> stop{false};
  std::shared_ptr<std::promise<end_report>> done;
  bool live_started = false;

  impl(config::settings s, const clock& c) : settings(std::move(s)), clk(c) {}

  ~impl() override {
    request_stop();
    if (source.joinable()) source.join();
    release_handles();
    if (system) system->await_all_actors_done();
  }

  void release_handles() {
    importer = state_stage = judge = intent = fulfillment = diagnostic = alert_stage = notifier = output = caf::actor{};
  }

  run_result load_rules() {
    auto r = settings.judge.rules.rfind("builtin:", 0) == 0 ? judge::builtin_rules()
                                                             : judge::load_rules_file(settings.judge.rules);
    if (!r) return run_result{false, "judge.rules: " + r.error->to_string(), 0, {}};
    rules = r.rules;
    auto a = load_alert_rules(settings.alerts.rules);
    if (a.error) return run_result{false, "alerts.rules: " + a.error->to_string(), 0, {}};
    if (a.rules && alerts::rule_count(*a.rules) > 0) alert_rules = a.rules;
    return {};
  }

  void request_stop() { stop = true; }

  run_result open_store() {
    state::store_options so;
    so.dir = settings.state.dir;
    so.sync_writes = settings.state.sync_writes;
    so.block_cache_mb = static_cast<size_t>(settings.state.block_cache_mb);
    so.write_buffer_mb = static_cast<size_t>(settings.state.write_buffer_mb);
    std::unique_ptr<state::store> st;
    auto s = state::store::open(so, st);
    if (!s.ok()) return run_result{false, s.message, 0, {}};
    store = std::move(st);
    results = std::make_unique<state::results_reader>(*store);
    opened_results = results.get();
    opened_store = store.get();
    return {};
  }

  // The stages after the input: judge, diagnostic and output. `live`: rate limits and the
  // webhook apply (a bounded replay runs at full speed and calls nothing outside).
  void spawn_judgement(bool live, bool with_alerts) {
    system_config = std::make_unique<caf::actor_system_config>();
    // Two scheduler threads on two cores; the state, judge, diagnostic and output stages have
    // threads of their own.
    system_config->set("scheduler.max-threads", 2);
    // A shared queue with a condition variable rather than work stealing, whose idle workers poll
    // and sleep: measured 25% less CPU for a replay (docs/benchmarks.md).
    system_config->set("scheduler.policy", caf::atom("sharing"));
    system_config->set("logger.verbosity", caf::atom("quiet"));
    system = std::make_unique<caf::actor_system>(*system_config);
    output = system->spawn<caf::detached>(output_actor, store, redacted(writer), &clk,
                                          live ? duration(std::chrono::seconds(10)) : duration::max(),
                                          output_stage_config_from(settings), shared);
    diagnostic = system->spawn<caf::detached>(diagnostic_actor, output, store, diagnostic_config_from(settings, rules, live),
                                              &clk, shared);
    if (with_alerts) spawn_alerts(live);
    fulfillment = system->spawn(fulfillment_actor, rules);
    intent = system->spawn(intent_actor, fulfillment, rules);
    judge_stage_config jc;
    jc.rules = rules;
    jc.verdicts_topic = settings.topics.verdicts;
    jc.settle_delay = settings.completion.settle_delay;
    jc.memory_queue = static_cast<size_t>(settings.diagnostics.memory_queue);
    jc.max_record_bytes = static_cast<size_t>(settings.output.max_record_bytes);
    jc.keep_results = settings.query.retention.count() > 0;
    // Alerts need the state stage's clock marks: not for the judge command (spawn_stages sets it).
    judge = system->spawn<caf::detached>(judge_actor, intent, diagnostic, alert_stage, output, store, jc, &clk, shared);
  }

  // The alert stage (with alert rules) and its notifier (live, with a target), before the judge
  // stage that feeds them.
  void spawn_alerts(bool live) {
    if (!alert_rules) return;
    auto targets = notifier_settings_from(settings);
    if (live && targets)
      notifier = system->spawn<caf::detached>(notifier_actor, diagnostic, store, *targets, &clk, shared);
    alert_stage_config ac;
    ac.rules = alert_rules;
    ac.limits.max_groups_per_rule = static_cast<size_t>(settings.alerts.max_groups);
    ac.limits.examples_max = static_cast<size_t>(settings.alerts.examples);
    ac.alerts_topic = settings.topics.alerts;
    ac.memory_queue = static_cast<size_t>(settings.diagnostics.memory_queue);
    ac.keep_results = settings.query.retention.count() > 0;
    alert_stage = system->spawn<caf::detached>(alert_actor, notifier ? notifier : diagnostic, notifier, output, store,
                                               ac, &clk, shared);
  }

  void spawn_stages(bool live) {
    spawn_judgement(live, /*with_alerts=*/true);
    state_stage_config sc;
    sc.engine = engine_config_from(settings);
    sc.engine.alert_clock = alert_stage != caf::actor{};
    if (alert_rules) {
      // Every rule's instants are multiples of the greatest common divisor of their steps.
      int64_t tick = 0;
      for (const auto& r : alert_rules->rules()) tick = std::gcd(tick, r.every.count());
      sc.engine.alert_tick = duration(tick);
    }
    if (live) {
      // Only a live run decides on wall-clock evidence, and so records what it decided.
      sc.engine.watermarks_topic = settings.topics.watermarks;
      sc.engine.group_id = settings.kafka.group_id;
    }
    sc.live = live;
    sc.tick_interval = settings.pipeline.tick_interval;
    sc.idle_timeout = settings.time.idle_timeout;
    state_stage = system->spawn<caf::detached>(state_actor, judge, output, store, sc, &clk, shared);
    importer = system->spawn(importer_actor, state_stage, importer_config_from(settings), &clk, shared);
  }

  // Sends control through the pipeline and waits for the state stage's answer. On the source
  // thread (rebalance callbacks included).
  std::vector<std::optional<offset>> ask(control::kind what, const std::vector<topic_partition>& tps) {
    auto c = std::make_shared<control>();
    c->what = what;
    c->partitions = tps;
    c->offsets_reply = std::make_shared<std::promise<std::vector<std::optional<offset>>>>();
    auto fut = c->offsets_reply->get_future();
    caf::anon_send(importer, c);
    while (fut.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      shared->probes.source_alive.beat(clk.now());  // alive, waiting for the state stage
      if (shared->failed) return std::vector<std::optional<offset>>(tps.size());
    }
    return fut.get();
  }

  std::vector<std::optional<offset>> on_assigned(const std::vector<topic_partition>& tps) override {
    auto out = ask(control::kind::assign, tps);
    out.resize(tps.size());
    return out;
  }
  std::vector<std::optional<offset>> on_revoked(const std::vector<topic_partition>& tps) override {
    auto out = ask(control::kind::revoke, tps);
    out.resize(tps.size());
    return out;
  }
  void on_consumed_before_rebalance(kafka::poll_result& consumed) override {
    auto b = std::make_shared<input_batch>();
    b->records = std::move(consumed.records);
    b->reached_end = std::move(consumed.reached_end);
    consumed.records.clear();
    consumed.reached_end.clear();
    send_batch(std::move(b));
  }

  // Sends `what` down the pipeline from its first stage (the importer, or the judge actor when
  // judging sessions alone).
  std::future<end_report> finish(control::kind what, bool flush) {
    auto c = std::make_shared<control>();
    c->what = what;
    c->flush = flush;
    done = std::make_shared<std::promise<end_report>>();
    c->done_reply = done;
    auto fut = done->get_future();
    caf::anon_send(importer ? importer : judge, c);
    return fut;
  }

  // The end of a bounded input, however it was fed: the stages finish everything, then stop.
  run_result end_bounded(const run_result& fed, bool flush) {
    if (!fed.ok) shared->fail(fed.error);
    auto fut = finish(control::kind::end_of_input, flush);
    auto report = await(fut);
    run_result out;
    out.ok = report.ok && !shared->failed;
    out.error = shared->failed ? shared->failure() : report.error;
    out.open_sessions = report.open_sessions;
    out.open_session_ids = report.open_session_ids;
    release_handles();
    system->await_all_actors_done();
    return out;
  }

  // Waits for the stages' answer, or for a failure that means none will come.
  end_report await(std::future<end_report>& fut) {
    while (fut.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (shared->failed) {
        end_report r;
        r.ok = false;
        r.error = shared->failure();
        return r;
      }
    }
    return fut.get();
  }

  void send_batch(input_batch_ptr b) {
    shared->probes.in_flight_records += static_cast<int64_t>(b->records.size());
    shared->probes.records_sent += b->records.size();
    caf::anon_send(importer, std::move(b));
  }

  void run_kafka_source() {
    kafka::consumer_settings cs;
    cs.client = consumer_settings_from(settings);
    cs.group_id = settings.kafka.group_id;
    cs.topics = settings.topics.input;
    cs.start_from = settings.input.start_from == "latest" ? kafka::start_position::latest : kafka::start_position::earliest;
    cs.group_commit_interval = settings.kafka.group_commit_interval;
    cs.clk = &clk;
    std::unique_ptr<kafka::input_consumer> consumer;
    if (auto st = kafka::input_consumer::create(cs, *this, shared->probes.group_commits, consumer); !st.ok()) {
      log::error("cannot create the input consumer", {{"error", st.message}});
      shared->fail("input consumer: " + st.message);
      return;
    }
    const auto max_inflight = settings.pipeline.max_inflight_records;
    kafka::positions durable;  // the state stage's latest durable positions, as last taken
    uint64_t durable_seen = 0;
    auto extents_published = std::chrono::steady_clock::time_point{};
    while (!stop && !shared->failed) {
      shared->probes.source_alive.beat(clk.now());
      // The consumer-group commits (informational, asynchronous, rate-limited inside): on this
      // thread because it owns the consumer.
      shared->positions.take_if_newer(durable_seen, durable);
      consumer->commit_durable(durable);
      // For consumer lag (/metrics, /readyz): the consumer's cached watermarks, about once a second.
      if (auto now = std::chrono::steady_clock::now(); now - extents_published >= std::chrono::seconds(1)) {
        extents_published = now;
        shared->probes.input_extents.publish(consumer->extents());
      }
      // Backpressure: stop taking records while too many are in flight. Not polling leaves what
      // librdkafka prefetched in its queue (bounded by queued.max.messages.kbytes), where pausing
      // would discard it and fetch it again — measured: a 2M-event backlog 2.3x slower. Only a
      // stall longer than a few seconds pauses the consumer, so that polling can serve the group
      // (rebalance callbacks run inside poll) well within max.poll.interval.ms.
      if (shared->probes.in_flight_records.load() >= max_inflight && !consumer->paused()) {
        wait_for_progress(max_inflight / 2, std::chrono::seconds(5));
        if (shared->probes.in_flight_records.load() >= max_inflight) {
          consumer->pause();
          ++shared->probes.pauses;
        }
      } else if (consumer->paused() && shared->probes.in_flight_records.load() <= max_inflight / 2) {
        consumer->resume();
      }
      kafka::poll_result r;
      auto st = consumer->poll(static_cast<size_t>(settings.pipeline.batch_max_records), settings.pipeline.batch_max_wait, r);
      if (!st.ok()) {
        log::error("input consumer failed", {{"error", st.message}});
        shared->fail("input consumer: " + st.message);
        break;
      }
      if (r.records.empty() && r.reached_end.empty()) continue;
      auto b = std::make_shared<input_batch>();
      b->records = std::move(r.records);
      b->reached_end = std::move(r.reached_end);
      send_batch(std::move(b));
    }
    // Leaving the group revokes the partitions: the listener waits until what was consumed is
    // committed.
    consumer->close();
    consumer.reset();
  }

  // Waits until at most `target` records are in flight (woken per applied batch), for up to `limit`.
  void wait_for_progress(int64_t target, std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    std::unique_lock<std::mutex> lock(shared->progress_mutex);
    while (shared->probes.in_flight_records.load() > target && !shared->failed && !stop &&
           std::chrono::steady_clock::now() < until) {
      shared->progress.wait_until(lock, std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
      shared->probes.source_alive.beat(clk.now());  // alive, waiting for the state stage
    }
  }

  // Bounded input: waits while too much is in flight (a file reads faster than it is judged).
  bool throttle() {
    const auto max_inflight = settings.pipeline.max_inflight_records;
    std::unique_lock<std::mutex> lock(shared->progress_mutex);
    while (shared->probes.in_flight_records.load() > max_inflight && !shared->failed)
      shared->progress.wait_for(lock, std::chrono::milliseconds(100));  // woken per applied batch
    return !shared->failed;
  }

  void progress(std::chrono::steady_clock::time_point& last, int64_t read) {
    auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(5)) return;
    last = now;
    log::info("replay progress", {{"records", read},
                                  {"sessions_emitted", shared->probes.engine.revisions_emitted.load()},
                                  {"watermark", format_iso8601(event_time::from_micros(shared->probes.engine.watermark_us))}});
  }

  // A bounded input: the file at `path`, or stdin for "-". Null when the file cannot be read.
  static std::istream* open_input(const std::string& path, std::ifstream& file) {
    if (path == "-") return &std::cin;
    file.open(path, std::ios::binary);
    return file ? &file : nullptr;
  }

  run_result feed_file(const std::string& path) {
    std::ifstream file;
    std::istream* in = open_input(path, file);
    if (!in) return run_result{false, "cannot read " + path, 0, {}};
    const topic_partition tp{"file:" + path, partition_id{0}};
    const auto batch_max = static_cast<size_t>(settings.pipeline.batch_max_records);
    auto b = std::make_shared<input_batch>();
    std::string line;
    int64_t line_no = -1;
    auto last = std::chrono::steady_clock::now();
    while (std::getline(*in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines separate nothing
      b->records.push_back(raw_record{record_position{tp, offset{line_no}}, {}, std::move(line)});
      if (b->records.size() >= batch_max) {
        send_batch(std::move(b));
        b = std::make_shared<input_batch>();
        if (!throttle()) break;
        progress(last, line_no + 1);
      }
    }
    if (in->bad()) return run_result{false, "reading " + path + " failed", 0, {}};
    b->reached_end.push_back(tp);
    send_batch(std::move(b));
    return {};
  }

  // The watermark decisions a live run of this consumer group recorded, to replay them.
  run_result read_recorded_decisions(decision_history& out) {
    std::unique_ptr<kafka::range_reader> reader;
    auto st = kafka::range_reader::create(
        consumer_settings_from(settings), {settings.topics.watermarks},
        [](const std::vector<topic_partition>& tps) { return std::vector<std::optional<offset>>(tps.size()); }, reader);
    if (!st.ok()) {
      // Most often: no live run recorded anything yet (the topic does not exist).
      log::info("no recorded watermark decisions; the data alone decides",
                {{"topic", settings.topics.watermarks}, {"reason", st.message}});
      return {};
    }
    std::vector<watermark_record> all;
    uint64_t undecodable = 0;
    while (!reader->done()) {
      std::vector<raw_record> records;
      st = reader->poll(1000, settings.pipeline.batch_max_wait, records);
      if (!st.ok()) return run_result{false, "reading " + settings.topics.watermarks + ": " + st.message, 0, {}};
      for (const auto& r : records) {
        std::string why;
        if (auto d = decode_watermark_json(r.payload, &why)) all.push_back(std::move(*d));
        else ++undecodable;
      }
    }
    out = select_history(std::move(all), settings.kafka.group_id);
    if (out.state_id.empty()) {
      log::info("no watermark decisions recorded for this consumer group; the data alone decides",
                {{"topic", settings.topics.watermarks}, {"group", settings.kafka.group_id}, {"records", all.size()}});
      return {};
    }
    if (undecodable > 0)
      log::warn("records of the watermarks topic that are not tracewatch.watermark.v1 were ignored",
                {{"topic", settings.topics.watermarks}, {"count", undecodable}});
    if (out.missing > 0)
      log::warn("recorded watermark decisions are missing (the topic lost them): the replay may differ from the live run",
                {{"topic", settings.topics.watermarks}, {"missing", out.missing}});
    log::info("replaying with the watermark decisions a live run recorded",
              {{"group", settings.kafka.group_id}, {"state_id", out.state_id}, {"decisions", out.records.size()},
               {"older_histories", out.other_histories}});
    return {};
  }

  // Sends a recorded decision down the pipeline, in order with the records around it.
  void send_decision(watermark_record d) {
    auto c = std::make_shared<control>();
    c->what = control::kind::watermark;
    c->record = std::make_shared<const watermark_record>(std::move(d));
    caf::anon_send(importer, c);
  }

  run_result feed_topics(const std::vector<std::string>& topics, bool recorded_decisions) {
    decision_history history;
    if (recorded_decisions)
      if (auto r = read_recorded_decisions(history); !r.ok) return r;
    std::unique_ptr<kafka::range_reader> reader;
    auto st = kafka::range_reader::create(
        consumer_settings_from(settings), topics,
        [this](const std::vector<topic_partition>& tps) { return ask(control::kind::assign, tps); }, reader);
    if (!st.ok()) return run_result{false, "replay from Kafka: " + st.message, 0, {}};
    std::map<topic_partition, replay_order::range> ranges;
    for (const auto& [tp, r] : reader->ranges()) ranges[tp] = replay_order::range{r.first, r.second};
    replay_order order(std::move(history.records), ranges);
    if (order.beyond_range() > 0)
      log::warn("recorded watermark decisions beyond the replayed range were not taken: the live run read further",
                {{"decisions", order.beyond_range()}});
    std::set<topic_partition> paused;
    int64_t read = 0;
    auto last = std::chrono::steady_clock::now();
    std::vector<replay_item> items;
    auto b = std::make_shared<input_batch>();
    auto send_records = [&] {
      if (!b->records.empty() || !b->reached_end.empty()) send_batch(std::move(b));
      b = std::make_shared<input_batch>();
    };
    while (true) {
      std::vector<raw_record> records;
      st = reader->poll(static_cast<size_t>(settings.pipeline.batch_max_records), settings.pipeline.batch_max_wait,
                        records);
      if (!st.ok()) return run_result{false, "replay from Kafka: " + st.message, 0, {}};
      read += static_cast<int64_t>(records.size());
      items.clear();
      for (auto& r : records) order.offer(std::move(r), items);
      for (const auto& tp : reader->take_finished()) order.finished(tp, items);
      for (auto& item : items) {
        switch (item.what) {
          case replay_item::kind::record: b->records.push_back(std::move(item.record)); break;
          case replay_item::kind::partition_end: b->reached_end.push_back(item.partition); break;
          case replay_item::kind::decision:
            send_records();
            send_decision(std::move(item.decision));
            break;
        }
      }
      send_records();
      // Partitions that reached the next decision wait for the others.
      for (const auto& [tp, range] : ranges) {
        bool block = order.blocked(tp);
        if (block && !paused.count(tp)) {
          if (auto e = reader->pause(tp); !e.ok()) return run_result{false, "replay from Kafka: " + e.message, 0, {}};
          paused.insert(tp);
        } else if (!block && paused.count(tp)) {
          if (auto e = reader->resume(tp); !e.ok()) return run_result{false, "replay from Kafka: " + e.message, 0, {}};
          paused.erase(tp);
        }
      }
      if (reader->done() && order.decisions_left() == 0) break;
      if (reader->done() && items.empty()) {
        // Everything is read; decisions left would need records that never came (a corrupt
        // history): say so rather than wait forever.
        log::warn("recorded watermark decisions left untaken at the end of the replay", {{"decisions", order.decisions_left()}});
        break;
      }
      if (!throttle()) break;
      progress(last, read);
    }
    return {};
  }

  // The judge command's input: completed sessions, one tracewatch.session.v1 per line, enqueued
  // for judgement exactly as the state stage enqueues them.
  run_result feed_sessions(const std::string& path) {
    std::ifstream file;
    std::istream* in = open_input(path, file);
    if (!in) return run_result{false, "cannot read " + path, 0, {}};
    state::mailbox_writer queue(*store, state::mailbox_lane::judge);
    if (auto st = queue.open(); !st.ok()) return run_result{false, st.message, 0, {}};
    auto items = std::make_shared<judge_items>();
    rocksdb::WriteBatch batch;
    auto flush_batch = [&]() -> bool {
      if (items->items.empty()) return true;
      queue.save(batch);
      if (!store->write(batch, "queueing completed sessions").ok()) return false;
      batch.Clear();
      caf::anon_send(judge, items);
      items = std::make_shared<judge_items>();
      return true;
    };
    std::string line;
    int64_t line_no = 0;
    while (std::getline(*in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      std::string why;
      auto session = decode_session_json(line, &why);
      if (!session) {
        log::warn("not a tracewatch.session.v1 document; skipped", {{"line", line_no}, {"error", why}});
        ++shared->probes.judge.invalid;
        continue;
      }
      items->items.push_back({queue.put(batch, std::move(line), clk.now()),
                              std::make_shared<const session_summary>(std::move(*session))});
      if (items->items.size() >= 500 && !flush_batch()) return run_result{false, "writing the judge queue failed", 0, {}};
    }
    if (!flush_batch()) return run_result{false, "writing the judge queue failed", 0, {}};
    return {};
  }
};

pipeline::pipeline(config::settings settings, const clock& clk) : impl_(std::make_unique<impl>(std::move(settings), clk)) {}
pipeline::~pipeline() = default;

const pipeline_probes& pipeline::probes() const { return impl_->shared->probes; }

void pipeline::request_stop() { impl_->request_stop(); }
bool pipeline::failed() const { return impl_->shared->failed; }
bool pipeline::stopping() const { return impl_->stop; }

std::optional<std::string> pipeline::failure() const {
  if (!impl_->shared->failed) return std::nullopt;
  return impl_->shared->failure();
}

std::optional<state::store_stats> pipeline::store_stats() const {
  auto* s = impl_->opened_store.load();
  if (!s) return std::nullopt;
  return s->stats();
}

const state::results_reader* pipeline::results() const { return impl_->opened_results.load(); }

run_result pipeline::start_live() {
  auto& m = *impl_;
  if (auto r = m.load_rules(); !r.ok) return r;
  if (auto r = m.open_store(); !r.ok) return r;
  std::unique_ptr<kafka::output_producer> producer;
  if (auto st = kafka::output_producer::create(producer_settings_from(m.settings), producer); !st.ok())
    return run_result{false, "output producer: " + st.message, 0, {}};
  m.writer = std::make_shared<kafka_writer>(std::move(producer));
  m.spawn_stages(/*live=*/true);
  m.live_started = true;
  m.source = std::thread([&m] { m.run_kafka_source(); });
  log::info("pipeline started", {{"brokers", m.settings.kafka.bootstrap_servers},
                                 {"input", config::join(m.settings.topics.input, ",")},
                                 {"state_dir", m.settings.state.dir}});
  return {};
}

run_result pipeline::wait() {
  auto& m = *impl_;
  if (!m.live_started) return run_result{false, "the pipeline was not started", 0, {}};
  if (m.source.joinable()) m.source.join();
  run_result out;
  if (!m.shared->failed) {
    auto fut = m.finish(control::kind::shutdown, false);
    auto report = m.await(fut);
    out.ok = report.ok;
    out.error = report.error;
  }
  if (m.shared->failed) {
    out.ok = false;
    out.error = m.shared->failure();
  }
  m.release_handles();
  m.system->await_all_actors_done();
  log::info("pipeline stopped", {{"ok", out.ok}});
  return out;
}

run_result pipeline::run_replay(const replay_options& opts) {
  auto& m = *impl_;
  if (auto r = m.load_rules(); !r.ok) return r;
  if (auto r = m.open_store(); !r.ok) return r;
  auto w = std::make_shared<stream_writer>();
  w->route(m.settings.topics.sessions, opts.sessions_out);
  w->route(m.settings.topics.deadletter, opts.deadletter_out);
  w->route(m.settings.topics.verdicts, opts.verdicts_out);
  w->route(m.settings.topics.diagnostics, opts.diagnostics_out);
  w->route(m.settings.topics.alerts, opts.alerts_out);
  m.writer = w;
  m.spawn_stages(/*live=*/false);

  return m.end_bounded(opts.topics.empty() ? m.feed_file(opts.input_path) : m.feed_topics(opts.topics, opts.recorded_decisions), opts.flush);
}

run_result pipeline::run_judge(const judge_options& opts) {
  auto& m = *impl_;
  if (auto r = m.load_rules(); !r.ok) return r;
  if (auto r = m.open_store(); !r.ok) return r;
  auto w = std::make_shared<stream_writer>();
  w->route(m.settings.topics.verdicts, opts.verdicts_out);
  w->route(m.settings.topics.diagnostics, opts.diagnostics_out);
  m.writer = w;
  m.spawn_judgement(/*live=*/false, /*with_alerts=*/false);
  return m.end_bounded(m.feed_sessions(opts.input_path), false);
}

}  // namespace tw::actors
