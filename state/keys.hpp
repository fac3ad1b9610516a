// Key grammars of the column families (store.hpp lists them all). Prefixes carry a length so
// that a prefix scan of one session or trace can never run into another whose id extends it.
#pragma once

#include <string>
#include <string_view>

#include "model/kafka.hpp"
#include "model/time.hpp"
#include "state/codec.hpp"

namespace tw::state::keys {

inline std::string prefixed(std::string_view id) {
  std::string k;
  writer(k).bytes(id);
  return k;
}

inline std::string event_chunk(std::string_view session_id, uint64_t chunk) {
  std::string k = prefixed(session_id);
  writer(k).fixed64_be(chunk);
  return k;
}

inline std::string pending_trace(std::string_view trace_id) {
  std::string k = prefixed(trace_id);
  k.push_back('\x00');
  return k;
}
inline std::string pending_events_prefix(std::string_view trace_id) {
  std::string k = prefixed(trace_id);
  k.push_back('\x01');
  return k;
}
inline std::string pending_chunk(std::string_view trace_id, uint64_t chunk) {
  std::string k = pending_events_prefix(trace_id);
  writer(k).fixed64_be(chunk);
  return k;
}

inline std::string session_trace(std::string_view session_id, std::string_view trace_id) {
  std::string k = prefixed(session_id);
  k.append(trace_id);
  return k;
}

// Timer kinds: on disk, never reuse.
enum class timer_kind : char { session = 's', pending_trace = 'p' };

inline std::string timer(event_time due, timer_kind kind, std::string_view id) {
  std::string k;
  writer w(k);
  w.fixed64_be(sortable_time(due.micros()));
  k.push_back(static_cast<char>(kind));
  k.append(id);
  return k;
}
inline std::string timer_bound(event_time due) {
  std::string k;
  writer(k).fixed64_be(sortable_time(due.micros()));
  return k;
}

inline std::string offset(const topic_partition& tp) {
  std::string k = prefixed(tp.topic);
  writer(k).fixed32_be(static_cast<uint32_t>(tp.partition.value));
  return k;
}

// The smallest key greater than every key starting with `prefix`.
inline std::string successor(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char c = static_cast<unsigned char>(prefix.back());
    if (c != 0xFF) {
      prefix.back() = static_cast<char>(c + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;  // empty: no upper bound
}

}  // namespace tw::state::keys
