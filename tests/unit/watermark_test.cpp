// The watermark decides when sessions complete; these pin how it moves.
#include <catch2/catch.hpp>

#include "state/watermark.hpp"

using namespace tw;
using namespace tw::state;
using namespace std::chrono_literals;

namespace {
const topic_partition p0{"in", partition_id{0}}, p1{"in", partition_id{1}};
const wall_time t0 = wall_time::from_millis(1'000'000);
event_time at(int64_t s) { return event_time::from_millis(s * 1000); }
}  // namespace

TEST_CASE("a partition's watermark is its largest event time minus the out-of-orderness") {
  watermark_tracker w(5s);
  w.assign({{p0, std::nullopt}}, t0);
  w.observe(p0, at(100), t0);
  CHECK(w.current() == at(95));
  w.observe(p0, at(90), t0);  // out of order: the watermark does not go back
  CHECK(w.current() == at(95));
}

TEST_CASE("the processor's watermark is the minimum over its partitions") {
  watermark_tracker w(0s);
  w.assign({{p0, std::nullopt}, {p1, std::nullopt}}, t0);
  w.observe(p0, at(100), t0);
  CHECK(w.current() == event_time::min());  // p1 may still deliver old events
  w.observe(p1, at(40), t0);
  CHECK(w.current() == at(40));
  w.observe(p1, at(200), t0);
  CHECK(w.current() == at(100));
}

TEST_CASE("partitions assigned together count together: the watermark is never a partial minimum") {
  // Regression (issue 6): after a restart, partitions joined one at a time and the watermark was
  // recomputed after each, jumping to the first one's stored maximum; everything the others still
  // held became late. 8,465 of 21,188 sessions were lost over 36 restarts with 128 partitions.
  watermark_tracker w(5s);
  w.restore_floor(at(1000));
  std::vector<std::pair<topic_partition, std::optional<event_time>>> parts;
  for (int i = 0; i < 128; ++i) parts.push_back({topic_partition{"in", partition_id{i}}, at(5000 - i)});
  w.assign(parts, t0);
  CHECK(w.current() == at(5000 - 127 - 5));
  // A partition that joins later without stored progress holds it where it is.
  w.assign({{topic_partition{"in", partition_id{200}}, std::nullopt}}, t0);
  w.observe(topic_partition{"in", partition_id{0}}, at(9000), t0);
  CHECK(w.current() == at(5000 - 127 - 5));
}

TEST_CASE("a caught-up partition that stays empty stops holding the others back once idle") {
  watermark_tracker w(0s);
  w.assign({{p0, std::nullopt}, {p1, std::nullopt}}, t0);
  w.observe(p0, at(100), t0);
  w.set_caught_up(p1, true);
  CHECK_FALSE(w.advance_idle(t0 + 1s, 3s).idle_changed);  // not idle long enough
  CHECK(w.current() == event_time::min());
  CHECK(w.advance_idle(t0 + 3s, 3s).idle_changed);
  CHECK(w.current() == at(100));
}

TEST_CASE("a busy partition is never idle, however long ago it delivered") {
  watermark_tracker w(5s);
  w.assign({{p0, std::nullopt}}, t0);
  w.observe(p0, at(100), t0);
  auto step = w.advance_idle(t0 + 60s, 10s);  // quiet, but not caught up: there may be lag
  CHECK_FALSE(step.idle_changed);
  CHECK_FALSE(step.wall_target);
  CHECK(w.current() == at(95));
}

TEST_CASE("when every partition is idle, event time may flow on from the latest event at wall-clock pace") {
  watermark_tracker w(5s);
  w.assign({{p0, std::nullopt}, {p1, std::nullopt}}, t0);
  w.observe(p0, at(10), t0);
  w.observe(p1, at(500), t0 + 1s);
  w.set_caught_up(p0, true);
  w.set_caught_up(p1, true);
  auto step = w.advance_idle(t0 + 31s, 30s);
  CHECK(step.idle_changed);
  REQUIRE(step.wall_target);
  CHECK(*step.wall_target == at(525));  // 500 + 30 s since p1's last record - 5 s
  // The target is a limit, not a move: the caller decides how far to go (session_engine::tick).
  CHECK(w.current() == at(5));
}

