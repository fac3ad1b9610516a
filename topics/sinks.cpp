#include "topics/sinks.hpp"

namespace tw {

bool kafka_writer::write(uint64_t seq, const std::string& topic, const std::string& key, const std::string& payload) {
  auto st = producer_->produce(topic, key, payload, seq);
  if (st.ok()) {
    ++in_flight_;
    return true;
  }
  return false;
}

void kafka_writer::poll(duration wait, write_outcome& out) {
  reports_.clear();
  producer_->poll(wait, reports_);
  for (auto& r : reports_) {
    --in_flight_;
    if (r.status.ok()) out.acknowledged.push_back(r.seq);
    else out.failed.emplace_back(r.seq, r.status.message);
  }
}

bool stream_writer::write(uint64_t seq, const std::string& topic, const std::string& key, const std::string& payload) {
  auto it = streams_.find(topic);
  if (it != streams_.end() && it->second) {
    *it->second << payload << '\n';
    if (!*it->second) {
      failed_.emplace_back(seq, "writing " + topic + " output failed");
      return true;
    }
  }
  pending_.push_back(seq);
  return true;
}

void stream_writer::poll(duration, write_outcome& out) {
  if (pending_.empty() && failed_.empty()) return;
  bool ok = true;
  for (auto& [topic, s] : streams_)
    if (s) ok = static_cast<bool>(s->flush()) && ok;
  if (ok) out.acknowledged.insert(out.acknowledged.end(), pending_.begin(), pending_.end());
  else
    for (auto seq : pending_) out.failed.emplace_back(seq, "flushing output failed");
  out.failed.insert(out.failed.end(), failed_.begin(), failed_.end());
  pending_.clear();
  failed_.clear();
}

}  // namespace tw
