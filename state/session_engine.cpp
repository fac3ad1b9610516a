#include "state/session_engine.hpp"

#include <algorithm>
#include <random>

#include "model/text.hpp"
#include "state/codec.hpp"
#include "state/event_codec.hpp"
#include "state/outbox.hpp"
#include "state/keys.hpp"
#include "state/queue_items.hpp"
#include "topics/contracts/deadletter_json.hpp"
#include "topics/contracts/observation_json.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/watermark_json.hpp"

namespace tw::state {
namespace {

// meta column family keys and values (on disk):
//   "watermark"   := svarint(processor watermark, us)
//   "chunk_next"  := varint(next chunk number)
//   "state_id"    := bytes: 32 hex digits, chosen when the directory is first opened; never changes
//   "decisions"   := varint(watermark decisions recorded so far)
//   "open_sessions" := varint(sessions open, as is_open() says)      } gauges for /metrics, kept with
//   "held_events"   := varint(events held in `pending`)              } the state they count; absent in
//                                                                      a directory from before them:
//                                                                      counted once at open()
constexpr const char* meta_watermark = "watermark";
constexpr const char* meta_chunk_next = "chunk_next";
constexpr const char* meta_state_id = "state_id";
constexpr const char* meta_decisions = "decisions";
constexpr const char* meta_open_sessions = "open_sessions";
constexpr const char* meta_held_events = "held_events";

// A session is open while it has activity not yet emitted, or an emitted revision to emit again.
bool is_open(const session_header& h) { return !h.sealed && (!h.window.empty() || h.reemit); }

// A header with more fingerprints than this is not cached (it is read from RocksDB instead): the
// cache holds state.cache_sessions headers, and this keeps each of them small.
constexpr size_t max_cached_fingerprints = 256;

std::string new_state_id() {
  std::random_device rd;
  static constexpr char hex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 8; ++i) {
    uint32_t v = rd();
    for (int j = 0; j < 4; ++j) {
      id.push_back(hex[(v >> (j * 8 + 4)) & 15]);
      id.push_back(hex[(v >> (j * 8)) & 15]);
    }
  }
  return id;
}

// offsets value := u8(version = 1) svarint(next offset) u8(has max) [svarint(max event time)]
std::string encode_progress(offset next, std::optional<event_time> max_event) {
  std::string out;
  writer w(out);
  w.u8(1);
  w.svarint(next.value);
  w.u8(max_event ? 1 : 0);
  if (max_event) w.svarint(max_event->micros());
  return out;
}

// pending trace value := u8(version = 1) svarint(due) svarint(persisted due) varint(count)
std::string encode_pending(event_time due, event_time persisted_due, uint64_t count) {
  std::string out;
  writer w(out);
  w.u8(1);
  w.svarint(due.micros());
  w.svarint(persisted_due.micros());
  w.varint(count);
  return out;
}

std::string_view sv(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// event_chunk := u8(version = 1) varint(n) bytes(event)^n        (event: event_codec)
// held_chunk  := u8(version = 1) varint(n) (bytes(topic) svarint(partition) svarint(offset) bytes(event))^n
// A held event keeps the position of the message it came in, so that if it is dead-lettered later
// (long after that message was committed) the dead letter still says where it came from.
std::string encode_event_chunk(const std::vector<observation>& events) {
  std::string out, one;
  writer w(out);
  w.u8(1);
  w.varint(events.size());
  for (const auto& o : events) {
    one.clear();
    encode_event(o, one);
    w.bytes(one);
  }
  return out;
}

bool decode_event_chunk(std::string_view value, std::vector<observation>& out) {
  reader r(value);
  if (r.u8() != 1) return false;
  uint64_t n = r.varint();
  if (n > r.remaining()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    auto o = decode_event(r.bytes());
    if (!o || !r.ok()) return false;
    out.push_back(std::move(*o));
  }
  return r.ok() && r.at_end();
}

template <class Held>
std::string encode_held_chunk(const std::vector<Held>& held) {
  std::string out, one;
  writer w(out);
  w.u8(1);
  w.varint(held.size());
  for (const auto& h : held) {
    w.bytes(h.from.tp.topic);
    w.svarint(h.from.tp.partition.value);
    w.svarint(h.from.off.value);
    one.clear();
    encode_event(h.o, one);
    w.bytes(one);
  }
  return out;
}

template <class Held>
bool decode_held_chunk(std::string_view value, std::vector<Held>& out) {
  reader r(value);
  if (r.u8() != 1) return false;
  uint64_t n = r.varint();
  if (n > r.remaining()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    Held h;
    h.from.tp.topic = std::string(r.bytes());
    h.from.tp.partition = partition_id{static_cast<int32_t>(r.svarint())};
    h.from.off = offset{r.svarint()};
    auto o = decode_event(r.bytes());
    if (!o || !r.ok()) return false;
    h.o = std::move(*o);
    out.push_back(std::move(h));
  }
  return r.ok() && r.at_end();
}

}  // namespace

session_engine::session_engine(store& s, engine_config cfg, engine_probe& probe)
    : store_(s),
      cfg_(std::move(cfg)),
      probe_(probe),
      tracker_(cfg_.max_out_of_orderness),
      header_cache_(cfg_.header_cache_entries),
      trace_cache_(cfg_.trace_cache_entries),
      outbox_(s, outbox_lane::sessions),
      judge_queue_(s, mailbox_lane::judge) {
  if (cfg_.results_retention.count() > 0) results_sweeper_.emplace(s, cfg_.results_retention);
}

session_engine::~session_engine() = default;

store_status session_engine::open(wall_time now) {
  auto* db = store_.db();
  std::string value;
  auto s = db->Get(rocksdb::ReadOptions(), store_.handle(cf::meta), meta_watermark, &value);
  if (s.ok()) {
    reader r(value);
    int64_t wm = r.svarint();
    if (!r.ok()) return store_status::corrupt("meta watermark");
    tracker_.restore_floor(event_time::from_micros(wm));
    marked_ = event_time::from_micros(wm);  // the mark of that commit, if any, is in the queue
  } else if (!s.IsNotFound()) {
    return store_status::from(s, "reading the stored watermark");
  }
  s = db->Get(rocksdb::ReadOptions(), store_.handle(cf::meta), meta_chunk_next, &value);
  if (s.ok()) {
    reader r(value);
    chunk_next_ = r.varint();
    if (!r.ok()) return store_status::corrupt("meta chunk_next");
  } else if (!s.IsNotFound()) {
    return store_status::from(s, "reading the chunk number");
  }
  s = db->Get(rocksdb::ReadOptions(), store_.handle(cf::meta), meta_state_id, &value);
  if (s.ok()) {
    state_id_ = value;
  } else if (s.IsNotFound()) {
    // A new directory starts a new history of watermark decisions.
    state_id_ = new_state_id();
    s = db->Put(store_.write_options(), store_.handle(cf::meta), meta_state_id, state_id_);
    if (!s.ok()) return store_status::from(s, "writing the state id");
  } else {
    return store_status::from(s, "reading the state id");
  }
  s = db->Get(rocksdb::ReadOptions(), store_.handle(cf::meta), meta_decisions, &value);
  if (s.ok()) {
    reader r(value);
    decisions_ = r.varint();
    if (!r.ok()) return store_status::corrupt("meta decisions");
  } else if (!s.IsNotFound()) {
    return store_status::from(s, "reading the decision count");
  }
  if (auto st = load_gauges(); !st.ok()) return st;
  if (auto st = outbox_.open(); !st.ok()) return st;
  if (auto st = judge_queue_.open(); !st.ok()) return st;
  probe_.outbox_end = outbox_.next();

  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), store_.handle(cf::offsets)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    reader kr(sv(it->key()));
    std::string topic(kr.bytes());
    int32_t partition = static_cast<int32_t>(kr.fixed32_be());
    reader vr(sv(it->value()));
    if (vr.u8() != 1) return store_status::corrupt("offsets entry for " + topic);
    progress p;
    p.next = offset{vr.svarint()};
    if (vr.u8()) p.max_event = event_time::from_micros(vr.svarint());
    if (!kr.ok() || !vr.ok()) return store_status::corrupt("offsets entry for " + topic);
    progress_[topic_partition{topic, partition_id{partition}}] = p;
  }
  if (!it->status().ok()) return store_status::from(it->status(), "reading stored offsets");
  // Which traces have held events: a binding then knows without a lookup whether it releases any.
  std::unique_ptr<rocksdb::Iterator> pit(db->NewIterator(rocksdb::ReadOptions(), store_.handle(cf::pending)));
  for (pit->SeekToFirst(); pit->Valid(); pit->Next()) {
    reader kr(sv(pit->key()));
    std::string trace(kr.bytes());
    if (!kr.ok()) return store_status::corrupt("pending key");
    if (kr.u8() == 0x00 && kr.at_end()) pending_traces_.insert(std::move(trace));
  }
  if (!pit->status().ok()) return store_status::from(pit->status(), "reading pending traces");
  (void)now;
  probe_.watermark_us = tracker_.current().micros();
  // Persisted timers at or before the restored watermark (there should be none) are handled by
  // the first scan: it starts from the beginning of time.
  scanned_until_ = event_time::min();
  next_persisted_due_ = event_time::min();
  probe_.opened = true;
  return {};
}

