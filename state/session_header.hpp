// Per-session bookkeeping kept in the `sessions` column family: everything needed to decide when
// the session completes, without reading its events. Small and bounded (session_window bounds).
//
// value := u8(version = 2) u8(flags) varint(revision) svarint(first_at) svarint(last_at)
//          svarint(closed_at) u8(last_reason) svarint(sealed_at) svarint(timer_due)
//          varint(stored_events) varint(events_not_stored)
//          varint(n) (svarint(start) svarint(end))^n      -- open-segment clusters
//          varint(m) svarint(marker)^m                     -- open-segment end markers
//          varint(k) varint(delta)^k                       -- event-id fingerprints, ascending,
//                                                             each as the difference to the last
//          fixed64(content_hash)                           -- of the last emitted revision
//          varint(t) bytes(trace_id)^t                     -- traces bound to it (version 3)
// Version 1 is the same without the last two parts (read as: nothing seen, nothing emitted);
// version 2 without the traces (read as: its traces are in `session_traces`).
// flags: bit 0 sealed, bit 1 reemit pending, bit 2 traces elsewhere. On disk: never reorder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/session.hpp"
#include "state/session_window.hpp"

namespace tw::state {

struct session_header {
  uint32_t revision = 0;           // revisions emitted so far
  event_time first_at = event_time::max();
  event_time last_at = event_time::min();
  event_time closed_at = event_time::min();  // cutoff of the last emitted revision
  completion_reason last_reason = completion_reason::gap;
  bool sealed = false;             // past the grace period: events deleted, late events refused
  bool reemit = false;             // a late event changed an emitted revision: emit again
  event_time sealed_at = event_time::min();
  event_time timer_due = event_time::max();  // where its entry in `timers` is (max: none)
  uint64_t stored_events = 0;
  uint64_t events_not_stored = 0;  // over session.max_events
  session_window window;           // activity after closed_at
  // stable_hash of the event id of every stored event, ascending: a producer retry is recognised
  // and changes nothing, for the session's life and its grace period (cleared when sealed).
  // Bounded by session.max_events.
  std::vector<uint64_t> seen;
  // session_content_hash of the last emitted revision (0: none): a re-emission whose content would
  // be the same apart from its revision number is not emitted.
  uint64_t content_hash = 0;
  // The traces bound to this session (cf::traces), so that forgetting the session deletes their
  // bindings without an index entry per trace: at most max_inline_traces; past that, and for a
  // header written before version 3, the rest are in cf::session_traces (traces_elsewhere).
  static constexpr size_t max_inline_traces = 64;
  std::vector<std::string> traces;
  bool traces_elsewhere = false;

  bool emitted() const { return revision > 0; }
};

void encode_header(const session_header& h, std::string& out);
std::optional<session_header> decode_header(std::string_view in);

}  // namespace tw::state
