#include "topics/kafka/input_consumer.hpp"

#include <chrono>

#include "model/log.hpp"

namespace tw::kafka {

class input_consumer::rebalancer : public RdKafka::RebalanceCb {
 public:
  rebalancer(rebalance_listener& l, start_position start, input_consumer& owner)
      : listener_(l), start_(start), owner_(owner) {}

  // Runs on the polling thread, inside consume().
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& parts) override {
    std::vector<topic_partition> tps;
    for (auto* p : parts) tps.push_back(topic_partition{p->topic(), partition_id{p->partition()}});
    if (owner_.gathering_ && (!owner_.gathering_->records.empty() || !owner_.gathering_->reached_end.empty()))
      listener_.on_consumed_before_rebalance(*owner_.gathering_);
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      auto stored = listener_.on_assigned(tps);
      for (size_t i = 0; i < parts.size(); ++i) {
        int64_t start = start_ == start_position::earliest ? RdKafka::Topic::OFFSET_BEGINNING : RdKafka::Topic::OFFSET_END;
        if (i < stored.size() && stored[i]) start = stored[i]->value;
        parts[i]->set_offset(start);
        log::info("partition assigned", {{"topic", parts[i]->topic()}, {"partition", parts[i]->partition()},
                                         {"from_offset", start}, {"stored", i < stored.size() && stored[i].has_value()}});
      }
      if (auto e = consumer->assign(parts); e != RdKafka::ERR_NO_ERROR)
        log::error("assigning partitions failed", {{"error", RdKafka::err2str(e)}});
      // Newly assigned partitions start unpaused: keep backpressure in force.
      if (owner_.paused_) consumer->pause(parts);
    } else {
      listener_.on_revoked(tps);
      for (auto* p : parts) log::info("partition revoked", {{"topic", p->topic()}, {"partition", p->partition()}});
      consumer->unassign();
    }
  }

 private:
  rebalance_listener& listener_;
  start_position start_;
  input_consumer& owner_;
};

kafka_status input_consumer::create(const consumer_settings& s, rebalance_listener& listener,
                                    std::unique_ptr<input_consumer>& out) {
  std::unique_ptr<input_consumer> c(new input_consumer());
  c->rebalancer_ = std::make_unique<rebalancer>(listener, s.start_from, *c);
  c->logger_ = std::make_unique<event_logger>("consumer");
  std::unique_ptr<RdKafka::Conf> conf;
  auto st = make_conf(s.client,
                      {{"fetch.wait.max.ms", "50"}},
                      {{"group.id", s.group_id},
                       {"enable.auto.commit", "false"},
                       {"enable.auto.offset.store", "false"},
                       {"enable.partition.eof", "true"},
                       {"auto.offset.reset", s.start_from == start_position::earliest ? "earliest" : "latest"}},
                      conf);
  if (!st.ok()) return st;
  std::string err;
  if (conf->set("rebalance_cb", c->rebalancer_.get(), err) != RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", c->logger_.get(), err) != RdKafka::Conf::CONF_OK)
    return {kafka_errc::config, "consumer callbacks: " + err};
  c->consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c->consumer_) return {kafka_errc::config, "creating the consumer: " + err};
  if (auto e = c->consumer_->subscribe(s.topics); e != RdKafka::ERR_NO_ERROR)
    return kafka_status::from(e, "subscribing to the input topics");
  out = std::move(c);
  return {};
}

input_consumer::~input_consumer() { close(); }

kafka_status input_consumer::poll(size_t max_records, duration max_wait, poll_result& out) {
  gathering_ = &out;
  struct done_gathering {
    poll_result*& p;
    ~done_gathering() { p = nullptr; }
  } guard{gathering_};
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  int timeout_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(max_wait).count());
  while (out.records.size() < max_records) {
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(timeout_ms));
    switch (m->err()) {
      case RdKafka::ERR_NO_ERROR: {
        raw_record r;
        r.position = record_position{topic_partition{m->topic_name(), partition_id{m->partition()}}, offset{m->offset()}};
        if (m->key()) r.key = *m->key();
        r.payload.assign(static_cast<const char*>(m->payload()), m->len());
        out.records.push_back(std::move(r));
        break;
      }
      case RdKafka::ERR__PARTITION_EOF:
        out.reached_end.push_back(topic_partition{m->topic_name(), partition_id{m->partition()}});
        break;
      case RdKafka::ERR__TIMED_OUT:
        return {};
      default: {
        auto st = kafka_status::from(m->err(), "consuming");
        if (st.code == kafka_errc::fatal) return st;
        log::warn("consumer error", {{"error", m->errstr()}, {"topic", m->topic_name()}});
        return {};
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    // After the first record, gather what is already fetched, waiting at most until the deadline.
    timeout_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
  }
  return {};
}

std::vector<partition_extent> input_consumer::extents() const {
  std::vector<partition_extent> out;
  std::vector<RdKafka::TopicPartition*> parts;
  if (consumer_->assignment(parts) != RdKafka::ERR_NO_ERROR) return out;
  for (const auto* p : parts) {
    int64_t low = RdKafka::Topic::OFFSET_INVALID, high = RdKafka::Topic::OFFSET_INVALID;
    if (consumer_->get_watermark_offsets(p->topic(), p->partition(), &low, &high) != RdKafka::ERR_NO_ERROR) continue;
    if (low < 0 || high < 0) continue;  // not fetched from yet: unknown
    out.push_back(partition_extent{topic_partition{p->topic(), partition_id{p->partition()}}, offset{low}, offset{high}});
  }
  RdKafka::TopicPartition::destroy(parts);
  return out;
}

void input_consumer::pause() {
  if (paused_) return;
  std::vector<RdKafka::TopicPartition*> parts;
  consumer_->assignment(parts);
  consumer_->pause(parts);
  RdKafka::TopicPartition::destroy(parts);
  paused_ = true;
}

void input_consumer::resume() {
  if (!paused_) return;
  std::vector<RdKafka::TopicPartition*> parts;
  consumer_->assignment(parts);
  consumer_->resume(parts);
  RdKafka::TopicPartition::destroy(parts);
  paused_ = false;
}

void input_consumer::close() {
  if (closed_ || !consumer_) return;
  closed_ = true;
  consumer_->close();
}

}  // namespace tw::kafka
