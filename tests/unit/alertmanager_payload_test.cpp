// What tracewatch sends about an alert, byte for byte (the Alertmanager API v2 body and the
// Alertmanager-shaped webhook message), and when the notifier sends it: retries that are never
// dropped, no re-post to a target that accepted, re-sends of firing alerts. A scripted transport,
// a manual clock and a recording sleeper: no network, no waiting. The real Alertmanager is in
// tests/integration/alertmanager_test.cpp.
#define CATCH_CONFIG_ENABLE_CHRONO_STRINGMAKER  // print durations in failures
#include <catch2/catch.hpp>

#include <cmath>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>

#include "topics/alertmanager/alertmanager_payload.hpp"
#include "topics/alertmanager/notifier.hpp"

using namespace tw;
using namespace tw::alertmanager;
using namespace std::chrono_literals;
using alerts::alert_event;
using alerts::alert_state;

namespace {

event_time at(const char* iso) { return *parse_iso8601(iso); }

alert_event firing_event() {
  alert_event e;
  e.alert_id = "9f86d081884c7d65";
  e.rule = "tool_error_rate";
  e.state = alert_state::firing;
  e.level = severity::critical;
  e.labels = {{"agent", "booking-bot"}, {"tool", "calendar"}};
  e.value = 0.25;
  e.threshold = 0.1;
  e.at = at("2025-03-01T10:05:00Z");
  e.started_at = at("2025-03-01T10:00:00Z");
  e.samples = 40;
  e.repeat = 2;
  e.examples = {"s-1", "s-2"};
  e.summary = "Tool \"calendar\" fails 25% of calls\nsee \xC3\xBC";  // a quote, a newline, ü
  return e;
}

alert_event resolved_event() {
  alert_event e = firing_event();
  e.state = alert_state::resolved;
  e.at = at("2025-03-01T10:20:00.250Z");
  e.value = 0;
  e.repeat = 0;
  return e;
}

payload_settings test_payload() {
  payload_settings s;
  s.generator_url = "http://tracewatch.example/alerts";
  s.external_url = "http://tracewatch.example";
  return s;
}

}  // namespace

// --- payloads ------------------------------------------------------------------------------------

TEST_CASE("a firing alert is posted to Alertmanager with its labels, annotations and startsAt, and no endsAt") {
  CHECK(postable_alerts({firing_event()}, test_payload()) ==
        R"([{"labels":{"agent":"booking-bot","alertname":"tool_error_rate","severity":"critical","tool":"calendar"},)"
        R"("annotations":{"alert_id":"9f86d081884c7d65","examples":"s-1,s-2","repeat":"2","samples":"40",)"
        R"("summary":"Tool \"calendar\" fails 25% of calls\nsee )"
        "\xC3\xBC"
        R"(","threshold":"0.1","value":"0.25"},)"
        R"("startsAt":"2025-03-01T10:00:00.000Z","generatorURL":"http://tracewatch.example/alerts"}])");
}

TEST_CASE("a resolved alert is posted with endsAt at its resolution, and without generatorURL when none is set") {
  CHECK(postable_alerts({resolved_event()}, payload_settings{}) ==
        R"([{"labels":{"agent":"booking-bot","alertname":"tool_error_rate","severity":"critical","tool":"calendar"},)"
        R"("annotations":{"alert_id":"9f86d081884c7d65","examples":"s-1,s-2","repeat":"0","samples":"40",)"
        R"("summary":"Tool \"calendar\" fails 25% of calls\nsee )"
        "\xC3\xBC"
        R"(","threshold":"0.1","value":"0"},)"
        R"("startsAt":"2025-03-01T10:00:00.000Z","endsAt":"2025-03-01T10:20:00.250Z"}])");
}

