// librdkafka's mock cluster: the real Kafka protocol on loopback ports, inside this process. The
// demo uses it as an embedded broker; tests use it (and its fault injection) as a real cluster.
// Other processes (the tracewatch binary, kcat) connect to bootstrap_servers().
//
// Facts (../shared/notes/kafka-mock.md): each partition keeps only about 5 MB; a group join takes
// about 3 s; producing to an unknown topic creates it with 4 partitions.
//
// Fault injection: set_brokers_down() closes every connection to the brokers and refuses new
// ones until set_brokers_up(); leadership does not move (rd_kafka_mock_broker_set_down/up). The
// cluster's own timers keep running meanwhile, so consumer-group sessions expire as they would
// on a real broker that clients cannot reach. tools/tw_mock_broker drives these from stdin.
//
// Thread-safety: the mock runs on its own thread; these calls may come from any thread.
#pragma once

#include <memory>
#include <string>

#include "topics/kafka/client.hpp"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace tw::kafka {

class mock_cluster {
 public:
  static kafka_status start(int brokers, std::unique_ptr<mock_cluster>& out);
  ~mock_cluster();
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;

  const std::string& bootstrap_servers() const { return bootstraps_; }
  kafka_status create_topic(const std::string& name, int partitions);
  // Every broker of the cluster (the mock's broker id -1).
  kafka_status set_brokers_down();
  kafka_status set_brokers_up();
  rd_kafka_mock_cluster_s* handle() { return cluster_; }

 private:
  mock_cluster() = default;
  rd_kafka_s* owner_ = nullptr;  // the cluster lives as long as this handle
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace tw::kafka
