#include "topics/webhook/webhook_client.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "model/text.hpp"
#include "topics/webhook/retry_after.hpp"

namespace tw::webhook {

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string ms_text(duration d) { return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + " ms"; }

std::optional<std::string> out_of(const char* field, duration d, duration lo, duration hi) {
  if (d < lo || d > hi) return std::string(field) + ": must be between " + ms_text(lo) + " and " + ms_text(hi);
  return std::nullopt;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool is_retriable_status(int status) { return status >= 500 || status == 429 || status == 408; }
bool may_carry_retry_after(int status) { return status == 429 || status == 503; }

}  // namespace

std::optional<std::string> validate(const webhook_settings& s) {
  if (s.url.empty()) return std::string("url: is required");
  auto url = parse_http_url(s.url);
  if (auto* why = std::get_if<std::string>(&url)) return "url: " + *why;
  if (auto e = out_of("timeout", s.timeout, milliseconds(1), minutes(10))) return e;
  if (s.max_attempts < 1 || s.max_attempts > 100) return std::string("max_attempts: must be between 1 and 100");
  if (auto e = out_of("backoff_initial", s.backoff_initial, duration::zero(), minutes(10))) return e;
  if (s.backoff_max < s.backoff_initial || s.backoff_max > hours(1))
    return std::string("backoff_max: must be at least backoff_initial and at most 3600000 ms");
  if (!(s.backoff_jitter >= 0.0 && s.backoff_jitter <= 1.0))
    return std::string("backoff_jitter: must be between 0 and 1");
  if (auto e = out_of("retry_after_max", s.retry_after_max, duration::zero(), hours(1))) return e;
  if (s.breaker_failures < 1 || s.breaker_failures > 1000)
    return std::string("breaker_failures: must be between 1 and 1000");
  if (auto e = out_of("breaker_cooldown", s.breaker_cooldown, milliseconds(1), hours(24))) return e;
  if (s.response_excerpt_bytes > 65536) return std::string("response_excerpt_bytes: must be at most 65536");
  for (const auto& [name, value] : s.headers) {
    if (!is_header_name(name)) return "headers." + name + ": is not a valid header name";
    if (!is_header_value(value)) return "headers." + name + ": value must not contain CR, LF or NUL";
    std::string l = lower(name);
    if (l == "content-type" || l == "content-length" || l == "host")
      return "headers." + name + ": is set by the client and cannot be configured";
  }
  return std::nullopt;
}

void thread_sleeper::sleep_for(duration d) {
  if (d > duration::zero()) std::this_thread::sleep_for(d);
}

duration longest_call(const webhook_settings& s) {
  const int64_t attempts = std::max(1, s.max_attempts);
  return s.timeout * attempts + std::max(s.backoff_max, s.retry_after_max) * (attempts - 1);
}

duration backoff_delay(const webhook_settings& s, int retry, uint64_t call) {
  int64_t base = s.backoff_initial.count();
  const int64_t cap = s.backoff_max.count();
  for (int i = 1; i < retry && base < cap; ++i) base = base > cap / 2 ? cap : base * 2;
  base = std::min(base, cap);
  if (s.backoff_jitter <= 0.0 || base <= 0) return duration(base);
  uint64_t h = splitmix64(splitmix64(splitmix64(s.jitter_seed) ^ call) ^ static_cast<uint64_t>(retry));
  double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // [0, 1)
  auto cut = static_cast<int64_t>(std::floor(static_cast<double>(base) * s.backoff_jitter * u));
  return duration(base - std::clamp<int64_t>(cut, 0, base));
}

bool circuit_breaker::admit(wall_time now) {
  switch (state_) {
    case state::closed:
      return true;
    case state::open:
      if (now < reopens_at()) return false;
      state_ = state::half_open;
      return true;
    case state::half_open:
      // The trial call is still out. The client is single-threaded, so this only happens when a
      // caller admits without recording; refuse rather than send a second trial.
      return false;
  }
  return false;
}

void circuit_breaker::record_success() {
  state_ = state::closed;
  consecutive_failures_ = 0;
}

void circuit_breaker::record_failure(wall_time now) {
  ++consecutive_failures_;
  if (state_ == state::half_open || consecutive_failures_ >= threshold_) {
    state_ = state::open;
    opened_at_ = now;
  }
}

std::string_view to_string(circuit_breaker::state s) {
  switch (s) {
    case circuit_breaker::state::closed: return "closed";
    case circuit_breaker::state::open: return "open";
    case circuit_breaker::state::half_open: return "half_open";
  }
  return "unknown";
}

webhook_client::webhook_client(webhook_settings settings, http_transport& transport, const clock& clock,
                               sleeper& sleeper)
    : settings_(std::move(settings)),
      invalid_(validate(settings_)),
      transport_(transport),
      clock_(clock),
      sleeper_(sleeper),
      breaker_(settings_.breaker_failures, settings_.breaker_cooldown) {}

webhook_outcome webhook_client::post(const std::string& json_body) {
  webhook_outcome out;
  probe_.record_call();
  const uint64_t call = ++calls_;

  if (invalid_) {
    out.status = std::string(outcome_failed);
    out.error = "invalid webhook settings: " + *invalid_;
    probe_.record_failed();
    return out;
  }

  if (!breaker_.admit(clock_.now())) {
    out.status = std::string(outcome_circuit_open);
    out.error = "circuit breaker open after " + std::to_string(breaker_.consecutive_failures()) +
                " consecutive failed calls; next trial in " + ms_text(breaker_.reopens_at() - clock_.now());
    probe_.record_rejected();
    return out;
  }
  probe_.record_breaker_state(breaker_.current());

  http_request request;
  request.url = settings_.url;
  request.body = settings_.body_filter ? settings_.body_filter(json_body) : json_body;
  request.headers = settings_.headers;
  request.headers["Content-Type"] = "application/json";
  request.timeout = settings_.timeout;
  // A few bytes beyond the excerpt, so that excerpt() can see a cut and find a UTF-8 boundary.
  request.max_body_bytes = settings_.response_excerpt_bytes + 4;

  for (int attempt = 1;; ++attempt) {
    probe_.record_attempt();
    out.attempts = attempt;
    http_result result = transport_.post(request);

    bool retriable = false;
    std::optional<duration> server_wait;
    if (auto* response = std::get_if<http_response>(&result)) {
      out.http_status = response->status;
      // A foreign body: make it valid UTF-8 before it goes into a JSON diagnostic.
      out.response = excerpt(to_valid_utf8(response->body), settings_.response_excerpt_bytes);
      if (response->status >= 200 && response->status < 300) {
        out.status = std::string(outcome_delivered);
        out.error.clear();
        breaker_.record_success();
        probe_.record_breaker_state(breaker_.current());
        probe_.record_delivered();
        return out;
      }
      out.error = "HTTP " + std::to_string(response->status);
      retriable = is_retriable_status(response->status);
      if (may_carry_retry_after(response->status))
        if (const std::string* value = response->header("retry-after"))
          server_wait = parse_retry_after(*value, clock_.now());
    } else {
      const auto& error = std::get<transport_error>(result);
      out.http_status.reset();
      out.response.clear();
      out.error = std::string(to_string(error.code)) + ": " + error.message;
      retriable = is_retriable(error.code);
    }

    if (!retriable) {
      out.error += " (not retried)";
      break;
    }
    if (attempt >= settings_.max_attempts) {
      out.error += " (retries exhausted after " + std::to_string(attempt) + " attempts)";
      break;
    }
    probe_.record_retry();
    sleeper_.sleep_for(server_wait ? std::min(*server_wait, settings_.retry_after_max)
                                   : backoff_delay(settings_, attempt, call));
  }

  out.status = std::string(outcome_failed);
  const auto before = breaker_.current();
  breaker_.record_failure(clock_.now());
  if (breaker_.current() == circuit_breaker::state::open && before != circuit_breaker::state::open)
    probe_.record_breaker_opened();
  probe_.record_breaker_state(breaker_.current());
  probe_.record_failed();
  return out;
}

}  // namespace tw::webhook
