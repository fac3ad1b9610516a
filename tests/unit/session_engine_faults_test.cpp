// One correct answer per session whatever restarts, retries and disorder do (issue 6): each test
// pins one decision of docs/architecture.md ("Watermarks", "Retries, late events, grace, sealing",
// "Trace → session resolution", "Recorded decisions") through the real engine and RocksDB.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>

#include "tests/support/engine_harness.hpp"
#include "state/keys.hpp"
#include "state/session_header.hpp"
#include "model/text.hpp"
#include "topics/replay_order.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;

namespace {

topic_partition part(int i) { return topic_partition{"traces.raw", partition_id{i}}; }

std::vector<topic_partition> parts(int n) {
  std::vector<topic_partition> out;
  for (int i = 0; i < n; ++i) out.push_back(part(i));
  return out;
}

// Calls whose traces are spread over `n` partitions (keyed by trace id, as real input often is),
// as one message per event, per partition in event-time order.
std::map<int, std::vector<observation>> spread(int calls, int n, double start, double every,
                                               const std::string& prefix = "c") {
  std::map<int, std::vector<observation>> by_part;
  for (int c = 0; c < calls; ++c) {
    auto events = call(prefix + std::to_string(c), 4, start + c * every, 3);
    for (auto& o : events) by_part[static_cast<int>(stable_hash(o.trace_id) % static_cast<uint64_t>(n))].push_back(o);
  }
  for (auto& [p, evs] : by_part)
    std::stable_sort(evs.begin(), evs.end(),
                     [](const observation& a, const observation& b) { return a.activity_time() < b.activity_time(); });
  return by_part;
}

void feed_part(engine_harness& h, int p, const std::vector<observation>& evs, size_t from, size_t to) {
  std::vector<state::consumed_record> batch;
  for (size_t i = from; i < to && i < evs.size(); ++i) batch.push_back(h.record(part(p), {evs[i]}));
  h.apply(std::move(batch));
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("a restart with many partitions makes nothing late: the watermark waits for every partition's progress") {
  // Regression: after a restart the watermark jumped to the first assigned partition's stored
  // maximum and everything the other partitions still held became late.
  const int n = 16;
  auto data = spread(30, n, 0, 4);
  engine_harness straight, restarted;
  straight.assign(parts(n));
  restarted.assign(parts(n));
  for (auto* h : {&straight, &restarted}) {
    // Partition 0 is far ahead of the others when the process stops.
    feed_part(*h, 0, data[0], 0, data[0].size());
    for (int p = 1; p < n; ++p) feed_part(*h, p, data[p], 0, data[p].size() / 3);
  }
  restarted.reopen();
  for (auto* h : {&straight, &restarted})
    for (int p = 1; p < n; ++p) feed_part(*h, p, data[p], data[p].size() / 3, data[p].size());
  for (auto* h : {&straight, &restarted}) h->flush();
  CHECK(restarted.probe().late_events == 0);
  CHECK(restarted.dead_letters().empty());
  CHECK(restarted.session_payloads() == straight.session_payloads());
  CHECK(straight.sessions().size() == 30);
}

TEST_CASE("a watermark jump that completes many sessions at once is written in several batches, with the same output") {
  // Regression (overload test): one batch completing 23,000 sessions held all of them, twice,
  // in one RocksDB write and in the hand-over to the judge stage (818 -> 1,339 MB RSS).
  auto small = engine_harness::default_config();
  small.split_batch_bytes = 8 * 1024;
  small.judge_handover_max = 5;
  engine_harness whole, split(small);
  for (auto* h : {&whole, &split}) {
    for (int i = 0; i < 60; ++i) h->feed_each(call("s" + std::to_string(i), 3, i * 0.5));
    h->advance_to(500);  // one record moves the watermark past all 60
  }
  CHECK(split.probe().batches_split >= 5);
  CHECK(whole.probe().batches_split == 0);
  CHECK(split.session_payloads() == whole.session_payloads());
  CHECK(split.engine().take_judge_items().size() == 5);  // the rest come from the judge queue
  CHECK(split.engine().judge_queue_end() == whole.engine().judge_queue_end());
  // Both are consistent stores: a restart resumes the same.
  split.reopen();
  whole.reopen();
  for (auto* h : {&whole, &split}) {
    h->feed_each(call("after", 3, 600));
    h->advance_to(900);
  }
  CHECK(split.session_payloads() == whole.session_payloads());
}

TEST_CASE("a producer retry after its session completed changes nothing; a late event that adds something does") {
  engine_harness h;  // grace 10 min
  auto events = call("s1", 3, 0);
  h.feed_each(events);
  h.advance_to(100);
  REQUIRE(h.sessions().size() == 1);
  // The producer retries everything, within the grace period: no revision, hence no verdict.
  h.feed_each(events);
  h.advance_to(101);
  CHECK(h.sessions().size() == 1);
  CHECK(h.probe().duplicates == events.size());
  CHECK(h.probe().sessions_reopened == 0);
  // A genuinely late event is a new revision.
  h.feed_one({obs_builder("late-tool", obs_kind::tool, "s1-t1", "tool-1", 15).name("lookup")});
  h.advance_to(102);
  auto s = h.sessions();
  REQUIRE(s.size() == 2);
  CHECK(s[1].revision == 2);
  CHECK(s[1].stats.tool_calls == 1);
  // Its retry is recognised too, across a restart (the fingerprints are durable).
  h.reopen();
  h.feed_one({obs_builder("late-tool", obs_kind::tool, "s1-t1", "tool-1", 15).name("lookup")});
  h.advance_to(103);
  CHECK(h.sessions().size() == 2);
}

TEST_CASE("a late event that changes nothing a consumer can see makes no revision") {
  engine_harness h;
  h.feed_each({obs_builder("tr", obs_kind::trace, "t1", "t1", 0).session("s1"),
               obs_builder("g", obs_kind::generation, "t1", "g1", 1).end(2).tokens(5, 5),
               obs_builder("tr2", obs_kind::trace, "t2", "t2", 3).session("s1")});
  h.advance_to(100);
  REQUIRE(h.sessions().size() == 1);
  // An update repeating what the create said (a new event id: not a retry).
  auto same = obs_builder("g-upd", obs_kind::generation, "t1", "g1", 2).update().end(2);
  same.o.timestamp = at_s(2);
  h.feed_one({same});
  h.advance_to(101);
  CHECK(h.sessions().size() == 1);
  CHECK(h.probe().sessions_reopened == 1);
  CHECK(h.probe().revisions_unchanged == 1);
}

TEST_CASE("a late event for a completed segment while the next is open is folded into the next revision") {
  engine_harness h;  // gap 60 s
  h.feed_each(call("s1", 2, 0));  // segment 1: last activity 10.5, completes at 70.5
  h.advance_to(80);
  REQUIRE(h.sessions().size() == 1);
  auto again = call("x", 2, 100);  // the same caller again: a second segment...
  for (auto& o : again)
    if (!o.session_id.empty()) o.session_id = "s1";
  h.feed_each(again);
  // ...and a straggler from the first segment arrives while the second is open.
  h.feed_one({obs_builder("straggler", obs_kind::tool, "s1-t0", "tool-0", 5).name("lookup")});
  CHECK(h.probe().late_folded == 1);
  h.advance_to(300);
  std::vector<session_summary> of_s1;
  for (auto& s : h.sessions())
    if (s.session_id == "s1") of_s1.push_back(s);
  REQUIRE(of_s1.size() == 2);  // no extra revision re-emitting the first cutoff
  CHECK(of_s1[1].revision == 2);
  CHECK(of_s1[1].stats.tool_calls == 1);
  CHECK(of_s1[1].stats.traces == 4);
}

TEST_CASE("records below the stored offset were applied already and are skipped") {
  // A rebalance (or a restart) can deliver again records that were applied and committed.
  auto events = call("s1", 3, 0);
  engine_harness once, redelivered;
  once.feed_each(events);
  std::vector<state::consumed_record> first, again;
  for (size_t i = 0; i < events.size(); ++i) {
    auto r = redelivered.record(redelivered.tp(), {events[i]});
    first.push_back(r);
    if (i >= 2) again.push_back(r);
  }
  redelivered.apply(first);
  redelivered.apply(again);  // the same offsets once more
  once.advance_to(200);
  redelivered.advance_to(200);
  CHECK(redelivered.session_payloads() == once.session_payloads());
  CHECK(redelivered.probe().records_skipped == events.size() - 2);
  CHECK(redelivered.probe().duplicates == 0);  // never got as far as the session
}

TEST_CASE("held observations are judged when they arrive: released far behind the watermark they still make a session") {
  engine_harness h;  // pending timeout 30 s, gap 60 s, grace 10 min
  h.feed_each({obs_builder("g", obs_kind::generation, "orphan", "g1", 1).end(2)});
  h.advance_to(1000);  // far past its pending timeout and its window
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].session_id == "orphan");
  CHECK(h.dead_letters().empty());
  // An event of an unknown session at the same event time, arriving now, is late.
  h.feed_one({obs_builder("tc", obs_kind::trace, "other", "other", 1).session("never-seen")});
  CHECK(h.probe().late_events == 1);
  CHECK(h.dead_letters().size() == 1);
}

