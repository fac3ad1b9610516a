// Completion points come from the set of activity times alone: that is what makes replay equal
// live and shuffled input equal ordered input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "state/session_header.hpp"
#include "state/session_window.hpp"

using namespace tw;
using namespace tw::state;
using namespace std::chrono_literals;

namespace {
event_time at(double s) { return event_time::from_micros(static_cast<int64_t>(s * 1e6)); }
window_config cfg() {
  window_config c;
  c.gap = 60s;
  c.max_duration = 1h;
  c.settle_delay = 2s;
  return c;
}
}  // namespace

TEST_CASE("activity closer than the gap forms one cluster, completing at its end plus the gap") {
  session_window w;
  for (double t : {0.0, 30.0, 80.0, 130.0}) w.add_activity(at(t), 60s);
  REQUIRE(w.clusters().size() == 1);
  auto c = w.next_completion(cfg());
  REQUIRE(c);
  CHECK(c->at == at(190));
  CHECK(c->reason == completion_reason::gap);
}

TEST_CASE("a pause longer than the gap starts a second cluster") {
  session_window w;
  for (double t : {0.0, 10.0, 200.0}) w.add_activity(at(t), 60s);
  REQUIRE(w.clusters().size() == 2);
  CHECK(w.next_completion(cfg())->at == at(70));
}

TEST_CASE("clusters do not depend on arrival order") {
  std::vector<double> times{0, 5, 50, 100, 170, 230, 400, 420, 455, 900};
  session_window ordered;
  for (double t : times) ordered.add_activity(at(t), 60s);
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    std::shuffle(times.begin(), times.end(), rng);
    session_window shuffled;
    for (double t : times) shuffled.add_activity(at(t), 60s);
    CHECK(shuffled.clusters() == ordered.clusters());
  }
  // 0..100 (steps <= 60 s), 170..230 (100 -> 170 is 70 s), 400..455, 900
  CHECK(ordered.clusters().size() == 4);
}

TEST_CASE("an end marker completes the cluster after the settle delay") {
  session_window w;
  w.add_activity(at(0), 60s);
  w.add_end_marker(at(20), 60s);
  auto c = w.next_completion(cfg());
  CHECK(c->at == at(22));
  CHECK(c->reason == completion_reason::end_marker);
}

TEST_CASE("an end marker in a later cluster does not end the first") {
  session_window w;
  w.add_activity(at(0), 60s);
  w.add_end_marker(at(500), 60s);
  auto c = w.next_completion(cfg());
  CHECK(c->at == at(60));
  CHECK(c->reason == completion_reason::gap);
}

TEST_CASE("continuous activity completes at the maximum duration") {
  session_window w;
  for (int i = 0; i <= 100; ++i) w.add_activity(at(i * 50.0), 60s);  // 5000 s, never pausing
  auto c = w.next_completion(cfg());
  CHECK(c->at == at(3600));
  CHECK(c->reason == completion_reason::max_duration);
}

TEST_CASE("cutting keeps only what follows the cutoff") {
  session_window w;
  for (double t : {0.0, 10.0, 200.0, 210.0}) w.add_activity(at(t), 60s);
  w.add_end_marker(at(205), 60s);
  w.cut(at(70));
  REQUIRE(w.clusters().size() == 1);
  CHECK(w.clusters()[0].start == at(200));
  CHECK(w.next_completion(cfg())->at == at(207));
  w.cut(at(207));
  REQUIRE(w.clusters().size() == 1);  // 210 remains, its cluster now starting after the cutoff
  CHECK(w.clusters()[0].start == at(207) + duration(1));
  CHECK(w.markers().empty());
}