TEST_CASE("the webhook message of a firing alert has Alertmanager's shape and Go's zero time as endsAt") {
  const std::string labels =
      R"({"agent":"booking-bot","alertname":"tool_error_rate","severity":"critical","tool":"calendar"})";
  const std::string annotations =
      R"({"alert_id":"9f86d081884c7d65","examples":"s-1,s-2","repeat":"2","samples":"40",)"
      R"("summary":"Tool \"calendar\" fails 25% of calls\nsee )"
      "\xC3\xBC"
      R"(","threshold":"0.1","value":"0.25"})";
  const std::string fp = fingerprint(alert_labels(firing_event()));

  CHECK(webhook_message(firing_event(), test_payload()) ==
        R"({"receiver":"tracewatch","status":"firing","alerts":[{"status":"firing","labels":)" + labels +
            R"(,"annotations":)" + annotations +
            R"(,"startsAt":"2025-03-01T10:00:00.000Z","endsAt":"0001-01-01T00:00:00Z",)"
            R"("generatorURL":"http://tracewatch.example/alerts","fingerprint":")" +
            fp + R"("}],"groupLabels":)" + labels + R"(,"commonLabels":)" + labels +
            R"(,"commonAnnotations":)" + annotations +
            R"(,"externalURL":"http://tracewatch.example","version":"4",)"
            R"("groupKey":"{}:{agent=\"booking-bot\", alertname=\"tool_error_rate\", severity=\"critical\", tool=\"calendar\"}",)"
            R"("truncatedAlerts":0})");
}

TEST_CASE("the webhook message of a resolved alert says resolved and carries endsAt, and generatorURL is empty when unset") {
  auto m = nlohmann::json::parse(webhook_message(resolved_event(), payload_settings{}));
  CHECK(m["status"] == "resolved");
  CHECK(m["receiver"] == "tracewatch");
  CHECK(m["externalURL"] == "");
  REQUIRE(m["alerts"].size() == 1);
  const auto& a = m["alerts"][0];
  CHECK(a["status"] == "resolved");
  CHECK(a["startsAt"] == "2025-03-01T10:00:00.000Z");
  CHECK(a["endsAt"] == "2025-03-01T10:20:00.250Z");
  CHECK(a["generatorURL"] == "");
  CHECK(a["annotations"]["repeat"] == "0");
  CHECK(a["fingerprint"] == fingerprint(alert_labels(firing_event())));  // the same alert as while firing
}

TEST_CASE("the fingerprint is Prometheus' label-set fingerprint") {
  // Values from prometheus/common model/signature_test.go.
  CHECK(fingerprint({}) == "cbf29ce484222325");
  CHECK(fingerprint({{"name", "garland, briggs"}, {"fear", "love is not enough"}}) == "507a62d79ee76c9a");
}

TEST_CASE("label names Alertmanager would refuse are rewritten, a clash with alertname or severity is exported, and empty values are left out") {
  alert_event e = firing_event();
  e.labels = {{"9lives", "a"}, {"agent", ""}, {"alertname", "mine"}, {"gen_ai.agent.name", "bot"}, {"severity", "low"}};
  CHECK(alert_labels(e) == label_set{{"_9lives", "a"},
                                     {"alertname", "tool_error_rate"},
                                     {"exported_alertname", "mine"},
                                     {"exported_severity", "low"},
                                     {"gen_ai_agent_name", "bot"},
                                     {"severity", "critical"}});
}

TEST_CASE("numbers in annotations read as numbers, NaN and infinities as Prometheus writes them") {
  struct row {
    const char* why;
    double value;
    const char* text;
  };
  const row rows[] = {{"an integer has no fraction", 12, "12"},
                      {"a fraction is the shortest exact text", 0.1 + 0.2, "0.30000000000000004"},
                      {"negative zero is zero", -0.0, "0"},
                      {"NaN", std::nan(""), "NaN"},
                      {"+Inf", HUGE_VAL, "+Inf"},
                      {"-Inf", -HUGE_VAL, "-Inf"}};
  for (const auto& r : rows) {
    INFO(r.why);
    alert_event e = firing_event();
    e.value = r.value;
    CHECK(alert_annotations(e).at("value") == r.text);
  }
}