store_status session_engine::load_gauges() {
  auto* db = store_.db();
  std::string open_value, held_value;
  auto so = db->Get(rocksdb::ReadOptions(), store_.handle(cf::meta), meta_open_sessions, &open_value);
  auto sh = db->Get(rocksdb::ReadOptions(), store_.handle(cf::meta), meta_held_events, &held_value);
  if (so.ok() && sh.ok()) {
    reader ro(open_value), rh(held_value);
    open_sessions_ = ro.varint();
    held_events_ = rh.varint();
    if (!ro.ok() || !rh.ok()) return store_status::corrupt("meta gauges");
  } else if (!so.ok() && !so.IsNotFound()) {
    return store_status::from(so, "reading the open session count");
  } else if (!sh.ok() && !sh.IsNotFound()) {
    return store_status::from(sh, "reading the held event count");
  } else {
    // A directory from before the gauges were kept: count once; the next commit stores them.
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), store_.handle(cf::sessions)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto h = decode_header(sv(it->value()));
      if (!h) return store_status::corrupt("session header");
      open_sessions_ += is_open(*h);
    }
    if (!it->status().ok()) return store_status::from(it->status(), "counting open sessions");
    std::unique_ptr<rocksdb::Iterator> pit(db->NewIterator(rocksdb::ReadOptions(), store_.handle(cf::pending)));
    for (pit->SeekToFirst(); pit->Valid(); pit->Next()) {
      reader kr(sv(pit->key()));
      kr.bytes();
      if (!kr.ok() || kr.u8() != 0x00 || !kr.at_end()) continue;  // a held chunk, not a trace's header
      reader vr(sv(pit->value()));
      if (vr.u8() != 1) return store_status::corrupt("pending trace");
      vr.svarint();
      vr.svarint();
      held_events_ += vr.varint();
      if (!vr.ok()) return store_status::corrupt("pending trace");
    }
    if (!pit->status().ok()) return store_status::from(pit->status(), "counting held events");
  }
  probe_.open_sessions = open_sessions_;
  probe_.pending_events = held_events_;
  return {};
}

std::vector<partition_position> session_engine::partition_positions() const {
  std::vector<partition_position> out;
  for (const auto& tp : tracker_.partitions()) {
    partition_position p;
    p.tp = tp;
    if (auto it = progress_.find(tp); it != progress_.end()) p.next = it->second.next;
    if (auto max_event = tracker_.max_event_time(tp)) p.watermark = *max_event - cfg_.max_out_of_orderness;
    p.idle = tracker_.is_idle(tp);
    out.push_back(std::move(p));
  }
  return out;
}

store_status session_engine::assign(const std::vector<topic_partition>& tps, wall_time now,
                                    std::vector<std::pair<topic_partition, std::optional<offset>>>& resume_at) {
  resume_at.clear();
  std::vector<std::pair<topic_partition, std::optional<event_time>>> joining;
  for (const auto& tp : tps) {
    auto it = progress_.find(tp);
    std::optional<event_time> max_event;
    std::optional<offset> next;
    if (it != progress_.end()) {
      max_event = it->second.max_event;
      next = it->second.next;
    }
    joining.emplace_back(tp, max_event);
    resume_at.emplace_back(tp, next);
  }
  tracker_.assign(joining, now);
  if (cfg_.watermarks_topic.empty()) return {};
  // No partition is idle any more: a replay must know from where on.
  begin_batch();
  wall_now_ = now;
  record_decision(watermark_decision::assign, now);
  return commit();
}

void session_engine::revoke(const std::vector<topic_partition>& tps, wall_time now) {
  for (const auto& tp : tps) tracker_.revoke(tp, now);
}

