// What travels through the judge queue and the alert queue besides completed sessions.
//
// The alert stage's clock is the watermark of its input (docs/alerts.md). Its input is what the
// judge stage writes, in the order of the judge queue — and the judge queue is in the order the
// state stage committed. So the state stage puts its watermark into the judge queue after each
// commit that moved it (a *mark*), and a note for each dead letter; the judge stage passes both
// on, in order, after the verdicts of every session queued before them. When the alert stage
// reads a mark W, every session whose window closed before W has been judged and its fact read.
//
//   judge queue item := session JSON ('{' ...)            a completed session (tracewatch.session.v1)
//                     | u8(1) svarint(W us)                a mark: the state stage's watermark
//                     | u8(2) svarint(at us) bytes(reason) a dead letter, at the watermark of its batch
//   alert queue item  := u8(1) svarint(W us)               a mark, passed on
//                     | u8(3) bytes(encode_fact(...))      an alert fact (alerts/alerts.hpp)
//
// A session's JSON never starts with those bytes, so queues written before alerts existed read
// unchanged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/time.hpp"
#include "state/codec.hpp"

namespace tw::state {

enum class queue_item_kind : uint8_t { session = 0, mark = 1, deadletter = 2, fact = 3, unknown = 255 };

inline queue_item_kind kind_of(std::string_view payload) {
  if (payload.empty()) return queue_item_kind::unknown;
  switch (static_cast<uint8_t>(payload[0])) {
    case 1: return queue_item_kind::mark;
    case 2: return queue_item_kind::deadletter;
    case 3: return queue_item_kind::fact;
    case '{': return queue_item_kind::session;
    default: return queue_item_kind::unknown;
  }
}

inline std::string encode_mark(event_time w) {
  std::string out;
  writer wr(out);
  wr.u8(static_cast<uint8_t>(queue_item_kind::mark));
  wr.svarint(w.micros());
  return out;
}

inline std::optional<event_time> decode_mark(std::string_view payload) {
  reader r(payload);
  if (r.u8() != static_cast<uint8_t>(queue_item_kind::mark)) return std::nullopt;
  auto w = r.svarint();
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return event_time::from_micros(w);
}

struct deadletter_note {
  event_time at;
  std::string reason;
};

inline std::string encode_deadletter_note(const deadletter_note& n) {
  std::string out;
  writer wr(out);
  wr.u8(static_cast<uint8_t>(queue_item_kind::deadletter));
  wr.svarint(n.at.micros());
  wr.bytes(n.reason);
  return out;
}

inline std::optional<deadletter_note> decode_deadletter_note(std::string_view payload) {
  reader r(payload);
  if (r.u8() != static_cast<uint8_t>(queue_item_kind::deadletter)) return std::nullopt;
  deadletter_note n;
  n.at = event_time::from_micros(r.svarint());
  n.reason = std::string(r.bytes());
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return n;
}

// An alert fact's bytes (alerts::encode_fact) as an alert queue item.
inline std::string wrap_fact(std::string_view fact_bytes) {
  std::string out;
  out.reserve(fact_bytes.size() + 1);
  out.push_back(static_cast<char>(queue_item_kind::fact));
  out.append(fact_bytes);
  return out;
}
inline std::string_view unwrap_fact(std::string_view payload) { return payload.substr(1); }

}  // namespace tw::state
