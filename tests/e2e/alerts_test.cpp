// Alerts end to end through the real binary (docs/alerts.md): the alert events of a live run
// equal those of its replay and of a backtest of its sessions; a SIGKILL while alerts fire loses
// and duplicates no transition; a real Alertmanager receives a firing and its resolution.
#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/alertmanager_process.hpp"
#include "tests/support/contract_check.hpp"
#include "tests/support/e2e_support.hpp"
#include "topics/contracts/alert_json.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// Rules that fire and resolve on a few minutes of generated calls: a failure ratio per intent
// (with repeats), a tool error ratio per tool (with `for` and `keep_firing_for`), a volume
// count, and an absence rule that only the quiet after the input can fire.
const char* test_rules = R"(alerts:
  - name: failures
    severity: warning
    signal: {verdict_ratio: {numerator: [fail, error, partial]}}
    window: 20s
    every: 5s
    condition: {op: ">", threshold: 0.3}
    min_samples: 3
    for: 0s
    keep_firing_for: 0s
    repeat_interval: 10s
    group_by: [intent]
    summary: "{{labels.intent}}: {{value}} of {{samples}} failed"
  - name: tool_errors
    severity: critical
    signal: {tool_error_ratio: {}}
    window: 20s
    every: 5s
    condition: {op: ">", threshold: 0.5}
    min_samples: 3
    for: 5s
    keep_firing_for: 5s
    repeat_interval: 0s
    group_by: [tool]
    summary: "{{labels.tool}}: {{value}} of {{samples}} calls failed"
  - name: volume
    severity: info
    signal: {verdict_count: {}}
    window: 10s
    every: 5s
    condition: {op: ">=", threshold: 4}
    min_samples: 0
    for: 0s
    keep_firing_for: 0s
    repeat_interval: 0s
    summary: "{{value}} verdicts in {{window}}"
  - name: quiet
    severity: critical
    signal: {absence: {}}
    window: 15s
    every: 5s
    repeat_interval: 0s
    summary: "no verdicts for {{window}}"
)";

struct alert_cluster : cluster_fixture {
  alert_cluster() { REQUIRE(cluster->create_topic("tracewatch.alerts", 2).ok()); }
};

std::vector<std::string> payloads(const topic_reader& r) {
  std::vector<std::string> out;
  for (const auto& m : r.messages) out.push_back(m.payload);
  return out;
}

std::set<std::string> distinct(const std::vector<std::string>& lines) { return {lines.begin(), lines.end()}; }

std::string only_in(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::string out;
  size_t n = 0;
  for (const auto& x : a)
    if (!b.count(x) && n++ < 5) out += "\n  " + x.substr(0, 300);
  return out.empty() ? "(none)" : out;
}

std::vector<std::string> except_rule(const std::vector<std::string>& events, const std::string& rule) {
  std::vector<std::string> out;
  for (const auto& e : events)
    if (decode_alert_json(e)->rule != rule) out.push_back(e);
  return out;
}

std::set<std::string> without_rule(const std::set<std::string>& events, const std::string& rule) {
  std::set<std::string> out;
  for (const auto& e : events)
    if (decode_alert_json(e)->rule != rule) out.insert(e);
  return out;
}

// Every firing that started has its resolution: what a run that has drained shows.
bool all_resolved(const std::vector<std::string>& events, size_t& firings) {
  std::set<std::string> open;
  firings = 0;
  for (const auto& text : events) {
    auto e = decode_alert_json(text);
    if (!e) continue;
    const std::string key = e->alert_id + " " + format_iso8601(e->started_at);
    if (e->state == alerts::alert_state::firing) {
      open.insert(key);
      firings += e->repeat == 0;
    } else {
      open.erase(key);
    }
  }
  return open.empty();
}

// Per (alert_id, started_at, state, repeat): the distinct payloads; more than one is a defect.
std::map<std::string, std::set<std::string>> by_transition(const std::vector<std::string>& events) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& text : events) {
    auto e = decode_alert_json(text);
    REQUIRE(e);
    out[e->alert_id + " " + format_iso8601(e->started_at) + " " + std::string(alerts::to_string(e->state)) + " #" +
        std::to_string(e->repeat)]
        .insert(text);
  }
  return out;
}

