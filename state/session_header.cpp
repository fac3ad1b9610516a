#include "state/session_header.hpp"

#include "state/codec.hpp"

namespace tw::state {
namespace {
constexpr uint8_t version = 3;
}

void encode_header(const session_header& h, std::string& out) {
  writer w(out);
  w.u8(version);
  w.u8(static_cast<uint8_t>((h.sealed ? 1 : 0) | (h.reemit ? 2 : 0) | (h.traces_elsewhere ? 4 : 0)));
  w.varint(h.revision);
  w.svarint(h.first_at.micros());
  w.svarint(h.last_at.micros());
  w.svarint(h.closed_at.micros());
  w.u8(static_cast<uint8_t>(h.last_reason));
  w.svarint(h.sealed_at.micros());
  w.svarint(h.timer_due.micros());
  w.varint(h.stored_events);
  w.varint(h.events_not_stored);
  w.varint(h.window.clusters().size());
  for (const auto& c : h.window.clusters()) {
    w.svarint(c.start.micros());
    w.svarint(c.end.micros());
  }
  w.varint(h.window.markers().size());
  for (auto m : h.window.markers()) w.svarint(m.micros());
  w.varint(h.seen.size());
  uint64_t last = 0;
  for (uint64_t f : h.seen) {
    w.varint(f - last);
    last = f;
  }
  w.fixed64_be(h.content_hash);
  w.varint(h.traces.size());
  for (const auto& t : h.traces) w.bytes(t);
}

std::optional<session_header> decode_header(std::string_view in) {
  reader r(in);
  const uint8_t v = r.u8();
  if (v < 1 || v > version) return std::nullopt;
  session_header h;
  uint8_t flags = r.u8();
  h.sealed = flags & 1;
  h.reemit = flags & 2;
  // Before version 3 every binding of the session's traces had its index entry.
  h.traces_elsewhere = v < 3 || (flags & 4);
  h.revision = static_cast<uint32_t>(r.varint());
  h.first_at = event_time::from_micros(r.svarint());
  h.last_at = event_time::from_micros(r.svarint());
  h.closed_at = event_time::from_micros(r.svarint());
  uint8_t reason = r.u8();
  if (reason > static_cast<uint8_t>(completion_reason::idle)) return std::nullopt;
  h.last_reason = static_cast<completion_reason>(reason);
  h.sealed_at = event_time::from_micros(r.svarint());
  h.timer_due = event_time::from_micros(r.svarint());
  h.stored_events = r.varint();
  h.events_not_stored = r.varint();
  uint64_t n = r.varint();
  if (n > session_window::max_clusters) return std::nullopt;
  std::vector<activity_cluster> clusters;
  for (uint64_t i = 0; i < n; ++i) {
    auto s = event_time::from_micros(r.svarint());
    auto e = event_time::from_micros(r.svarint());
    clusters.push_back({s, e});
  }
  uint64_t m = r.varint();
  if (m > session_window::max_markers) return std::nullopt;
  std::vector<event_time> markers;
  for (uint64_t i = 0; i < m; ++i) markers.push_back(event_time::from_micros(r.svarint()));
  if (v >= 2) {
    uint64_t k = r.varint();
    if (k > r.remaining()) return std::nullopt;  // each takes at least a byte
    h.seen.reserve(k);
    uint64_t last = 0;
    for (uint64_t i = 0; i < k; ++i) {
      uint64_t d = r.varint();
      if (i > 0 && d == 0) return std::nullopt;  // strictly ascending
      last += d;
      h.seen.push_back(last);
    }
    h.content_hash = r.fixed64_be();
  }
  if (v >= 3) {
    uint64_t t = r.varint();
    if (t > session_header::max_inline_traces) return std::nullopt;
    h.traces.reserve(t);
    for (uint64_t i = 0; i < t; ++i) h.traces.emplace_back(r.bytes());
  }
  if (!r.ok() || !r.at_end()) return std::nullopt;
  h.window.restore(std::move(clusters), std::move(markers));
  return h;
}

}  // namespace tw::state