TEST_CASE("invalid UTF-8 in a label or summary becomes U+FFFD instead of breaking the body") {
  alert_event e = firing_event();
  e.labels = {{"agent", "bad\xFF"}};
  e.summary = "cut \xC3";  // a lead byte without its continuation
  auto body = nlohmann::json::parse(postable_alerts({e}, payload_settings{}));
  CHECK(body[0]["labels"]["agent"] == "bad\xEF\xBF\xBD");
  CHECK(body[0]["annotations"]["summary"] == "cut \xEF\xBF\xBD");
}

// --- the notifier --------------------------------------------------------------------------------

namespace {

using webhook::http_request;
using webhook::http_response;
using webhook::http_result;

constexpr const char* am_base = "http://am.example.test:9093";
constexpr const char* am_url = "http://am.example.test:9093/api/v2/alerts";
constexpr const char* hook_url = "http://hooks.example.test/alerts";

// Answers each URL from its own script, 200 when the script is empty; records what was sent.
class routing_transport final : public webhook::http_transport {
 public:
  void then(const std::string& url, http_result r) { scripts_[url].push_back(std::move(r)); }
  void always(const std::string& url, int status) { always_[url] = status; }

  http_result post(const http_request& request) override {
    sent.push_back(request);
    auto& script = scripts_[request.url];
    if (!script.empty()) {
      http_result r = std::move(script.front());
      script.pop_front();
      return r;
    }
    auto it = always_.find(request.url);
    return http_response{it == always_.end() ? 200 : it->second, "", {}};
  }

  std::vector<http_request> to(const std::string& url) const {
    std::vector<http_request> out;
    for (const auto& r : sent)
      if (r.url == url) out.push_back(r);
    return out;
  }

  std::vector<http_request> sent;

 private:
  std::map<std::string, std::deque<http_result>> scripts_;
  std::map<std::string, int> always_;
};

class recording_sleeper final : public webhook::sleeper {
 public:
  explicit recording_sleeper(manual_clock& clock) : clock_(clock) {}
  void sleep_for(duration d) override { clock_.advance(d); }

 private:
  manual_clock& clock_;
};

notifier_settings both_targets() {
  notifier_settings s;
  s.alertmanager = target_settings{am_base, {}};
  s.webhook = target_settings{hook_url, {{"Authorization", "Bearer t"}}};
  s.delivery.max_attempts = 1;  // one POST per call: the schedule under test is between calls
  s.delivery.backoff_jitter = 0;
  s.delivery.breaker_failures = 1000;
  s.retry_initial = 10s;
  s.retry_max = 40s;
  return s;
}

struct rig {
  explicit rig(notifier_settings s = both_targets()) : n(std::move(s), transport, clock, sleeper) {}
  manual_clock clock;
  routing_transport transport;
  recording_sleeper sleeper{clock};
  notifier n;
};

}  // namespace

TEST_CASE("a failing target is asked again at growing retry_at, never dropped, and the accepted one is not re-posted") {
  rig r;
  r.transport.always(am_url, 503);
  std::vector<duration> waits;
  std::vector<uint32_t> failures;

  for (int i = 0; i < 5; ++i) {
    notify_outcome out = r.n.deliver(firing_event());
    REQUIRE_FALSE(out.delivered);
    CHECK_THAT(out.error, Catch::StartsWith("alertmanager: HTTP 503"));
    waits.push_back(out.retry_at - r.clock.now());
    failures.push_back(out.failures);
    r.clock.set(out.retry_at);
  }
  CHECK(waits == std::vector<duration>{10s, 20s, 40s, 40s, 40s});
  CHECK(failures == std::vector<uint32_t>{1, 2, 3, 4, 5});
  CHECK(r.transport.to(hook_url).size() == 1);

  r.transport.always(am_url, 200);
  notify_outcome out = r.n.deliver(firing_event());
  CHECK(out.delivered);
  CHECK(out.error.empty());
  CHECK(r.transport.to(am_url).size() == 6);
  CHECK(r.transport.to(hook_url).size() == 1);
  CHECK(r.n.probe().of(target::alertmanager).failed() == 5);
  CHECK(r.n.probe().of(target::alertmanager).delivered() == 1);
  CHECK(r.n.probe().of(target::webhook).delivered() == 1);
  CHECK(r.n.probe().of(target::webhook).failed() == 0);
}

