// The notifier against Debian's real Alertmanager 0.25 (tests/support/alertmanager_process.hpp):
// what the unit tests can only assert — that Alertmanager accepts our body, shows the alert as we
// meant it, treats our resolution as one, and that our generic webhook message has the shape of
// what Alertmanager itself POSTs to a webhook receiver.
//
// Event times are near the real wall clock: Alertmanager compares endsAt with its own clock.
// Waiting for Alertmanager's notifications is polling with a deadline, never a fixed sleep.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tests/support/alertmanager_process.hpp"
#include "topics/alertmanager/notifier.hpp"
#include "topics/webhook/httplib_transport.hpp"

using namespace tw;
using namespace tw::alertmanager;
using namespace std::chrono_literals;
using json = nlohmann::json;
using alerts::alert_event;
using alerts::alert_state;

namespace {

using steady = std::chrono::steady_clock;

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = steady::now() + limit;
  while (!condition()) {
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Whole seconds of the wall clock plus `ms`: times whose text Go and format_iso8601 write alike
// (Go trims trailing zeros of the fraction, so the last millisecond digit must not be 0).
event_time wall_seconds_ago(int seconds, int ms) {
  const int64_t now_s = system_clock::instance().now().micros() / 1000000;
  return event_time::from_millis((now_s - seconds) * 1000 + ms);
}

alert_event firing_now(const std::string& rule) {
  alert_event e;
  e.alert_id = "0123456789abcdef";
  e.rule = rule;
  e.state = alert_state::firing;
  e.level = severity::critical;
  e.labels = {{"agent", "booking-bot"}, {"tool", "calendar.create"}};
  e.value = 0.25;
  e.threshold = 0.1;
  e.started_at = wall_seconds_ago(60, 123);
  e.at = e.started_at;
  e.samples = 40;
  e.examples = {"s-1", "s-2"};
  e.summary = "Tool \"calendar\" fails 25% of calls";
  return e;
}

alert_event resolution_of(alert_event e) {
  e.state = alert_state::resolved;
  e.at = wall_seconds_ago(2, 457);  // in the past: Alertmanager resolves it at once
  e.value = 0;
  return e;
}

json get_json(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5s);
  auto res = client.Get(path.c_str());
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return json::parse(res->body);
}

// The alerts of `rule` Alertmanager returns from `path`.
json alerts_of(int port, const std::string& path, const std::string& rule) {
  json out = json::array();
  for (const auto& a : get_json(port, path))
    if (a["labels"].value("alertname", "") == rule) out.push_back(a);
  return out;
}

std::set<std::string> keys(const json& object) {
  std::set<std::string> out;
  for (const auto& item : object.items()) out.insert(item.key());
  return out;
}

json object_of(const label_set& m) {
  json o = json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// Records the bodies POSTed to /am (by Alertmanager) and /generic (by the notifier).
class receiver_server {
 public:
  receiver_server() {
    for (const char* path : {"/am", "/generic"})
      server_.Post(path, [this, path](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard<std::mutex> lock(mutex_);
        bodies_[path].push_back(json::parse(req.body));
        res.status = 200;
      });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    listener_ = std::thread([this] { server_.listen_after_bind(); });
    REQUIRE(wait_until([this] { return server_.is_running(); }, 5000ms));
  }
  ~receiver_server() {
    server_.stop();
    listener_.join();
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // The first body POSTed to `path` whose status is `status`, once one has come (or null).
  json first(const std::string& path, const std::string& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& b : bodies_[path])
      if (b.value("status", "") == status) return b;
    return nullptr;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread listener_;
  std::mutex mutex_;
  std::map<std::string, std::vector<json>> bodies_;
};

notifier_settings real_delivery() {
  notifier_settings s;
  s.delivery.timeout = 5s;
  s.delivery.max_attempts = 2;
  return s;
}

}  // namespace

TEST_CASE("Alertmanager shows a delivered firing alert as active and a delivered resolution as no longer active") {
  REQUIRE(std::filesystem::exists(test::alertmanager_binary));
  test::alertmanager_process am("route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  notifier_settings s = real_delivery();
  s.alertmanager = target_settings{am.base_url() + "/", {}};  // a trailing slash is tolerated
  s.payload.generator_url = "http://tracewatch.example/alerts";
  webhook::httplib_transport transport;
  webhook::thread_sleeper sleeper;
  notifier n(s, transport, system_clock::instance(), sleeper);
  const alert_event firing = firing_now("am_roundtrip");

  notify_outcome fired = n.deliver(firing);
  INFO(fired.error << "\nAlertmanager log:\n" << am.log());
  REQUIRE(fired.delivered);

  json shown = alerts_of(am.port(), "/api/v2/alerts", "am_roundtrip");
  REQUIRE(shown.size() == 1);
  const json& a = shown[0];
  CHECK(a["labels"] == object_of(alert_labels(firing)));
  CHECK(a["labels"]["tool"] == "calendar.create");
  CHECK(a["annotations"]["summary"] == firing.summary);
  CHECK(a["annotations"] == object_of(alert_annotations(firing)));
  CHECK(parse_iso8601(a["startsAt"].get<std::string>()) == firing.started_at);
  CHECK(a["status"]["state"] == "active");
  CHECK(a["generatorURL"] == "http://tracewatch.example/alerts");
  CHECK(a["fingerprint"] == fingerprint(alert_labels(firing)));

  // A re-send is a plain re-post Alertmanager accepts (it refreshes the alert's timeout).
  resend_outcome resent = n.resend_due(system_clock::instance().now() + s.resend_interval);
  CHECK(resent.error.empty());
  CHECK(resent.resent == 1);

  const alert_event resolved = resolution_of(firing);
  notify_outcome ended = n.deliver(resolved);
  INFO(ended.error);
  REQUIRE(ended.delivered);
  CHECK(alerts_of(am.port(), "/api/v2/alerts?active=true", "am_roundtrip").empty());
  CHECK(n.probe().firing() == 0);

  CHECK(am.stop(10s) == 0);
}

TEST_CASE("the generic webhook message has the shape of what Alertmanager POSTs to a webhook receiver") {
  REQUIRE(std::filesystem::exists(test::alertmanager_binary));
  receiver_server receiver;
  // group_by '...' groups by all labels, a group of one alert: what our message describes.
  test::alertmanager_process am("route:\n"
                                "  receiver: hook\n"
                                "  group_by: ['...']\n"
                                "  group_wait: 0s\n"
                                "  group_interval: 1s\n"
                                "  repeat_interval: 1h\n"
                                "receivers:\n"
                                "  - name: hook\n"
                                "    webhook_configs:\n"
                                "      - url: " + receiver.url("/am") + "\n"
                                "        send_resolved: true\n",
                                "http://tracewatch.example/am");
  notifier_settings s = real_delivery();
  s.alertmanager = target_settings{am.base_url(), {}};
  s.webhook = target_settings{receiver.url("/generic"), {}};
  s.payload.receiver = "hook";
  s.payload.external_url = "http://tracewatch.example/am";
  s.payload.generator_url = "http://tracewatch.example/alerts";
  webhook::httplib_transport transport;
  webhook::thread_sleeper sleeper;
  notifier n(s, transport, system_clock::instance(), sleeper);
  const alert_event firing = firing_now("am_webhook_shape");
  const alert_event resolved = resolution_of(firing);

  for (const alert_event* e : {&firing, &resolved}) {
    const std::string status(status_text(e->state));
    notify_outcome out = n.deliver(*e);
    INFO(status << ": " << out.error << "\nAlertmanager log:\n" << am.log());
    REQUIRE(out.delivered);

    REQUIRE(wait_until([&] { return !receiver.first("/am", status).is_null(); }, 30000ms));
    const json theirs = receiver.first("/am", status);
    const json ours = receiver.first("/generic", status);
    REQUIRE_FALSE(ours.is_null());
    INFO("Alertmanager sent: " << theirs.dump() << "\nwe sent: " << ours.dump());

    // The proof of the shape: the same keys at the top and in each alert.
    CHECK(keys(ours) == keys(theirs));
    REQUIRE(theirs["alerts"].size() == 1);
    CHECK(keys(ours["alerts"][0]) == keys(theirs["alerts"][0]));
    // And, as both describe the same group of one alert, the same content.
    CHECK(ours == theirs);
  }

  CHECK(am.stop(10s) == 0);
}