TEST_CASE("data on an idle partition wakes every idle partition, so the first to deliver cannot drag the others") {
  // Regression (issue 6): after every partition had gone idle, the first to deliver new data
  // alone decided the watermark, running ahead of what the others were about to deliver.
  watermark_tracker w(0s);
  w.assign({{p0, std::nullopt}, {p1, std::nullopt}}, t0);
  w.observe(p0, at(100), t0);
  w.observe(p1, at(100), t0);
  w.set_caught_up(p0, true);
  w.set_caught_up(p1, true);
  REQUIRE(w.advance_idle(t0 + 5s, 3s).wall_target);
  CHECK(w.idle_partitions().size() == 2);
  CHECK(w.wake(p0, t0 + 60s));  // data arrives on p0
  w.observe(p0, at(400), t0 + 60s);
  CHECK(w.idle_partitions().empty());
  CHECK(w.current() == at(100));  // p1 counts again: it may deliver from 100 on
  // p1 stops counting only after being quiet for the idle timeout again.
  CHECK_FALSE(w.advance_idle(t0 + 62s, 3s).idle_changed);
  CHECK(w.current() == at(100));
  CHECK(w.advance_idle(t0 + 63s, 3s).idle_changed);
  CHECK(w.current() == at(400));
}

TEST_CASE("a restored floor keeps the watermark from going back after a restart") {
  watermark_tracker w(5s);
  w.restore_floor(at(500));
  w.assign({{p0, at(300)}}, t0);
  CHECK(w.current() == at(500));
}

TEST_CASE("a revoked partition keeps holding the watermark until it is assigned back, so its data is not late") {
  // A rebalance that moves partitions off and back (a stray consumer joining the group, a killed
  // member still holding partitions until its session times out) must not let the others run
  // ahead of what the absent partition holds.
  watermark_tracker w(0s);
  w.assign({{p0, std::nullopt}, {p1, std::nullopt}}, t0);
  w.observe(p0, at(100), t0);
  w.observe(p1, at(40), t0);
  w.revoke(p1, t0 + 1s);
  CHECK_FALSE(w.assigned(p1));
  w.observe(p0, at(500), t0 + 2s);
  CHECK(w.current() == at(40));
  CHECK(w.away_since(t0 + 1s).empty());
  CHECK(w.away_since(t0 + 2s) == std::vector<std::pair<topic_partition, wall_time>>{{p1, t0 + 1s}});
  w.assign({{p1, at(40)}}, t0 + 3s);
  CHECK(w.assigned(p1));
  w.observe(p1, at(450), t0 + 4s);
  CHECK(w.current() == at(450));
}

TEST_CASE("a finished range stops holding the watermark back but still counts for the data floor") {
  watermark_tracker w(0s);
  w.assign({{p0, std::nullopt}, {p1, std::nullopt}}, t0);
  w.observe(p0, at(10), t0);
  w.observe(p1, at(500), t0);
  CHECK(w.current() == at(10));
  w.finish(p0);
  CHECK(w.current() == at(500));
  CHECK(w.data_floor() == at(10));  // only the finished range let it pass 10
}

TEST_CASE("once every range is finished the watermark ends where one file of the data would, whichever finished last") {
  for (bool p0_last : {false, true}) {
    INFO("p0 finishes " << (p0_last ? "last" : "first"));
    watermark_tracker w(1s);
    w.assign({{p0, std::nullopt}, {p1, std::nullopt}}, t0);
    w.observe(p0, at(10), t0);
    w.observe(p1, at(500), t0);
    if (p0_last) {
      w.finish(p1);
      CHECK(w.current() == at(9));  // p0 still reads: it holds event time back
      w.finish(p0);
    } else {
      w.finish(p0);
      CHECK(w.current() == at(499));
      w.finish(p1);
    }
    CHECK(w.current() == at(499));  // the latest event minus the out-of-orderness, as one file
    CHECK(w.data_floor() == at(9));
  }
}

TEST_CASE("the data floor is the minimum over every partition with data, idle ones included") {
  watermark_tracker w(5s);
  w.assign({{p0, std::nullopt}, {p1, std::nullopt}}, t0);
  CHECK(w.data_floor() == event_time::min());
  w.observe(p0, at(100), t0);
  CHECK(w.data_floor() == at(95));  // p1 has no data: it does not count
  w.observe(p1, at(200), t0);
  w.set_caught_up(p0, true);
  w.advance_idle(t0 + 10s, 1s);
  CHECK(w.current() == at(195));
  CHECK(w.data_floor() == at(95));
  w.forget(p0);
  CHECK(w.data_floor() == at(195));
}

TEST_CASE("a replayed decision sets exactly the idle partitions it names") {
  watermark_tracker w(0s);
  w.assign({{p0, std::nullopt}, {p1, std::nullopt}}, t0);
  w.observe(p0, at(10), t0);
  w.observe(p1, at(50), t0);
  w.set_idle({p0});
  CHECK(w.current() == at(50));
  CHECK(w.idle_partitions() == std::vector<topic_partition>{p0});
  w.set_idle({});
  CHECK(w.idle_partitions().empty());
  CHECK(w.current() == at(50));  // never back
}
