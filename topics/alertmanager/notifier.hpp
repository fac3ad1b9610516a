// Sends alert events to Alertmanager (API v2) and/or a generic webhook, through one
// webhook::webhook_client per target: its attempts, backoff, Retry-After and circuit breaker
// apply per call (docs/webhook.md). On top of that the notifier adds what alerts need:
//
//   never drop   deliver() either delivers or says when to ask again (retry_at). The caller keeps
//                the event in its durable mailbox until delivered; the gaps between its calls
//                grow like backoff_delay (retry_initial doubling, capped at retry_max, jittered,
//                deterministic).
//   all targets  an event is delivered once every configured target accepted it. What a target
//                accepted is remembered (in memory, per event), so a retry re-posts only to the
//                targets that have not. After a crash an accepted target may get the event again:
//                harmless, Alertmanager deduplicates by labels and receivers by fingerprint.
//   re-send      Alertmanager forgets a firing alert without endsAt after its resolve_timeout
//                (5 min by default) unless it is posted again, as Prometheus does every
//                evaluation. So the notifier keeps the alerts Alertmanager accepted as firing and
//                has not yet accepted as resolved, and resend_due() re-posts them every
//                resend_interval. remember_firing() seeds that set after a restart.
//
// REQUIRES: the events of one alert (alert_id) are delivered in the order the engine emitted
// them — the caller's mailbox is FIFO and does not pass an undelivered event. A firing posted
// after its resolution would make Alertmanager fire the alert again.
//
// Threads: deliver(), resend_due() and remember_firing() block on the network and run on the
// alert notification thread only, one call at a time. probe() may be read from any thread. Time
// comes from the injected clock, waits go through the injected sleeper. Nothing here throws.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alerts.hpp"
#include "model/clock.hpp"
#include "model/time.hpp"
#include "topics/alertmanager/alertmanager_payload.hpp"
#include "topics/webhook/http.hpp"
#include "topics/webhook/webhook_client.hpp"

namespace tw::alertmanager {

enum class target : uint8_t { alertmanager = 0, webhook = 1 };
std::string_view to_string(target t);  // "alertmanager" | "webhook"

struct target_settings {
  // alertmanager: the base URL (http://alertmanager:9093), posted to <url>/api/v2/alerts.
  // webhook: the full URL posted to.
  std::string url;
  // Extra request headers, e.g. Authorization (rules: webhook_settings::headers).
  std::map<std::string, std::string> headers;
};

// All need a restart: the notifier copies them at construction. Bounds are checked by validate().
struct notifier_settings {
  // At least one of the two is required.
  std::optional<target_settings> alertmanager;
  std::optional<target_settings> webhook;
  // One call to one target: timeout, max_attempts, backoff, Retry-After cap, breaker, jitter seed.
  // Defaults and bounds are webhook_settings'; its url and headers are ignored (per target above).
  webhook::webhook_settings delivery;
  // The wait before asking again about an event no call delivered, after its first failed
  // deliver(); doubles per failed deliver(), jittered by delivery.backoff_jitter. 1ms..1h.
  duration retry_initial{std::chrono::seconds(10)};
  // The largest such wait. >= retry_initial, <= 1h: it is also how late an alert can reach a
  // target after that target recovers.
  duration retry_max{std::chrono::minutes(5)};
  // How often firing alerts are re-posted to Alertmanager. 1s..1h; keep it well below
  // Alertmanager's resolve_timeout (5 min by default), or alerts flap between re-sends.
  duration resend_interval{std::chrono::minutes(1)};
  payload_settings payload;
};

// nullopt when usable; otherwise a message starting with the bad field, e.g.
// "alertmanager.url: must start with http:// or https://" or "delivery.timeout: ...".
std::optional<std::string> validate(const notifier_settings& s);

// What became of one deliver() call.
struct notify_outcome {
  bool delivered = false;
  // When not delivered: when to call deliver() again with the same event (clock time).
  wall_time retry_at;
  // When not delivered: each failed target's error, "alertmanager: HTTP 503 (...); webhook: ...".
  std::string error;
  // Failed deliver() calls for this event so far (0 once delivered).
  uint32_t failures = 0;
};

// What became of one resend_due() call.
struct resend_outcome {
  size_t resent = 0;     // alerts re-posted and accepted by this call
  std::string error;     // non-empty when the re-post failed (they are tried again at next_at)
  wall_time next_at;     // when resend_due() has something to do next, at the earliest
};

// Counters of one target. Written by the notification thread, readable from any thread.
class target_probe {
 public:
  void record_delivered() { delivered_.fetch_add(1, std::memory_order_relaxed); }
  void record_failed() { failed_.fetch_add(1, std::memory_order_relaxed); }
  void record_resent(uint64_t n) { resent_.fetch_add(n, std::memory_order_relaxed); }

  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }  // events accepted
  // Calls to this target that did not deliver (each up to delivery.max_attempts POSTs), re-sends
  // included. Rising steadily: the target is down or refuses what it gets (see the log/error).
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  uint64_t resent() const { return resent_.load(std::memory_order_relaxed); }  // alerts re-posted