store_status session_engine::finish_partition(const topic_partition& tp, wall_time now) {
  event_time before = tracker_.current();
  tracker_.finish(tp);
  if (tracker_.current() == before) return {};
  begin_batch();
  wall_now_ = now;
  if (auto st = fire_due(); !st.ok()) return st;
  return commit();
}

void session_engine::record_decision(watermark_decision d, wall_time now) {
  if (cfg_.watermarks_topic.empty()) return;
  watermark_record r;
  r.group = cfg_.group_id;
  r.state_id = state_id_;
  r.seq = ++decisions_;
  r.decision = d;
  r.watermark = tracker_.current();
  r.alert_clock = alert_clock_;
  r.idle = tracker_.idle_partitions();
  // Away partitions too: they hold the watermark, so a replay must hold them at the same place.
  for (const auto& tp : tracker_.known_partitions()) {
    auto it = progress_.find(tp);
    // Nothing consumed from it yet: everything it holds comes after the decision.
    r.positions.emplace_back(tp, it == progress_.end() ? offset{0} : it->second.next);
  }
  r.recorded_at = now;
  outbox_.put(batch_, cfg_.watermarks_topic, watermark_record_key(r), encode_watermark_json(r));
  ++probe_.watermark_decisions;
}

std::optional<offset> session_engine::stored_offset(const topic_partition& tp) const {
  auto it = progress_.find(tp);
  if (it == progress_.end()) return std::nullopt;
  return it->second.next;
}

std::map<topic_partition, offset> session_engine::committed_positions() const {
  std::map<topic_partition, offset> out;
  for (const auto& [tp, p] : progress_) out.emplace(tp, p.next);
  return out;
}

// --- batch lifecycle ---

void session_engine::begin_batch() {
  batch_.Clear();
  sessions_.clear();
  pending_.clear();
  due_index_.clear();
  new_events_.clear();
  new_held_.clear();
  events_cleared_.clear();
  held_cleared_.clear();
  new_bindings_.clear();
  new_session_traces_.clear();
  touched_.clear();
  judge_items_.clear();
  results_in_batch_.clear();
}

store_status session_engine::apply(std::vector<consumed_record>& records, wall_time now) {
  begin_batch();
  wall_now_ = now;
  for (auto& rec : records) {
    const topic_partition& tp = rec.position.tp;
    if (auto it = progress_.find(tp); it != progress_.end() && rec.position.off < it->second.next) {
      // Applied already and committed with its offset (a redelivery, e.g. of records consumed
      // before a rebalance moved the consumer back to the stored offset): applying it again
      // would count it twice.
      ++probe_.records_skipped;
      continue;
    }
    ++probe_.records;
    // Data on an idle partition wakes every idle partition: recorded before the record, at the
    // positions before it, which is where a replay must take the same decision.
    if (tracker_.wake(tp, now)) record_decision(watermark_decision::wake, now);
    for (const auto& r : rec.rejected) dead_letter(r, rec.position, rec.key);
    std::optional<event_time> newest;
    for (auto& o : rec.observations) {
      ++probe_.events;
      event_time t = o.activity_time();
      if (!newest || *newest < t) newest = t;
      if (auto st = route(o, &rec); !st.ok()) return st;  // may move `o` into the working set
    }
    // The record's own events were judged against the watermark before it; only now may they
    // move it.
    if (!tracker_.assigned(tp)) {  // a file replay, which has no assignment
      auto it = progress_.find(tp);
      tracker_.assign({{tp, it == progress_.end() ? std::nullopt : it->second.max_event}}, now);
    }
    if (newest) tracker_.observe(tp, *newest, now);
    else tracker_.touch(tp, now);
    auto& p = progress_[tp];
    p.next = rec.position.off.next_to_consume();
    p.max_event = tracker_.max_event_time(tp);
    touched_.insert(tp);
    if (auto st = fire_due(); !st.ok()) return st;
  }
  ++probe_.batches;
  return commit();
}

store_status session_engine::tick(wall_time now, duration idle_timeout) {
  begin_batch();
  wall_now_ = now;
  const event_time before = tracker_.current();
  auto step = tracker_.advance_idle(now, idle_timeout);
  // What the partitions that are still active allow, now that the idle ones stopped counting.
  if (auto st = fire_due(); !st.ok()) return st;
  if (step.wall_target) {
    // Input has stopped everywhere. Event time moves on only as far as it must: just past each
    // due completion, seal or timeout the wall clock has reached, and no further, so that data
    // arriving after the pause is not judged against a watermark that ran ahead for nothing.
    for (;;) {
      std::optional<event_time> due;
      if (auto st = next_due(due); !st.ok()) return st;
      if (!due || !(*due < *step.wall_target)) break;
      tracker_.raise_to(*due + duration{1});
      if (auto st = fire_due(); !st.ok()) return st;
    }
  }
  // The alert clock goes on through the quiet: just past the last alert instant the wall clock
  // has reached. Only the alert stage sees it; the watermark stays where the sessions put it.
  bool alert_clock_moved = false;
  if (step.wall_target && cfg_.alert_clock && cfg_.alert_tick.count() > 0 && step.wall_target->micros() > 0) {
    const int64_t tick = cfg_.alert_tick.count();
    const event_time past_instant = event_time::from_micros((step.wall_target->micros() - 1) / tick * tick + 1);
    if (past_instant > alert_clock_ && past_instant > tracker_.current()) {
      alert_clock_ = past_instant;
      alert_clock_moved = true;
    }
  }
  if (tracker_.current() == before && !step.idle_changed && !alert_clock_moved) {
    // Nothing was decided; timers may still have fired that an earlier split batch left due.
    // A sweep of expired query results that ran out of budget goes on too.
    const bool sweep_left = results_sweeper_ && results_sweeper_->pending();
    return batch_dirty() || sweep_left ? commit() : store_status{};
  }
  record_decision(watermark_decision::idle, now);
  return commit();
}

bool session_engine::crosses_alert_instant(event_time from, event_time to) const {
  if (to <= from) return false;
  const int64_t tick = cfg_.alert_tick.count();
  if (tick <= 0 || from == event_time::min() || to == event_time::max()) return true;
  // The first instant at or after `from` (the mark at `from` evaluated those before it).
  const int64_t f = from.micros();
  const int64_t first = (f >= 0 ? (f + tick - 1) / tick : -(-f / tick)) * tick;
  return first < to.micros();
}

