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
      owner_.commits_.assigned(tps);
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
      auto final_positions = listener_.on_revoked(tps);
      // Still ours until unassign(): the group takes a commit of them now, and lag tools then show
      // where they stopped. Asynchronous: close() waits for it (bounded by the socket timeout),
      // a rebalance does not.
      if (auto p = owner_.commits_.on_revoke(tps, final_positions); !p.empty()) owner_.send_commit(p);
      owner_.commits_.revoked(tps);
      for (auto* p : parts) log::info("partition revoked", {{"topic", p->topic()}, {"partition", p->partition()}});
      consumer->unassign();
    }
  }

 private:
  rebalance_listener& listener_;
  start_position start_;
  input_consumer& owner_;
};

namespace {
// Every failure is handled alike — the next interval commits again — so librdkafka's error is not
// classified into kafka_errc here: it is only shown.
void report_commit_failure(const std::string& error, uint64_t failed_commits) {
  log::warn("committing the input positions to the consumer group failed; consumer-lag tools show older "
            "positions meanwhile (informational only: tracewatch resumes from its own state)",
            {{"error", error}, {"failed_commits", failed_commits}});
}
}  // namespace

// The group's answers to commitAsync(). Runs on the polling thread, inside consume() or close().
class input_consumer::commit_reporter : public RdKafka::OffsetCommitCb {
 public:
  explicit commit_reporter(input_consumer& owner) : owner_(owner) {}

  void offset_commit_cb(RdKafka::ErrorCode err, std::vector<RdKafka::TopicPartition*>& offsets) override {
    positions accepted;
    std::string partition_error;
    for (const auto* p : offsets) {
      if (p->err() == RdKafka::ERR_NO_ERROR) {
        accepted.emplace(topic_partition{p->topic(), partition_id{p->partition()}}, offset{p->offset()});
      } else if (partition_error.empty()) {
        partition_error = p->topic() + "/" + std::to_string(p->partition()) + ": " + RdKafka::err2str(p->err());
      }
    }
    const bool ok = err == RdKafka::ERR_NO_ERROR && partition_error.empty();
    if (auto failures = owner_.commits_.on_result(owner_.clock_.now(), accepted, ok))
      report_commit_failure(err != RdKafka::ERR_NO_ERROR ? RdKafka::err2str(err) : partition_error, *failures);
  }

 private:
  input_consumer& owner_;
};

input_consumer::input_consumer(const consumer_settings& s, group_commit_probe& commits)
    : clock_(*s.clk), commits_(s.group_commit_interval, commits) {}

void input_consumer::send_commit(const positions& p) {
  std::vector<RdKafka::TopicPartition*> parts;
  for (const auto& [tp, off] : p) parts.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition.value, off.value));
  const auto e = consumer_->commitAsync(parts);
  RdKafka::TopicPartition::destroy(parts);
  if (e == RdKafka::ERR_NO_ERROR) return;  // the answer comes through commit_reporter
  if (auto failures = commits_.on_send_failed(clock_.now())) report_commit_failure(RdKafka::err2str(e), *failures);
}

void input_consumer::commit_durable(const positions& durable) {
  if (closed_) return;
  if (auto p = commits_.due(clock_.now(), durable); !p.empty()) send_commit(p);
}

kafka_status input_consumer::create(const consumer_settings& s, rebalance_listener& listener,
                                    group_commit_probe& commits, std::unique_ptr<input_consumer>& out) {
  std::unique_ptr<input_consumer> c(new input_consumer(s, commits));
  c->rebalancer_ = std::make_unique<rebalancer>(listener, s.start_from, *c);
  c->commit_reporter_ = std::make_unique<commit_reporter>(*c);
  c->logger_ = std::make_unique<event_logger>("consumer");
  std::unique_ptr<RdKafka::Conf> conf;
  // queued.max.messages.kbytes: librdkafka prefetches up to 64 MB by default, a quarter of the
  // process's memory bound under a backlog (docs/operations.md, "Memory"); 16 MB is still seconds
  // of input at the pipeline's rate. Both may be overridden (kafka.consumer).
  auto st = make_conf(s.client,
                      {{"fetch.wait.max.ms", "50"}, {"queued.max.messages.kbytes", "16384"}},
                      {{"group.id", s.group_id},
                       {"enable.auto.commit", "false"},
                       {"enable.auto.offset.store", "false"},
                       {"enable.partition.eof", "true"},
                       {"auto.offset.reset", s.start_from == start_position::earliest ? "earliest" : "latest"}},
                      conf);
  if (!st.ok()) return st;
  std::string err;
  if (conf->set("rebalance_cb", c->rebalancer_.get(), err) != RdKafka::Conf::CONF_OK ||
      conf->set("offset_commit_cb", c->commit_reporter_.get(), err) != RdKafka::Conf::CONF_OK ||
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