std::vector<std::string> with_rules(std::vector<std::string> args, const std::string& rules_path) {
  args.insert(args.end(), {"--set", "alerts.rules=" + rules_path});
  return args;
}

std::set<std::string> rules_in(const std::set<std::string>& events) {
  std::set<std::string> out;
  for (const auto& e : events) out.insert(decode_alert_json(e)->rule);
  return out;
}

}  // namespace

TEST_CASE("a live run's alert events equal its replay's and a backtest's of its sessions, byte for byte") {
  alert_cluster k;
  temp_dir dir;
  std::ofstream(dir.sub("alerts.yaml")) << test_rules;
  auto g = make_calls(23, 1500, "2025-02-01T10:00:00Z");
  produce_all(k.brokers, "traces.raw", g.messages);
  topic_reader sessions(k.brokers, "tracewatch.sessions", 4), verdicts(k.brokers, "tracewatch.verdicts", 4),
      alert_events(k.brokers, "tracewatch.alerts", 2);
  child_process live(binary, with_rules(k.run_args(dir.sub("state")), dir.sub("alerts.yaml")), dir.sub("o1"),
                     dir.sub("e1"));
  // Until every call is judged, and the quiet after the input has fired the absence rule and
  // every other alert has resolved (the alert clock goes on with the wall clock while idle).
  size_t firings = 0;
  REQUIRE(eventually(120s, [&] {
    sessions.poll(50ms);
    verdicts.poll(10ms);
    alert_events.poll(10ms);
    auto events = payloads(alert_events);
    return latest_sessions(payloads(sessions)).size() >= g.plans.size() && verdicts.messages.size() >= sessions.messages.size() &&
           rules_in(distinct(events)).count("quiet") && all_resolved(except_rule(events, "quiet"), firings);
  }));
  live.signal(SIGTERM);
  CHECK(live.wait(30s) == 0);
  INFO("live log:\n" << live.read_stderr().substr(0, 3000));
  const auto live_alerts = distinct(payloads(alert_events));
  for (const auto& e : live_alerts) {
    INFO(e);
    CHECK(contract_violations("tracewatch.alert.v1", e).empty());
  }
  // Not vacuous: every kind of rule fired, and alerts fired and resolved.
  CHECK(rules_in(live_alerts) == std::set<std::string>{"failures", "quiet", "tool_errors", "volume"});
  CHECK(firings >= 4);

  // The replay takes the live run's recorded decisions, the alert clock's moves included.
  std::vector<std::string> replay_args{"replay",         "--topic",        "traces.raw",
                                       "--out",          dir.sub("r.sessions"),
                                       "--verdicts-out", dir.sub("r.verdicts"),
                                       "--alerts-out",   dir.sub("r.alerts"),
                                       "--set",          "kafka.bootstrap.servers=" + k.brokers};
  auto w = fast_windows();
  replay_args.insert(replay_args.end(), w.begin(), w.end());
  child_process replay(binary, with_rules(replay_args, dir.sub("alerts.yaml")), dir.sub("o2"), dir.sub("e2"));
  REQUIRE(replay.wait(60s) == 0);
  const auto replayed = distinct(lines_of(read_file(dir.sub("r.alerts"))));
  INFO("only live: " << only_in(live_alerts, replayed));
  INFO("only replayed: " << only_in(replayed, live_alerts));
  CHECK(live_alerts == replayed);

  // The backtest re-judges the sessions and evaluates with the clock at each fact: the same
  // events, except the absence rule, which the end of a file does not fire (a file has no quiet).
  child_process backtest(binary, {"alerts", "backtest", dir.sub("r.sessions"), "--rules", dir.sub("alerts.yaml"), "-o",
                                  dir.sub("bt.alerts")},
                         dir.sub("o3"), dir.sub("e3"));
  REQUIRE(backtest.wait(60s) == 0);
  const auto backtested = distinct(lines_of(read_file(dir.sub("bt.alerts"))));
  INFO("only live: " << only_in(without_rule(live_alerts, "quiet"), backtested));
  INFO("only backtested: " << only_in(backtested, without_rule(live_alerts, "quiet")));
  CHECK(backtested == without_rule(live_alerts, "quiet"));
  CHECK_THAT(backtest.read_stderr(), Catch::Contains("failures: fired"));

  // From verdicts alone the verdict rules give the same events; tool rules see no calls.
  child_process from_verdicts(binary, {"alerts", "backtest", dir.sub("r.verdicts"), "--rules", dir.sub("alerts.yaml"),
                                       "-o", dir.sub("bv.alerts")},
                              dir.sub("o4"), dir.sub("e4"));
  REQUIRE(from_verdicts.wait(60s) == 0);
  const auto from_v = distinct(lines_of(read_file(dir.sub("bv.alerts"))));
  CHECK(without_rule(without_rule(from_v, "tool_errors"), "quiet") ==
        without_rule(without_rule(live_alerts, "tool_errors"), "quiet"));
  CHECK_FALSE(rules_in(from_v).count("tool_errors"));

  // A rules change, compared on the same history: raising the failure threshold removes events.
  std::string stricter = test_rules;
  stricter.replace(stricter.find("threshold: 0.3"), std::string("threshold: 0.3").size(), "threshold: 0.9");
  std::ofstream(dir.sub("stricter.yaml")) << stricter;
  child_process diff(binary, {"alerts", "backtest", dir.sub("r.sessions"), "--rules", dir.sub("stricter.yaml"),
                              "--against", dir.sub("alerts.yaml"), "-o", dir.sub("diff")},
                     dir.sub("o5"), dir.sub("e5"));
  REQUIRE(diff.wait(60s) == 0);
  size_t removed = 0, added = 0;
  for (const auto& line : lines_of(read_file(dir.sub("diff")))) {
    removed += line.rfind("- ", 0) == 0;
    added += line.rfind("+ ", 0) == 0;
    CHECK_THAT(line, Catch::Contains("\"rule\":\"failures\""));
  }
  CHECK(removed > 0);
  CHECK_THAT(diff.read_stderr(), Catch::Contains("difference: " + std::to_string(removed) + " events only under the previous rules, " +
                                                 std::to_string(added) + " only under the new ones"));
}

