#include "topics/kafka/mock_cluster.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace tw::kafka {

kafka_status mock_cluster::start(int brokers, std::unique_ptr<mock_cluster>& out) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The owning handle only hosts the cluster; keep it quiet.
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return {kafka_errc::fatal, std::string("creating the mock cluster's handle: ") + err};
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    rd_kafka_destroy(rk);
    return {kafka_errc::fatal, "creating the mock cluster"};
  }
  std::unique_ptr<mock_cluster> m(new mock_cluster());
  m->owner_ = rk;
  m->cluster_ = mc;
  m->bootstraps_ = rd_kafka_mock_cluster_bootstraps(mc);
  out = std::move(m);
  return {};
}

mock_cluster::~mock_cluster() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (owner_) rd_kafka_destroy(owner_);
}

kafka_status mock_cluster::create_topic(const std::string& name, int partitions) {
  auto err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  if (err) return {kafka_errc::config, "creating topic " + name + ": " + rd_kafka_err2str(err)};
  return {};
}

kafka_status mock_cluster::set_brokers_down() {
  if (auto err = rd_kafka_mock_broker_set_down(cluster_, -1))
    return {kafka_errc::fatal, std::string("taking the mock brokers down: ") + rd_kafka_err2str(err)};
  return {};
}

kafka_status mock_cluster::set_brokers_up() {
  if (auto err = rd_kafka_mock_broker_set_up(cluster_, -1))
    return {kafka_errc::fatal, std::string("bringing the mock brokers up: ") + rd_kafka_err2str(err)};
  return {};
}

}  // namespace tw::kafka