store_status session_engine::apply_watermark_record(const watermark_record& r, wall_time now) {
  begin_batch();
  wall_now_ = now;
  tracker_.set_idle(r.idle);
  tracker_.raise_to(r.watermark);
  alert_clock_ = std::max(alert_clock_, r.alert_clock);
  if (auto st = fire_due(); !st.ok()) return st;
  return commit();
}

store_status session_engine::flush(wall_time now) {
  begin_batch();
  wall_now_ = now;
  tracker_.finish_all();
  if (auto st = fire_due(); !st.ok()) return st;
  return commit();
}

store_status session_engine::commit() {
  auto* b = &batch_;
  event_time wm = tracker_.current();
  // What this batch added, one chunk per session and per held trace. These come after any range
  // deletion made earlier in the same batch, so they survive it.
  for (const auto& [id, events] : new_events_)
    if (!events.empty()) b->Put(store_.handle(cf::events), keys::event_chunk(id, chunk_next_), encode_event_chunk(events));
  for (const auto& [trace, held] : new_held_)
    if (!held.empty()) b->Put(store_.handle(cf::pending), keys::pending_chunk(trace, chunk_next_), encode_held_chunk(held));
  // This batch's trace bindings, indexed for their session's expiry: in the session's header
  // while it holds few, past that (or when the session has no header: its event was refused) in
  // session_traces.
  for (auto& [id, traces] : new_session_traces_) {
    auto it = sessions_.find(id);
    session_header* h = it != sessions_.end() && it->second.exists && !it->second.deleted ? &it->second.h : nullptr;
    for (auto& trace_id : traces) {
      if (h && h->traces.size() < session_header::max_inline_traces) {
        h->traces.push_back(std::move(trace_id));
        continue;
      }
      b->Put(store_.handle(cf::session_traces), keys::session_trace(id, trace_id), "");
      if (h) h->traces_elsewhere = true;
    }
  }
  new_session_traces_.clear();
  // The gauges move by what this batch changed in the sessions and traces it touched.
  int64_t open_delta = 0, held_delta = 0;
  for (const auto& [id, slot] : sessions_)
    open_delta += static_cast<int64_t>(slot.exists && !slot.deleted && is_open(slot.h)) - slot.was_open;
  for (const auto& [trace, slot] : pending_)
    held_delta += static_cast<int64_t>(slot.exists && !slot.deleted ? slot.count : 0) - static_cast<int64_t>(slot.was_held);
  const uint64_t open_after = static_cast<uint64_t>(std::max<int64_t>(0, static_cast<int64_t>(open_sessions_) + open_delta));
  const uint64_t held_after = static_cast<uint64_t>(std::max<int64_t>(0, static_cast<int64_t>(held_events_) + held_delta));
  for (auto& [id, slot] : sessions_) {
    if (slot.deleted) {
      b->Delete(store_.handle(cf::sessions), id);
      if (slot.h.timer_due != event_time::max())
        b->Delete(store_.handle(cf::timers), keys::timer(slot.h.timer_due, keys::timer_kind::session, id));
      header_cache_.erase(id);
      continue;
    }
    if (!slot.exists) continue;
    event_time due = due_of(slot.h);
    if (due != slot.h.timer_due) {
      if (slot.h.timer_due != event_time::max())
        b->Delete(store_.handle(cf::timers), keys::timer(slot.h.timer_due, keys::timer_kind::session, id));
      if (due != event_time::max()) {
        b->Put(store_.handle(cf::timers), keys::timer(due, keys::timer_kind::session, id), "");
        next_persisted_due_ = std::min(next_persisted_due_, due);
      }
      slot.h.timer_due = due;
    }
    std::string value;
    encode_header(slot.h, value);
    b->Put(store_.handle(cf::sessions), id, value);
    if (slot.h.seen.size() <= max_cached_fingerprints) header_cache_.put(id, slot.h);
    else header_cache_.erase(id);
  }
  for (auto& [trace, slot] : pending_) {
    if (slot.deleted) {
      b->Delete(store_.handle(cf::pending), keys::pending_trace(trace));
      if (slot.persisted_due != event_time::max())
        b->Delete(store_.handle(cf::timers), keys::timer(slot.persisted_due, keys::timer_kind::pending_trace, trace));
      continue;
    }
    if (!slot.exists) continue;
    if (slot.due != slot.persisted_due) {
      if (slot.persisted_due != event_time::max())
        b->Delete(store_.handle(cf::timers), keys::timer(slot.persisted_due, keys::timer_kind::pending_trace, trace));
      b->Put(store_.handle(cf::timers), keys::timer(slot.due, keys::timer_kind::pending_trace, trace), "");
      next_persisted_due_ = std::min(next_persisted_due_, slot.due);
      slot.persisted_due = slot.due;
    }
    b->Put(store_.handle(cf::pending), keys::pending_trace(trace), encode_pending(slot.due, slot.persisted_due, slot.count));
  }
  for (const auto& tp : touched_) {
    const auto& p = progress_[tp];
    b->Put(store_.handle(cf::offsets), keys::offset(tp), encode_progress(p.next, p.max_event));
  }
  ++chunk_next_;
  {
    std::string v;
    writer(v).svarint(wm.micros());
    b->Put(store_.handle(cf::meta), meta_watermark, v);
    // The alert stage's clock: the watermark, or where idleness moved it beyond.
    const event_time alert_clock = std::max(wm, alert_clock_);
    if (cfg_.alert_clock && !splitting_ && crosses_alert_instant(marked_, alert_clock)) {
      enqueue_for_judge(encode_mark(alert_clock));
      marked_ = alert_clock;
    }
    outbox_.save(*b);
    judge_queue_.save(*b);
    std::string c;
    writer(c).varint(chunk_next_);
    b->Put(store_.handle(cf::meta), meta_chunk_next, c);
    if (!cfg_.watermarks_topic.empty()) {
      std::string d;
      writer(d).varint(decisions_);
      b->Put(store_.handle(cf::meta), meta_decisions, d);
    }
    if (results_sweeper_)
      if (const auto horizon = retention_horizon(wm, cfg_.results_retention)) {
        sweep_stats swept;
        if (auto st = results_sweeper_->sweep(*b, *horizon, swept); !st.ok()) return st;
        probe_.results_expired += swept.entries;
        // Kept earlier in this batch and already past the horizon the batch ends at.
        for (const auto& r : results_in_batch_)
          if (r.closed_at < *horizon) {
            delete_session_result(store_, *b, r.session_id, r.revision, r.closed_at);
            ++probe_.results_expired;
          }
      }
    std::string g;
    writer(g).varint(open_after);
    b->Put(store_.handle(cf::meta), meta_open_sessions, g);
    g.clear();
    writer(g).varint(held_after);
    b->Put(store_.handle(cf::meta), meta_held_events, g);
  }
  if (auto st = store_.write(*b, "committing a batch"); !st.ok()) return st;
  open_sessions_ = open_after;
  held_events_ = held_after;
  probe_.open_sessions = open_after;
  probe_.pending_events = held_after;
  probe_.watermark_us = wm.micros();
  probe_.outbox_end = outbox_.next();
  committed_judge_items_.insert(committed_judge_items_.end(), std::make_move_iterator(judge_items_.begin()),
                                std::make_move_iterator(judge_items_.end()));
  begin_batch();
  return {};
}