TEST_CASE("SIGKILL while alerts fire, and a restart, lose and duplicate no alert transition") {
  alert_cluster k;
  temp_dir dir;
  std::ofstream(dir.sub("alerts.yaml")) << test_rules;
  auto g = make_calls(29, 1500, "2025-02-01T10:00:00Z");
  produce_all(k.brokers, "traces.raw", g.messages);
  topic_reader sessions(k.brokers, "tracewatch.sessions", 4), alert_events(k.brokers, "tracewatch.alerts", 2);
  const auto args = with_rules(k.run_args(dir.sub("state")), dir.sub("alerts.yaml"));
  {
    child_process first(binary, args, dir.sub("o1"), dir.sub("e1"));
    // Killed while an alert fires: a firing event is out, its resolution is not.
    size_t firings = 0;
    REQUIRE(eventually(90s, [&] {
      alert_events.poll(50ms);
      return !all_resolved(except_rule(payloads(alert_events), "quiet"), firings);
    }));
    first.signal(SIGKILL);
    first.wait(10s);
  }
  child_process second(binary, args, dir.sub("o2"), dir.sub("e2"));
  size_t firings = 0;
  REQUIRE(eventually(120s, [&] {
    sessions.poll(50ms);
    alert_events.poll(10ms);
    auto events = payloads(alert_events);
    return latest_sessions(payloads(sessions)).size() >= g.plans.size() && rules_in(distinct(events)).count("quiet") &&
           all_resolved(except_rule(events, "quiet"), firings);
  }));
  second.signal(SIGTERM);
  CHECK(second.wait(30s) == 0);
  INFO("restarted log:\n" << second.read_stderr().substr(0, 3000));
  const auto events = payloads(alert_events);
  // A transition may be delivered twice after the kill (at-least-once), always with the same bytes.
  for (const auto& [transition, texts] : by_transition(events)) {
    INFO(transition);
    CHECK(texts.size() == 1);
  }
  // And none is missing or extra: the replay of the same input, with the decisions the runs
  // recorded, gives the same set.
  std::vector<std::string> replay_args{"replay", "--topic", "traces.raw", "--out", dir.sub("r.sessions"),
                                       "--alerts-out", dir.sub("r.alerts"), "--set", "kafka.bootstrap.servers=" + k.brokers};
  auto w = fast_windows();
  replay_args.insert(replay_args.end(), w.begin(), w.end());
  child_process replay(binary, with_rules(replay_args, dir.sub("alerts.yaml")), dir.sub("o3"), dir.sub("e3"));
  REQUIRE(replay.wait(60s) == 0);
  const auto live_alerts = distinct(events), replayed = distinct(lines_of(read_file(dir.sub("r.alerts"))));
  INFO("only live: " << only_in(live_alerts, replayed));
  INFO("only replayed: " << only_in(replayed, live_alerts));
  CHECK(live_alerts == replayed);
  CHECK(firings >= 4);
}