TEST_CASE("each target gets its own body and headers") {
  rig r;
  REQUIRE(r.n.deliver(firing_event()).delivered);
  REQUIRE(r.transport.sent.size() == 2);
  CHECK(r.transport.sent[0].url == am_url);
  CHECK(r.transport.sent[0].body == postable_alerts({firing_event()}, payload_settings{}));
  CHECK(r.transport.sent[0].headers.count("Authorization") == 0);
  CHECK(r.transport.sent[1].url == hook_url);
  CHECK(r.transport.sent[1].body == webhook_message(firing_event(), payload_settings{}));
  CHECK(r.transport.sent[1].headers.at("Authorization") == "Bearer t");
}

TEST_CASE("both targets failing are both named in the error, and a refused event is retried too") {
  rig r;
  r.transport.always(am_url, 400);
  r.transport.then(hook_url, webhook::transport_error{webhook::transport_errc::connection, "refused"});
  notify_outcome out = r.n.deliver(firing_event());
  CHECK_FALSE(out.delivered);
  CHECK(out.error == "alertmanager: HTTP 400 (not retried); webhook: connection: refused (retries exhausted after 1 attempts)");
  CHECK(out.retry_at == r.clock.now() + 10s);
}

TEST_CASE("the wait before asking again is jittered deterministically and never above the schedule") {
  notifier_settings s = both_targets();
  s.delivery.backoff_jitter = 0.5;
  rig a(s), b(s);
  a.transport.always(am_url, 503);
  b.transport.always(am_url, 503);
  for (int i = 0; i < 4; ++i) {
    notify_outcome x = a.n.deliver(firing_event());
    notify_outcome y = b.n.deliver(firing_event());
    CHECK(x.retry_at == y.retry_at);
    const duration wait = x.retry_at - a.clock.now();
    const duration base = std::min<duration>(duration(10s) * (1 << i), 40s);
    CHECK(wait <= base);
    CHECK(wait >= base / 2);
  }
}

TEST_CASE("firing alerts are re-sent to Alertmanager every resend_interval until their resolution is accepted") {
  notifier_settings s = both_targets();
  s.webhook.reset();
  s.resend_interval = 60s;
  rig r(s);
  const wall_time t0 = r.clock.now();
  REQUIRE(r.n.deliver(firing_event()).delivered);
  CHECK(r.n.probe().firing() == 1);

  resend_outcome early = r.n.resend_due(t0 + 59s);
  CHECK(early.resent == 0);
  CHECK(early.next_at == t0 + 60s);
  CHECK(r.transport.sent.size() == 1);

  r.clock.set(t0 + 60s);
  resend_outcome due = r.n.resend_due(r.clock.now());
  CHECK(due.resent == 1);
  CHECK(due.error.empty());
  CHECK(due.next_at == t0 + 120s);
  REQUIRE(r.transport.sent.size() == 2);
  CHECK(r.transport.sent[1].body == postable_alerts({firing_event()}, payload_settings{}));

  REQUIRE(r.n.deliver(resolved_event()).delivered);
  CHECK(r.n.probe().firing() == 0);
  r.clock.set(t0 + 180s);
  resend_outcome after = r.n.resend_due(r.clock.now());
  CHECK(after.resent == 0);
  CHECK(after.next_at == wall_time::max());
  CHECK(r.transport.sent.size() == 3);
  CHECK(r.n.probe().of(target::alertmanager).resent() == 1);
}

