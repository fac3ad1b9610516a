// The webhook client's decisions — deliver, retry, wait how long, give up, open the breaker —
// against a scripted transport, a manual clock and a sleeper that records instead of waiting. The
// real network is in tests/integration/webhook_server_test.cpp.
#define CATCH_CONFIG_ENABLE_CHRONO_STRINGMAKER  // print durations in failures
#include <catch2/catch.hpp>

#include <deque>

#include "topics/webhook/webhook_client.hpp"

using namespace tw;
using namespace tw::webhook;
using namespace std::chrono_literals;

namespace {

http_response reply(int status, std::string body = "", std::map<std::string, std::string> headers = {}) {
  return http_response{status, std::move(body), std::move(headers)};
}
transport_error failure(transport_errc code) { return transport_error{code, "scripted " + std::string(to_string(code))}; }

// Answers each request with the next scripted result; records what it was asked and when.
class scripted_transport final : public http_transport {
 public:
  explicit scripted_transport(const manual_clock& clock) : clock_(clock) {}

  void then(http_result r) { script_.push_back(std::move(r)); }
  void then_repeat(http_result r, int n) {
    for (int i = 0; i < n; ++i) script_.push_back(r);
  }

  http_result post(const http_request& request) override {
    requests.push_back(request);
    sent_at.push_back(clock_.now());
    if (script_.empty()) return transport_error{transport_errc::connection, "unscripted request"};
    http_result r = std::move(script_.front());
    script_.pop_front();
    return r;
  }

  std::vector<http_request> requests;
  std::vector<wall_time> sent_at;

 private:
  const manual_clock& clock_;
  std::deque<http_result> script_;
};

// Records every wait and moves the manual clock by it, as a real sleep would move time.
class recording_sleeper final : public sleeper {
 public:
  explicit recording_sleeper(manual_clock& clock) : clock_(clock) {}
  void sleep_for(duration d) override {
    waits.push_back(d);
    clock_.advance(d);
  }
  std::vector<duration> waits;

 private:
  manual_clock& clock_;
};

webhook_settings test_settings() {
  webhook_settings s;
  s.url = "http://hooks.example.test/diagnostics";
  s.backoff_jitter = 0;  // exact doubling, so the expected waits can be written down
  return s;
}

// Everything a test needs, wired once.
struct rig {
  explicit rig(webhook_settings s = test_settings()) : settings(std::move(s)), client(settings, transport, clock, sleeper) {}
  webhook_settings settings;
  manual_clock clock;
  scripted_transport transport{clock};
  recording_sleeper sleeper{clock};
  webhook_client client;
};

}  // namespace

TEST_CASE("each response class is delivered, retried or failed as HTTP semantics say") {
  struct row {
    const char* description;
    http_result first;
    std::string_view status;     // outcome when a 200 is scripted after the first answer
    int attempts;
    std::optional<int> http_status;
  };
  const row rows[] = {
      {"200 is delivered at once", reply(200), outcome_delivered, 1, 200},
      {"204 is delivered at once", reply(204), outcome_delivered, 1, 204},
      {"500 is retried", reply(500), outcome_delivered, 2, 200},
      {"502 is retried", reply(502), outcome_delivered, 2, 200},
      {"503 is retried", reply(503), outcome_delivered, 2, 200},
      {"429 is retried", reply(429), outcome_delivered, 2, 200},
      {"408 is retried", reply(408), outcome_delivered, 2, 200},
      {"a timeout is retried", failure(transport_errc::timeout), outcome_delivered, 2, 200},
      {"a refused connection is retried", failure(transport_errc::connection), outcome_delivered, 2, 200},
      {"a broken read is retried", failure(transport_errc::io), outcome_delivered, 2, 200},
      {"400 is not retried", reply(400), outcome_failed, 1, 400},
      {"401 is not retried", reply(401), outcome_failed, 1, 401},
      {"404 is not retried", reply(404), outcome_failed, 1, 404},
      {"a redirect is not followed or retried", reply(301), outcome_failed, 1, 301},
      {"a certificate failure is not retried", failure(transport_errc::tls_config), outcome_failed, 1, std::nullopt},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    rig t;
    t.transport.then(r.first);
    t.transport.then(reply(200));
    webhook_outcome out = t.client.post("{}");
    CHECK(out.status == r.status);
    CHECK(out.attempts == r.attempts);
    CHECK(t.transport.requests.size() == static_cast<size_t>(r.attempts));
    CHECK(out.http_status == r.http_status);
    if (r.status == outcome_failed) CHECK_THAT(out.error, Catch::Contains("not retried"));
    if (r.status == outcome_delivered) CHECK(out.error.empty());
  }
}