TEST_CASE("a trace-create arriving after its trace became its own session joins that session: no trace is split") {
  engine_harness h;  // pending timeout 30 s
  h.feed_each({obs_builder("g", obs_kind::generation, "T", "g1", 1).end(2).tokens(3, 4)});
  h.advance_to(40);  // the pending timeout passed: T is a session of its own (still open)
  CHECK(h.probe().pending_timeouts == 1);
  h.feed_each({obs_builder("tc", obs_kind::trace, "T", "T", 0.5).session("S").user("hello")});
  CHECK(h.probe().trace_conflicts == 1);
  h.advance_to(200);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].session_id == "T");
  CHECK(s[0].stats.traces == 1);
  CHECK(s[0].stats.generations == 1);
}

TEST_CASE("the pending timeout is due at the earliest held event, so held events in any order give the same output order") {
  // Regression: the timeout ran from the first held event's arrival, so a shuffle within the
  // out-of-orderness bound released the trace before or after another session's completion.
  auto cfg = engine_harness::default_config();
  cfg.window.gap = 5s;  // shorter than the pending timeout (30 s): released traces complete at once
  auto early = obs_builder("g-1", obs_kind::generation, "T", "g1", 1).end(1);
  auto later = obs_builder("g-3", obs_kind::generation, "T", "g3", 3).end(3);
  std::vector<std::vector<std::string>> outputs;
  for (bool early_first : {true, false}) {
    engine_harness h(cfg);
    h.feed_each(early_first ? std::vector<observation>{early, later} : std::vector<observation>{later, early});
    // Another session completing at 27 + 5 = 32, between the two possible due times (31, 33).
    h.feed_each({obs_builder("s", obs_kind::trace, "st", "st", 27).session("S")});
    h.advance_to(100);
    outputs.push_back(h.session_payloads());
  }
  REQUIRE(outputs[0].size() == 2);
  CHECK(outputs[0] == outputs[1]);
  CHECK_THAT(outputs[0][0], Catch::Contains("\"session_id\":\"T\""));  // due 31, before S at 32
}

