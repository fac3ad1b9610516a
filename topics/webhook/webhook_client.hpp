// The outbound webhook client: POSTs a failed session's summary (JSON text) to a configured URL,
// robustly, and reports what happened as a webhook_outcome for the diagnostic.
//
// One call = up to max_attempts POSTs of the same body:
//   2xx                                 -> delivered (excerpt of the response body attached)
//   transport error (timeout, refused,  -> retried
//     reset), 5xx, 429, 408
//   any other status (3xx, 4xx)         -> failed at once, not retried
// Between attempts it waits for the server's Retry-After when a 429 or 503 carries one (delta
// seconds or an HTTP-date, capped at retry_after_max), otherwise for an exponential backoff (see
// backoff_delay). A circuit breaker in front of the calls (see circuit_breaker) stops it from
// hammering an endpoint that keeps failing.
//
// Threads: post() blocks for up to max_attempts * timeout plus the waits, so it runs on the
// diagnostic stage's dedicated webhook thread (a detached actor or std::thread), never on a CAF
// worker. post() must be called from one thread at a time. probe() counters may be read from any
// thread. Time comes from the injected clock and every wait goes through the injected sleeper, so
// tests neither sleep nor depend on machine speed. Nothing here throws.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "model/clock.hpp"
#include "model/time.hpp"
#include "model/verdict.hpp"
#include "topics/webhook/http.hpp"

namespace tw::webhook {

// Each field: default, bounds (checked by validate), and why. All need a restart to change: the
// client copies them at construction. Most are the webhook.* options of config/options.cpp; the
// bounds here admit every value that table admits, and add what one option alone cannot check
// (backoff_max >= backoff_initial, reserved header names). backoff_jitter, jitter_seed and
// response_excerpt_bytes have no option yet: their defaults apply.
struct webhook_settings {
  // Where to POST. http(s)://host[:port]/path (see url_parts). Required.
  std::string url;
  // Bound on one attempt, connect included. 1ms..10min: above that a hung endpoint blocks the
  // webhook thread for too long.
  duration timeout{std::chrono::seconds(5)};
  // Attempts per call, the first included. 1..100 (as the webhook.max_attempts option allows).
  int max_attempts = 4;
  // First backoff wait; doubles per retry. 0..10min (0: retry at once, for tests).
  duration backoff_initial{std::chrono::milliseconds(500)};
  // Largest backoff wait. >= backoff_initial, <= 1h.
  duration backoff_max{std::chrono::seconds(30)};
  // Fraction of each backoff wait taken off at random (deterministic; see backoff_delay), so that
  // several instances retrying against one endpoint drift apart. 0..1; 0 = exact doubling.
  double backoff_jitter = 0.2;
  // Seeds the jitter. Give each instance its own (e.g. a hash of the consumer member id).
  uint64_t jitter_seed = 0;
  // Largest Retry-After honoured; a longer request waits this long instead. 0..1h.
  duration retry_after_max{std::chrono::seconds(60)};
  // Consecutive failed calls that open the breaker. 1..1000.
  int breaker_failures = 5;
  // How long the breaker stays open before one trial call. 1ms..1d.
  duration breaker_cooldown{std::chrono::seconds(60)};
  // Bytes of the response body kept in the outcome (cut on a UTF-8 boundary). 0..64KiB: it goes
  // into a Kafka message.
  size_t response_excerpt_bytes = 500;
  // Extra request headers (e.g. Authorization). Names must be tokens, values free of CR/LF; the
  // client owns Content-Type, Content-Length and Host, which cannot be set here.
  std::map<std::string, std::string> headers;
  // Rewrites each body before it is sent (PII redaction, docs/privacy.md); empty: sent as given.
  std::function<std::string(const std::string&)> body_filter;
};

// nullopt when usable; otherwise a message that starts with the bad field's name, e.g.
// "url: must start with http:// or https://".
std::optional<std::string> validate(const webhook_settings& s);

// Where webhook_outcome::status comes from. Strings in the diagnostic contract: never rename.
inline constexpr std::string_view outcome_delivered = "delivered";
inline constexpr std::string_view outcome_failed = "failed";
inline constexpr std::string_view outcome_circuit_open = "circuit_open";

// Every wait between attempts goes through here.
class sleeper {
 public:
  virtual ~sleeper() = default;
  virtual void sleep_for(duration d) = 0;
};

// The production sleeper: blocks the calling (webhook) thread.
class thread_sleeper final : public sleeper {
 public:
  void sleep_for(duration d) override;
};

// The wait before retry number `retry` (1 = before the second attempt) of call number `call`:
//   base = min(backoff_initial * 2^(retry-1), backoff_max)
//   wait = base * (1 - backoff_jitter * u),  u in [0, 1) from a hash of (jitter_seed, call, retry)
// Jitter only shortens, so the wait never exceeds backoff_max. The same inputs always give the
// same wait: runs and tests are reproducible.
duration backoff_delay(const webhook_settings& s, int retry, uint64_t call);

// The longest one call can block: every attempt running into the timeout, and the longest wait
// between them (a backoff is at most backoff_max, a honoured Retry-After at most retry_after_max).
// What a caller announces to its heartbeat (model/probe.hpp) before calling, so that a slow
// endpoint is not taken for a wedged stage.
duration longest_call(const webhook_settings& s);

// A circuit breaker over calls, driven by the injected clock. Plain class; not thread-safe (the
// client uses it from the webhook thread only).
//   closed    --breaker_failures consecutive failed calls-->  open
//   open      --cooldown passed, next call admitted------->  half_open (that call is the trial)
//   half_open --trial succeeds-->  closed ; --trial fails-->  open (a new cooldown)
class circuit_breaker {
 public:
  enum class state : uint8_t { closed, open, half_open };

