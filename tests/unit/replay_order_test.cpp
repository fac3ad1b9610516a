// replay_order puts a replay's records and the live run's recorded decisions in an order
// consistent with every decision, whatever order partitions are read in (docs/architecture.md,
// "Recorded decisions").
#include <catch2/catch.hpp>

#include "topics/replay_order.hpp"

using namespace tw;

namespace {

const topic_partition p0{"in", partition_id{0}}, p1{"in", partition_id{1}};

raw_record rec(const topic_partition& tp, int64_t off) { return raw_record{record_position{tp, offset{off}}, "", "x"}; }

watermark_record decision(uint64_t seq, int64_t at0, int64_t at1) {
  watermark_record d;
  d.group = "g";
  d.state_id = "s";
  d.seq = seq;
  d.positions = {{p0, offset{at0}}, {p1, offset{at1}}};
  return d;
}

// What left, as "p0@3", "d1", "end p1".
std::vector<std::string> names(const std::vector<replay_item>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) {
    if (i.what == replay_item::kind::record)
      out.push_back("p" + std::to_string(i.record.position.tp.partition.value) + "@" +
                    std::to_string(i.record.position.off.value));
    else if (i.what == replay_item::kind::decision)
      out.push_back("d" + std::to_string(i.decision.seq));
    else
      out.push_back("end p" + std::to_string(i.partition.partition.value));
  }
  return out;
}

}  // namespace

TEST_CASE("records past a decision's position wait until every partition reached it") {
  replay_order order({decision(1, 2, 1)}, {{p0, {offset{0}, offset{4}}}, {p1, {offset{0}, offset{2}}}});
  std::vector<replay_item> out;
  order.offer(rec(p0, 0), out);
  order.offer(rec(p0, 1), out);
  CHECK(order.blocked(p0));  // reached the decision: the reader should pause it
  order.offer(rec(p0, 2), out);  // fetched before the pause took effect: held
  CHECK(names(out) == std::vector<std::string>{"p0@0", "p0@1"});
  CHECK_FALSE(order.blocked(p1));
  order.offer(rec(p1, 0), out);
  CHECK(names(out) == std::vector<std::string>{"p0@0", "p0@1", "p1@0", "d1", "p0@2"});
  CHECK_FALSE(order.blocked(p0));
  CHECK(order.decisions_left() == 0);
}

TEST_CASE("a partition read to its end, or one the decision does not name, never holds a decision back") {
  const topic_partition p2{"in", partition_id{2}};
  replay_order order({decision(1, 1, 5)}, {{p0, {offset{0}, offset{3}}}, {p1, {offset{3}, offset{5}}},
                                           {p2, {offset{0}, offset{1}}}});
  std::vector<replay_item> out;
  order.offer(rec(p1, 3), out);
  order.offer(rec(p1, 4), out);
  order.finished(p1, out);
  order.offer(rec(p0, 0), out);
  CHECK(names(out) == std::vector<std::string>{"p1@3", "p1@4", "end p1", "p0@0", "d1"});
  order.offer(rec(p2, 0), out);  // p2 is not named: unconstrained
  order.finished(p2, out);
  CHECK(out.back().what == replay_item::kind::partition_end);
}

TEST_CASE("a position before the first replayed offset (data no longer retained) is reached at once") {
  replay_order order({decision(1, 1, 1)}, {{p0, {offset{5}, offset{7}}}, {p1, {offset{4}, offset{6}}}});
  std::vector<replay_item> out;
  order.offer(rec(p0, 5), out);
  CHECK(names(out) == std::vector<std::string>{"d1", "p0@5"});
}

TEST_CASE("decisions beyond the replayed range end the history that can be reproduced") {
  // The live run had read further than the replay reads: the second decision and everything
  // after it depend on input the replay does not have.
  replay_order order({decision(1, 1, 1), decision(2, 9, 1), decision(3, 9, 2)},
                     {{p0, {offset{0}, offset{4}}}, {p1, {offset{0}, offset{4}}}});
  CHECK(order.decisions_left() == 1);
  CHECK(order.beyond_range() == 2);
}

TEST_CASE("the history followed is the group's newest state directory, each record once, in order") {
  auto r = [](std::string group, std::string state, uint64_t seq, int64_t at_ms) {
    watermark_record d;
    d.group = std::move(group);
    d.state_id = std::move(state);
    d.seq = seq;
    d.recorded_at = wall_time::from_millis(at_ms);
    return d;
  };
  auto h = select_history({r("g", "old", 1, 100), r("g", "new", 2, 300), r("other", "x", 1, 900), r("g", "new", 1, 200),
                           r("g", "new", 2, 300), r("g", "new", 5, 400), r("g", "old", 2, 150)},
                          "g");
  CHECK(h.state_id == "new");
  REQUIRE(h.records.size() == 3);
  CHECK(h.records[0].seq == 1);
  CHECK(h.records[1].seq == 2);
  CHECK(h.records[2].seq == 5);
  CHECK(h.missing == 2);  // 3 and 4 were lost
  CHECK(h.other_histories == 1);
  CHECK(select_history({r("other", "x", 1, 1)}, "g").state_id.empty());
}
