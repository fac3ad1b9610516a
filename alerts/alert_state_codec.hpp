// The engine's state and its durable form (alert_engine::take_changes / restore).
//
// key   := 'e'                                              the engine entry (one)
//        | 'g' rule:bytes labels:varint(n) bytes*n          one (rule, group) entry
// engine := version:u8(=1) clock:svarint seen_fact:u8 rules:varint(n) (name:bytes evaluated_to:svarint)*n
// group  := version:u8(=1) next:svarint buckets:varint(n) bucket*n levels:varint(n) level*n
// bucket := index:svarint hits:varint total:varint cost_nano:svarint
//           latency:varint(n) (index:varint calls:varint)*n examples:varint(n) example*n
// example := score:svarint at:svarint session_id:bytes
// level  := phase:u8 since:svarint false_since:(u8 0 | u8 1 svarint) notified:u8 started_at:svarint
//           last_notified:svarint repeat:varint last:(u8 0 | u8 1 event)
// event  := alert_id:bytes rule:bytes state:u8 severity:u8 labels:varint(n) (bytes bytes)*n value:f64
//           threshold:f64 at:svarint started_at:svarint samples:varint repeat:varint
//           examples:varint(n) bytes*n summary:bytes baseline:(u8 0 | u8 1 f64)
// Times are microseconds since the epoch; the primitives are those of state/codec.hpp. The keys
// are length-prefixed, so no two (rule, labels) share a key and 'e' is never a group's. These
// values are on disk: never change version 1; a new layout takes a new version byte.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alerts/alert_window.hpp"
#include "alerts/alerts.hpp"

namespace tw::alerts::detail {

// One alert (rule, group, level): inactive -> pending -> firing -> (resolved) inactive.
struct level_state {
  enum class phase : uint8_t { inactive = 0, pending = 1, firing = 2 };
  phase now = phase::inactive;
  event_time since;                       // the first instant of the current run of "true"
  std::optional<event_time> false_since;  // firing: the first instant it no longer held
  bool notified = false;                  // firing: a firing event was emitted in this episode
  event_time started_at;                  // the instant the episode's first firing was emitted
  event_time last_notified;               // the last firing emitted (or repeat suppressed)
  uint32_t repeat = 0;
  // The last firing event emitted, for firing(); held apart, so that a level is a cache line or
  // two (every visit reads it) rather than the size of an event.
  std::shared_ptr<const alert_event> last;
  // Whether it is as new (drop() then need not write it).
  bool pristine() const {
    return now == phase::inactive && !notified && repeat == 0 && !last && !false_since && since == event_time() &&
           started_at == event_time() && last_notified == event_time();
  }
};

struct group_state {
  bucket_list buckets;  // bucket index (time / every) -> contents
  std::vector<level_state> levels;    // one per level of the rule
  event_time next = event_time::max();  // the next instant this group needs a decision
  // Not encoded: the engine's bookkeeping.
  bool dirty = false;        // changed since take_changes
  std::array<bool, max_levels> holds{};  // per level, the condition at the last visit
  uint32_t scheduled = 0;    // entries of the rule's calendar naming this group (some stale)
  bool due = false;          // collected for the instant being evaluated
  bool dormant = false;      // its last visit was starved and every level is inactive (drop_instant)
  bool dropped = false;      // nothing left to decide: gone, its node kept for reuse
  bool delete_pending = false;  // in rule_state::dropped: its deletion is not handed over yet
  bool stored = false;       // its entry is in the durable state (written or restored): only then
                             // does dropping it hand over a deletion
};

using group_key = std::vector<std::string>;  // label values in the rule's group_by order

struct group_key_hash {
  size_t operator()(const group_key& k) const {
    size_t h = k.size();
    for (const auto& v : k) h = h * 1000003u ^ std::hash<std::string>{}(v);
    return h;
  }
};
// Unordered: the engine sorts what it emits (visits, firing()) by label values itself.
using group_map = std::unordered_map<group_key, group_state, group_key_hash>;
using group_entry = group_map::value_type;  // stays put while the map grows

struct rule_state {
  group_map groups;  // includes dropped groups still named by the calendar (not encoded)
  size_t live = 0;   // groups not dropped
  size_t sweep_above = 0;  // dropped nodes kept before the next sweep (not encoded)
  event_time evaluated_to = event_time::min();  // the last instant evaluated (or skipped as a no-op)
  // Not encoded. The instants at which groups are due, each with the groups due then: a group is
  // named at its `next`, and maybe at later instants it was due at before a fact made it due sooner
  // (stale: skipped when taken), so that moving a group sooner never searches the calendar. Groups
  // share few instants (multiples of `every`), so a slot per instant costs less than a heap entry
  // per group; the lists of slots taken are kept for the next slots (spare_slots).
  std::map<event_time, std::vector<group_entry*>> calendar;
  std::vector<std::vector<group_entry*>> spare_slots;
  // Since take_changes (not encoded): whether a group is dirty, and the groups dropped (their
  // nodes stay until then).
  bool any_dirty = false;
  std::vector<group_entry*> dropped;

  event_time next() const { return calendar.empty() ? event_time::max() : calendar.begin()->first; }
};

std::string engine_key();
std::string group_entry_key(std::string_view rule, const group_key& labels);
// Splits a group entry key; false when it is not one.
bool parse_group_key(std::string_view key, std::string& rule, group_key& labels);

struct engine_entry {
  event_time clock;
  bool seen_fact = false;
  std::vector<std::pair<std::string, event_time>> evaluated_to;  // per rule name
};
std::string encode_engine(const engine_entry& e);
std::optional<engine_entry> decode_engine(std::string_view bytes);

std::string encode_group(const group_state& g);
std::optional<group_state> decode_group(std::string_view bytes);

}  // namespace tw::alerts::detail