bool session_engine::batch_dirty() const {
  return batch_.Count() > 0 || !sessions_.empty() || !pending_.empty() || !new_events_.empty() || !new_held_.empty();
}

// --- timers ---

event_time session_engine::due_of(const session_header& h) const {
  if (h.sealed) return h.sealed_at + cfg_.tombstone_retention;
  event_time due = event_time::max();
  if (auto nc = h.window.next_completion(cfg_.window)) due = nc->at;
  // A late event while a later segment is open is folded into that segment's revision.
  if (h.reemit && h.window.empty()) due = std::min(due, h.closed_at);
  if (h.emitted() && h.window.empty() && !h.reemit) due = std::min(due, h.closed_at + cfg_.grace);
  return due;
}

void session_engine::reindex(const std::string& id, session_slot& slot) {
  event_time due = slot.deleted ? event_time::max() : due_of(slot.h);
  if (due == slot.indexed_due) return;
  if (slot.indexed_due != event_time::max())
    due_index_.erase(due_entry{slot.indexed_due.micros(), static_cast<char>(due_kind::session), id});
  if (due != event_time::max())
    due_index_.insert(due_entry{due.micros(), static_cast<char>(due_kind::session), id});
  slot.indexed_due = due;
}

void session_engine::reindex(const std::string& trace_id, pending_slot& slot) {
  event_time due = slot.deleted ? event_time::max() : slot.due;
  if (due == slot.indexed_due) return;
  if (slot.indexed_due != event_time::max())
    due_index_.erase(due_entry{slot.indexed_due.micros(), static_cast<char>(due_kind::pending), trace_id});
  if (due != event_time::max())
    due_index_.insert(due_entry{due.micros(), static_cast<char>(due_kind::pending), trace_id});
  slot.indexed_due = due;
}

// A due time fires once the watermark has passed it (is strictly later): an in-bound event can
// still carry exactly the watermark's time.
store_status session_engine::fire_due() {
  for (;;) {
    bool split = false;
    if (auto st = fire_due_until_split(split); !st.ok() || !split) return st;
    // The batch grew past split_batch_bytes: commit what it holds (records applied so far, their
    // offsets, what fired) and go on in a new one. The working set is gone with the commit, so
    // the timers still due are read back from the store, from the beginning.
    ++probe_.batches_split;
    // No mark for this part: the sessions still due close before the watermark it would say.
    splitting_ = true;
    auto st = commit();
    splitting_ = false;
    if (!st.ok()) return st;
    scanned_until_ = event_time::min();
    next_persisted_due_ = event_time::min();
  }
}

store_status session_engine::fire_due_until_split(bool& split) {
  event_time wm = tracker_.current();
  if (wm > scanned_until_) {
    if (next_persisted_due_ < wm)
      if (auto st = scan_persisted_timers(wm); !st.ok()) return st;
    scanned_until_ = wm;
  }
  // Handling one entry may add or move others (a pending trace releases into a session that is
  // due at once), so always take the earliest again.
  while (!due_index_.empty() && std::get<0>(*due_index_.begin()) < wm.micros()) {
    if (batch_.GetDataSize() > cfg_.split_batch_bytes) {
      split = true;
      return {};
    }
    auto [due, kind, id] = *due_index_.begin();
    if (kind == static_cast<char>(due_kind::session)) {
      if (auto st = handle_session_due(id); !st.ok()) return st;
    } else {
      ++probe_.pending_timeouts;
      // The trace's session id never came: the trace becomes a session of its own.
      if (auto st = bind_trace(id, id); !st.ok()) return st;
      auto it = pending_.find(id);
      if (it != pending_.end() && !it->second.deleted) {
        // bind_trace found an existing binding and so released nothing: release into it.
        std::optional<std::string> sid;
        if (auto st = lookup_trace(id, sid); !st.ok()) return st;
        if (auto st = release_pending(id, sid.value_or(id)); !st.ok()) return st;
      }
    }
  }
  return {};
}

// Loads the stored timers due in [scanned_until_, up_to): those before scanned_until_ fired when
// the watermark passed them.
store_status session_engine::scan_persisted_timers(event_time up_to) {
  rocksdb::ReadOptions ro;
  std::string lower = keys::timer_bound(scanned_until_);
  rocksdb::Slice lower_slice(lower);
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.handle(cf::timers)));
  next_persisted_due_ = event_time::max();
  std::vector<std::pair<char, std::string>> due_now;
  for (it->Seek(lower); it->Valid(); it->Next()) {
    reader r(sv(it->key()));
    event_time due = event_time::from_micros(from_sortable_time(r.fixed64_be()));
    if (!r.ok() || it->key().size() < 9) return store_status::corrupt("timer key");
    if (due >= up_to) {
      next_persisted_due_ = due;
      break;
    }
    due_now.emplace_back(it->key()[8], std::string(it->key().data() + 9, it->key().size() - 9));
  }
  if (!it->status().ok()) return store_status::from(it->status(), "scanning timers");
  // Load each into the working set; its (current) due time enters the due index there. A timer
  // whose session moved on is stale: commit replaces it.
  for (const auto& [kind, id] : due_now) {
    if (kind == static_cast<char>(keys::timer_kind::session)) {
      session_slot* slot;
      if (auto st = load_session(id, slot); !st.ok()) return st;
    } else if (kind == static_cast<char>(keys::timer_kind::pending_trace)) {
      pending_slot* slot;
      if (auto st = load_pending(id, slot); !st.ok()) return st;
    } else {
      return store_status::corrupt("timer of unknown kind");
    }
  }
  return {};
}

