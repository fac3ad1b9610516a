#include "tools/fault/kafka_io.hpp"

#include "tools/fault/process.hpp"
#include "topics/kafka/output_producer.hpp"

namespace tw::fault {

using steady = std::chrono::steady_clock;

void produce_all(const std::string& brokers, const std::string& topic, const std::vector<sim::message>& messages,
                 std::chrono::seconds deadline) {
  std::unique_ptr<kafka::output_producer> p;
  if (auto st = kafka::output_producer::create(kafka::client_settings{brokers, {{"log_level", "3"}}}, p); !st.ok())
    throw harness_error("producer: " + st.message);
  const auto until = steady::now() + deadline;
  std::vector<kafka::delivery> reports;
  size_t acked = 0;
  auto collect = [&](std::chrono::milliseconds wait) {
    reports.clear();
    p->poll(wait, reports);
    for (const auto& r : reports) {
      if (!r.status.ok()) throw harness_error("producing the input failed: " + r.status.message);
      ++acked;
    }
    if (steady::now() > until) throw harness_error("producing the input timed out");
  };
  for (size_t i = 0; i < messages.size(); ++i) {
    while (true) {
      auto st = p->produce(topic, messages[i].key, messages[i].payload, i);
      if (st.ok()) break;
      if (st.code != kafka::kafka_errc::retriable) throw harness_error("produce: " + st.message);
      collect(std::chrono::milliseconds(10));  // the local queue is full
    }
  }
  while (acked < messages.size()) collect(std::chrono::milliseconds(50));
}

topic_reader::topic_reader(const std::string& brokers, const std::vector<topic_spec>& topics) : topics_(topics) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [k, v] : std::map<std::string, std::string>{{"bootstrap.servers", brokers},
                                                                {"group.id", "tw-fault-reader"},
                                                                {"enable.auto.commit", "false"},
                                                                {"enable.auto.offset.store", "false"},
                                                                {"enable.partition.eof", "false"},
                                                                {"auto.offset.reset", "earliest"},
                                                                {"fetch.wait.max.ms", "50"},
                                                                // The broker's absence is the test's own doing:
                                                                // results, not log lines, tell.
                                                                {"log_level", "2"}})
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) throw harness_error("reader " + k + ": " + err);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw harness_error("reader: " + err);
  std::vector<RdKafka::TopicPartition*> parts;
  for (const auto& t : topics_)
    for (int p = 0; p < t.partitions; ++p) {
      // An explicit offset: OFFSET_BEGINNING costs a 500 ms stall per partition in 2.0.2
      // (docs/benchmarks.md).
      parts.push_back(RdKafka::TopicPartition::create(t.name, p, 0));
      next_[{t.name, p}] = 0;
    }
  auto e = consumer_->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  if (e != RdKafka::ERR_NO_ERROR) throw harness_error("reader assign: " + RdKafka::err2str(e));
}

topic_reader::~topic_reader() {
  if (consumer_) consumer_->close();
}

size_t topic_reader::poll(std::chrono::milliseconds wait, std::vector<record>& out) {
  const auto until = steady::now() + wait;
  size_t n = 0;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count();
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(static_cast<int>(std::max<long long>(0, std::min<long long>(left, 20)))));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      record r;
      r.topic = m->topic_name();
      r.partition = m->partition();
      r.offset = m->offset();
      if (m->key()) r.key = *m->key();
      r.payload.assign(static_cast<const char*>(m->payload()), m->len());
      next_[{r.topic, r.partition}] = r.offset + 1;
      out.push_back(std::move(r));
      ++n;
      continue;  // drain what is already fetched before looking at the clock again
    }
    if (steady::now() >= until) return n;
  }
}

std::map<std::string, std::vector<partition_marks>> topic_reader::watermarks() {
  // One ListOffsets request per broker for all partitions at once (timestamps -2 and -1 are the
  // protocol's earliest and latest), rather than one blocking query per partition: with a few
  // hundred partitions the difference is tens of seconds.
  auto list = [&](int64_t which) {
    std::vector<RdKafka::TopicPartition*> parts;
    for (const auto& t : topics_)
      for (int p = 0; p < t.partitions; ++p) parts.push_back(RdKafka::TopicPartition::create(t.name, p, which));
    auto e = consumer_->offsetsForTimes(parts, 30000);
    if (e != RdKafka::ERR_NO_ERROR) {
      RdKafka::TopicPartition::destroy(parts);
      throw harness_error("listing offsets: " + RdKafka::err2str(e));
    }
    std::map<std::pair<std::string, int32_t>, int64_t> out;
    for (auto* tp : parts) {
      if (tp->err() != RdKafka::ERR_NO_ERROR) {
        std::string what = tp->topic() + "/" + std::to_string(tp->partition()) + ": " + RdKafka::err2str(tp->err());
        RdKafka::TopicPartition::destroy(parts);
        throw harness_error("listing offsets of " + what);
      }
      out[{tp->topic(), tp->partition()}] = tp->offset();
    }
    RdKafka::TopicPartition::destroy(parts);
    return out;
  };
  auto low = list(-2), high = list(-1);
  std::map<std::string, std::vector<partition_marks>> out;
  for (const auto& t : topics_)
    for (int p = 0; p < t.partitions; ++p) out[t.name].push_back(partition_marks{low[{t.name, p}], high[{t.name, p}]});
  return out;
}

void topic_reader::read_to_end(std::chrono::milliseconds deadline, std::vector<record>& out) {
  const auto until = steady::now() + deadline;
  auto marks = watermarks();
  auto behind = [&] {
    for (const auto& [topic, parts] : marks)
      for (size_t p = 0; p < parts.size(); ++p)
        if (next_[{topic, static_cast<int32_t>(p)}] < parts[p].high &&
            // a partition whose oldest messages were dropped starts later; it ends at high all the same
            parts[p].high > parts[p].low)
          return true;
    return false;
  };
  while (behind()) {
    if (steady::now() >= until) throw harness_error("reading the output topics to their end timed out");
    poll(std::chrono::milliseconds(100), out);
  }
}

group_offsets::group_offsets(const std::string& brokers, const std::string& group) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [k, v] : std::map<std::string, std::string>{
           {"bootstrap.servers", brokers}, {"group.id", group}, {"enable.auto.commit", "false"}, {"log_level", "2"}})
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) throw harness_error("group offsets " + k + ": " + err);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw harness_error("group offsets: " + err);
}

group_offsets::~group_offsets() {
  if (consumer_) consumer_->close();
}

int64_t group_offsets::committed(const topic_spec& topic, std::chrono::milliseconds timeout) {
  std::vector<RdKafka::TopicPartition*> parts;
  for (int p = 0; p < topic.partitions; ++p) parts.push_back(RdKafka::TopicPartition::create(topic.name, p));
  const auto e = consumer_->committed(parts, static_cast<int>(timeout.count()));
  int64_t sum = 0;
  for (auto* tp : parts)
    if (tp->err() == RdKafka::ERR_NO_ERROR && tp->offset() >= 0) sum += tp->offset();
  RdKafka::TopicPartition::destroy(parts);
  if (e != RdKafka::ERR_NO_ERROR) throw harness_error("committed offsets: " + RdKafka::err2str(e));
  return sum;
}

}  // namespace tw::fault
