// connectivity_monitor: what the log says while the brokers are away (topics/kafka/connectivity.hpp).
// Regression: with the broker down for 30 s, tracewatch logged about twenty lines in the first
// second — each failed connection twice, as a librdkafka log line and as an error event — then
// nothing, and nothing when the broker came back; with the broker frozen (SIGSTOP) it logged
// nothing at all (tools/broker_faults.cpp).
#include <catch2/catch.hpp>

#include "topics/kafka/connectivity.hpp"

using namespace tw;
using namespace tw::kafka;
using namespace std::chrono_literals;

namespace {

const wall_time t0 = wall_time::from_millis(1'700'000'000'000);

std::vector<broker_stats> up() { return {{"127.0.0.1:9092/1", "learned", "UP", 1, 20'000}}; }
std::vector<broker_stats> down() {
  return {{"127.0.0.1:9092/bootstrap", "configured", "DOWN", 0, 900'000},
          {"127.0.0.1:9092/1", "learned", "CONNECT", 0, 900'000},
          {"GroupCoordinator", "logical", "UP", 0, 10}};
}
std::vector<broker_stats> frozen(duration silent) {
  return {{"127.0.0.1:9092/1", "learned", "UP", 3, silent.count()}};
}

}  // namespace

TEST_CASE("a broker outage is one warn when it has lasted the grace period, a reminder every 30 s and one line when it ends") {
  connectivity_monitor m;
  CHECK(m.on_stats(t0 - 1s, up()).empty());  // statistics arrive every second from the start
  CHECK_FALSE(m.on_connection_error(t0, "127.0.0.1:9092/1: Connection refused"));
  for (int i = 1; i <= 20; ++i) CHECK_FALSE(m.on_connection_error(t0 + duration(i * 10'000), "Connection refused"));
  CHECK(m.on_stats(t0 + 1s, down()).empty());

  auto first = m.on_stats(t0 + 2s, down());
  REQUIRE(first.size() == 1);
  CHECK(first[0].what == connectivity_notice::kind::unreachable);
  CHECK(first[0].since == t0);
  CHECK(first[0].detail == "127.0.0.1:9092/1: Connection refused");
  CHECK(first[0].suppressed == 20);

  for (int s = 3; s < 32; ++s) CHECK(m.on_stats(t0 + std::chrono::seconds(s), down()).empty());
  auto reminder = m.on_stats(t0 + 32s, down());
  REQUIRE(reminder.size() == 1);
  CHECK(reminder[0].what == connectivity_notice::kind::still_unreachable);
  CHECK(reminder[0].lasted == duration(32s));

  CHECK_FALSE(m.on_connection_error(t0 + 33s, "Connection refused"));
  auto back = m.on_stats(t0 + 40s, up());
  REQUIRE(back.size() == 1);
  CHECK(back[0].what == connectivity_notice::kind::reachable_again);
  CHECK(back[0].lasted == duration(40s));
  CHECK(back[0].suppressed == 1);
  CHECK_FALSE(m.in_trouble());
  CHECK(m.on_stats(t0 + 41s, up()).empty());
}

TEST_CASE("a reconnection quicker than the grace period logs nothing") {
  connectivity_monitor m;
  CHECK(m.on_stats(t0, up()).empty());
  CHECK_FALSE(m.on_connection_error(t0 + 100ms, "Disconnected (after 600000ms in state UP)"));
  CHECK(m.on_stats(t0 + 1s, up()).empty());
  CHECK_FALSE(m.in_trouble());
}

TEST_CASE("a frozen broker (connection open, requests unanswered) is reported after the silence, dated from its last answer") {
  connectivity_monitor m;
  CHECK(m.on_stats(t0, up()).empty());  // a request waiting, as always on a busy connection
  for (int s = 1; s < 10; ++s) CHECK(m.on_stats(t0 + std::chrono::seconds(s), frozen(std::chrono::seconds(s))).empty());
  auto n = m.on_stats(t0 + 10s, frozen(10s));  // nothing received since the statistics at t0
  REQUIRE(n.size() == 1);
  CHECK(n[0].what == connectivity_notice::kind::unreachable);
  CHECK(n[0].since == t0);
  CHECK_THAT(n[0].detail, Catch::Contains("3 request(s) unanswered"));
  auto back = m.on_stats(t0 + 31s, up());
  REQUIRE(back.size() == 1);
  CHECK(back[0].what == connectivity_notice::kind::reachable_again);
}

TEST_CASE("an idle connection with nothing to wait for is not a frozen broker") {
  connectivity_monitor m;
  CHECK(m.on_stats(t0 + 60s, {{"127.0.0.1:9092/1", "learned", "UP", 0, 60'000'000}}).empty());
  CHECK_FALSE(m.in_trouble());
}

TEST_CASE("the first request after a long idle time, caught in flight by the statistics, is not a frozen broker") {
  // Regression: an idle producer's first produce request, seen waiting 17 s after its last
  // receive, was reported as "brokers unreachable".
  connectivity_monitor m;
  CHECK(m.on_stats(t0, {{"127.0.0.1:9092/1", "learned", "UP", 1, 17'000'000}}).empty());
  CHECK(m.on_stats(t0 + 1s, {{"127.0.0.1:9092/1", "learned", "UP", 0, 200'000}}).empty());
  // Busy: a request always waiting, but answers keep coming.
  for (int s = 2; s < 30; ++s)
    CHECK(m.on_stats(t0 + std::chrono::seconds(s), {{"127.0.0.1:9092/1", "learned", "UP", 2, 30'000}}).empty());
  CHECK_FALSE(m.in_trouble());
}

TEST_CASE("brokers that are not connected, without any connection error, are not an outage") {
  connectivity_monitor m;
  for (int s = 0; s < 30; ++s) CHECK(m.on_stats(t0 + std::chrono::seconds(s), down()).empty());
  CHECK_FALSE(m.in_trouble());
}

TEST_CASE("without statistics the first connection error is reported at once") {
  connectivity_monitor m;
  auto n = m.on_connection_error(t0, "Connection refused");
  REQUIRE(n);
  CHECK(n->what == connectivity_notice::kind::unreachable);
  CHECK_FALSE(m.on_connection_error(t0 + 1s, "Connection refused"));
  auto reminder = m.on_connection_error(t0 + 31s, "Connection refused");
  REQUIRE(reminder);
  CHECK(reminder->what == connectivity_notice::kind::still_unreachable);
}

TEST_CASE("the brokers are read from a statistics document without parsing its partitions") {
  const std::string doc =
      R"({ "name": "rdkafka#consumer-1", "type": "consumer", "brokers":{ "127.0.0.1:35223/1": { "name":"127.0.0.1:35223/1", )"
      R"("nodeid":1, "source":"learned", "state":"UP", "waitresp_cnt":1, "rxidle":390140, "rtt": { "min":1, "cnt":2 } }, )"
      R"("GroupCoordinator": { "name":"GroupCoordinator", "nodeid":-1, "source":"logical", "state":"UP", "waitresp_cnt":0, "rxidle":-1 } }, )"
      R"("topics":{ "in": { "partitions": { "0": { "partition":0 } } } } })";
  auto b = parse_broker_stats(doc);
  REQUIRE(b);
  REQUIRE(b->size() == 2);
  CHECK((*b)[0].name == "127.0.0.1:35223/1");
  CHECK((*b)[0].state == "UP");
  CHECK((*b)[0].waiting == 1);
  CHECK((*b)[0].rx_idle_us == 390140);
  CHECK((*b)[1].source == "logical");
  CHECK_FALSE(parse_broker_stats(R"({"name":"x"})"));
  CHECK_FALSE(parse_broker_stats(R"({"brokers":{"a":{)"));
}