store_status session_engine::next_due(std::optional<event_time>& out) {
  out.reset();
  const event_time wm = tracker_.current();
  if (!due_index_.empty()) out = event_time::from_micros(std::get<0>(*due_index_.begin()));
  // The first stored timer the watermark has not passed. One of an entry in the working set may
  // be stale (its due moved in this batch): at worst the caller advances to it and finds nothing
  // due there.
  std::string lower = keys::timer_bound(wm);
  rocksdb::Slice lower_slice(lower);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.handle(cf::timers)));
  it->Seek(lower);
  if (it->Valid()) {
    reader r(sv(it->key()));
    event_time due = event_time::from_micros(from_sortable_time(r.fixed64_be()));
    if (!r.ok()) return store_status::corrupt("timer key");
    if (!out || due < *out) out = due;
  }
  return store_status::from(it->status(), "finding the next timer");
}

// --- routing ---

store_status session_engine::route(observation& o, const consumed_record* from) {
  if (!o.session_id.empty()) {
    std::string sid = o.session_id;
    // A trace belongs to one session, the first that claimed it (or itself, after the pending
    // timeout): an event that claims another follows its trace, so no trace is split.
    if (!o.trace_id.empty())
      if (auto st = bind_trace(o.trace_id, o.session_id, &sid); !st.ok()) return st;
    return add_to_session(sid, o, from);
  }
  std::optional<std::string> sid;
  if (auto st = lookup_trace(o.trace_id, sid); !st.ok()) return st;
  if (!sid) return hold_pending(o, from);
  return add_to_session(*sid, o, from);
}

store_status session_engine::lookup_trace(const std::string& trace_id, std::optional<std::string>& out) {
  if (auto* cached = trace_cache_.find(trace_id)) {
    out = *cached;
    return {};
  }
  // Bound in this batch but evicted from the cache already: not in the database yet.
  if (auto it = new_bindings_.find(trace_id); it != new_bindings_.end()) {
    out = it->second;
    return {};
  }
  std::string value;
  auto s = store_.db()->Get(rocksdb::ReadOptions(), store_.handle(cf::traces), trace_id, &value);
  if (s.IsNotFound()) {
    out.reset();
    return {};
  }
  if (!s.ok()) return store_status::from(s, "looking up trace " + trace_id);
  trace_cache_.put(trace_id, value);
  out = std::move(value);
  return {};
}

store_status session_engine::bind_trace(const std::string& trace_id, const std::string& session_id,
                                        std::string* bound) {
  std::optional<std::string> existing;
  if (auto st = lookup_trace(trace_id, existing); !st.ok()) return st;
  if (existing) {
    if (*existing != session_id) ++probe_.trace_conflicts;
    if (bound) *bound = *existing;
    return {};
  }
  if (bound) *bound = session_id;
  batch_.Put(store_.handle(cf::traces), trace_id, session_id);
  // Where the binding is indexed for its session's expiry (its header, or session_traces) is
  // decided at commit, when the session's header is final for the batch.
  trace_cache_.put(trace_id, session_id);
  new_bindings_[trace_id] = session_id;
  new_session_traces_[session_id].push_back(trace_id);
  if (!pending_traces_.count(trace_id)) return {};  // the common case: nothing was held for it
  pending_slot* slot;
  if (auto st = load_pending(trace_id, slot); !st.ok()) return st;
  if (slot->exists && !slot->deleted) return release_pending(trace_id, session_id);
  return {};
}

store_status session_engine::load_pending(const std::string& trace_id, pending_slot*& out) {
  auto it = pending_.find(trace_id);
  if (it != pending_.end()) {
    out = &it->second;
    return {};
  }
  pending_slot slot;
  std::string value;
  // Pending headers change only in the working set during a batch: the database has the rest.
  auto s = store_.db()->Get(rocksdb::ReadOptions(), store_.handle(cf::pending), keys::pending_trace(trace_id), &value);
  if (s.ok()) {
    reader r(value);
    if (r.u8() != 1) return store_status::corrupt("pending trace " + trace_id);
    slot.due = event_time::from_micros(r.svarint());
    slot.persisted_due = event_time::from_micros(r.svarint());
    slot.count = r.varint();
    if (!r.ok()) return store_status::corrupt("pending trace " + trace_id);
    slot.exists = true;
    slot.was_held = slot.count;
  } else if (!s.IsNotFound()) {
    return store_status::from(s, "reading pending trace " + trace_id);
  }
  auto [ins, _] = pending_.emplace(trace_id, slot);
  out = &ins->second;
  reindex(trace_id, *out);
  return {};
}

store_status session_engine::hold_pending(observation& o, const consumed_record* from) {
  pending_slot* slot;
  if (auto st = load_pending(o.trace_id, slot); !st.ok()) return st;
  // Due pending_timeout after the earliest held event: a function of the held events alone, so
  // that the order of the output does not depend on when the watermark happened to be where. An
  // event already that far behind the watermark (beyond the out-of-orderness bound) is released
  // at once, into a session of its own trace.
  const event_time due = o.activity_time() + cfg_.pending_timeout;
  if (!slot->exists || slot->deleted) {
    slot->exists = true;
    slot->deleted = false;
    slot->due = due;
    slot->count = 0;
  } else {
    slot->due = std::min(slot->due, due);
  }
  pending_traces_.insert(o.trace_id);
  std::string trace_id = o.trace_id;
  new_held_[trace_id].push_back(held_event{std::move(o), from ? from->position : record_position{}});
  ++slot->count;
  ++probe_.pending_held;
  reindex(trace_id, *slot);
  return {};
}

store_status session_engine::release_pending(const std::string& trace_id, const std::string& session_id) {
  pending_slot* slot;
  if (auto st = load_pending(trace_id, slot); !st.ok()) return st;
  std::vector<held_event> held;
  if (auto st = held_events(trace_id, held); !st.ok()) return st;
  slot->deleted = true;
  reindex(trace_id, *slot);
  std::string prefix = keys::pending_events_prefix(trace_id);
  batch_.DeleteRange(store_.handle(cf::pending), prefix, keys::successor(prefix));
  held_cleared_.insert(trace_id);
  new_held_.erase(trace_id);
  pending_traces_.erase(trace_id);
  for (auto& h : held) {
    ++probe_.pending_released;
    if (auto st = add_to_session(session_id, h.o, nullptr, &h.from); !st.ok()) return st;
  }
  return {};
}

store_status session_engine::held_events(const std::string& trace_id, std::vector<held_event>& out) {
  if (!held_cleared_.count(trace_id)) {
    std::vector<std::pair<std::string, std::string>> chunks;
    if (auto st = scan_prefix(cf::pending, keys::pending_events_prefix(trace_id), chunks); !st.ok()) return st;
    for (const auto& [key, value] : chunks)
      if (!decode_held_chunk(value, out)) return store_status::corrupt("held events of trace " + trace_id);
  }
  if (auto it = new_held_.find(trace_id); it != new_held_.end())
    out.insert(out.end(), it->second.begin(), it->second.end());
  return {};
}