TEST_CASE("each attempt is one JSON POST with the configured headers and timeout") {
  webhook_settings s = test_settings();
  s.headers = {{"Authorization", "Bearer t0ken"}, {"X-Source", "tracewatch"}};
  s.timeout = 1500ms;
  rig t(s);
  t.transport.then(reply(503));
  t.transport.then(reply(200));
  const std::string body = R"({"session_id":"s-1","verdict":"fail"})";

  t.client.post(body);

  REQUIRE(t.transport.requests.size() == 2);
  for (const auto& req : t.transport.requests) {
    CHECK(req.url == s.url);
    CHECK(req.body == body);
    CHECK(req.timeout == 1500ms);
    CHECK(req.headers.at("Content-Type") == "application/json");
    CHECK(req.headers.at("Authorization") == "Bearer t0ken");
    CHECK(req.headers.at("X-Source") == "tracewatch");
  }
}

TEST_CASE("a server's Retry-After decides the wait on 429 and 503") {
  struct row {
    const char* description;
    int status;
    std::string retry_after;
    duration expected_wait;
  };
  const row rows[] = {
      {"delta-seconds on a 429", 429, "7", 7s},
      {"delta-seconds on a 503", 503, "2", 2s},
      {"zero seconds means at once", 429, "0", 0s},
      {"an IMF-fixdate 50 s after the injected now", 503, "Tue, 14 Nov 2023 22:14:10 GMT", 50s},
      {"an HTTP-date in the past means at once", 429, "Tue, 14 Nov 2023 22:00:00 GMT", 0s},
      {"longer than retry_after_max is capped", 429, "3600", 60s},
      {"unparseable falls back to backoff", 429, "soon", 500ms},
      {"a 500's Retry-After is not honoured (backoff)", 500, "7", 500ms},
  };
  // A manual_clock starts at 2023-11-14T22:13:20Z; the dates above are written against it.
  REQUIRE(manual_clock().now().millis() == 1'700'000'000'000);
  for (const auto& r : rows) {
    INFO(r.description);
    rig t;
    t.transport.then(reply(r.status, "", {{"retry-after", r.retry_after}}));
    t.transport.then(reply(200));
    CHECK(t.client.post("{}").status == outcome_delivered);
    REQUIRE(t.sleeper.waits.size() == 1);
    CHECK(t.sleeper.waits[0] == r.expected_wait);
    CHECK(t.transport.sent_at[1] - t.transport.sent_at[0] == r.expected_wait);
  }
}

TEST_CASE("backoff doubles from backoff_initial and stops growing at backoff_max") {
  webhook_settings s = test_settings();
  s.max_attempts = 8;
  s.backoff_initial = 500ms;
  s.backoff_max = 4s;
  rig t(s);
  t.transport.then_repeat(reply(500), 8);

  webhook_outcome out = t.client.post("{}");

  CHECK(out.status == outcome_failed);
  CHECK(out.attempts == 8);
  CHECK(t.sleeper.waits == std::vector<duration>{500ms, 1s, 2s, 4s, 4s, 4s, 4s});
}

TEST_CASE("jitter only shortens a backoff wait, and the same seed gives the same waits") {
  webhook_settings s = test_settings();
  s.backoff_initial = 1s;
  s.backoff_max = 8s;
  s.backoff_jitter = 0.5;
  s.jitter_seed = 42;
  std::vector<duration> first, again, other_seed;
  for (uint64_t call = 1; call <= 5; ++call)
    for (int retry = 1; retry <= 5; ++retry) {
      const duration base = std::min<duration>(duration(1s) * (1 << (retry - 1)), 8s);
      duration d = backoff_delay(s, retry, call);
      INFO("call " << call << " retry " << retry << ": " << d.count() << " us");
      CHECK(d <= base);
      CHECK(d >= base / 2);
      first.push_back(d);
      again.push_back(backoff_delay(s, retry, call));
    }
  s.jitter_seed = 43;
  for (uint64_t call = 1; call <= 5; ++call)
    for (int retry = 1; retry <= 5; ++retry) other_seed.push_back(backoff_delay(s, retry, call));
  CHECK(first == again);
  CHECK(first != other_seed);
}