 private:
  std::atomic<uint64_t> delivered_{0}, failed_{0}, resent_{0};
};

class notifier_probe {
 public:
  target_probe& of(target t) { return t == target::alertmanager ? alertmanager_ : webhook_; }
  const target_probe& of(target t) const { return t == target::alertmanager ? alertmanager_ : webhook_; }
  void record_firing(size_t n) { firing_.store(n, std::memory_order_relaxed); }
  // Alerts kept for re-sending (firing at Alertmanager as far as the notifier knows).
  uint64_t firing() const { return firing_.load(std::memory_order_relaxed); }

 private:
  target_probe alertmanager_, webhook_;
  std::atomic<uint64_t> firing_{0};
};

class notifier {
 public:
  // Keeps references to transport, clock and sleeper: they must outlive the notifier. Settings
  // that fail validate() are not an exception: every deliver() then fails with that message and
  // asks to be retried (check validate() at start-up, so that bad config fails there).
  notifier(notifier_settings settings, webhook::http_transport& transport, const clock& clock,
           webhook::sleeper& sleeper);
  ~notifier();
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  // Posts `e` to every configured target that has not accepted it yet. Blocks (see file comment).
  [[nodiscard]] notify_outcome deliver(const alerts::alert_event& e);

  // When `now` >= next_at and alerts are firing: re-posts all of them to Alertmanager in one
  // request, and schedules the next re-send resend_interval after `now` (also when it failed:
  // the alerts stay, and Alertmanager keeps them for resolve_timeout after the last success).
  // Without an Alertmanager target there is nothing to re-send.
  [[nodiscard]] resend_outcome resend_due(wall_time now);

  // Seeds the set of firing alerts (e.g. the engine's firing() after a restart), replacing what
  // it held for the same alert_id; resolved events in `firing` are ignored. Makes a re-send due
  // at once: Alertmanager may have timed them out while tracewatch was down.
  void remember_firing(const std::vector<alerts::alert_event>& firing);

  // Any thread.
  const notifier_probe& probe() const { return probe_; }
  // The target's webhook_client counters (attempts, retries, breaker); nullptr when not configured.
  const webhook::webhook_probe* client_probe(target t) const;

 private:
  struct endpoint;
  // An event not yet delivered: which targets accepted it, how often deliver() failed for it.
  struct pending {
    bool accepted[2] = {false, false};  // by target
    uint32_t failures = 0;
  };

  bool post(endpoint& to, const std::string& body, std::string& error);
  void note_accepted_by_alertmanager(const alerts::alert_event& e);

  notifier_settings settings_;
  std::optional<std::string> invalid_;
  const clock& clock_;
  webhook::webhook_settings retry_schedule_;  // retry_initial/retry_max as a backoff, for backoff_delay
  std::unique_ptr<endpoint> alertmanager_, webhook_;
  std::map<std::string, pending> pending_;                 // by event key: undelivered events
  std::map<std::string, alerts::alert_event> firing_;      // by alert_id: to re-send
  wall_time next_resend_ = wall_time::max();
  notifier_probe probe_;
};

}  // namespace tw::alertmanager