namespace {

// Records what Alertmanager POSTs to its webhook receiver.
class receiver {
 public:
  receiver() {
    server_.Post("/am", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      bodies_.push_back(json::parse(req.body));
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    REQUIRE(eventually(5s, [this] { return server_.is_running(); }));
  }
  ~receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/am"; }
  // The statuses Alertmanager reported for alerts of `rule`.
  std::set<std::string> statuses(const std::string& rule) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::set<std::string> out;
    for (const auto& b : bodies_)
      for (const auto& a : b.value("alerts", json::array()))
        if (a["labels"].value("alertname", "") == rule) out.insert(a.value("status", ""));
    return out;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<json> bodies_;
};

}  // namespace

TEST_CASE("an alert fired by the live pipeline reaches a real Alertmanager, and so does its resolution") {
  REQUIRE(std::filesystem::exists(alertmanager_binary));
  receiver hook;
  alertmanager_process am("route:\n  receiver: hook\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: 1s\n"
                          "  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: " +
                          hook.url() + "\n        send_resolved: true\n");
  alert_cluster k;
  temp_dir dir;
  // A tool outage in calls of the last few minutes (Alertmanager works in wall-clock time: a
  // resolution's endsAt must be in its past, a firing alert's startsAt near its present).
  auto opts = calls_options(31);
  const event_time start = event_time::from_micros(system_clock::instance().now().micros()) - std::chrono::minutes(4);
  opts.incident_start = start + 30s;
  opts.incident_end = start + 70s;
  opts.incident_failure_fraction = 1.0;
  sim::call_generator gen(opts);
  std::vector<sim::call_plan> plans;
  auto msgs = sim::generate_stream(gen, 1500, start, 2s, &plans);
  produce_all(k.brokers, "traces.raw", msgs);
  std::ofstream(dir.sub("alerts.yaml")) << test_rules;
  auto args = with_rules(k.run_args(dir.sub("state")), dir.sub("alerts.yaml"));
  args.insert(args.end(), {"--set", "alerts.alertmanager.url=" + am.base_url(), "--set", "alerts.notify.retry_initial=100ms"});
  child_process live(binary, args, dir.sub("o"), dir.sub("e"));
  INFO("tracewatch log:\n" << live.read_stderr().substr(0, 3000) << "\nAlertmanager log:\n" << am.log().substr(0, 3000));
  CHECK(eventually(90s, [&] {
    auto s = hook.statuses("tool_errors");
    return s.count("firing") && s.count("resolved");
  }));
  live.signal(SIGTERM);
  CHECK(live.wait(30s) == 0);
  CHECK_THAT(live.read_stderr(), !Catch::Contains("level=error"));
}

TEST_CASE("the demo's tool outage fires an alert and resolves it within the first two minutes, between the verdicts") {
  temp_dir dir;
  child_process demo(binary, {"demo", "--duration", "110s", "--set", "http.listen=127.0.0.1:0"}, dir.sub("out"),
                     dir.sub("err"));
  REQUIRE(demo.wait(150s) == 0);
  const auto out = demo.read_stdout();
  INFO(out.substr(0, 6000) << demo.read_stderr());
  const auto fired = out.find("ALERT FIRING   CRITICAL tool_error_spike");
  const auto resolved = out.find("ALERT RESOLVED CRITICAL tool_error_spike");
  REQUIRE(fired != std::string::npos);
  REQUIRE(resolved != std::string::npos);
  CHECK(fired < resolved);
  // Printed among the verdicts, not after them.
  CHECK(out.find("PASS", resolved) != std::string::npos);
  CHECK_THAT(out, Catch::Contains("resolved events"));
}
