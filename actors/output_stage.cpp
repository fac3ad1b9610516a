#include "actors/output_stage.hpp"

#include "model/log.hpp"

namespace tw::actors {

namespace {
constexpr size_t max_reads_per_step = 1000;
constexpr size_t max_in_flight = 10000;
}  // namespace

output_stage::output_stage(state::store& s, record_writer& w, const clock& c, output_probe& probe,
                           duration retry_backoff)
    : outbox_(s), writer_(w), clock_(c), probe_(probe), retry_backoff_(retry_backoff) {}

void output_stage::available(state::outbox_lane lane, uint64_t end_seq) {
  auto& c = cursors_[static_cast<size_t>(lane)];
  c.end = std::max(c.end, end_seq);
}

bool output_stage::idle() const {
  for (const auto& c : cursors_)
    if (c.next < c.end) return false;
  return in_flight_.empty() && retry_.empty();
}

bool output_stage::send_new(state::outbox_lane lane, std::string& error) {
  auto i = static_cast<size_t>(lane);
  auto& c = cursors_[i];
  if (!started_[i]) {
    // Whatever a previous process left undelivered comes first: the lane is read from its oldest
    // entry, not from where this process's writers begin.
    started_[i] = true;
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
    if (!writer_.write(id_of(lane, e.seq), e.topic, e.key, e.payload)) break;  // local queue full: next step
    in_flight_.insert(id_of(lane, e.seq));
    ++probe_.written;
    c.next = e.seq + 1;
    c.end = std::max(c.end, c.next);
  }
  if (entries.empty()) c.next = c.end;  // a gap left by entries already delivered
  return true;
}

bool output_stage::step(duration wait, std::string& error) {
  // Retries whose backoff has passed.
  auto now = clock_.now();
  while (!retry_.empty() && retry_.front().first <= now && in_flight_.size() < max_in_flight) {
    uint64_t id = retry_.front().second;
    std::vector<state::outbox_entry> e;
    if (auto st = outbox_.read(lane_of(id), seq_of(id), 1, e); !st.ok()) {
      error = st.message;
      return false;
    }
    if (e.empty() || e.front().seq != seq_of(id)) {  // already gone: nothing to retry
      retry_.pop_front();
      continue;
    }
    if (!writer_.write(id, e.front().topic, e.front().key, e.front().payload)) break;
    in_flight_.insert(id);
    ++probe_.written;
    retry_.pop_front();
  }
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
    for (auto id : out.acknowledged) in_flight_.erase(id);
    probe_.acknowledged += out.acknowledged.size();
  }
  for (auto& [id, why] : out.failed) {
    in_flight_.erase(id);
    ++probe_.failed;
    log::warn("output delivery failed; will retry", {{"lane", static_cast<int>(lane_of(id))}, {"seq", seq_of(id)}, {"error", why}});
    retry_.emplace_back(clock_.now() + retry_backoff_, id);
  }
  uint64_t backlog = in_flight_.size() + retry_.size();
  for (const auto& c : cursors_) backlog += c.end > c.next ? c.end - c.next : 0;
  probe_.backlog = backlog;
  return true;
}

}  // namespace tw::actors