TEST_CASE("a session id reused after its tombstone expired is a new session; older stragglers are late") {
  engine_harness h;  // gap 60 s, grace 10 min, tombstone retention 1 h
  h.feed_each(call("s1", 3, 0));  // completes at 80.5, sealed at 680.5, forgotten after 4280.5
  h.advance_to(4400);
  REQUIRE(h.sessions().size() == 1);
  CHECK(h.probe().sessions_expired == 1);
  h.feed_one({obs_builder("straggler", obs_kind::tool, "s1-t1", "tool-9", 20).name("lookup").session("s1")});
  CHECK(h.probe().late_events == 1);
  h.feed_each(call("s1", 2, 4400));
  h.advance_to(4600);
  auto s = h.sessions();
  REQUIRE(s.size() == 2);
  CHECK(s[1].session_id == "s1");
  CHECK(s[1].revision == 1);  // tracewatch forgot the first: consumers tell them apart by time
  CHECK(s[1].first_event_at == at_s(4400));
}

TEST_CASE("an event exactly at a completion point that the watermark has reached belongs to the session") {
  engine_harness h;  // gap 60 s
  h.feed_each(call("s1", 2, 0));  // last activity 10.5: completion point 70.5
  h.advance_to(70.5);             // the watermark reaches the point but does not pass it
  CHECK(h.sessions().empty());
  h.feed_one({obs_builder("at-point", obs_kind::event, "s1-t1", "ev", 70.5).name("note")});
  h.advance_to(200);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].last_event_at == at_s(70.5));
  CHECK(s[0].closed_at == at_s(130.5));  // instants the gap apart are one cluster: it moved on
  CHECK(h.probe().sessions_reopened == 0);
}

