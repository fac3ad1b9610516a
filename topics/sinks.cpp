#include "topics/sinks.hpp"

namespace tw {

write_result kafka_writer::write(uint64_t seq, const std::string& topic, const std::string& key,
                                 const std::string& payload) {
  auto st = producer_->produce(topic, key, payload, seq);
  if (st.ok()) {
    ++in_flight_;
    return {};
  }
  if (st.code == kafka::kafka_errc::rejected) return {write_status::rejected, st.message};
  return {write_status::retry_later, st.message};
}

void kafka_writer::poll(duration wait, write_outcome& out) {
  reports_.clear();
  producer_->poll(wait, reports_);
  for (auto& r : reports_) {
    --in_flight_;
    if (r.status.ok()) out.acknowledged.push_back(r.seq);
    else out.failed.push_back(write_failure{r.seq, r.status.message, r.status.code == kafka::kafka_errc::rejected});
  }
}

write_result stream_writer::write(uint64_t seq, const std::string& topic, const std::string&,
                                  const std::string& payload) {
  auto it = streams_.find(topic);
  if (it != streams_.end() && it->second) {
    *it->second << payload << '\n';
    if (!*it->second) {
      failed_.push_back(write_failure{seq, "writing " + topic + " output failed", false});
      return {};
    }
  }
  pending_.push_back(seq);
  return {};
}

void stream_writer::poll(duration, write_outcome& out) {
  if (pending_.empty() && failed_.empty()) return;
  bool ok = true;
  for (auto& [topic, s] : streams_)
    if (s) ok = static_cast<bool>(s->flush()) && ok;
  if (ok) out.acknowledged.insert(out.acknowledged.end(), pending_.begin(), pending_.end());
  else
    for (auto seq : pending_) out.failed.push_back(write_failure{seq, "flushing output failed", false});
  out.failed.insert(out.failed.end(), failed_.begin(), failed_.end());
  pending_.clear();
  failed_.clear();
}

}  // namespace tw
