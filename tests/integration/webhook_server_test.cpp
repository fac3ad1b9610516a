// The webhook client with the real httplib_transport against a real HTTP server on 127.0.0.1.
// Checks what the scripted unit tests cannot: that timeouts really bound an attempt, that headers
// survive the wire, and that an open breaker sends nothing (counted server-side).
//
// Waits between attempts go through a recording sleeper on a manual clock, so a "Retry-After: 1"
// costs no real second. Slow servers are simulated with handlers that block until the test
// releases them (or a safety deadline), never with fixed sleeps in the test itself.
#define CATCH_CONFIG_ENABLE_CHRONO_STRINGMAKER  // print durations in failures
#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "topics/webhook/httplib_transport.hpp"
#include "topics/webhook/webhook_client.hpp"

using namespace tw;
using namespace tw::webhook;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

// Polls `condition` until it holds or `limit` passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  const auto deadline = steady::now() + limit;
  while (!condition()) {
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A local server for POST /hook. Each test sets the handler; the server counts requests that
// reached it. Handlers that stall wait on `stall()`, which returns once the test is over.
class test_server {
 public:
  using handler = std::function<void(int request_number, const httplib::Request&, httplib::Response&)>;

  explicit test_server(handler h) : handler_(std::move(h)) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      int n = ++requests_;
      handler_(n, req, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    listener_ = std::thread([this] { server_.listen_after_bind(); });
    REQUIRE(wait_until([this] { return server_.is_running(); }, 5000ms));
  }

  ~test_server() {
    release();
    server_.stop();
    listener_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }

  // Blocks a handler until release() or `limit` (a safety net so a failing test cannot hang).
  void stall(std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    released_cv_.wait_for(lock, limit, [this] { return released_; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      released_ = true;
    }
    released_cv_.notify_all();
  }

 private:
  handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread listener_;
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::condition_variable released_cv_;
  bool released_ = false;
};

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

webhook_settings settings_for(const test_server& server) {
  webhook_settings s;
  s.url = server.url();
  s.timeout = 300ms;
  s.backoff_jitter = 0;
  return s;
}

std::chrono::milliseconds elapsed_since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
}

}  // namespace

TEST_CASE("a server slower than the timeout is abandoned after the timeout and retried") {
  test_server server([&](int n, const httplib::Request&, httplib::Response& res) {
    if (n == 1) server.stall();  // the first answer comes far too late
    res.set_content(R"({"accepted":true})", "application/json");
  });
  manual_clock clock;
  recording_sleeper sleeper(clock);
  httplib_transport transport;
  webhook_client client(settings_for(server), transport, clock, sleeper);

  const auto start = steady::now();
  webhook_outcome out = client.post(R"({"session_id":"s-1"})");
  const auto took = elapsed_since(start);

  CHECK(out.status == outcome_delivered);
  CHECK(out.attempts == 2);
  CHECK(out.http_status == 200);
  CHECK(out.response == R"({"accepted":true})");
  CHECK(server.requests() == 2);
  CHECK(sleeper.waits == std::vector<duration>{500ms});
  CHECK(took >= 300ms);
  CHECK(took < 2000ms);
}

TEST_CASE("a timed-out attempt is reported as a timeout") {
  test_server server([&](int, const httplib::Request&, httplib::Response& res) {
    server.stall();
    res.set_content("late", "text/plain");
  });
  manual_clock clock;
  recording_sleeper sleeper(clock);
  httplib_transport transport;
  webhook_settings s = settings_for(server);
  s.max_attempts = 1;
  webhook_client client(s, transport, clock, sleeper);

  webhook_outcome out = client.post("{}");

  CHECK(out.status == outcome_failed);
  CHECK_FALSE(out.http_status);
  CHECK_THAT(out.error, Catch::StartsWith("timeout:"));
}

TEST_CASE("a server that trickles its body cannot hold an attempt past the timeout") {
  // Headers come at once and then one byte per 50 ms for seconds: no single read waits long, so
  // only the transport's whole-exchange deadline stops it.
  test_server server([&](int, const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [&](size_t offset, httplib::DataSink& sink) {
      if (offset >= 100) {
        sink.done();
        return true;
      }
      server.stall(50ms);  // a slow producer; returns early once the test releases the server
      sink.write(".", 1);
      return true;
    });
  });
  manual_clock clock;
  recording_sleeper sleeper(clock);
  httplib_transport transport;

  const auto start = steady::now();
  http_result r = transport.post(http_request{server.url(), "{}", {{"Content-Type", "application/json"}}, 300ms});
  const auto took = elapsed_since(start);

  REQUIRE(std::holds_alternative<transport_error>(r));
  CHECK(std::get<transport_error>(r).code == transport_errc::timeout);
  CHECK(took >= 300ms);
  CHECK(took < 1500ms);
}

