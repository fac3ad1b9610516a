#include "topics/kafka/output_producer.hpp"

#include <chrono>

namespace tw::kafka {

kafka_status produce_status(RdKafka::ErrorCode err, const std::string& context) {
  auto st = kafka_status::from(err, context);
  switch (err) {
    case RdKafka::ERR_NO_ERROR:
      break;
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_INVALID_RECORD:
      st.code = kafka_errc::rejected;
      break;
    default:
      // The client's own classification (config for an unknown topic, fatal for authorisation)
      // is about the client; for one message all of them mean "not now".
      st.code = kafka_errc::retriable;
      break;
  }
  return st;
}

class output_producer::reporter : public RdKafka::DeliveryReportCb {
 public:
  // Runs inside poll(), on the owning thread.
  void dr_cb(RdKafka::Message& m) override {
    auto* seq = static_cast<uint64_t*>(m.msg_opaque());
    if (reports) reports->push_back(delivery{*seq, produce_status(m.err(), "delivering to " + m.topic_name())});
    delete seq;
  }
  // Where reports go; null outside poll() (flush() and destruction also serve reports, which are
  // then not acted on: what was not acknowledged stays in the outbox).
  std::vector<delivery>* reports = nullptr;
};

kafka_status output_producer::create(const client_settings& s, std::unique_ptr<output_producer>& out) {
  std::unique_ptr<output_producer> p(new output_producer());
  p->reporter_ = std::make_unique<reporter>();
  p->logger_ = std::make_unique<event_logger>("producer");
  std::unique_ptr<RdKafka::Conf> conf;
  auto st = make_conf(s, {{"linger.ms", "5"}, {"compression.type", "lz4"}},
                      {{"enable.idempotence", "true"}, {"acks", "all"}}, conf);
  if (!st.ok()) return st;
  std::string err;
  if (conf->set("dr_cb", p->reporter_.get(), err) != RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", p->logger_.get(), err) != RdKafka::Conf::CONF_OK)
    return {kafka_errc::config, "producer callbacks: " + err};
  p->producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!p->producer_) return {kafka_errc::config, "creating the producer: " + err};
  out = std::move(p);
  return {};
}

output_producer::~output_producer() {
  if (!producer_) return;
  // Outstanding messages stay in the outbox and are re-sent by the next process: nothing to wait
  // for here beyond a short courtesy flush. Its delivery reports are not acted on (regression:
  // they used to be written through a null report sink, crashing a demo stopped mid-stream).
  reporter_->reports = nullptr;
  producer_->flush(1000);
}

kafka_status output_producer::produce(const std::string& topic, const std::string& key, const std::string& payload,
                                      uint64_t seq) {
  auto* opaque = new uint64_t(seq);
  auto err = producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                const_cast<char*>(payload.data()), payload.size(), key.empty() ? nullptr : key.data(),
                                key.size(), 0, nullptr, opaque);
  if (err != RdKafka::ERR_NO_ERROR) {
    delete opaque;
    return produce_status(err, "producing to " + topic);
  }
  return {};
}

void output_producer::poll(duration wait, std::vector<delivery>& out) {
  reporter_->reports = &out;
  producer_->poll(static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()));
  reporter_->reports = nullptr;
}

int output_producer::in_flight() const { return producer_->outq_len(); }

}  // namespace tw::kafka
