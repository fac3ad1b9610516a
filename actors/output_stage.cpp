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

bool output_stage::step(duration wait, std::string& error) {
  if (!started_) {
    // Whatever a previous process left undelivered comes first: the outbox is read from its
    // oldest entry, not from where this process's state stage begins.
    started_ = true;
    std::vector<state::outbox_entry> first;
    auto st = outbox_.read(0, 1, first);
    if (!st.ok()) {
      error = st.message;
      return false;
    }
    next_seq_ = first.empty() ? end_seq_ : first.front().seq;
    uint64_t stored_end = 0;
    if (auto st2 = outbox_.end_seq(stored_end); !st2.ok()) {
      error = st2.message;
      return false;
    }
    end_seq_ = std::max(end_seq_, stored_end);
  }

  // Retries whose backoff has passed.
  auto now = clock_.now();
  while (!retry_.empty() && retry_.front().first <= now && in_flight_.size() < max_in_flight) {
    uint64_t seq = retry_.front().second;
    std::vector<state::outbox_entry> e;
    auto st = outbox_.read(seq, 1, e);
    if (!st.ok()) {
      error = st.message;
      return false;
    }
    if (e.empty() || e.front().seq != seq) {  // already gone: nothing to retry
      retry_.pop_front();
      continue;
    }
    if (!writer_.write(seq, e.front().topic, e.front().key, e.front().payload)) break;
    in_flight_.insert(seq);
    ++probe_.written;
    retry_.pop_front();
  }

  // New entries.
  if (next_seq_ < end_seq_ && in_flight_.size() < max_in_flight) {
    std::vector<state::outbox_entry> entries;
    auto st = outbox_.read(next_seq_, std::min(max_reads_per_step, max_in_flight - in_flight_.size()), entries);
    if (!st.ok()) {
      error = st.message;
      return false;
    }
    for (auto& e : entries) {
      if (!writer_.write(e.seq, e.topic, e.key, e.payload)) break;  // local queue full: next step
      in_flight_.insert(e.seq);
      ++probe_.written;
      next_seq_ = e.seq + 1;
    }
    if (entries.empty()) next_seq_ = end_seq_;  // a gap left by entries already delivered
  }

  write_outcome out;
  writer_.poll(wait, out);
  if (!out.acknowledged.empty()) {
    auto st = outbox_.erase(out.acknowledged);
    if (!st.ok()) {
      error = st.message;
      return false;
    }
    for (auto seq : out.acknowledged) in_flight_.erase(seq);
    probe_.acknowledged += out.acknowledged.size();
  }
  for (auto& [seq, why] : out.failed) {
    in_flight_.erase(seq);
    ++probe_.failed;
    log::warn("output delivery failed; will retry", {{"seq", seq}, {"error", why}});
    retry_.emplace_back(clock_.now() + retry_backoff_, seq);
  }
  probe_.backlog = (end_seq_ - std::min(end_seq_, next_seq_)) + in_flight_.size() + retry_.size();
  return true;
}

}  // namespace tw::actors
