// The probes' building blocks (model/probe.hpp): what /healthz and /metrics rely on them to say.
#include <catch2/catch.hpp>

#include <thread>

#include "model/probe.hpp"

using namespace tw;
using namespace std::chrono_literals;

namespace {
wall_time at(int64_t seconds) { return wall_time::from_micros(1'700'000'000'000'000 + seconds * 1'000'000); }
}  // namespace

TEST_CASE("a heartbeat counts silence from the last beat, and not before the first") {
  heartbeat hb;
  CHECK_FALSE(hb.started());
  CHECK(hb.silent_for(at(100)) == 0s);
  hb.beat(at(10));
  CHECK(hb.started());
  CHECK(hb.silent_for(at(10)) == 0s);
  CHECK(hb.silent_for(at(25)) == 15s);
  hb.beat(at(30));
  CHECK(hb.silent_for(at(31)) == 1s);
}

TEST_CASE("an announced quiet period is not silence, and a resumed one counts from the resumption") {
  heartbeat hb;
  hb.beat(at(0));
  hb.quiet_until(at(60));  // e.g. waiting for the next token of a rate limit
  CHECK(hb.silent_for(at(59)) == 0s);
  CHECK(hb.silent_for(at(70)) == 10s);  // past the announced end, silence counts again
  hb.quiet_until(at(1000));             // a blocking call bounded at 1000
  hb.resume(at(80));                    // ... that returned early
  CHECK(hb.silent_for(at(90)) == 10s);
}

TEST_CASE("a histogram puts a value equal to a bound into that bound's bucket, and counts beyond the last as +Inf") {
  duration_histogram<3> h{{1ms, 10ms, 100ms}};
  h.record(1ms);
  h.record(1001us);
  h.record(100ms);
  h.record(5s);
  h.record(duration{-5});  // a clock that stepped back: counted as zero
  auto s = h.read();
  CHECK(s.cumulative[0] == 2);  // -5us and 1ms
  CHECK(s.cumulative[1] == 3);  // + 1.001ms
  CHECK(s.cumulative[2] == 4);  // + 100ms
  CHECK(s.cumulative[3] == 5);  // + 5s: the count
  CHECK(s.sum_us == 1000 + 1001 + 100000 + 5000000);
}

TEST_CASE("bounded labels keep the first values seen and fold the rest, and a value spelled 'other', into other") {
  bounded_labels<4> l;  // three named slots and `other`
  CHECK(l.slot_of("book") == 0);
  CHECK(l.slot_of("cancel") == 1);
  CHECK(l.slot_of("book") == 0);
  CHECK(l.slot_of("other") == 3);  // never a second series named other
  CHECK(l.slot_of("ask") == 2);
  CHECK(l.slot_of("reschedule") == 3);
  CHECK(l.slot_of("transfer") == 3);
  CHECK(l.size() == 3);
  CHECK(l.name(2) == "ask");
  CHECK(l.name(3) == "other");
  const std::string long_value(200, 'x');
  bounded_labels<4> m;
  CHECK(m.name(m.slot_of(long_value)).size() == bounded_labels<4>::max_value_bytes);
  CHECK(m.slot_of(long_value + "y") == 0);  // the same value once cut
}

TEST_CASE("a published value is read whole by another thread, and stays valid while it holds it") {
  published<std::vector<int>> cell;
  CHECK(cell.get() == nullptr);
  cell.publish({7, 7, 7});
  auto held = cell.get();
  std::thread writer([&] {
    for (int i = 0; i < 1000; ++i) cell.publish(std::vector<int>(static_cast<size_t>(i % 7), i));
  });
  size_t mixed = 0, missing = 0;
  for (int i = 0; i < 1000; ++i) {
    auto v = cell.get();
    if (!v) ++missing;
    else
      for (int x : *v) mixed += x != (*v)[0];  // never a mix of two publications
  }
  writer.join();
  CHECK(missing == 0);
  CHECK(mixed == 0);
  CHECK(*held == std::vector<int>{7, 7, 7});
}