TEST_CASE("a call gives up after max_attempts and reports the last status, body and error") {
  webhook_settings s = test_settings();
  s.max_attempts = 3;
  rig t(s);
  t.transport.then(reply(500, "first"));
  t.transport.then(reply(502, "second"));
  t.transport.then(reply(503, "third"));
  t.transport.then(reply(200));  // never reached

  webhook_outcome out = t.client.post("{}");

  CHECK(out.status == outcome_failed);
  CHECK(out.attempts == 3);
  CHECK(t.transport.requests.size() == 3);
  CHECK(out.http_status == 503);
  CHECK(out.response == "third");
  CHECK_THAT(out.error, Catch::StartsWith("HTTP 503") && Catch::Contains("3 attempts"));
  CHECK(t.sleeper.waits.size() == 2);
}

TEST_CASE("when the last attempt got no response the outcome carries no HTTP status") {
  webhook_settings s = test_settings();
  s.max_attempts = 2;
  rig t(s);
  t.transport.then(reply(500, "busy"));
  t.transport.then(failure(transport_errc::timeout));

  webhook_outcome out = t.client.post("{}");

  CHECK(out.status == outcome_failed);
  CHECK_FALSE(out.http_status);
  CHECK(out.response.empty());
  CHECK_THAT(out.error, Catch::StartsWith("timeout: scripted timeout"));
}

TEST_CASE("the breaker opens after breaker_failures failed calls and then rejects without a request") {
  webhook_settings s = test_settings();
  s.max_attempts = 2;
  s.breaker_failures = 3;
  s.breaker_cooldown = 60s;
  rig t(s);
  t.transport.then_repeat(reply(500), 6);

  for (int call = 1; call <= 3; ++call) {
    INFO("failed call " << call);
    CHECK(t.client.post("{}").status == outcome_failed);
  }
  CHECK(t.client.breaker_state() == circuit_breaker::state::open);
  CHECK(t.client.probe().breaker_opened() == 1);

  const size_t sent = t.transport.requests.size();
  webhook_outcome rejected = t.client.post("{}");
  CHECK(rejected.status == outcome_circuit_open);
  CHECK(rejected.attempts == 0);
  CHECK_THAT(rejected.error, Catch::Contains("3 consecutive failed calls"));
  CHECK(t.transport.requests.size() == sent);  // nothing went out
  CHECK(t.client.probe().rejected() == 1);

  t.clock.advance(59s);
  CHECK(t.client.post("{}").status == outcome_circuit_open);  // still cooling down
  CHECK(t.transport.requests.size() == sent);
}

TEST_CASE("a delivered call resets the count of consecutive failures") {
  webhook_settings s = test_settings();
  s.max_attempts = 1;
  s.breaker_failures = 2;
  rig t(s);
  t.transport.then(reply(500));
  t.transport.then(reply(200));
  t.transport.then(reply(404));  // a non-retriable failure counts as a failed call too
  t.transport.then(reply(500));

  CHECK(t.client.post("{}").status == outcome_failed);
  CHECK(t.client.post("{}").status == outcome_delivered);
  CHECK(t.client.post("{}").status == outcome_failed);
  CHECK(t.client.breaker_state() == circuit_breaker::state::closed);
  CHECK(t.client.post("{}").status == outcome_failed);
  CHECK(t.client.breaker_state() == circuit_breaker::state::open);
}