  circuit_breaker(int failure_threshold, duration cooldown) : threshold_(failure_threshold), cooldown_(cooldown) {}

  // Whether a call may go out at `now`. An open breaker whose cooldown has passed admits this one
  // call and becomes half-open.
  bool admit(wall_time now);
  void record_success();
  void record_failure(wall_time now);

  state current() const { return state_; }
  // When an open breaker admits its trial call.
  wall_time reopens_at() const { return opened_at_ + cooldown_; }
  int consecutive_failures() const { return consecutive_failures_; }

 private:
  int threshold_;
  duration cooldown_;
  state state_ = state::closed;
  int consecutive_failures_ = 0;
  wall_time opened_at_;
};
std::string_view to_string(circuit_breaker::state s);

// Counters for metrics. Written by the webhook thread, readable from any thread.
class webhook_probe {
 public:
  void record_call() { calls_.fetch_add(1, std::memory_order_relaxed); }
  void record_attempt() { attempts_.fetch_add(1, std::memory_order_relaxed); }
  void record_retry() { retries_.fetch_add(1, std::memory_order_relaxed); }
  void record_delivered() { delivered_.fetch_add(1, std::memory_order_relaxed); }
  void record_failed() { failed_.fetch_add(1, std::memory_order_relaxed); }
  void record_rejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }
  void record_breaker_opened() { breaker_opened_.fetch_add(1, std::memory_order_relaxed); }
  void record_breaker_state(circuit_breaker::state s) { breaker_state_.store(s, std::memory_order_relaxed); }

  uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }
  uint64_t attempts() const { return attempts_.load(std::memory_order_relaxed); }      // POSTs sent
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }        // attempts after a call's first
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }      // circuit_open outcomes
  uint64_t breaker_opened() const { return breaker_opened_.load(std::memory_order_relaxed); }
  circuit_breaker::state breaker_state() const { return breaker_state_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> calls_{0}, attempts_{0}, retries_{0}, delivered_{0}, failed_{0}, rejected_{0},
      breaker_opened_{0};
  std::atomic<circuit_breaker::state> breaker_state_{circuit_breaker::state::closed};
};

class webhook_client {
 public:
  // Keeps references to transport, clock and sleeper: they must outlive the client. Settings that
  // fail validate() are not an exception: every post() then returns "failed" with that message.
  webhook_client(webhook_settings settings, http_transport& transport, const clock& clock, sleeper& sleeper);

  // POSTs `json_body` with Content-Type: application/json and the configured headers. Blocks
  // (webhook thread only; see the file comment). status: delivered | failed | circuit_open;
  // attempts: POSTs sent; http_status: of the last response, if any; response: excerpt of the last
  // response body, made valid UTF-8 (invalid bytes become U+FFFD); error: why it did not deliver,
  // empty when it did.
  webhook_outcome post(const std::string& json_body);

  // Any thread.
  const webhook_probe& probe() const { return probe_; }
  // Webhook thread only (other threads: probe().breaker_state()).
  circuit_breaker::state breaker_state() const { return breaker_.current(); }

 private:
  webhook_settings settings_;
  std::optional<std::string> invalid_;  // validate()'s verdict on settings_
  http_transport& transport_;
  const clock& clock_;
  sleeper& sleeper_;
  circuit_breaker breaker_;
  webhook_probe probe_;
  uint64_t calls_ = 0;
};

}  // namespace tw::webhook