// --- sessions ---

store_status session_engine::load_session(const std::string& id, session_slot*& out) {
  auto it = sessions_.find(id);
  if (it != sessions_.end()) {
    out = &it->second;
    return {};
  }
  session_slot slot;
  if (auto* cached = header_cache_.find(id)) {
    slot.h = *cached;
    slot.exists = true;
  } else {
    std::string value;
    auto s = store_.db()->Get(rocksdb::ReadOptions(), store_.handle(cf::sessions), id, &value);
    if (s.ok()) {
      auto h = decode_header(value);
      if (!h) return store_status::corrupt("session header of " + id);
      slot.h = std::move(*h);
      slot.exists = true;
    } else if (!s.IsNotFound()) {
      return store_status::from(s, "reading session " + id);
    }
  }
  slot.was_open = slot.exists && is_open(slot.h);
  auto [ins, _] = sessions_.emplace(id, std::move(slot));
  out = &ins->second;
  if (out->exists) reindex(id, *out);
  return {};
}

bool session_engine::is_end_marker(const observation& o) const {
  if (!o.name || cfg_.end_markers.empty()) return false;
  return std::find(cfg_.end_markers.begin(), cfg_.end_markers.end(), *o.name) != cfg_.end_markers.end();
}

store_status session_engine::add_to_session(const std::string& id, observation& o, const consumed_record* from,
                                            const record_position* held_at) {
  session_slot* slot;
  if (auto st = load_session(id, slot); !st.ok()) return st;
  event_time t = o.activity_time();
  event_time wm = tracker_.current();
  if (!slot->exists || slot->deleted) {
    // An unknown session whose first event is already past any window that could still accept
    // it: most likely a forgotten (expired) session's straggler. A held event was judged when it
    // arrived (it was in time then), so only events arriving now are checked.
    if (!held_at && t + cfg_.window.gap + cfg_.grace < wm) {
      late(o, from, held_at,
           "session " + id + " is unknown and the event (" + format_iso8601(t) +
               ") is older than the watermark (" + format_iso8601(wm) + ") minus completion.gap and completion.grace");
      return {};
    }
    slot->h = session_header{};
    slot->exists = true;
    slot->deleted = false;
    ++probe_.sessions_opened;
  }
  session_header& h = slot->h;
  if (h.sealed) {
    late(o, from, held_at,
         "session " + id + " was completed (revision " + std::to_string(h.revision) + ") and sealed at " +
             format_iso8601(h.sealed_at) + ", after completion.grace");
    return {};
  }
  // A producer retry (an event id this session stored already) changes nothing: no window
  // movement, no revision, no verdict.
  const uint64_t fingerprint = stable_hash(o.event_id);
  auto seen_at = std::lower_bound(h.seen.begin(), h.seen.end(), fingerprint);
  if (seen_at != h.seen.end() && *seen_at == fingerprint) {
    ++probe_.duplicates;
    return {};
  }
  const bool marker = is_end_marker(o);
  if (h.stored_events < cfg_.max_events_per_session) {
    h.seen.insert(seen_at, fingerprint);
    new_events_[id].push_back(std::move(o));
    ++h.stored_events;
  } else {
    ++h.events_not_stored;
    ++probe_.events_not_stored;
  }
  h.first_at = std::min(h.first_at, t);
  h.last_at = std::max(h.last_at, t);
  if (h.emitted() && t <= h.closed_at) {
    // Late for an emitted revision but within the grace period: the revision is emitted again
    // (if its content changed), unless a later segment is open, whose revision will include it.
    if (h.window.empty()) {
      if (!h.reemit) ++probe_.sessions_reopened;
      h.reemit = true;
    } else {
      ++probe_.late_folded;
    }
  } else if (marker) {
    h.window.add_end_marker(t, cfg_.window.gap);
  } else {
    h.window.add_activity(t, cfg_.window.gap);
  }
  reindex(id, *slot);
  return {};
}

store_status session_engine::handle_session_due(const std::string& id) {
  session_slot* slot;
  if (auto st = load_session(id, slot); !st.ok()) return st;
  session_header& h = slot->h;
  event_time wm = tracker_.current();
  while (slot->exists && !slot->deleted) {
    if (h.sealed) {
      if (h.sealed_at + cfg_.tombstone_retention < wm) {
        if (auto st = expire(id, *slot); !st.ok()) return st;
      }
      break;
    }
    auto nc = h.window.next_completion(cfg_.window);
    if (nc && nc->at < wm) {
      if (auto st = emit(id, h, nc->at, nc->reason, /*first=*/true); !st.ok()) return st;
      h.window.cut(nc->at);
      h.reemit = false;
      continue;
    }
    if (h.reemit && h.window.empty()) {
      if (auto st = emit(id, h, h.closed_at, h.last_reason, /*first=*/false); !st.ok()) return st;
      h.reemit = false;
      continue;
    }
    if (h.emitted() && h.window.empty() && !h.reemit && h.closed_at + cfg_.grace < wm) {
      if (auto st = seal(id, h); !st.ok()) return st;
      continue;
    }
    break;
  }
  reindex(id, *slot);
  return {};
}

store_status session_engine::scan_prefix(cf c, const std::string& prefix,
                                         std::vector<std::pair<std::string, std::string>>& out) {
  // What earlier batches committed; the working set is added by the callers.
  std::string upper = keys::successor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.handle(c)));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    auto k = sv(it->key());
    if (k.compare(0, prefix.size(), prefix) != 0) break;
    out.emplace_back(std::string(k), std::string(sv(it->value())));
  }
  return store_status::from(it->status(), std::string("reading ") + cf_name(c));
}

