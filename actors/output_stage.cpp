#include "actors/output_stage.hpp"

#include <algorithm>

#include "model/log.hpp"
#include "model/text.hpp"
#include "topics/contracts/deadletter_json.hpp"

namespace tw::actors {

namespace {
constexpr size_t max_reads_per_step = 1000;
constexpr size_t max_in_flight = 10000;

int64_t millis_of(duration d) { return d.count() / 1000; }

// The dead letter that takes the place of an output record the brokers will never accept. Its
// source names the record by what identifies it durably: the topic it was meant for, its outbox
// lane and its sequence there (so that repeats after a restart are recognised). Deterministic:
// the same entry and error give the same bytes.
std::string undeliverable_dead_letter(const state::outbox_entry& e, const std::string& why, size_t max_bytes) {
  rejected_event r;
  r.code = reject_code::undeliverable;
  r.detail = "undeliverable to " + e.topic + " (key \"" + excerpt(to_valid_utf8(e.key), 200) + "\", " +
             std::to_string(e.payload.size()) + " bytes): " + why;
  r.payload = is_valid_utf8(e.payload) ? excerpt(e.payload, bounds::undeliverable_excerpt_bytes)
                                       : e.payload.substr(0, bounds::undeliverable_excerpt_bytes);
  const record_position source{topic_partition{e.topic, partition_id{static_cast<int32_t>(e.lane)}}, offset{static_cast<int64_t>(e.seq)}};
  return encode_deadletter_json(r, source, max_bytes);
}

}  // namespace

output_stage::output_stage(state::store& s, record_writer& w, const clock& c, output_probe& probe,
                           output_stage_config cfg)
    : outbox_(s), writer_(w), clock_(c), probe_(probe), cfg_(std::move(cfg)) {}

void output_stage::available(state::outbox_lane lane, uint64_t end_seq) {
  auto& c = lanes_[static_cast<size_t>(lane)];
  c.end = std::max(c.end, end_seq);
}

bool output_stage::idle() const {
  for (const auto& c : lanes_)
    if (c.next < c.end) return false;
  return unacked_.empty();
}

output_stage::sent output_stage::send(uint64_t id, const state::outbox_entry& e, std::string& error) {
  while (true) {
    auto replacement = replaced_.find(id);
    const write_result r = replacement == replaced_.end()
                               ? writer_.write(id, e.topic, e.key, e.payload)
                               : writer_.write(id, cfg_.deadletter_topic, excerpt(e.key, bounds::max_id_bytes),
                                               replacement->second);
    switch (r.status) {
      case write_status::queued:
        in_flight_.insert(id);
        unacked_.insert(id);
        ++probe_.written;
        return sent::queued;
      case write_status::retry_later:
        lane(id).last_error = r.error;
        return sent::retry_later;
      case write_status::rejected:
        if (!reject(id, e, r.error, error)) return sent::done;  // a store error: step() reports it
        if (!replaced_.count(id)) return sent::done;            // dropped
        break;                                                  // write its dead letter at once
    }
  }
}

bool output_stage::reject(uint64_t id, const state::outbox_entry& e, const std::string& why, std::string& error) {
  auto& l = lane(id);
  l.last_error = why;
  const std::string lane_name(state::to_string(lane_of(id)));
  if (replaced_.count(id)) {
    ++probe_.dead_letters_dropped;
    log::error("the dead letter of an undeliverable output record was refused too; the record is dropped",
               {{"lane", lane_name}, {"seq", seq_of(id)}, {"topic", e.topic}, {"key", excerpt(e.key, 200)},
                {"bytes", static_cast<uint64_t>(e.payload.size())}, {"deadletter_topic", cfg_.deadletter_topic},
                {"error", why}});
    return drop(id, error);
  }
  ++probe_.undeliverable;
  if (cfg_.deadletter_topic.empty()) {
    ++probe_.dead_letters_dropped;
    log::error("output record undeliverable and no dead-letter topic configured; the record is dropped",
               {{"lane", lane_name}, {"seq", seq_of(id)}, {"topic", e.topic}, {"key", excerpt(e.key, 200)},
                {"bytes", static_cast<uint64_t>(e.payload.size())}, {"error", why}});
    return drop(id, error);
  }
  log::error("output record undeliverable; replaced by a dead letter",
             {{"lane", lane_name}, {"seq", seq_of(id)}, {"topic", e.topic}, {"key", excerpt(e.key, 200)},
              {"bytes", static_cast<uint64_t>(e.payload.size())}, {"deadletter_topic", cfg_.deadletter_topic},
              {"error", why}});
  replaced_[id] = undeliverable_dead_letter(e, why, cfg_.max_record_bytes);
  return true;
}

bool output_stage::drop(uint64_t id, std::string& error) {
  if (auto st = outbox_.erase({{lane_of(id), seq_of(id)}}); !st.ok()) {
    error = st.message;
    return false;
  }
  unacked_.erase(id);
  in_flight_.erase(id);
  replaced_.erase(id);
  return true;
}

bool output_stage::send_new(state::outbox_lane lane, std::string& error) {
  auto& c = lanes_[static_cast<size_t>(lane)];
  if (!c.started) {
    // Whatever a previous process left undelivered comes first: the lane is read from its oldest
    // entry, not from where this process's writers begin.
    c.started = true;
    std::vector<state::outbox_entry> first;
    if (auto st = outbox_.read(lane, 0, 1, first); !st.ok()) {
      error = st.message;
      return false;
    }
    if (!first.empty()) {
      c.next = first.front().seq;
      c.end = std::max(c.end, c.next + 1);  // at least that one; the reads below find the rest
    } else {
      c.next = c.end;
    }
  }
  if (c.next >= c.end || in_flight_.size() >= max_in_flight) return true;
  std::vector<state::outbox_entry> entries;
  if (auto st = outbox_.read(lane, c.next, std::min(max_reads_per_step, max_in_flight - in_flight_.size()), entries);
      !st.ok()) {
    error = st.message;
    return false;
  }
  for (auto& e : entries) {
    const sent s = send(id_of(lane, e.seq), e, error);
    if (!error.empty()) return false;
    if (s == sent::retry_later) break;  // e.g. the local queue is full: the next step tries again
    c.next = e.seq + 1;
    c.end = std::max(c.end, c.next);
  }
  if (entries.empty()) c.next = c.end;  // a gap left by entries already delivered
  return true;
}

bool output_stage::send_retries(std::string& error) {
  const auto now = clock_.now();
  while (!retry_.empty() && retry_.begin()->first <= now && in_flight_.size() < max_in_flight) {
    const uint64_t id = retry_.begin()->second;
    std::vector<state::outbox_entry> e;
    if (auto st = outbox_.read(lane_of(id), seq_of(id), 1, e); !st.ok()) {
      error = st.message;
      return false;
    }
    if (e.empty() || e.front().seq != seq_of(id)) {  // already gone: nothing to retry
      retry_.erase(retry_.begin());
      unacked_.erase(id);
      replaced_.erase(id);
      continue;
    }
    const sent s = send(id, e.front(), error);
    if (!error.empty()) return false;
    if (s == sent::retry_later) break;
    retry_.erase(retry_.begin());
  }
  return true;
}

bool output_stage::step(duration wait, std::string& error) {
  error.clear();
  if (!send_retries(error)) return false;
  for (auto lane : state::all_outbox_lanes)
    if (!send_new(lane, error)) return false;

  write_outcome out;
  writer_.poll(wait, out);
  if (!out.acknowledged.empty()) {
    std::vector<std::pair<state::outbox_lane, uint64_t>> done;
    for (auto id : out.acknowledged) done.emplace_back(lane_of(id), seq_of(id));
    if (auto st = outbox_.erase(done); !st.ok()) {
      error = st.message;
      return false;
    }
    for (auto id : out.acknowledged) {
      in_flight_.erase(id);
      unacked_.erase(id);
      replaced_.erase(id);
    }
    probe_.acknowledged += out.acknowledged.size();
  }
  for (const auto& f : out.failed) {
    const uint64_t id = f.seq;
    in_flight_.erase(id);
    ++probe_.failed;
    auto& l = lane(id);
    l.last_error = f.error;
    if (f.rejected) {
      std::vector<state::outbox_entry> e;
      if (auto st = outbox_.read(lane_of(id), seq_of(id), 1, e); !st.ok()) {
        error = st.message;
        return false;
      }
      if (e.empty() || e.front().seq != seq_of(id)) {
        unacked_.erase(id);
        replaced_.erase(id);
        continue;
      }
      if (!reject(id, e.front(), f.error, error)) return false;
      if (replaced_.count(id)) retry_.emplace(clock_.now(), id);  // its dead letter goes out at once
      continue;
    }
    // One line per lane until it moves again: a broker away fails every record in flight.
    if (!l.failure_logged) {
      l.failure_logged = true;
      log::warn("output delivery failed; will retry",
                {{"lane", std::string(state::to_string(lane_of(id)))}, {"seq", seq_of(id)}, {"error", f.error}});
    }
    retry_.emplace(clock_.now() + cfg_.retry_backoff, id);
  }
  uint64_t backlog = unacked_.size();
  for (const auto& c : lanes_) backlog += c.end > c.next ? c.end - c.next : 0;
  probe_.backlog = backlog;
  watch_lanes();
  return true;
}

void output_stage::watch_lanes() {
  const auto now = clock_.now();
  uint64_t stalled = 0;
  duration oldest_age{0};
  for (auto lane_id : state::all_outbox_lanes) {
    auto& l = lanes_[static_cast<size_t>(lane_id)];
    std::optional<uint64_t> oldest;
    if (auto it = unacked_.lower_bound(id_of(lane_id, 0)); it != unacked_.end() && lane_of(*it) == lane_id)
      oldest = seq_of(*it);
    if (l.next < l.end) oldest = oldest ? std::min(*oldest, l.next) : l.next;
    if (oldest != l.oldest) {
      if (l.stalled)
        log::info("output lane moving again", {{"lane", std::string(state::to_string(lane_id))},
                                               {"stalled_for_ms", millis_of(now - l.oldest_since)}});
      if (l.oldest) l.failure_logged = false;  // it moved: the next failure is news again
      l.oldest = oldest;
      l.oldest_since = now;
      l.stalled = false;
    }
    if (!oldest) continue;
    const duration age = now - l.oldest_since;
    oldest_age = std::max(oldest_age, age);
    if (age > cfg_.stall_after && !l.stalled) {
      l.stalled = true;
      uint64_t depth = l.end > l.next ? l.end - l.next : 0;
      for (auto it = unacked_.lower_bound(id_of(lane_id, 0)); it != unacked_.end() && lane_of(*it) == lane_id; ++it)
        ++depth;
      log::error("output lane stalled: its oldest record has not been acknowledged",
                 {{"lane", std::string(state::to_string(lane_id))}, {"seq", *oldest}, {"depth", depth},
                  {"waiting_ms", millis_of(age)},
                  {"last_error", l.last_error.empty() ? std::string("none (no answer from the brokers yet)") : l.last_error}});
    }
    if (l.stalled) ++stalled;
  }
  probe_.stalled_lanes = stalled;
  probe_.oldest_unacked_age_us = oldest_age.count();
}

}  // namespace tw::actors