TEST_CASE("a completion says idle when only an idle partition let the watermark pass it, and flush when a flush did") {
  engine_harness h;  // gap 60 s, out-of-orderness 5 s
  h.assign(parts(2));
  feed_part(h, 0, call("a", 2, 0), 0, 4);    // completes at 70.5
  feed_part(h, 0, call("b", 2, 100), 0, 4);  // completes at 170.5
  feed_part(h, 1, call("c", 2, 0), 0, 4);    // partition 1 stops at 10.5: the data floor is 5.5
  feed_part(h, 0, {obs_builder("tail", obs_kind::event, "tail", "k", 300).session("tail")}, 0, 1);
  CHECK(h.sessions().empty());                // partition 1 holds the watermark at 5.5
  h.tick(2s, 1s, {part(1)});                  // partition 1 is caught up and quiet: idle
  auto s = h.sessions();
  REQUIRE(s.size() == 3);  // a, c, b: the watermark is now partition 0's 295
  for (const auto& x : s) CHECK(x.reason == completion_reason::idle);
  h.flush();
  s = h.sessions();
  REQUIRE(s.size() == 4);
  CHECK(s[3].session_id == "tail");
  CHECK(s[3].reason == completion_reason::flush);
}

TEST_CASE("a live run records its wall-clock decisions: assignments, idleness, and wakes before the waking record") {
  auto cfg = engine_harness::default_config();
  cfg.watermarks_topic = "wm";
  cfg.group_id = "g";
  engine_harness h(cfg);
  h.assign(parts(2));
  feed_part(h, 0, call("a", 2, 0), 0, 4);
  feed_part(h, 1, call("b", 2, 0), 0, 4);
  h.tick(70s, 1s, parts(2));  // both idle; event time flows on to just past a's and b's completion
  feed_part(h, 1, call("c", 2, 500), 0, 1);  // wakes them
  std::vector<watermark_record> d;
  for (const auto& e : h.outbox_of("wm")) {
    std::string why;
    auto r = decode_watermark_json(e.payload, &why);
    INFO(why);
    REQUIRE(r);
    CHECK(e.key == watermark_record_key(*r));
    d.push_back(*r);
  }
  // The harness's own assignment of partition 0, the assignment of both, idleness, the wake.
  REQUIRE(d.size() == 4);
  for (size_t i = 0; i < d.size(); ++i) CHECK(d[i].seq == i + 1);
  CHECK(d[1].decision == watermark_decision::assign);
  CHECK(d[2].decision == watermark_decision::idle);
  CHECK(d[2].idle == parts(2));
  CHECK(d[2].watermark == at_s(70.5) + duration{1});  // just past what was due, no further
  CHECK(d[3].decision == watermark_decision::wake);
  CHECK(d[3].idle.empty());
  CHECK(d[3].positions == std::vector<std::pair<topic_partition, offset>>{{part(0), offset{4}}, {part(1), offset{4}}});
  CHECK(h.sessions().size() == 2);
}

