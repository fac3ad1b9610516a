#include "topics/alertmanager/notifier.hpp"

#include "model/text.hpp"

namespace tw::alertmanager {

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string alerts_url(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/api/v2/alerts";
}

webhook::webhook_settings for_target(const webhook::webhook_settings& delivery, std::string url,
                                     const target_settings& t) {
  webhook::webhook_settings s = delivery;
  s.url = std::move(url);
  s.headers = t.headers;
  return s;
}

std::string ms_text(duration d) { return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + " ms"; }

std::optional<std::string> out_of(const char* field, duration d, duration lo, duration hi) {
  if (d < lo || d > hi) return std::string(field) + ": must be between " + ms_text(lo) + " and " + ms_text(hi);
  return std::nullopt;
}

// One event = one alert's state change at one instant; a repeat of a firing alert is its own
// event (it carries new values).
std::string event_key(const alerts::alert_event& e) {
  return e.alert_id + '|' + std::string(status_text(e.state)) + '|' + std::to_string(e.at.micros()) + '|' +
         std::to_string(e.repeat);
}

size_t index_of(target t) { return static_cast<size_t>(t); }

}  // namespace

std::string_view to_string(target t) { return t == target::alertmanager ? "alertmanager" : "webhook"; }

std::optional<std::string> validate(const notifier_settings& s) {
  if (!s.alertmanager && !s.webhook) return std::string("alertmanager.url: this or webhook.url is required");
  // The shared fields once, with a stand-in URL; then each target's URL and headers.
  webhook::webhook_settings shared = s.delivery;
  shared.url = "http://localhost/";
  shared.headers.clear();
  if (auto e = webhook::validate(shared)) return "delivery." + *e;
  if (s.alertmanager)
    if (auto e = webhook::validate(for_target(s.delivery, alerts_url(s.alertmanager->url), *s.alertmanager)))
      return "alertmanager." + *e;
  if (s.webhook)
    if (auto e = webhook::validate(for_target(s.delivery, s.webhook->url, *s.webhook))) return "webhook." + *e;
  if (auto e = out_of("retry_initial", s.retry_initial, milliseconds(1), hours(1))) return e;
  if (s.retry_max < s.retry_initial || s.retry_max > hours(1))
    return std::string("retry_max: must be at least retry_initial and at most 3600000 ms");
  if (auto e = out_of("resend_interval", s.resend_interval, seconds(1), hours(1))) return e;
  return std::nullopt;
}

struct notifier::endpoint {
  endpoint(target t, webhook::webhook_settings s, webhook::http_transport& transport, const clock& clock,
           webhook::sleeper& sleeper)
      : which(t), client(std::move(s), transport, clock, sleeper) {}
  target which;
  webhook::webhook_client client;
};

notifier::notifier(notifier_settings settings, webhook::http_transport& transport, const clock& clock,
                   webhook::sleeper& sleeper)
    : settings_(std::move(settings)), invalid_(validate(settings_)), clock_(clock) {
  retry_schedule_.backoff_initial = settings_.retry_initial;
  retry_schedule_.backoff_max = settings_.retry_max;
  retry_schedule_.backoff_jitter = settings_.delivery.backoff_jitter;
  retry_schedule_.jitter_seed = settings_.delivery.jitter_seed;
  if (settings_.alertmanager)
    alertmanager_ = std::make_unique<endpoint>(
        target::alertmanager,
        for_target(settings_.delivery, alerts_url(settings_.alertmanager->url), *settings_.alertmanager), transport,
        clock, sleeper);
  if (settings_.webhook)
    webhook_ = std::make_unique<endpoint>(target::webhook,
                                          for_target(settings_.delivery, settings_.webhook->url, *settings_.webhook),
                                          transport, clock, sleeper);
}

notifier::~notifier() = default;

notify_outcome notifier::deliver(const alerts::alert_event& e) {
  const std::string key = event_key(e);
  pending& p = pending_[key];
  std::string error;
  if (invalid_) {
    error = "invalid notifier settings: " + *invalid_;
  } else {
    for (endpoint* to : {alertmanager_.get(), webhook_.get()}) {
      if (!to || p.accepted[index_of(to->which)]) continue;
      const std::string body = to->which == target::alertmanager ? postable_alerts({e}, settings_.payload)
                                                                 : webhook_message(e, settings_.payload);
      if (!post(*to, body, error)) continue;
      p.accepted[index_of(to->which)] = true;
      probe_.of(to->which).record_delivered();
      if (to->which == target::alertmanager) note_accepted_by_alertmanager(e);
    }
    if (error.empty()) {
      pending_.erase(key);
      return notify_outcome{true, wall_time{}, "", 0};
    }
  }
  ++p.failures;
  // Seeded by the alert, so that alerts failing together drift apart, and a replay of the same
  // failures asks again at the same times.
  const duration wait = webhook::backoff_delay(retry_schedule_, static_cast<int>(p.failures), stable_hash(e.alert_id));
  return notify_outcome{false, clock_.now() + wait, std::move(error), p.failures};
}

resend_outcome notifier::resend_due(wall_time now) {
  resend_outcome out;
  if (!alertmanager_ || firing_.empty()) {
    out.next_at = wall_time::max();
    return out;
  }
  if (now < next_resend_) {
    out.next_at = next_resend_;
    return out;
  }
  std::vector<alerts::alert_event> all;
  all.reserve(firing_.size());
  for (const auto& [id, e] : firing_) all.push_back(e);
  next_resend_ = now + settings_.resend_interval;
  out.next_at = next_resend_;
  if (post(*alertmanager_, postable_alerts(all, settings_.payload), out.error)) {
    out.resent = all.size();
    probe_.of(target::alertmanager).record_resent(all.size());
  }
  return out;
}

void notifier::remember_firing(const std::vector<alerts::alert_event>& firing) {
  if (!alertmanager_) return;
  for (const auto& e : firing)
    if (e.state == alerts::alert_state::firing) firing_[e.alert_id] = e;
  if (!firing_.empty()) next_resend_ = clock_.now();
  probe_.record_firing(firing_.size());
}

const webhook::webhook_probe* notifier::client_probe(target t) const {
  const auto& to = t == target::alertmanager ? alertmanager_ : webhook_;
  return to ? &to->client.probe() : nullptr;
}

bool notifier::post(endpoint& to, const std::string& body, std::string& error) {
  webhook_outcome out = to.client.post(body);
  if (out.status == webhook::outcome_delivered) return true;
  probe_.of(to.which).record_failed();
  if (!error.empty()) error += "; ";
  error += std::string(to_string(to.which)) + ": " + (out.error.empty() ? out.status : out.error);
  return false;
}

void notifier::note_accepted_by_alertmanager(const alerts::alert_event& e) {
  if (e.state == alerts::alert_state::resolved) {
    firing_.erase(e.alert_id);
  } else {
    // The first firing alert starts the re-send clock; until then there is nothing to re-send.
    if (firing_.empty()) next_resend_ = clock_.now() + settings_.resend_interval;
    firing_[e.alert_id] = e;
  }
  probe_.record_firing(firing_.size());
}

}  // namespace tw::alertmanager
