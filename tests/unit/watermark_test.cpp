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
  w.assign(p0, std::nullopt, t0);
  w.observe(p0, at(100), t0);
  CHECK(w.current() == at(95));
  w.observe(p0, at(90), t0);  // out of order: the watermark does not go back
  CHECK(w.current() == at(95));
}

TEST_CASE("the processor's watermark is the minimum over its partitions") {
  watermark_tracker w(0s);
  w.assign(p0, std::nullopt, t0);
  w.assign(p1, std::nullopt, t0);
  w.observe(p0, at(100), t0);
  CHECK(w.current() == event_time::min());  // p1 may still deliver old events
  w.observe(p1, at(40), t0);
  CHECK(w.current() == at(40));
  w.observe(p1, at(200), t0);
  CHECK(w.current() == at(100));
}

TEST_CASE("a caught-up partition that stays empty stops holding the others back once idle") {
  watermark_tracker w(0s);
  w.assign(p0, std::nullopt, t0);
  w.assign(p1, std::nullopt, t0);
  w.observe(p0, at(100), t0);
  w.set_caught_up(p1, true);
  CHECK_FALSE(w.advance_idle(t0 + 1s, 3s));  // not idle long enough
  CHECK(w.current() == event_time::min());
  CHECK(w.advance_idle(t0 + 3s, 3s));
  CHECK(w.current() == at(100));
}

TEST_CASE("an idle caught-up partition advances with the wall clock, a busy one does not") {
  watermark_tracker w(5s);
  w.assign(p0, std::nullopt, t0);
  w.observe(p0, at(100), t0);
  CHECK_FALSE(w.advance_idle(t0 + 60s, 10s));  // idle but not caught up: there may be lag
  w.set_caught_up(p0, true);
  CHECK(w.advance_idle(t0 + 60s, 10s));
  CHECK(w.current() == at(155));  // 100 + 60 s of idleness - 5 s
  w.observe(p0, at(101), t0 + 61s);  // data again: the watermark keeps what it reached
  CHECK(w.current() == at(155));
}

TEST_CASE("a restored floor keeps the watermark from going back after a restart") {
  watermark_tracker w(5s);
  w.restore_floor(at(500));
  w.assign(p0, at(300), t0);
  CHECK(w.current() == at(500));
}

TEST_CASE("a revoked partition no longer holds the watermark back") {
  watermark_tracker w(0s);
  w.assign(p0, std::nullopt, t0);
  w.assign(p1, std::nullopt, t0);
  w.observe(p0, at(100), t0);
  w.revoke(p1);
  CHECK(w.current() == at(100));
}

TEST_CASE("an idle partition with old data stops holding back a busy one") {
  // Regression: an idle partition used to advance only at wall-clock pace from its own last
  // event, holding the watermark back for as long as it lagged the busy partitions in event time.
  watermark_tracker w(0s);
  w.assign(p0, std::nullopt, t0);
  w.assign(p1, std::nullopt, t0);
  w.observe(p0, at(10), t0);
  w.observe(p1, at(500), t0);
  CHECK(w.current() == at(10));
  w.set_caught_up(p0, true);
  CHECK(w.advance_idle(t0 + 3s, 3s));
  CHECK(w.current() == at(500));
}

TEST_CASE("when every partition is idle, event time flows on from the latest event seen") {
  watermark_tracker w(5s);
  w.assign(p0, std::nullopt, t0);
  w.assign(p1, std::nullopt, t0);
  w.observe(p0, at(10), t0);
  w.observe(p1, at(500), t0 + 1s);
  w.set_caught_up(p0, true);
  w.set_caught_up(p1, true);
  CHECK(w.advance_idle(t0 + 31s, 30s));
  CHECK(w.current() == at(525));  // 500 + 30 s since p1's last record - 5 s
}
