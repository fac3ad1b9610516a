#include "alerts/alert_state_codec.hpp"

#include "state/codec.hpp"

namespace tw::alerts::detail {

namespace {

constexpr uint8_t state_version = 1;

void put_time(state::writer& w, event_time t) { w.svarint(t.micros()); }
event_time get_time(state::reader& r) { return event_time::from_micros(r.svarint()); }

std::optional<bool> get_flag(state::reader& r) {
  const uint8_t b = r.u8();
  if (!r.ok() || b > 1) return std::nullopt;
  return b == 1;
}

// A count of items that each take at least one byte cannot exceed the bytes left.
bool plausible(const state::reader& r, uint64_t n) { return r.ok() && n <= r.remaining(); }

void put_event(state::writer& w, const alert_event& e) {
  w.bytes(e.alert_id);
  w.bytes(e.rule);
  w.u8(static_cast<uint8_t>(e.state));
  w.u8(static_cast<uint8_t>(e.level));
  w.varint(e.labels.size());
  for (const auto& [k, v] : e.labels) {
    w.bytes(k);
    w.bytes(v);
  }
  w.f64(e.value);
  w.f64(e.threshold);
  put_time(w, e.at);
  put_time(w, e.started_at);
  w.varint(e.samples);
  w.varint(e.repeat);
  w.varint(e.examples.size());
  for (const auto& x : e.examples) w.bytes(x);
  w.bytes(e.summary);
  w.u8(e.baseline ? 1 : 0);
  if (e.baseline) w.f64(*e.baseline);
}

std::optional<alert_event> get_event(state::reader& r) {
  alert_event e;
  e.alert_id = std::string(r.bytes());
  e.rule = std::string(r.bytes());
  const uint8_t st = r.u8();
  const uint8_t sev = r.u8();
  if (!r.ok() || st > 1 || sev > static_cast<uint8_t>(severity::critical)) return std::nullopt;
  e.state = static_cast<alert_state>(st);
  e.level = static_cast<severity>(sev);
  const uint64_t labels = r.varint();
  if (!plausible(r, labels)) return std::nullopt;
  for (uint64_t i = 0; i < labels; ++i) {
    std::string k(r.bytes());
    e.labels.emplace_back(std::move(k), std::string(r.bytes()));
  }
  e.value = r.f64();
  e.threshold = r.f64();
  e.at = get_time(r);
  e.started_at = get_time(r);
  e.samples = r.varint();
  const uint64_t repeat = r.varint();
  if (repeat > UINT32_MAX) return std::nullopt;
  e.repeat = static_cast<uint32_t>(repeat);
  const uint64_t examples = r.varint();
  if (!plausible(r, examples)) return std::nullopt;
  for (uint64_t i = 0; i < examples; ++i) e.examples.emplace_back(r.bytes());
  e.summary = std::string(r.bytes());
  auto has_baseline = get_flag(r);
  if (!has_baseline) return std::nullopt;
  if (*has_baseline) e.baseline = r.f64();
  if (!r.ok()) return std::nullopt;
  return e;
}

}  // namespace

std::string engine_key() { return "e"; }

std::string group_entry_key(std::string_view rule, const group_key& labels) {
  std::string out = "g";
  state::writer w(out);
  w.bytes(rule);
  w.varint(labels.size());
  for (const auto& l : labels) w.bytes(l);
  return out;
}

bool parse_group_key(std::string_view key, std::string& rule, group_key& labels) {
  if (key.empty() || key[0] != 'g') return false;
  state::reader r(key.substr(1));
  rule = std::string(r.bytes());
  const uint64_t n = r.varint();
  if (!plausible(r, n)) return false;
  labels.clear();
  for (uint64_t i = 0; i < n; ++i) labels.emplace_back(r.bytes());
  return r.ok() && r.at_end();
}

std::string encode_engine(const engine_entry& e) {
  std::string out;
  state::writer w(out);
  w.u8(state_version);
  put_time(w, e.clock);
  w.u8(e.seen_fact ? 1 : 0);
  w.varint(e.evaluated_to.size());
  for (const auto& [name, t] : e.evaluated_to) {
    w.bytes(name);
    put_time(w, t);
  }
  return out;
}

std::optional<engine_entry> decode_engine(std::string_view bytes) {
  state::reader r(bytes);
  if (r.u8() != state_version || !r.ok()) return std::nullopt;
  engine_entry e;
  e.clock = get_time(r);
  auto seen = get_flag(r);
  if (!seen) return std::nullopt;
  e.seen_fact = *seen;
  const uint64_t n = r.varint();
  if (!plausible(r, n)) return std::nullopt;
  for (uint64_t i = 0; i < n; ++i) {
    std::string name(r.bytes());
    e.evaluated_to.emplace_back(std::move(name), get_time(r));
  }
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return e;
}

std::string encode_group(const group_state& g) {
  std::string out;
  state::writer w(out);
  w.u8(state_version);
  put_time(w, g.next);
  w.varint(g.buckets.size());
  for (const auto& [index, b] : g.buckets) {
    w.svarint(index);
    w.varint(b.hits);
    w.varint(b.total);
    w.svarint(b.cost_nano);
    w.varint(b.latency.size());
    for (const auto& [li, n] : b.latency) {
      w.varint(li);
      w.varint(n);
    }
    w.varint(b.examples.size());
    for (const auto& x : b.examples) {
      w.svarint(x.score);
      w.svarint(x.at);
      w.bytes(x.session_id);
    }
  }
  w.varint(g.levels.size());
  for (const auto& l : g.levels) {
    w.u8(static_cast<uint8_t>(l.now));
    put_time(w, l.since);
    w.u8(l.false_since ? 1 : 0);
    if (l.false_since) put_time(w, *l.false_since);
    w.u8(l.notified ? 1 : 0);
    put_time(w, l.started_at);
    put_time(w, l.last_notified);
    w.varint(l.repeat);
    w.u8(l.last ? 1 : 0);
    if (l.last) put_event(w, *l.last);
  }
  return out;
}

std::optional<group_state> decode_group(std::string_view bytes) {
  state::reader r(bytes);
  if (r.u8() != state_version || !r.ok()) return std::nullopt;
  group_state g;
  g.next = get_time(r);
  const uint64_t buckets = r.varint();
  if (!plausible(r, buckets)) return std::nullopt;
  for (uint64_t i = 0; i < buckets; ++i) {
    const int64_t index = r.svarint();
    bucket b;
    b.hits = r.varint();
    b.total = r.varint();
    b.cost_nano = r.svarint();
    const uint64_t lat = r.varint();
    if (!plausible(r, lat)) return std::nullopt;
    for (uint64_t j = 0; j < lat; ++j) {
      const uint64_t li = r.varint();
      if (li > UINT32_MAX) return std::nullopt;
      b.latency[static_cast<uint32_t>(li)] = r.varint();
    }
    const uint64_t examples = r.varint();
    if (!plausible(r, examples)) return std::nullopt;
    for (uint64_t j = 0; j < examples; ++j) {
      example_key x;
      x.score = r.svarint();
      x.at = r.svarint();
      x.session_id = std::string(r.bytes());
      b.examples.push_back(std::move(x));
    }
    if (!r.ok()) return std::nullopt;
    g.buckets.emplace(index, std::move(b));
  }
  const uint64_t levels = r.varint();
  if (!plausible(r, levels)) return std::nullopt;
  for (uint64_t i = 0; i < levels; ++i) {
    level_state l;
    const uint8_t phase = r.u8();
    if (!r.ok() || phase > static_cast<uint8_t>(level_state::phase::firing)) return std::nullopt;
    l.now = static_cast<level_state::phase>(phase);
    l.since = get_time(r);
    auto has_false = get_flag(r);
    if (!has_false) return std::nullopt;
    if (*has_false) l.false_since = get_time(r);
    auto notified = get_flag(r);
    if (!notified) return std::nullopt;
    l.notified = *notified;
    l.started_at = get_time(r);
    l.last_notified = get_time(r);
    const uint64_t repeat = r.varint();
    if (repeat > UINT32_MAX) return std::nullopt;
    l.repeat = static_cast<uint32_t>(repeat);
    auto has_last = get_flag(r);
    if (!has_last) return std::nullopt;
    if (*has_last) {
      auto last = get_event(r);
      if (!last) return std::nullopt;
      l.last = std::make_shared<const alert_event>(std::move(*last));
    }
    g.levels.push_back(std::move(l));
  }
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return g;
}

}  // namespace tw::alerts::detail
