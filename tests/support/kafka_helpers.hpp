// Kafka helpers for tests: produce messages, read a topic back with a real consumer, wait for a
// condition with a deadline (never a fixed sleep).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <functional>
#include <set>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sim/call_generator.hpp"
#include "topics/kafka/output_producer.hpp"

namespace tw::test {

// Polls `done` until it returns true or the deadline passes; returns its last answer.
inline bool eventually(std::chrono::milliseconds deadline, const std::function<bool()>& done,
                       std::chrono::milliseconds every = std::chrono::milliseconds(50)) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(every);  // the poll interval of a condition wait, not a synchronisation
  }
}

// Produces messages and waits until every one is acknowledged.
inline void produce_all(const std::string& brokers, const std::string& topic, const std::vector<sim::message>& msgs) {
  std::unique_ptr<kafka::output_producer> p;
  auto st = kafka::output_producer::create(kafka::client_settings{brokers, {}}, p);
  if (!st.ok()) throw std::runtime_error(st.message);
  std::vector<kafka::delivery> reports;
  size_t acked = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    while (!p->produce(topic, msgs[i].key, msgs[i].payload, i).ok()) p->poll(std::chrono::milliseconds(10), reports);
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (acked < msgs.size()) {
    reports.clear();
    p->poll(std::chrono::milliseconds(50), reports);
    for (auto& r : reports) {
      if (!r.status.ok()) throw std::runtime_error("produce failed: " + r.status.message);
      ++acked;
    }
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error("produce timed out");
  }
}

struct consumed {
  std::string key;
  std::string payload;
  int32_t partition;
  int64_t offset;
};

// Reads every partition of a topic from the beginning, without a consumer group.
class topic_reader {
 public:
  topic_reader(const std::string& brokers, const std::string& topic, int partitions) {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", brokers, err);
    conf->set("group.id", "tracewatch-test-reader", err);
    conf->set("enable.auto.commit", "false", err);
    conf->set("log_level", "3", err);
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!consumer_) throw std::runtime_error(err);
    std::vector<RdKafka::TopicPartition*> parts;
    for (int p = 0; p < partitions; ++p)
      parts.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
    consumer_->assign(parts);
    RdKafka::TopicPartition::destroy(parts);
  }
  ~topic_reader() { consumer_->close(); }

  // Reads what is available for up to `wait`.
  void poll(std::chrono::milliseconds wait) {
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(20));
      if (m->err() == RdKafka::ERR_NO_ERROR)
        messages.push_back(consumed{m->key() ? *m->key() : "",
                                    std::string(static_cast<const char*>(m->payload()), m->len()), m->partition(),
                                    m->offset()});
    }
  }

  std::vector<consumed> messages;

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
};

}  // namespace tw::test