TEST_CASE("a 429 with Retry-After: 1 asks the sleeper for one second and then delivers") {
  test_server server([](int n, const httplib::Request&, httplib::Response& res) {
    if (n == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content("slow down", "text/plain");
      return;
    }
    res.set_content("ok", "text/plain");
  });
  manual_clock clock;
  recording_sleeper sleeper(clock);
  httplib_transport transport;
  webhook_client client(settings_for(server), transport, clock, sleeper);

  const auto start = steady::now();
  webhook_outcome out = client.post("{}");

  CHECK(out.status == outcome_delivered);
  CHECK(out.attempts == 2);
  CHECK(server.requests() == 2);
  CHECK(sleeper.waits == std::vector<duration>{1s});
  CHECK(elapsed_since(start) < 1000ms);  // the second was the sleeper's, not ours
}

TEST_CASE("a failing server exhausts the retries, opens the breaker, and then gets no requests") {
  std::atomic<bool> healthy{false};
  test_server server([&](int, const httplib::Request&, httplib::Response& res) {
    if (healthy) {
      res.set_content("back", "text/plain");
    } else {
      res.status = 500;
      res.set_content("internal error", "text/plain");
    }
  });
  manual_clock clock;
  recording_sleeper sleeper(clock);
  httplib_transport transport;
  webhook_settings s = settings_for(server);
  s.max_attempts = 3;
  s.breaker_failures = 2;
  s.breaker_cooldown = 30s;
  webhook_client client(s, transport, clock, sleeper);

  webhook_outcome first = client.post("{}");
  CHECK(first.status == outcome_failed);
  CHECK(first.attempts == 3);
  CHECK(first.http_status == 500);
  CHECK(first.response == "internal error");
  CHECK(server.requests() == 3);

  CHECK(client.post("{}").status == outcome_failed);
  CHECK(server.requests() == 6);
  CHECK(client.breaker_state() == circuit_breaker::state::open);

  for (int i = 0; i < 3; ++i) CHECK(client.post("{}").status == outcome_circuit_open);
  CHECK(server.requests() == 6);  // nothing reached the server while open

  healthy = true;
  clock.advance(30s);
  webhook_outcome trial = client.post("{}");
  CHECK(trial.status == outcome_delivered);
  CHECK(trial.response == "back");
  CHECK(server.requests() == 7);
  CHECK(client.breaker_state() == circuit_breaker::state::closed);
}

TEST_CASE("a 200 carries the JSON body and headers over the wire and its body is excerpted") {
  std::mutex seen_mutex;
  std::string seen_body, seen_type, seen_auth;
  std::string reply;
  for (int i = 0; i < 400; ++i) reply += "\xC3\xBC";  // ü, two bytes each
  test_server server([&](int, const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(seen_mutex);
      seen_body = req.body;
      seen_type = req.get_header_value("Content-Type");
      seen_auth = req.get_header_value("Authorization");
    }
    res.set_content(reply, "text/plain; charset=utf-8");
  });
  manual_clock clock;
  recording_sleeper sleeper(clock);
  httplib_transport transport;
  webhook_settings s = settings_for(server);
  s.headers = {{"Authorization", "Bearer abc"}};
  s.response_excerpt_bytes = 101;
  webhook_client client(s, transport, clock, sleeper);
  const std::string body = R"({"session_id":"s-42","verdict":"fail","findings":[]})";

  webhook_outcome out = client.post(body);

  CHECK(out.status == outcome_delivered);
  CHECK(out.attempts == 1);
  CHECK(out.http_status == 200);
  CHECK(out.response.size() == 100 + 3);  // 50 whole ü, then "…"
  CHECK(out.response.substr(0, 100) == reply.substr(0, 100));
  CHECK(out.response.substr(100) == "\xE2\x80\xA6");
  std::lock_guard<std::mutex> lock(seen_mutex);
  CHECK(seen_body == body);
  CHECK(seen_type == "application/json");
  CHECK(seen_auth == "Bearer abc");
}

TEST_CASE("the transport keeps only max_body_bytes of a large response") {
  const std::string big(4 << 20, 'x');
  test_server server([&](int, const httplib::Request&, httplib::Response& res) { res.set_content(big, "text/plain"); });
  httplib_transport transport;
  http_request req{server.url(), "{}", {{"Content-Type", "application/json"}}, 2000ms};
  req.max_body_bytes = 10;

  http_result r = transport.post(req);

  REQUIRE(std::holds_alternative<http_response>(r));
  const auto& response = std::get<http_response>(r);
  CHECK(response.status == 200);
  CHECK(response.body == std::string(10, 'x'));
  REQUIRE(response.header("content-type"));  // names are lower-cased
  CHECK(*response.header("content-type") == "text/plain");
}

TEST_CASE("a refused connection is retried and reported as a connection error") {
  int port = 0;
  {
    test_server gone([](int, const httplib::Request&, httplib::Response&) {});
    port = gone.port();
  }  // stopped: nothing listens on the port any more
  manual_clock clock;
  recording_sleeper sleeper(clock);
  httplib_transport transport;
  webhook_settings s;
  s.url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  s.timeout = 300ms;
  s.max_attempts = 2;
  s.backoff_jitter = 0;
  webhook_client client(s, transport, clock, sleeper);

  webhook_outcome out = client.post("{}");

  CHECK(out.status == outcome_failed);
  CHECK(out.attempts == 2);
  CHECK_THAT(out.error, Catch::StartsWith("connection:"));
}