namespace {

// A live run over 4 partitions whose wall-clock decisions are recorded, and replays of what its
// input holds in random interleavings, taking the decisions where replay_order says.
struct live_and_replays {
  static constexpr int n = 4;
  state::engine_config cfg = [] {
    auto c = engine_harness::default_config();
    c.window.gap = std::chrono::seconds(20);
    c.watermarks_topic = "wm";
    c.group_id = "g";
    return c;
  }();
  engine_harness live{cfg};
  std::map<topic_partition, std::vector<state::consumed_record>> topic;  // what the input holds

  live_and_replays() { live.assign(parts(n)); }

  void deliver(const std::map<int, std::vector<observation>>& data, std::vector<int> only = {}) {
    for (const auto& [p, evs] : data) {
      if (!only.empty() && std::find(only.begin(), only.end(), p) == only.end()) continue;
      std::vector<state::consumed_record> batch;
      for (const auto& o : evs) {
        auto r = live.record(part(p), {o});
        topic[part(p)].push_back(r);
        batch.push_back(std::move(r));
      }
      live.apply(std::move(batch));
    }
  }

  // As producers writing in real time deliver: every event in event-time order, each partition's
  // share as it comes.
  void deliver_as_produced(const std::map<int, std::vector<observation>>& data) {
    std::vector<std::pair<int, observation>> all;
    for (const auto& [p, evs] : data)
      for (const auto& o : evs) all.emplace_back(p, o);
    std::stable_sort(all.begin(), all.end(),
                     [](const auto& a, const auto& b) { return a.second.activity_time() < b.second.activity_time(); });
    for (const auto& [p, o] : all) {
      auto r = live.record(part(p), {o});
      topic[part(p)].push_back(r);
      live.apply({r});
    }
  }

  // Replays the input in a random interleaving (fetches of 1-7 records from a random readable
  // partition) and returns the sessions emitted, in emission order.
  std::vector<std::string> replay(uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<watermark_record> decisions;
    for (const auto& e : live.outbox_of("wm")) decisions.push_back(*decode_watermark_json(e.payload));
    auto history = select_history(decisions, "g");
    REQUIRE(history.records.size() == decisions.size());
    auto rcfg = cfg;  // the same windows, no recording
    rcfg.watermarks_topic.clear();
    engine_harness r(rcfg);
    r.assign(parts(n));
    std::map<topic_partition, replay_order::range> ranges;
    std::map<topic_partition, size_t> cursor;
    for (const auto& [tp, recs] : topic) ranges[tp] = {offset{0}, offset{static_cast<int64_t>(recs.size())}};
    replay_order order(history.records, ranges);
    std::vector<replay_item> items;
    auto consume = [&] {
      std::vector<state::consumed_record> batch;
      for (auto& item : items) {
        if (item.what == replay_item::kind::record) {
          batch.push_back(topic[item.record.position.tp][static_cast<size_t>(item.record.position.off.value)]);
          continue;
        }
        r.apply(std::move(batch));
        batch.clear();
        if (item.what == replay_item::kind::decision) r.take(item.decision);
        else r.finish(item.partition);
      }
      r.apply(std::move(batch));
      items.clear();
    };
    for (;;) {
      std::vector<topic_partition> readable;
      for (const auto& [tp, recs] : topic)
        if (cursor[tp] < recs.size() && !order.blocked(tp)) readable.push_back(tp);
      if (readable.empty()) break;
      const auto tp = readable[rng() % readable.size()];
      for (size_t k = 1 + rng() % 7; k > 0 && cursor[tp] < topic[tp].size(); --k) {
        const auto& rec = topic[tp][cursor[tp]++];
        order.offer(raw_record{rec.position, rec.key, rec.payload}, items);
        if (cursor[tp] == topic[tp].size()) order.finished(tp, items);
      }
      consume();
    }
    CHECK(order.decisions_left() == 0);
    return r.session_payloads();
  }
};

std::string first_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> only;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only));
  return std::to_string(only.size()) + (only.empty() ? "" : ": " + only[0].substr(0, 600));
}