TEST_CASE("a repeat replaces what is re-sent for its alert") {
  notifier_settings s = both_targets();
  s.webhook.reset();
  rig r(s);
  REQUIRE(r.n.deliver(firing_event()).delivered);
  alert_event repeat = firing_event();
  repeat.repeat = 3;
  repeat.value = 0.5;
  REQUIRE(r.n.deliver(repeat).delivered);

  r.clock.advance(s.resend_interval);
  CHECK(r.n.resend_due(r.clock.now()).resent == 1);
  CHECK(r.transport.sent.back().body == postable_alerts({repeat}, payload_settings{}));
}

TEST_CASE("a failed re-send keeps the alerts and is tried again one interval later") {
  notifier_settings s = both_targets();
  s.webhook.reset();
  rig r(s);
  REQUIRE(r.n.deliver(firing_event()).delivered);
  r.transport.then(am_url, http_response{503, "", {}});

  r.clock.advance(s.resend_interval);
  resend_outcome failed = r.n.resend_due(r.clock.now());
  CHECK(failed.resent == 0);
  CHECK_THAT(failed.error, Catch::StartsWith("alertmanager: HTTP 503"));
  CHECK(failed.next_at == r.clock.now() + s.resend_interval);
  CHECK(r.n.probe().firing() == 1);

  r.clock.advance(s.resend_interval);
  CHECK(r.n.resend_due(r.clock.now()).resent == 1);
}

TEST_CASE("after a restart the remembered firing alerts are re-sent at once, resolved ones are not") {
  rig r;
  alert_event other = resolved_event();
  other.alert_id = "00000000000000aa";
  r.n.remember_firing({firing_event(), other});
  CHECK(r.n.probe().firing() == 1);

  resend_outcome out = r.n.resend_due(r.clock.now());
  CHECK(out.resent == 1);
  REQUIRE(r.transport.sent.size() == 1);
  CHECK(r.transport.sent[0].url == am_url);  // re-sends go to Alertmanager only
}

TEST_CASE("without an Alertmanager target nothing is kept for re-sending") {
  notifier_settings s = both_targets();
  s.alertmanager.reset();
  rig r(s);
  REQUIRE(r.n.deliver(firing_event()).delivered);
  r.n.remember_firing({firing_event()});
  CHECK(r.n.probe().firing() == 0);
  CHECK(r.n.resend_due(r.clock.now() + 1h).next_at == wall_time::max());
  CHECK(r.n.client_probe(target::alertmanager) == nullptr);
}

TEST_CASE("validate names the setting that is wrong") {
  struct row {
    const char* why;
    std::function<void(notifier_settings&)> change;
    const char* message_start;
  };
  const row rows[] = {
      {"no target", [](notifier_settings& s) { s.alertmanager.reset(), s.webhook.reset(); }, "alertmanager.url:"},
      {"a URL that is not http", [](notifier_settings& s) { s.alertmanager->url = "ftp://am"; }, "alertmanager.url:"},
      {"a reserved header", [](notifier_settings& s) { s.webhook->headers = {{"Host", "x"}}; }, "webhook.headers.Host:"},
      {"a shared delivery field", [](notifier_settings& s) { s.delivery.max_attempts = 0; }, "delivery.max_attempts:"},
      {"a schedule that shrinks", [](notifier_settings& s) { s.retry_max = 1s; }, "retry_max:"},
      {"a re-send faster than a second", [](notifier_settings& s) { s.resend_interval = 10ms; }, "resend_interval:"}};
  CHECK_FALSE(validate(both_targets()));
  for (const auto& r : rows) {
    INFO(r.why);
    notifier_settings s = both_targets();
    r.change(s);
    auto e = validate(s);
    REQUIRE(e);
    CHECK_THAT(*e, Catch::StartsWith(r.message_start));
  }
}

TEST_CASE("invalid settings send nothing and ask to be retried with the reason") {
  notifier_settings s = both_targets();
  s.retry_max = 1s;
  rig r(s);
  notify_outcome out = r.n.deliver(firing_event());
  CHECK_FALSE(out.delivered);
  CHECK_THAT(out.error, Catch::StartsWith("invalid notifier settings: retry_max:"));
  CHECK(r.transport.sent.empty());
}
