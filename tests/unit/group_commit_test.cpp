// What the consumer-group commits send, and when (topics/kafka/group_commit.hpp). The commits are
// informational, but a schedule that commits a partition another member holds, floods the group
// coordinator or logs every failure would hurt: these cases pin it, with a manual clock.
#include <catch2/catch.hpp>

#include "topics/kafka/group_commit.hpp"

using namespace tw;
using namespace tw::kafka;
using namespace std::chrono_literals;

namespace {

topic_partition tp(int p) { return topic_partition{"traces.raw", partition_id{p}}; }

wall_time at(int64_t ms) { return wall_time::from_millis(1'700'000'000'000 + ms); }

}  // namespace

TEST_CASE("the group gets the next offset to consume, exactly as the state stage stored it") {
  // The state stage stores offset::next_to_consume() of the last record applied: record 41
  // applied, 42 stored, 42 committed (Kafka's committed offset is the next record to read).
  CHECK(group_position(offset{41}.next_to_consume()) == offset{42});
  group_commit_probe probe;
  group_commit_schedule s(5s, probe);
  s.assigned({tp(0)});
  CHECK(s.due(at(0), {{tp(0), offset{41}.next_to_consume()}}) == positions{{tp(0), offset{42}}});
}

TEST_CASE("only partitions this consumer holds are committed") {
  group_commit_probe probe;
  group_commit_schedule s(5s, probe);
  s.assigned({tp(0), tp(1)});
  const positions durable{{tp(0), offset{10}}, {tp(1), offset{20}}, {tp(2), offset{30}}};
  CHECK(s.due(at(0), durable) == positions{{tp(0), offset{10}}, {tp(1), offset{20}}});
  CHECK(s.on_result(at(10), {{tp(0), offset{10}}, {tp(1), offset{20}}}, true) == std::nullopt);
  s.revoked({tp(1)});
  CHECK(s.due(at(6000), {{tp(0), offset{11}}, {tp(1), offset{21}}}) == positions{{tp(0), offset{11}}});
}

TEST_CASE("at most one commit per interval, one at a time, and only positions that moved") {
  group_commit_probe probe;
  group_commit_schedule s(5s, probe);
  s.assigned({tp(0)});
  REQUIRE(s.due(at(0), {{tp(0), offset{1}}}).size() == 1);
  // In flight: nothing more, however long the answer takes.
  CHECK(s.due(at(6000), {{tp(0), offset{2}}}).empty());
  CHECK_FALSE(s.on_result(at(6100), {{tp(0), offset{1}}}, true));
  // Answered, but the interval since the last commit started has passed only now.
  CHECK(s.due(at(6100), {{tp(0), offset{2}}}) == positions{{tp(0), offset{2}}});
  CHECK_FALSE(s.on_result(at(6200), {{tp(0), offset{2}}}, true));
  CHECK(s.due(at(10000), {{tp(0), offset{3}}}).empty());  // 3.9 s after: not yet
  CHECK(s.due(at(20000), {{tp(0), offset{2}}}).empty());  // nothing moved: nothing to send
  CHECK(probe.commits == 2);
  CHECK(probe.partitions_committed == 2);
  CHECK(probe.commits_failed == 0);
}

TEST_CASE("a failed commit is retried at the next interval and logged at most once per interval") {
  group_commit_probe probe;
  group_commit_schedule s(5s, probe);
  s.assigned({tp(0)});
  const positions durable{{tp(0), offset{7}}};
  REQUIRE(s.due(at(0), durable).size() == 1);
  CHECK(s.on_result(at(100), {}, false) == uint64_t{1});     // the first failure is reported
  REQUIRE(s.due(at(5000), durable).size() == 1);            // the same position again: not accepted yet
  CHECK(s.on_result(at(5050), {}, false) == std::nullopt);   // 4.95 s after the report: counted, not logged
  REQUIRE(s.due(at(10050), durable).size() == 1);
  CHECK(s.on_send_failed(at(10050)) == uint64_t{2});         // the two failures since the report
  CHECK(probe.commits_failed == 3);
  // A partial answer: the partitions without an error count as accepted.
  s.assigned({tp(1)});
  REQUIRE(s.due(at(15050), {{tp(0), offset{7}}, {tp(1), offset{3}}}).size() == 2);
  CHECK(s.on_result(at(15100), {{tp(0), offset{7}}}, false) == uint64_t{1});
  CHECK(s.due(at(20050), {{tp(0), offset{7}}, {tp(1), offset{3}}}) == positions{{tp(1), offset{3}}});
}

TEST_CASE("a revoked partition's final position is committed at once, whatever the interval") {
  group_commit_probe probe;
  group_commit_schedule s(5s, probe);
  s.assigned({tp(0), tp(1), tp(2)});
  REQUIRE(s.due(at(0), {{tp(0), offset{5}}, {tp(1), offset{6}}}).size() == 2);
  CHECK_FALSE(s.on_result(at(10), {{tp(0), offset{5}}, {tp(1), offset{6}}}, true));
  // tp(0) did not move since (nothing to say), tp(1) did, tp(2) has nothing stored.
  CHECK(s.on_revoke({tp(0), tp(1), tp(2)}, {offset{5}, offset{9}, std::nullopt}) == positions{{tp(1), offset{9}}});
  s.revoked({tp(0), tp(1), tp(2)});
  CHECK(s.assignment().empty());
  // Assigned again: another member may have committed meanwhile, so the position goes again.
  CHECK_FALSE(s.on_result(at(20), {{tp(1), offset{9}}}, true));
  s.assigned({tp(1)});
  CHECK(s.due(at(6000), {{tp(1), offset{9}}}) == positions{{tp(1), offset{9}}});
}

TEST_CASE("an interval of zero commits nothing") {
  group_commit_probe probe;
  group_commit_schedule s(0s, probe);
  s.assigned({tp(0)});
  CHECK_FALSE(s.enabled());
  CHECK(s.due(at(0), {{tp(0), offset{1}}}).empty());
  CHECK(s.on_revoke({tp(0)}, {offset{1}}).empty());
  CHECK(probe.commits == 0);
}
