#include "topics/kafka/range_reader.hpp"

#include <chrono>

#include "model/log.hpp"

namespace tw::kafka {

kafka_status range_reader::create(const client_settings& s, const std::vector<std::string>& topics,
                                  const start_lookup& start, std::unique_ptr<range_reader>& out) {
  std::unique_ptr<range_reader> r(new range_reader());
  r->logger_ = std::make_unique<event_logger>("replay-reader");
  std::unique_ptr<RdKafka::Conf> conf;
  auto st = make_conf(s, {{"fetch.wait.max.ms", "50"}, {"queued.max.messages.kbytes", "32768"}},
                      {{"group.id", "tracewatch-replay"}, {"enable.auto.commit", "false"},
                       {"enable.auto.offset.store", "false"}, {"enable.partition.eof", "false"}},
                      conf);
  if (!st.ok()) return st;
  std::string err;
  if (conf->set("event_cb", r->logger_.get(), err) != RdKafka::Conf::CONF_OK)
    return {kafka_errc::config, "replay reader: " + err};
  r->consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!r->consumer_) return {kafka_errc::config, "creating the replay reader: " + err};

  for (const auto& topic : topics) {
    std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(r->consumer_.get(), topic, nullptr, err));
    if (!handle) return {kafka_errc::config, "topic " + topic + ": " + err};
    RdKafka::Metadata* raw = nullptr;
    auto e = r->consumer_->metadata(false, handle.get(), &raw, 10000);
    std::unique_ptr<RdKafka::Metadata> md(raw);
    if (e != RdKafka::ERR_NO_ERROR) return kafka_status::from(e, "reading metadata of " + topic);
    for (const auto* t : *md->topics()) {
      if (t->err() != RdKafka::ERR_NO_ERROR) return kafka_status::from(t->err(), "topic " + topic);
      for (const auto* p : *t->partitions()) r->partitions_.push_back(topic_partition{topic, partition_id{p->id()}});
    }
  }
  // Where each partition ends now; partitions without messages are not part of the range.
  std::vector<topic_partition> with_data;
  std::vector<std::pair<int64_t, int64_t>> bounds;
  for (const auto& tp : r->partitions_) {
    int64_t low = 0, high = 0;
    auto e = r->consumer_->query_watermark_offsets(tp.topic, tp.partition.value, &low, &high, 10000);
    if (e != RdKafka::ERR_NO_ERROR) return kafka_status::from(e, "reading the end of " + tp.to_string());
    if (low >= high) continue;
    with_data.push_back(tp);
    bounds.emplace_back(low, high);
  }
  auto starts = start(with_data);
  std::vector<RdKafka::TopicPartition*> assign;
  for (size_t i = 0; i < with_data.size(); ++i) {
    const auto& tp = with_data[i];
    auto [low, high] = bounds[i];
    int64_t from = i < starts.size() && starts[i] ? std::max(starts[i]->value, low) : low;
    r->ranges_[tp] = {offset{from}, offset{high}};
    if (from >= high) {
      r->finished_.push_back(tp);  // read completely before
      continue;
    }
    r->remaining_[tp] = high;
    assign.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition.value, from));
    log::info("replaying partition", {{"partition", tp.to_string()}, {"from", from}, {"to", high}});
  }
  auto e = r->consumer_->assign(assign);
  RdKafka::TopicPartition::destroy(assign);
  if (e != RdKafka::ERR_NO_ERROR) return kafka_status::from(e, "assigning the replay partitions");
  out = std::move(r);
  return {};
}

namespace {
kafka_status pause_or_resume(RdKafka::KafkaConsumer& c, const topic_partition& tp, bool pause) {
  std::vector<RdKafka::TopicPartition*> parts{RdKafka::TopicPartition::create(tp.topic, tp.partition.value)};
  auto e = pause ? c.pause(parts) : c.resume(parts);
  RdKafka::TopicPartition::destroy(parts);
  return e == RdKafka::ERR_NO_ERROR ? kafka_status{} : kafka_status::from(e, (pause ? "pausing " : "resuming ") + tp.to_string());
}
}  // namespace

kafka_status range_reader::pause(const topic_partition& tp) { return pause_or_resume(*consumer_, tp, true); }
kafka_status range_reader::resume(const topic_partition& tp) { return pause_or_resume(*consumer_, tp, false); }

std::vector<topic_partition> range_reader::take_finished() {
  std::vector<topic_partition> out;
  out.swap(finished_);
  return out;
}

range_reader::~range_reader() {
  if (consumer_) consumer_->close();
}

kafka_status range_reader::poll(size_t max_records, duration max_wait, std::vector<raw_record>& out) {
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  while (out.size() < max_records && !remaining_.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(static_cast<int>(std::max<int64_t>(0, left.count()))));
    if (m->err() == RdKafka::ERR__TIMED_OUT) return {};
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      auto st = kafka_status::from(m->err(), "replay read");
      if (st.code != kafka_errc::retriable) return st;
      log::warn("replay read error", {{"error", m->errstr()}});
      return {};
    }
    topic_partition tp{m->topic_name(), partition_id{m->partition()}};
    auto it = remaining_.find(tp);
    if (it == remaining_.end()) continue;  // past its end already: not part of the range
    if (m->offset() < it->second) {
      raw_record r;
      r.position = record_position{tp, offset{m->offset()}};
      if (m->key()) r.key = *m->key();
      r.payload.assign(static_cast<const char*>(m->payload()), m->len());
      out.push_back(std::move(r));
    }
    if (m->offset() + 1 >= it->second) {
      finished_.push_back(tp);
      remaining_.erase(it);
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
  }
  return {};
}

}  // namespace tw::kafka