TEST_CASE("after the cooldown one trial call goes out, and its success closes the breaker") {
  webhook_settings s = test_settings();
  s.max_attempts = 1;
  s.breaker_failures = 1;
  s.breaker_cooldown = 30s;
  rig t(s);
  t.transport.then(reply(500));
  t.transport.then(reply(200, "ok"));
  t.transport.then(reply(200, "ok"));

  CHECK(t.client.post("{}").status == outcome_failed);
  REQUIRE(t.client.breaker_state() == circuit_breaker::state::open);
  t.clock.advance(30s);

  webhook_outcome trial = t.client.post("{}");
  CHECK(trial.status == outcome_delivered);
  CHECK(trial.response == "ok");
  CHECK(t.client.breaker_state() == circuit_breaker::state::closed);
  CHECK(t.client.post("{}").status == outcome_delivered);  // closed: calls flow again
  CHECK(t.transport.requests.size() == 3);
}

TEST_CASE("a failed trial call re-opens the breaker for another full cooldown") {
  webhook_settings s = test_settings();
  s.max_attempts = 2;
  s.breaker_failures = 2;
  s.breaker_cooldown = 30s;
  rig t(s);
  t.transport.then_repeat(reply(503), 6);
  t.transport.then(reply(200));

  t.client.post("{}");
  t.client.post("{}");
  REQUIRE(t.client.breaker_state() == circuit_breaker::state::open);
  t.clock.advance(30s);

  // One trial call (all of its attempts), and one failure is enough to re-open: the breaker does
  // not wait for breaker_failures more.
  webhook_outcome trial = t.client.post("{}");
  CHECK(trial.status == outcome_failed);
  CHECK(trial.attempts == 2);
  CHECK(t.client.breaker_state() == circuit_breaker::state::open);
  CHECK(t.client.probe().breaker_opened() == 2);

  const size_t sent = t.transport.requests.size();
  t.clock.advance(29s);  // the trial's backoff wait moved the clock too; the cooldown restarts at its end
  CHECK(t.client.post("{}").status == outcome_circuit_open);
  CHECK(t.transport.requests.size() == sent);
  t.clock.advance(1s);
  CHECK(t.client.post("{}").status == outcome_delivered);
  CHECK(t.client.breaker_state() == circuit_breaker::state::closed);
}

TEST_CASE("a half-open breaker admits only the one trial call") {
  circuit_breaker b(1, 10s);
  const wall_time t0 = wall_time::from_millis(1'000'000);
  b.record_failure(t0);
  CHECK_FALSE(b.admit(t0 + 9s));
  CHECK(b.admit(t0 + 10s));
  CHECK(b.current() == circuit_breaker::state::half_open);
  CHECK_FALSE(b.admit(t0 + 10s));  // the trial is still out
}

TEST_CASE("the response body is excerpted on a UTF-8 boundary") {
  webhook_settings s = test_settings();
  s.response_excerpt_bytes = 9;
  rig t(s);
  std::string body;
  for (int i = 0; i < 50; ++i) body += "\xC3\xA9";  // é, two bytes each
  t.transport.then(reply(200, body));

  webhook_outcome out = t.client.post("{}");

  // 9 bytes would split the fifth é: four whole characters, then the ellipsis.
  CHECK(out.response == "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xE2\x80\xA6");
}

TEST_CASE("a response body that is not UTF-8 is repaired before it reaches the diagnostic") {
  webhook_settings s = test_settings();
  s.response_excerpt_bytes = 100;
  rig t(s);
  t.transport.then(reply(200, "ok \xFF\xFE done"));

  webhook_outcome out = t.client.post("{}");

  CHECK(out.response == "ok \xEF\xBF\xBD\xEF\xBF\xBD done");
  // And the transport is told how much body is worth keeping: the excerpt plus a boundary's worth.
  CHECK(t.transport.requests.at(0).max_body_bytes == 104);
}

TEST_CASE("the probe counts calls, attempts, retries and outcomes") {
  webhook_settings s = test_settings();
  s.max_attempts = 3;
  s.breaker_failures = 1;
  rig t(s);
  t.transport.then(reply(500));
  t.transport.then(reply(200));
  t.transport.then_repeat(reply(500), 3);

  t.client.post("{}");
  t.client.post("{}");
  t.client.post("{}");

  const auto& p = t.client.probe();
  CHECK(p.calls() == 3);
  CHECK(p.attempts() == 5);
  CHECK(p.retries() == 3);
  CHECK(p.delivered() == 1);
  CHECK(p.failed() == 1);
  CHECK(p.rejected() == 1);
  CHECK(p.breaker_opened() == 1);
  CHECK(p.breaker_state() == circuit_breaker::state::open);
}

