// Drives a real session_engine over a real RocksDB in a temp directory, with observations built
// in code. Reads what the engine produced back from the outbox, decoded.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/observation.hpp"
#include "model/session.hpp"
#include "state/outbox.hpp"
#include "state/session_engine.hpp"
#include "state/store.hpp"
#include "tests/support/temp_dir.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/watermark_json.hpp"

namespace tw::test {

inline event_time at_s(double seconds) {
  return event_time::from_micros(1'700'000'000'000'000 + static_cast<int64_t>(seconds * 1e6));
}

// Builders for the observations a test feeds.
struct obs_builder {
  observation o;
  obs_builder(std::string event_id, obs_kind kind, std::string trace_id, std::string obs_id, double t) {
    o.event_id = std::move(event_id);
    o.kind = kind;
    o.trace_id = std::move(trace_id);
    o.observation_id = std::move(obs_id);
    o.timestamp = at_s(t);
    o.start = at_s(t);
  }
  obs_builder& session(std::string s) { o.session_id = std::move(s); return *this; }
  obs_builder& name(std::string n) { o.name = std::move(n); return *this; }
  obs_builder& end(double t) { o.end = at_s(t); return *this; }
  obs_builder& parent(std::string p) { o.parent_id = std::move(p); return *this; }
  obs_builder& error(std::string msg) { o.level = obs_level::error; o.status_message = std::move(msg); return *this; }
  obs_builder& tokens(int64_t in, int64_t out) { o.input_tokens = in; o.output_tokens = out; return *this; }
  obs_builder& user(std::string t) { o.user_text = std::move(t); return *this; }
  obs_builder& update() { o.is_update = true; o.start.reset(); return *this; }
  operator observation() const { return o; }
};

// A trace (turn) of session `sid` at time t: the trace itself plus one generation.
inline std::vector<observation> turn(const std::string& sid, const std::string& trace, double t) {
  return {obs_builder("e-" + trace, obs_kind::trace, trace, trace, t).session(sid).user("hello " + trace),
          obs_builder("e-" + trace + "-g", obs_kind::generation, trace, trace + "-g", t + 0.1).end(t + 0.5).tokens(10, 5)};
}

// A call of `turns` turns (traces with a generation each), one every `spacing` seconds.
inline std::vector<observation> call(const std::string& sid, int turns, double start, double spacing = 10) {
  std::vector<observation> out;
  for (int i = 0; i < turns; ++i) {
    auto t = turn(sid, sid + "-t" + std::to_string(i), start + i * spacing);
    out.insert(out.end(), t.begin(), t.end());
  }
  return out;
}

class engine_harness {
 public:
  explicit engine_harness(state::engine_config cfg = default_config()) : cfg_(std::move(cfg)) { reopen(); }

  static state::engine_config default_config() {
    state::engine_config c;
    c.window.gap = std::chrono::seconds(60);
    c.window.max_duration = std::chrono::hours(1);
    c.window.settle_delay = std::chrono::seconds(2);
    c.grace = std::chrono::minutes(10);
    c.tombstone_retention = std::chrono::hours(1);
    c.pending_timeout = std::chrono::seconds(30);
    c.max_out_of_orderness = std::chrono::seconds(5);
    c.summary.min_traces = 2;
    return c;
  }

  // Closes and reopens the store and engine: what a restart does.
  void reopen() {
    engine_.reset();
    store_.reset();
    state::store_options so;
    so.dir = dir_.path();
    auto st = state::store::open(so, store_);
    if (!st.ok()) throw std::runtime_error(st.message);
    engine_ = std::make_unique<state::session_engine>(*store_, cfg_, probe_);
    st = engine_->open(now_);
    if (!st.ok()) throw std::runtime_error(st.message);
    assign(assigned_);  // a restarted consumer is given its partitions again, all at once
  }

  // The consumer was given these partitions (all at once).
  std::vector<std::pair<topic_partition, std::optional<offset>>> assign(const std::vector<topic_partition>& tps) {
    std::vector<std::pair<topic_partition, std::optional<offset>>> out;
    assigned_ = tps;
    auto st = engine_->assign(tps, now_, out);
    if (!st.ok()) throw std::runtime_error(st.message);
    return out;
  }

  // Feeds one record per entry (each a message with these observations), as one batch.
  void feed(const std::vector<std::vector<observation>>& messages, const topic_partition* tp = nullptr) {
    std::vector<state::consumed_record> batch;
    for (const auto& m : messages) {
      state::consumed_record r;
      r.position = record_position{tp ? *tp : tp_, offset{next_offset_[tp ? *tp : tp_]++}};
      r.payload = "{\"test\":true}";
      r.observations = m;
      batch.push_back(std::move(r));
    }
    auto st = engine_->apply(batch, now_);
    if (!st.ok()) throw std::runtime_error(st.message);
  }
  void feed_one(const std::vector<observation>& m) { feed({m}); }
  void feed_each(const std::vector<observation>& events) {
    std::vector<std::vector<observation>> msgs;
    for (const auto& e : events) msgs.push_back({e});
    feed(msgs);
  }
  void feed_rejection(rejected_event r) {
    state::consumed_record rec;
    rec.position = record_position{tp_, offset{next_offset_[tp_]++}};
    rec.rejected.push_back(std::move(r));
    std::vector<state::consumed_record> batch;
    batch.push_back(std::move(rec));
    auto st = engine_->apply(batch, now_);
    if (!st.ok()) throw std::runtime_error(st.message);
  }
  // Moves the watermark to `t` + out-of-orderness by feeding an unrelated event at that time.
  void advance_to(double t) { feed_one({obs_builder("clock-" + std::to_string(t), obs_kind::event, "clock", "clock-" + std::to_string(t), t + 5).session("clock")}); }
  void flush() {
    auto st = engine_->flush(now_);
    if (!st.ok()) throw std::runtime_error(st.message);
  }
  void tick(duration wall_elapsed, duration idle_timeout) { tick(wall_elapsed, idle_timeout, {tp_}); }
  // The wall clock moved on; the consumer is at the end of `caught_up`; the state stage ticks.
  void tick(duration wall_elapsed, duration idle_timeout, const std::vector<topic_partition>& caught_up) {
    now_ = now_ + wall_elapsed;
    for (const auto& tp : caught_up) engine_->set_caught_up(tp, true);
    auto st = engine_->tick(now_, idle_timeout);
    if (!st.ok()) throw std::runtime_error(st.message);
  }
  // Records as they are, positions included (a redelivery, a replay's own order).
  void apply(std::vector<state::consumed_record> batch) {
    auto st = engine_->apply(batch, now_);
    if (!st.ok()) throw std::runtime_error(st.message);
  }
  void take(const watermark_record& r) {
    auto st = engine_->apply_watermark_record(r, now_);
    if (!st.ok()) throw std::runtime_error(st.message);
  }
  void finish(const topic_partition& tp) {
    auto st = engine_->finish_partition(tp, now_);
    if (!st.ok()) throw std::runtime_error(st.message);
  }
  // A record of `tp` at its next offset, with these observations.
  state::consumed_record record(const topic_partition& tp, std::vector<observation> obs) {
    state::consumed_record r;
    r.position = record_position{tp, offset{next_offset_[tp]++}};
    r.payload = "{\"test\":true}";
    r.observations = std::move(obs);
    return r;
  }
  std::vector<state::outbox_entry> outbox_of(const std::string& topic) {
    std::vector<state::outbox_entry> out;
    for (auto& e : outbox())
      if (e.topic == topic) out.push_back(std::move(e));
    return out;
  }
  wall_time now() const { return now_; }

  // Everything in the outbox so far (not deleted: no output stage runs here).
  std::vector<state::outbox_entry> outbox() {
    state::outbox_reader r(*store_);
    std::vector<state::outbox_entry> out;
    auto st = r.read(state::outbox_lane::sessions, 0, 1 << 30, out);
    if (!st.ok()) throw std::runtime_error(st.message);
    return out;
  }
  // Emitted sessions, excluding the "clock" helper session, in emission order.
  std::vector<session_summary> sessions() {
    std::vector<session_summary> out;
    for (const auto& e : outbox()) {
      if (e.topic != cfg_.sessions_topic) continue;
      std::string err;
      auto s = decode_session_json(e.payload, &err);
      if (!s) throw std::runtime_error("undecodable session: " + err);
      if (s->session_id == "clock") continue;
      out.push_back(std::move(*s));
    }
    return out;
  }
  std::vector<std::string> session_payloads() {
    std::vector<std::string> out;
    for (const auto& e : outbox())
      if (e.topic == cfg_.sessions_topic && e.key != "clock") out.push_back(e.payload);
    return out;
  }
  std::vector<state::outbox_entry> dead_letters() {
    std::vector<state::outbox_entry> out;
    for (auto& e : outbox())
      if (e.topic == cfg_.deadletter_topic) out.push_back(std::move(e));
    return out;
  }

  state::session_engine& engine() { return *engine_; }
  state::engine_probe& probe() { return probe_; }
  state::store& store() { return *store_; }
  const topic_partition& tp() const { return tp_; }

 private:
  state::engine_config cfg_;
  temp_dir dir_;
  std::unique_ptr<state::store> store_;
  state::engine_probe probe_;
  std::unique_ptr<state::session_engine> engine_;
  topic_partition tp_{"traces.raw", partition_id{0}};
  std::vector<topic_partition> assigned_{tp_};
  std::map<topic_partition, int64_t> next_offset_;
  wall_time now_ = wall_time::from_millis(1'800'000'000'000);
};

}  // namespace tw::test