// The highest revision of each session, as a consumer keeping the highest revision sees it.
std::map<std::string, std::string> latest_of(const std::vector<std::string>& payloads) {
  std::map<std::string, std::pair<uint32_t, std::string>> best;
  for (const auto& p : payloads) {
    auto s = decode_session_json(p);
    auto& b = best[s->session_id];
    if (b.second.empty() || b.first < s->revision) b = {s->revision, p};
  }
  std::map<std::string, std::string> out;
  for (auto& [id, b] : best) out[id] = b.second;
  return out;
}

}  // namespace

TEST_CASE("a replay taking the recorded decisions at their positions gives every revision of the live run, however it reads") {
  // Waves of calls over 4 partitions, with pauses where every partition goes idle and event time
  // flows on, wake-ups, and a partition going quiet while others carry on. The data keeps to the
  // out-of-orderness bound, so nothing is late and every revision must be reproduced.
  live_and_replays run;
  run.deliver(spread(12, live_and_replays::n, 0, 5, "w1-"));
  run.live.tick(3s, 1s, parts(4));   // all idle
  run.live.tick(60s, 1s, parts(4));  // event time flows: the first wave closes by idleness
  run.deliver(spread(6, live_and_replays::n, 200, 5, "w2-"));  // wakes everyone
  // Partitions 1-3 idle while partition 0 delivers more (new calls only on 0: nothing late).
  run.live.tick(3s, 1s, {part(1), part(2), part(3)});
  std::map<int, std::vector<observation>> only0;
  for (const auto& o : call("p0-only", 4, 240, 3)) only0[0].push_back(o);
  run.deliver(only0, {0});
  run.deliver_as_produced(spread(8, live_and_replays::n, 300, 4, "w3-"));  // wakes 1-3 as it starts
  run.live.tick(3s, 1s, parts(4));
  run.live.tick(90s, 1s, parts(4));
  auto live_sessions = sorted(run.live.session_payloads());
  REQUIRE(live_sessions.size() == 12 + 6 + 1 + 8);
  CHECK(run.live.probe().late_events == 0);
  CHECK(run.live.probe().sessions_reopened == 0);
  size_t idle_closed = 0;
  for (const auto& p : live_sessions) idle_closed += p.find("\"reason\":\"idle\"") != std::string::npos;
  CHECK(idle_closed >= 12);
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    INFO("interleaving " << seed);
    auto replayed = sorted(run.replay(seed));
    INFO("only live " << first_difference(live_sessions, replayed));
    INFO("only replayed " << first_difference(replayed, live_sessions));
    CHECK(replayed == live_sessions);
  }
}