TEST_CASE("settings are validated and the message names the bad field") {
  struct row {
    const char* description;
    void (*change)(webhook_settings&);
    const char* field;  // nullptr: valid
  };
  const row rows[] = {
      {"the defaults with a URL", [](webhook_settings&) {}, nullptr},
      {"https with a port and a query", [](webhook_settings& s) { s.url = "https://h.example:8443/a/b?x=1"; }, nullptr},
      {"an IPv6 literal", [](webhook_settings& s) { s.url = "http://[::1]:9000/hook"; }, nullptr},
      {"no URL", [](webhook_settings& s) { s.url.clear(); }, "url:"},
      {"another scheme", [](webhook_settings& s) { s.url = "ftp://h/x"; }, "url:"},
      {"no path", [](webhook_settings& s) { s.url = "http://h.example"; }, "url:"},
      {"no host", [](webhook_settings& s) { s.url = "http:///x"; }, "url:"},
      {"port 0", [](webhook_settings& s) { s.url = "http://h:0/x"; }, "url:"},
      {"port too large", [](webhook_settings& s) { s.url = "http://h:65536/x"; }, "url:"},
      {"user info", [](webhook_settings& s) { s.url = "http://u:p@h/x"; }, "url:"},
      {"a space in the path", [](webhook_settings& s) { s.url = "http://h/a b"; }, "url:"},
      {"a fragment", [](webhook_settings& s) { s.url = "http://h/a#b"; }, "url:"},
      {"zero timeout", [](webhook_settings& s) { s.timeout = 0s; }, "timeout:"},
      {"zero attempts", [](webhook_settings& s) { s.max_attempts = 0; }, "max_attempts:"},
      {"100 attempts, the option's maximum", [](webhook_settings& s) { s.max_attempts = 100; }, nullptr},
      {"101 attempts", [](webhook_settings& s) { s.max_attempts = 101; }, "max_attempts:"},
      {"backoff_max below backoff_initial",
       [](webhook_settings& s) {
         s.backoff_initial = 2s;
         s.backoff_max = 1s;
       },
       "backoff_max:"},
      {"jitter above 1", [](webhook_settings& s) { s.backoff_jitter = 1.5; }, "backoff_jitter:"},
      {"negative retry_after_max", [](webhook_settings& s) { s.retry_after_max = -1s; }, "retry_after_max:"},
      {"breaker threshold 0", [](webhook_settings& s) { s.breaker_failures = 0; }, "breaker_failures:"},
      {"zero cooldown", [](webhook_settings& s) { s.breaker_cooldown = 0s; }, "breaker_cooldown:"},
      {"a huge excerpt", [](webhook_settings& s) { s.response_excerpt_bytes = 1 << 20; }, "response_excerpt_bytes:"},
      {"a header name with a space", [](webhook_settings& s) { s.headers["X Bad"] = "v"; }, "headers.X Bad:"},
      {"a header value with CRLF", [](webhook_settings& s) { s.headers["X-A"] = "v\r\nX-Injected: 1"; }, "headers.X-A:"},
      {"Content-Type is the client's", [](webhook_settings& s) { s.headers["content-type"] = "text/plain"; },
       "headers.content-type:"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    webhook_settings s = test_settings();
    r.change(s);
    auto error = validate(s);
    if (!r.field) {
      CHECK_FALSE(error);
    } else {
      REQUIRE(error);
      CHECK_THAT(*error, Catch::StartsWith(r.field));
    }
  }
}

TEST_CASE("a client with invalid settings fails every call without a request") {
  webhook_settings s = test_settings();
  s.url = "ftp://h/x";
  rig t(s);

  webhook_outcome out = t.client.post("{}");

  CHECK(out.status == outcome_failed);
  CHECK(out.attempts == 0);
  CHECK_THAT(out.error, Catch::Contains("url:"));
  CHECK(t.transport.requests.empty());
}