store_status session_engine::session_events(const std::string& id, std::vector<observation>& out) {
  if (!events_cleared_.count(id)) {
    std::vector<std::pair<std::string, std::string>> chunks;
    if (auto st = scan_prefix(cf::events, keys::prefixed(id), chunks); !st.ok()) return st;
    for (const auto& [key, value] : chunks)
      if (!decode_event_chunk(value, out)) return store_status::corrupt("stored events of session " + id);
  }
  if (auto it = new_events_.find(id); it != new_events_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  return {};
}

store_status session_engine::emit(const std::string& id, session_header& h, event_time cutoff,
                                  completion_reason reason, bool first) {
  // Closed by the data, or only because input stopped (idle partitions, finished ranges) or a
  // flush moved the watermark past a point the data floor has not passed.
  if (first && !(cutoff < tracker_.data_floor()))
    reason = tracker_.flushed() ? completion_reason::flush : completion_reason::idle;
  std::vector<observation> events;
  if (auto st = session_events(id, events); !st.ok()) return st;
  summary_request req;
  req.session_id = id;
  req.revision = h.revision + 1;
  req.reason = reason;
  req.cutoff = cutoff;
  req.events_not_stored = h.events_not_stored;
  summary_tally tally;
  session_summary summary = build_session_summary(req, std::move(events), cfg_.summary, &tally);
  probe_.duplicates += tally.duplicates;
  std::string json = encode_session_json(summary);
  const uint64_t content = session_content_hash(json);
  if (content == h.content_hash) {
    // The late events changed nothing a consumer can see (e.g. an update repeating what was
    // known): a revision would say the same again.
    ++probe_.revisions_unchanged;
    return {};
  }
  // Taken before the summary moves into the judge queue.
  std::atomic<uint64_t>* summary_cost = nullptr;
  if (summary.stats.cost_source) {
    switch (*summary.stats.cost_source) {
      case cost_origin::reported: summary_cost = &probe_.cost_reported; break;
      case cost_origin::computed: summary_cost = &probe_.cost_computed; break;
      case cost_origin::mixed: summary_cost = &probe_.cost_mixed; break;
    }
  }
  h.content_hash = content;
  h.revision = req.revision;
  h.closed_at = cutoff;
  h.last_reason = reason;
  outbox_.put(batch_, cfg_.sessions_topic, id, json);
  if (results_sweeper_) {
    // Kept for queries unless already past its retention (a watermark that jumped ahead).
    const auto horizon = retention_horizon(tracker_.current(), cfg_.results_retention);
    if (!horizon || !(cutoff < *horizon)) {
      put_session_result(store_, batch_, id, req.revision, cutoff, json);
      results_in_batch_.push_back({id, req.revision, cutoff});
    }
  }
  // Every emitted revision is judged: the judge stage takes it from this durable queue.
  enqueue_for_judge(std::move(json), std::make_shared<const session_summary>(std::move(summary)));
  ++probe_.revisions_emitted;
  ++probe_.completed_by_reason[static_cast<size_t>(reason)];
  if (summary_cost) ++*summary_cost;
  probe_.calls_unpriced += tally.unpriced;
  return {};
}

void session_engine::enqueue_for_judge(std::string payload, std::shared_ptr<const session_summary> summary) {
  auto queued = judge_queue_.put(batch_, std::move(payload), wall_now_);
  // Beyond the bound the judge stage reads it back from its queue instead.
  if (committed_judge_items_.size() + judge_items_.size() < cfg_.judge_handover_max)
    judge_items_.push_back(judge_handover{std::move(queued), std::move(summary)});
}

store_status session_engine::seal(const std::string& id, session_header& h) {
  std::string prefix = keys::prefixed(id);
  batch_.DeleteRange(store_.handle(cf::events), prefix, keys::successor(prefix));
  events_cleared_.insert(id);
  new_events_.erase(id);
  h.sealed = true;
  h.sealed_at = h.closed_at + cfg_.grace;
  h.stored_events = 0;
  h.window = session_window{};
  h.seen.clear();  // later events are refused as late, retries included
  ++probe_.sessions_sealed;
  return {};
}

store_status session_engine::expire(const std::string& id, session_slot& slot) {
  // The session's traces: those its header holds, those bound in this batch (not indexed yet),
  // and, when the header says so, those indexed in session_traces.
  auto forget = [&](const std::string& trace_id) {
    batch_.Delete(store_.handle(cf::traces), trace_id);
    trace_cache_.erase(trace_id);
    new_bindings_.erase(trace_id);
  };
  for (const auto& trace_id : slot.h.traces) forget(trace_id);
  if (auto it = new_session_traces_.find(id); it != new_session_traces_.end()) {
    for (const auto& trace_id : it->second) forget(trace_id);
    new_session_traces_.erase(it);
  }
  if (slot.h.traces_elsewhere) {
    std::vector<std::pair<std::string, std::string>> bindings;
    std::string prefix = keys::prefixed(id);
    if (auto st = scan_prefix(cf::session_traces, prefix, bindings); !st.ok()) return st;
    for (const auto& [key, value] : bindings) {
      forget(key.substr(prefix.size()));
      batch_.Delete(store_.handle(cf::session_traces), key);
    }
  }
  slot.deleted = true;
  ++probe_.sessions_expired;
  return {};
}

// --- output ---

void session_engine::dead_letter(const rejected_event& r, const record_position& pos, const std::string& key) {
  outbox_.put(batch_, cfg_.deadletter_topic, key, encode_deadletter_json(r, pos, cfg_.summary.max_record_bytes));
  ++probe_.dead_letters;
  ++probe_.dead_letters_by_reason[static_cast<size_t>(r.code)];
  // For alerts a dead letter happens at the watermark of its batch; before any event time has
  // been seen there is no such time, and it is not counted (docs/alerts.md).
  if (cfg_.alert_clock && tracker_.current() != event_time::min())
    enqueue_for_judge(encode_deadletter_note({tracker_.current(), std::string(to_string(r.code))}));
}

void session_engine::late(const observation& o, const consumed_record* from, const record_position* held_at,
                          std::string detail) {
  ++probe_.late_events;
  rejected_event r;
  r.code = reject_code::late_event;
  r.detail = "event " + o.event_id + ": " + std::move(detail);
  r.index = o.source_index;
  if (from) {
    r.payload = from->payload;
    dead_letter(r, from->position, from->key);
  } else {
    // A held event: its message was committed long ago, so the event is given as understood
    // (tracewatch.event.v1), with the position of the message it came in.
    r.payload = encode_observation_json(o);
    dead_letter(r, held_at ? *held_at : record_position{}, o.trace_id);
  }
}

store_status session_engine::open_sessions(size_t limit, std::vector<std::string>& ids, uint64_t& total) {
  total = 0;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(rocksdb::ReadOptions(), store_.handle(cf::sessions)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto h = decode_header(sv(it->value()));
    if (!h) return store_status::corrupt("session header");
    if (!is_open(*h)) continue;
    ++total;
    if (ids.size() < limit) ids.emplace_back(sv(it->key()));
  }
  return store_status::from(it->status(), "listing open sessions");
}

}  // namespace tw::state