TEST_CASE("a session header round-trips through its stored form, and corrupt bytes are refused") {
  session_header h;
  h.revision = 3;
  h.first_at = at(1);
  h.last_at = at(99);
  h.closed_at = at(50);
  h.last_reason = completion_reason::end_marker;
  h.reemit = true;
  h.timer_due = at(70);
  h.stored_events = 42;
  h.events_not_stored = 2;
  h.window.add_activity(at(60), 60s);
  h.window.add_end_marker(at(65), 60s);
  std::string bytes;
  encode_header(h, bytes);
  auto back = decode_header(bytes);
  REQUIRE(back);
  CHECK(back->revision == 3);
  CHECK(back->closed_at == at(50));
  CHECK(back->last_reason == completion_reason::end_marker);
  CHECK(back->reemit);
  CHECK_FALSE(back->sealed);
  CHECK(back->window.clusters() == h.window.clusters());
  CHECK(back->window.markers() == h.window.markers());
  CHECK(back->stored_events == 42);
  for (size_t cut = 0; cut < bytes.size(); ++cut) CHECK_FALSE(decode_header(bytes.substr(0, cut)));
  CHECK_FALSE(decode_header(bytes + "x"));
}

TEST_CASE("instants exactly the gap apart are one cluster, so an event at the completion point extends it") {
  session_window w;
  w.add_activity(at(0), 60s);
  w.add_activity(at(60), 60s);
  REQUIRE(w.clusters().size() == 1);
  CHECK(w.next_completion({60s, 1h, 2s})->at == at(120));
  w.add_activity(at(120) + duration{1}, 60s);  // a microsecond more than the gap: a new cluster
  CHECK(w.clusters().size() == 2);
}

TEST_CASE("a header keeps its event fingerprints and content hash, and a version 1 header still reads") {
  session_header h;
  h.revision = 2;
  h.seen = {3, 17, 18, 1ull << 63, ~0ull};
  h.content_hash = 0xfeedfacecafebeefull;
  std::string bytes;
  encode_header(h, bytes);
  auto back = decode_header(bytes);
  REQUIRE(back);
  CHECK(back->seen == h.seen);
  CHECK(back->content_hash == h.content_hash);
  for (size_t cut = 0; cut < bytes.size(); ++cut) CHECK_FALSE(decode_header(bytes.substr(0, cut)));
  // Written by the previous version (on disk in existing state directories): no fingerprints.
  // version 1, no flags, revision 2, then ten zeros: first, last, closed, reason, sealed, timer,
  // stored, not stored, no clusters, no markers.
  const std::string v1 = std::string("\x01\x00\x02", 3) + std::string(10, '\x00');
  auto old = decode_header(v1);
  REQUIRE(old);
  CHECK(old->revision == 2);
  CHECK(old->seen.empty());
  CHECK(old->content_hash == 0);
}

TEST_CASE("a header keeps the traces bound to it; a version 2 header says its traces are indexed elsewhere") {
  session_header h;
  h.revision = 1;
  h.traces = {"t-1", "trace-two", std::string("t\0x", 3)};
  std::string bytes;
  encode_header(h, bytes);
  auto back = decode_header(bytes);
  REQUIRE(back);
  CHECK(back->traces == h.traces);
  CHECK_FALSE(back->traces_elsewhere);
  h.traces_elsewhere = true;
  bytes.clear();
  encode_header(h, bytes);
  REQUIRE(decode_header(bytes));
  CHECK(decode_header(bytes)->traces_elsewhere);
  for (size_t cut = 0; cut < bytes.size(); ++cut) CHECK_FALSE(decode_header(bytes.substr(0, cut)));
  // Version 2 is version 3 without the traces: written before, its bindings are in session_traces.
  session_header none;
  none.revision = 4;
  bytes.clear();
  encode_header(none, bytes);
  REQUIRE(bytes.back() == '\0');  // varint(0): no traces
  std::string v2 = bytes.substr(0, bytes.size() - 1);
  v2[0] = '\x02';
  auto old = decode_header(v2);
  REQUIRE(old);
  CHECK(old->revision == 4);
  CHECK(old->traces.empty());
  CHECK(old->traces_elsewhere);
  // More traces than a header holds are refused: the engine never writes them.
  session_header many;
  many.traces.assign(session_header::max_inline_traces + 1, "t");
  bytes.clear();
  encode_header(many, bytes);
  CHECK_FALSE(decode_header(bytes));
}