TEST_CASE("with data later than the bound, a replay still gives the same revisions and the same final sessions") {
  // Partitions 1-3 go idle while partition 0 delivers its part of a wave alone and moves the
  // watermark past those calls; 1-3 then deliver their (now late) parts, reopening them. Late
  // data depends on arrival order: intermediate revisions may say different things depending on
  // which partition's stragglers came first — but the revisions made and the final content of
  // every session (what a consumer keeping the highest revision has) are the live run's.
  live_and_replays run;
  run.deliver(spread(12, live_and_replays::n, 0, 5, "w1-"));
  run.live.tick(3s, 1s, parts(4));
  run.live.tick(60s, 1s, parts(4));
  const auto second = spread(6, live_and_replays::n, 200, 5, "w2-");
  run.deliver(second, {0});
  run.live.tick(3s, 1s, {part(1), part(2), part(3)});
  run.live.tick(60s, 1s, {part(1), part(2), part(3)});
  run.deliver(second, {1, 2, 3});
  run.deliver_as_produced(spread(8, live_and_replays::n, 300, 4, "w3-"));
  run.live.tick(3s, 1s, parts(4));
  run.live.tick(90s, 1s, parts(4));
  auto live_sessions = run.live.session_payloads();
  CHECK(run.live.probe().sessions_reopened >= 1);
  auto live_latest = latest_of(live_sessions);
  REQUIRE(live_latest.size() == 12 + 6 + 8);
  std::set<std::pair<std::string, uint32_t>> live_revisions;
  for (const auto& p : live_sessions) {
    auto s = decode_session_json(p);
    live_revisions.insert({s->session_id, s->revision});
  }
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    INFO("interleaving " << seed);
    auto replayed = run.replay(seed);
    std::set<std::pair<std::string, uint32_t>> revisions;
    for (const auto& p : replayed) {
      auto s = decode_session_json(p);
      revisions.insert({s->session_id, s->revision});
    }
    CHECK(revisions == live_revisions);
    CHECK(latest_of(replayed) == live_latest);
  }
}

namespace {

size_t keys_in(state::store& s, state::cf c) {
  std::unique_ptr<rocksdb::Iterator> it(s.db()->NewIterator(rocksdb::ReadOptions(), s.handle(c)));
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  REQUIRE(it->status().ok());
  return n;
}

}  // namespace

TEST_CASE("forgetting a session deletes every binding of its traces: few, more than its header holds, or indexed by an older version") {
  engine_harness h;  // gap 60 s, grace 10 min, tombstone retention 1 h
  const int many = static_cast<int>(state::session_header::max_inline_traces) + 6;
  h.feed_each(call("few", 3, 0));
  // Over two batches, so that the second batch's bindings go past the header's room.
  h.feed_each(call("many", many / 2, 0, 0.5));
  auto rest = call("many", many, 0, 0.5);
  rest.erase(rest.begin(), rest.begin() + 2 * (many / 2));
  h.feed_each(rest);
  // A session bound by a version-2 engine: its header without traces, one index entry per trace.
  {
    state::session_header old;
    old.revision = 0;
    old.first_at = old.last_at = at_s(1);
    old.stored_events = 0;
    std::string bytes;
    state::encode_header(old, bytes);
    bytes.pop_back();  // no traces: the version 2 layout
    bytes[0] = '\x02';
    rocksdb::WriteBatch b;
    REQUIRE(b.Put(h.store().handle(state::cf::sessions), "legacy", bytes).ok());
    for (int i = 0; i < 3; ++i) {
      const std::string t = "legacy-t" + std::to_string(i);
      REQUIRE(b.Put(h.store().handle(state::cf::traces), t, "legacy").ok());
      REQUIRE(b.Put(h.store().handle(state::cf::session_traces), state::keys::session_trace("legacy", t), "").ok());
    }
    REQUIRE(h.store().db()->Write(h.store().write_options(), &b).ok());
  }
  h.reopen();
  // The legacy session takes a turn, so that the engine holds it like any other.
  h.feed_each(turn("legacy", "legacy-t3", 5));
  h.advance_to(300);
  REQUIRE(h.sessions().size() == 3);
  // few: 3 traces, many: 70 (64 in its header, 6 indexed), legacy: 4 (3 indexed by the old engine,
  // one in its header); "clock" is the harness's own session, and its trace.
  CHECK(keys_in(h.store(), state::cf::traces) == 3 + static_cast<size_t>(many) + 4 + 1);
  CHECK(keys_in(h.store(), state::cf::session_traces) == 6 + 3);
  h.advance_to(6000);  // every session above forgotten (completed ~80 s, + grace + retention)
  CHECK(h.probe().sessions_expired >= 3);
  CHECK(keys_in(h.store(), state::cf::traces) == 1);  // the clock's, still open
  CHECK(keys_in(h.store(), state::cf::session_traces) == 0);
}
