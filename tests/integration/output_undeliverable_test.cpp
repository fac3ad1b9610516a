// The output stage with the real producer against librdkafka's mock cluster: the defect of issue 6.
// A session record of 2 MB (an unbounded OTLP gen_ai.response.finish_reasons copied into it) is
// over librdkafka's default message.max.bytes; it used to be retried forever, silently, and every
// record behind it in its lane stayed in the outbox.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "actors/output_stage.hpp"
#include "model/clock.hpp"
#include "state/outbox.hpp"
#include "state/store.hpp"
#include "tests/support/contract_check.hpp"
#include "tests/support/kafka_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "topics/kafka/mock_cluster.hpp"
#include "topics/sinks.hpp"

using namespace tw;
using namespace std::chrono_literals;

TEST_CASE("a record larger than message.max.bytes becomes a dead letter and the records behind it are delivered") {
  std::unique_ptr<kafka::mock_cluster> cluster;
  REQUIRE(kafka::mock_cluster::start(1, cluster).ok());
  REQUIRE(cluster->create_topic("tracewatch.sessions", 1).ok());
  REQUIRE(cluster->create_topic("tracewatch.deadletter", 1).ok());

  test::temp_dir dir;
  std::unique_ptr<state::store> db;
  state::store_options so;
  so.dir = dir.path();
  REQUIRE(state::store::open(so, db).ok());
  state::outbox_writer lane(*db, state::outbox_lane::sessions);
  REQUIRE(lane.open().ok());

  // 50 sessions, the poison one, 106 behind it (as in the issue's repro).
  std::vector<std::string> keys;
  rocksdb::WriteBatch batch;
  for (int i = 0; i < 157; ++i) {
    const std::string key = i == 50 ? "poison" : "s" + std::to_string(i);
    const std::string finish = i == 50 ? std::string(2 << 20, 's') : "stop";
    lane.put(batch, "tracewatch.sessions", key,
             R"({"schema":"tracewatch.session.v1","session_id":")" + key + R"(","finish_reason":")" + finish + "\"}");
    keys.push_back(key);
  }
  lane.save(batch);
  REQUIRE(db->db()->Write(db->write_options(), &batch).ok());

  std::unique_ptr<kafka::output_producer> producer;
  REQUIRE(kafka::output_producer::create(kafka::client_settings{cluster->bootstrap_servers(), {}}, producer).ok());
  kafka_writer writer(std::move(producer));
  actors::output_probe probe;
  actors::output_stage_config cfg;
  cfg.deadletter_topic = "tracewatch.deadletter";
  actors::output_stage stage(*db, writer, system_clock::instance(), probe, cfg);
  stage.available(state::outbox_lane::sessions, lane.next());

  std::string error;
  REQUIRE(test::eventually(30s, [&] {
    REQUIRE(stage.step(10ms, error));
    return stage.idle();
  }, 0ms));

  test::topic_reader sessions(cluster->bootstrap_servers(), "tracewatch.sessions", 1);
  test::topic_reader dead(cluster->bootstrap_servers(), "tracewatch.deadletter", 1);
  REQUIRE(test::eventually(20s, [&] {
    sessions.poll(100ms);
    dead.poll(100ms);
    return sessions.messages.size() >= 156 && !dead.messages.empty();
  }));
  std::vector<std::string> delivered;
  for (const auto& m : sessions.messages) delivered.push_back(m.key);
  std::vector<std::string> expected = keys;
  expected.erase(expected.begin() + 50);
  CHECK(delivered == expected);  // all the others, in order

  REQUIRE(dead.messages.size() == 1);
  CHECK(dead.messages[0].key == "poison");
  INFO(dead.messages[0].payload.substr(0, 500));
  CHECK(test::contract_violations("tracewatch.deadletter.v1", dead.messages[0].payload).empty());
  auto doc = nlohmann::json::parse(dead.messages[0].payload);
  CHECK(doc["reason"] == "undeliverable");
  const std::string detail = doc["detail"];
  CHECK(detail.find("tracewatch.sessions") != std::string::npos);
  CHECK(detail.find("\"poison\"") != std::string::npos);
  CHECK(detail.find("Message size too large") != std::string::npos);
  CHECK(doc["source"]["offset"] == 50);

  CHECK(probe.undeliverable == 1);
  CHECK(probe.backlog == 0);
  state::outbox_reader reader(*db);
  std::vector<state::outbox_entry> left;
  REQUIRE(reader.read(state::outbox_lane::sessions, 0, 1000, left).ok());
  CHECK(left.empty());
}
