// What a judged session (or a dead letter) contributes to the alert rules, and its encoding on the
// durable queue between the judge and the alert stage.
//
// value := version:u8(=1) kind:u8 at:svarint(us) session_id:bytes revision:varint status:u8
//          intent:bytes agent:bytes models:varint(n) bytes*n
//          cost:(u8 0 | u8 1 f64) session_duration:svarint(us)
//          tools:varint(n) tool*n llm_calls:varint(n) llm*n reason:bytes
// tool   := name:bytes ok:u8 latency
// llm    := model:bytes ok:u8 latency
// latency := u8 0 | u8 1 svarint(us)
// (varint, svarint, bytes, f64 as in state/codec.hpp.) Values in the queue outlive a release:
// never change the meaning of version 1; a new layout takes a new version byte.
#include "alerts/alerts.hpp"
#include "model/session.hpp"
#include "state/codec.hpp"

namespace tw::alerts {

namespace {

constexpr uint8_t fact_version = 1;

void put_latency(state::writer& w, const std::optional<duration>& d) {
  w.u8(d ? 1 : 0);
  if (d) w.svarint(d->count());
}

// A flag byte: anything but 0 or 1 is corruption, not "true".
std::optional<bool> get_flag(state::reader& r) {
  const uint8_t b = r.u8();
  if (!r.ok() || b > 1) return std::nullopt;
  return b == 1;
}

bool get_latency(state::reader& r, std::optional<duration>& out) {
  auto has = get_flag(r);
  if (!has) return false;
  if (*has) out = duration(r.svarint());
  return r.ok();
}

// A count of items that each take at least one byte cannot exceed the bytes left: refuses a
// corrupt length before it becomes a huge allocation.
bool plausible(const state::reader& r, uint64_t n) { return r.ok() && n <= r.remaining(); }

}  // namespace

std::string agent_of(const metadata_entries& metadata) {
  for (auto key : agent_metadata_keys)
    for (const auto& [k, v] : metadata)
      if (k == key && !v.empty()) return v;
  return {};
}

std::string_view to_string(alert_state s) { return s == alert_state::firing ? "firing" : "resolved"; }

alert_fact make_fact(const session_summary& s, const verdict& v) {
  alert_fact f = fact_from_verdict(v, s.closed_at);
  f.agent = agent_of(s.metadata);
  f.models = s.models;
  f.cost_usd = s.stats.cost_usd;
  f.session_duration = s.stats.session_duration;
  for (const auto& t : s.tool_calls) f.tools.push_back({t.name, t.ok, t.latency});
  for (const auto& c : s.llm_calls) f.llm_calls.push_back({c.model, c.ok, c.latency});
  return f;
}

alert_fact fact_from_verdict(const verdict& v, event_time closed_at) {
  alert_fact f;
  f.what = alert_fact::kind::verdict;
  f.at = closed_at;
  f.session_id = v.session_id;
  f.revision = v.revision;
  f.status = v.status;
  f.intent = v.intent.name;
  f.cost_usd = v.stats.cost_usd;
  f.session_duration = v.stats.session_duration;
  return f;
}

std::string encode_fact(const alert_fact& f) {
  std::string out;
  state::writer w(out);
  w.u8(fact_version);
  w.u8(static_cast<uint8_t>(f.what));
  w.svarint(f.at.micros());
  w.bytes(f.session_id);
  w.varint(f.revision);
  w.u8(static_cast<uint8_t>(f.status));
  w.bytes(f.intent);
  w.bytes(f.agent);
  w.varint(f.models.size());
  for (const auto& m : f.models) w.bytes(m);
  w.u8(f.cost_usd ? 1 : 0);
  if (f.cost_usd) w.f64(*f.cost_usd);
  w.svarint(f.session_duration.count());
  w.varint(f.tools.size());
  for (const auto& t : f.tools) {
    w.bytes(t.name);
    w.u8(t.ok ? 1 : 0);
    put_latency(w, t.latency);
  }
  w.varint(f.llm_calls.size());
  for (const auto& c : f.llm_calls) {
    w.bytes(c.model);
    w.u8(c.ok ? 1 : 0);
    put_latency(w, c.latency);
  }
  w.bytes(f.reason);
  return out;
}

std::optional<alert_fact> decode_fact(std::string_view bytes) {
  state::reader r(bytes);
  if (r.u8() != fact_version || !r.ok()) return std::nullopt;
  alert_fact f;
  const uint8_t kind = r.u8();
  if (!r.ok() || kind > static_cast<uint8_t>(alert_fact::kind::deadletter)) return std::nullopt;
  f.what = static_cast<alert_fact::kind>(kind);
  f.at = event_time::from_micros(r.svarint());
  f.session_id = std::string(r.bytes());
  const uint64_t revision = r.varint();
  if (revision > UINT32_MAX) return std::nullopt;
  f.revision = static_cast<uint32_t>(revision);
  const uint8_t status = r.u8();
  if (!r.ok() || status > static_cast<uint8_t>(verdict_status::abandoned)) return std::nullopt;
  f.status = static_cast<verdict_status>(status);
  f.intent = std::string(r.bytes());
  f.agent = std::string(r.bytes());
  const uint64_t models = r.varint();
  if (!plausible(r, models)) return std::nullopt;
  for (uint64_t i = 0; i < models; ++i) f.models.emplace_back(r.bytes());
  auto has_cost = get_flag(r);
  if (!has_cost) return std::nullopt;
  if (*has_cost) f.cost_usd = r.f64();
  f.session_duration = duration(r.svarint());
  const uint64_t tools = r.varint();
  if (!plausible(r, tools)) return std::nullopt;
  for (uint64_t i = 0; i < tools; ++i) {
    tool_sample t;
    t.name = std::string(r.bytes());
    auto ok = get_flag(r);
    if (!ok || !get_latency(r, t.latency)) return std::nullopt;
    t.ok = *ok;
    f.tools.push_back(std::move(t));
  }
  const uint64_t calls = r.varint();
  if (!plausible(r, calls)) return std::nullopt;
  for (uint64_t i = 0; i < calls; ++i) {
    llm_sample c;
    c.model = std::string(r.bytes());
    auto ok = get_flag(r);
    if (!ok || !get_latency(r, c.latency)) return std::nullopt;
    c.ok = *ok;
    f.llm_calls.push_back(std::move(c));
  }
  f.reason = std::string(r.bytes());
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return f;
}

}  // namespace tw::alerts
