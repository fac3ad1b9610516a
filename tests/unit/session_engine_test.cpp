// Session completion end to end through the real engine and RocksDB, with observations built in
// code: each rule of DESIGN.md §4 (time) and §7 (state) has a test that would fail without it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "tests/support/engine_harness.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;

namespace {

observation hangup(const std::string& sid, const std::string& trace, double t) {
  return obs_builder("e-" + sid + "-hangup", obs_kind::event, trace, sid + "-hangup", t).name("hangup");
}

}  // namespace

TEST_CASE("a session completes when the watermark passes its last activity plus the gap") {
  engine_harness h;
  h.feed_each(call("s1", 4, 0));  // last activity: generation end at 30.5
  h.advance_to(90.0);             // deadline 90.5 not yet passed
  CHECK(h.sessions().empty());
  // Reaching the point is not passing it: an in-bound event may still carry the watermark's time.
  h.advance_to(90.5);
  CHECK(h.sessions().empty());
  h.advance_to(90.501);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].session_id == "s1");
  CHECK(s[0].revision == 1);
  CHECK(s[0].reason == completion_reason::gap);
  CHECK_FALSE(s[0].abandoned);
  CHECK(s[0].stats.traces == 4);
  CHECK(s[0].stats.generations == 4);
  CHECK(s[0].stats.input_tokens == 40);
  CHECK(s[0].closed_at == at_s(90.5));
  CHECK(s[0].first_event_at == at_s(0));
  CHECK(s[0].last_event_at == at_s(30.5));
}

TEST_CASE("an end marker completes the session after the settle delay, taking events that trail it") {
  engine_harness h;
  auto events = call("s1", 4, 0);
  events.push_back(hangup("s1", "s1-t3", 31));
  events.push_back(obs_builder("late-but-settling", obs_kind::event, "s1-t3", "trail", 32.5).name("goodbye"));
  h.feed_each(events);
  h.advance_to(33);  // marker 31 + settle 2: reached, not passed
  CHECK(h.sessions().empty());
  h.advance_to(33.001);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].reason == completion_reason::end_marker);
  CHECK(s[0].closed_at == at_s(33));
  CHECK(s[0].last_event_at == at_s(32.5));
  CHECK(s[0].stats.observations == 4 + 2);  // 4 generations, the hang-up, the trailing event
}

TEST_CASE("a session that never pauses completes at its maximum duration, and its continuation is a new revision") {
  auto cfg = engine_harness::default_config();
  cfg.window.max_duration = 100s;
  engine_harness h(cfg);
  h.feed_each(call("s1", 20, 0, 10));  // turns every 10 s from 0 to 190
  auto s = h.sessions();
  REQUIRE(s.size() >= 1);
  CHECK(s[0].reason == completion_reason::max_duration);
  CHECK(s[0].closed_at == at_s(100));
  CHECK(s[0].stats.traces == 11);  // turns at 0..100: the trace at 100 is at the cutoff, so included
  h.flush();
  s = h.sessions();
  REQUIRE(s.size() >= 2);
  CHECK(s[1].revision == 2);
  CHECK(s[1].stats.traces == 20);  // a revision is cumulative
}

TEST_CASE("a session with fewer than min_traces traces completes as abandoned") {
  engine_harness h;  // min_traces = 2
  h.feed_each(call("short", 1, 0));
  h.advance_to(200);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].abandoned);
  CHECK(s[0].stats.traces == 1);
  CHECK(s[0].reason == completion_reason::gap);
}

TEST_CASE("when input stops, an idle caught-up partition lets the wall clock close the last sessions, saying so") {
  engine_harness h;
  h.feed_each(call("last-call", 3, 0));  // last activity 20.5: deadline 80.5; watermark now 15.5
  h.tick(10s, 30s);                      // idle for 10 s only: not yet idle
  CHECK(h.sessions().empty());
  h.tick(30s, 30s);                      // idle 40 s: event time may flow to 20.5 + 40 - 5 = 55.5
  CHECK(h.sessions().empty());
  h.tick(30s, 30s);                      // idle 70 s: to 85.5, past 80.5
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].session_id == "last-call");
  CHECK(s[0].reason == completion_reason::idle);  // the data alone had not passed 80.5
  CHECK(s[0].closed_at == at_s(80.5));            // the completion point, whatever the reason
  // Event time moved only just past what was due, not to where the wall clock would allow.
  CHECK(h.engine().watermark() == at_s(80.5) + duration{1});
}

TEST_CASE("input shuffled within the out-of-orderness bound gives byte-identical sessions") {
  // Many overlapping sessions, some with end markers, some abandoned, one with a long pause that
  // splits it into two revisions.
  std::vector<observation> events;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 40; ++i) {
    std::string sid = "s" + std::to_string(i);
    double start = i * 7.0;
    int turns = 1 + static_cast<int>(rng() % 5);
    auto c = call(sid, turns, start, 3.0 + static_cast<double>(rng() % 5));
    events.insert(events.end(), c.begin(), c.end());
    if (i % 3 == 0) events.push_back(hangup(sid, sid + "-t0", start + turns * 8.0));
  }
  auto pause = call("paused", 3, 500, 5);
  auto resumed = call("paused-2", 2, 700, 5);
  for (auto& o : resumed) {
    if (!o.session_id.empty()) o.session_id = "paused";
  }
  events.insert(events.end(), pause.begin(), pause.end());
  events.insert(events.end(), resumed.begin(), resumed.end());

  auto by_time = events;
  std::stable_sort(by_time.begin(), by_time.end(),
                   [](const observation& a, const observation& b) { return a.activity_time() < b.activity_time(); });
  // Shuffled: each event is delayed by up to 4.9 s (the bound is 5 s) and batches are cut at random.
  std::vector<std::pair<double, observation>> delayed;
  for (const auto& o : by_time)
    delayed.emplace_back(static_cast<double>(o.activity_time().micros()) + static_cast<double>(rng() % 4900000), o);
  std::stable_sort(delayed.begin(), delayed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  engine_harness ordered, shuffled;
  ordered.feed_each(by_time);
  for (size_t i = 0; i < delayed.size();) {
    size_t n = 1 + rng() % 17;
    std::vector<std::vector<observation>> msgs;
    for (; n > 0 && i < delayed.size(); --n, ++i) msgs.push_back({delayed[i].second});
    shuffled.feed(msgs);
  }
  ordered.flush();
  shuffled.flush();
  auto a = ordered.session_payloads(), b = shuffled.session_payloads();
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  CHECK(a.size() == b.size());
  CHECK(a == b);
  auto sessions = ordered.sessions();
  CHECK(std::count_if(sessions.begin(), sessions.end(), [](const session_summary& s) {
          return s.session_id == "paused";
        }) == 2);  // the pause longer than the gap made a second revision
  CHECK(shuffled.probe().late_events == 0);
}

TEST_CASE("duplicate events and a retried batch change nothing") {
  auto events = call("s1", 3, 0);
  engine_harness once, twice;
  once.feed_each(events);
  twice.feed_each(events);
  twice.feed_each(events);                             // the producer retried the whole batch
  twice.feed_one({events[0], events[0], events[1]});   // and duplicated inside one message
  once.advance_to(200);
  twice.advance_to(200);
  CHECK(once.session_payloads() == twice.session_payloads());
  CHECK(twice.probe().duplicates == events.size() + 3);
}

TEST_CASE("an update event amends its observation, whatever order they arrive in") {
  auto create = obs_builder("c1", obs_kind::generation, "t1", "g1", 1).session("s1");
  auto upd = obs_builder("u1", obs_kind::generation, "t1", "g1", 3).update().end(3).tokens(100, 40).error("rate limited");
  upd.o.timestamp = at_s(3);
  for (bool update_first : {false, true}) {
    INFO("update first: " << update_first);
    engine_harness h;
    auto trace = obs_builder("tr", obs_kind::trace, "t1", "t1", 0).session("s1");
    if (update_first) h.feed_each({trace, upd, create});
    else h.feed_each({trace, create, upd});
    h.advance_to(100);
    auto s = h.sessions();
    REQUIRE(s.size() == 1);
    CHECK(s[0].stats.generations == 1);
    CHECK(s[0].stats.observations == 1);
    CHECK(s[0].stats.input_tokens == 100);
    CHECK(s[0].stats.errors == 1);
    REQUIRE(s[0].llm_calls.size() == 1);
    CHECK_FALSE(s[0].llm_calls[0].ok);
    CHECK(s[0].llm_calls[0].error == "rate limited");
    CHECK(s[0].llm_calls[0].latency == duration(2s));
  }
}

TEST_CASE("a late event within the grace period reopens the session and emits revision 2") {
  engine_harness h;  // grace 10 min
  h.feed_each(call("s1", 3, 0));
  h.advance_to(100);
  REQUIRE(h.sessions().size() == 1);
  // An event from t = 15 arrives now, long after the watermark passed it.
  h.feed_one({obs_builder("straggler", obs_kind::tool, "s1-t1", "tool-1", 15).name("lookup").error("timeout")});
  h.advance_to(101);
  auto s = h.sessions();
  REQUIRE(s.size() == 2);
  CHECK(s[1].session_id == "s1");
  CHECK(s[1].revision == 2);
  CHECK(s[1].reason == s[0].reason);
  CHECK(s[1].closed_at == s[0].closed_at);
  CHECK(s[1].stats.tool_calls == 1);
  CHECK(s[1].stats.tool_errors == 1);
  CHECK(s[0].stats.tool_calls == 0);
  CHECK(h.probe().sessions_reopened == 1);
}

TEST_CASE("an event after the grace period is dead-lettered as late, with its source and bytes") {
  engine_harness h;  // grace 10 min: s1 closes at 80.5 and seals at 680.5
  h.feed_each(call("s1", 3, 0));
  h.advance_to(700);
  REQUIRE(h.sessions().size() == 1);
  CHECK(h.probe().sessions_sealed == 1);
  h.feed_one({obs_builder("too-late", obs_kind::tool, "s1-t1", "tool-9", 20).name("lookup")});
  h.advance_to(701);
  CHECK(h.sessions().size() == 1);  // no new revision
  auto dl = h.dead_letters();
  REQUIRE(dl.size() == 1);
  CHECK_THAT(dl[0].payload, Catch::Contains("\"reason\":\"late_event\""));
  CHECK_THAT(dl[0].payload, Catch::Contains("sealed"));
  CHECK_THAT(dl[0].payload, Catch::Contains("\"topic\":\"traces.raw\""));
  CHECK_THAT(dl[0].payload, Catch::Contains("{\\\"test\\\":true}"));  // the original bytes
}

TEST_CASE("an event of an unknown session far behind the watermark is dead-lettered as late") {
  engine_harness h;
  h.advance_to(5000);
  h.feed_one({obs_builder("ancient", obs_kind::trace, "old-t", "old-t", 10).session("old")});
  h.advance_to(5001);
  CHECK(h.sessions().empty());
  REQUIRE(h.dead_letters().size() == 1);
  CHECK(h.probe().late_events == 1);
}

TEST_CASE("observations that arrive before their trace are held and attached when the session id arrives") {
  engine_harness h;
  auto gen = obs_builder("g-early", obs_kind::generation, "t1", "g1", 1).end(2).tokens(7, 3);
  auto tool = obs_builder("tool-early", obs_kind::tool, "t1", "tool1", 2).name("schedule_appointment");
  h.feed_each({gen, tool});
  CHECK(h.probe().pending_held == 2);
  h.feed_each({obs_builder("t1", obs_kind::trace, "t1", "t1", 0.5).session("s1").user("book me in")});
  CHECK(h.probe().pending_released == 2);
  h.feed_each(turn("s1", "t2", 5));
  h.advance_to(100);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].session_id == "s1");
  CHECK(s[0].stats.traces == 2);
  CHECK(s[0].stats.tool_calls == 1);
  CHECK(s[0].stats.input_tokens == 17);
  REQUIRE_FALSE(s[0].turns.empty());
  CHECK(s[0].turns[0].user_text == "book me in");
}

TEST_CASE("a trace whose session id never arrives becomes its own session after the pending timeout") {
  engine_harness h;  // pending timeout 30 s
  h.feed_each({obs_builder("g", obs_kind::generation, "orphan", "g1", 1).end(2)});
  h.advance_to(32);  // activity at 2 (its end) + 30: reached, not passed
  CHECK(h.probe().pending_timeouts == 0);
  h.advance_to(32.001);
  CHECK(h.probe().pending_timeouts == 1);
  h.advance_to(200);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].session_id == "orphan");
  CHECK(s[0].abandoned);
}

TEST_CASE("sessions are assembled when their traces arrive on different partitions (input keyed by trace id)") {
  engine_harness h;
  topic_partition p1{"traces.raw", partition_id{1}};
  h.assign({h.tp(), p1});
  auto c = call("s1", 4, 0);
  // Traces 0 and 2 on partition 0, traces 1 and 3 on partition 1; each partition in order.
  std::vector<std::vector<observation>> part0, part1;
  for (const auto& o : c) (o.trace_id == "s1-t0" || o.trace_id == "s1-t2" ? part0 : part1).push_back({o});
  h.feed(part0);
  h.feed(part1, &p1);
  // The watermark is the minimum over both partitions: advance both.
  h.advance_to(200);
  h.feed({{obs_builder("clock-p1", obs_kind::event, "clock", "clock-p1", 205).session("clock")}}, &p1);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].stats.traces == 4);
}

TEST_CASE("the watermark waits for the slowest partition") {
  engine_harness h;
  topic_partition p1{"traces.raw", partition_id{1}};
  h.assign({h.tp(), p1});
  h.feed_each(call("s1", 2, 0));
  h.feed({{obs_builder("p1-first", obs_kind::event, "x", "x1", 1).session("other")}}, &p1);
  h.advance_to(500);  // partition 0 only
  CHECK(h.sessions().empty());
  h.feed({{obs_builder("p1-late", obs_kind::event, "x", "x2", 505).session("other")}}, &p1);
  CHECK(h.sessions().size() >= 1);
}

TEST_CASE("a restart resumes from the stored offsets and watermark and produces the same sessions") {
  auto events = call("a", 3, 0);
  auto more = call("b", 4, 20);
  engine_harness straight, restarted;
  straight.feed_each(events);
  straight.feed_each(more);
  straight.advance_to(300);

  restarted.feed_each(events);
  auto stored = restarted.engine().stored_offset(restarted.tp());
  REQUIRE(stored);
  CHECK(stored->value == static_cast<int64_t>(events.size()));  // next to consume, not last consumed
  auto wm_before = restarted.engine().watermark();
  restarted.reopen();
  CHECK(restarted.engine().watermark() == wm_before);
  restarted.feed_each(more);
  restarted.advance_to(300);
  CHECK(straight.session_payloads() == restarted.session_payloads());
}

TEST_CASE("parse rejections become dead letters in the same batch as the offsets") {
  engine_harness h;
  rejected_event r;
  r.code = reject_code::missing_field;
  r.detail = "body.traceId: missing";
  r.payload = "{\"id\":\"x\"}";
  h.feed_rejection(r);
  auto dl = h.dead_letters();
  REQUIRE(dl.size() == 1);
  CHECK_THAT(dl[0].payload, Catch::Contains("\"reason\":\"missing_field\""));
  CHECK_THAT(dl[0].payload, Catch::Contains("body.traceId: missing"));
  CHECK(h.engine().stored_offset(h.tp())->value == 1);
}

TEST_CASE("usage recorded at nested levels of one LLM call is counted once") {
  engine_harness h;
  // ADK: call_llm (usage) › generate_content (same usage); a sibling call without nesting.
  h.feed_each({obs_builder("tr", obs_kind::trace, "t1", "t1", 0).session("s1"),
               obs_builder("outer", obs_kind::generation, "t1", "call_llm", 1).end(2).tokens(10, 8),
               obs_builder("inner", obs_kind::generation, "t1", "gen", 1.1).end(1.9).tokens(10, 8).parent("call_llm"),
               obs_builder("solo", obs_kind::generation, "t1", "solo", 3).end(4).tokens(30, 5)});
  h.advance_to(100);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].stats.input_tokens == 40);
  CHECK(s[0].stats.output_tokens == 13);
  REQUIRE(s[0].llm_calls.size() == 3);
  CHECK_FALSE(s[0].llm_calls[0].counted);  // call_llm, the outer level
  CHECK(s[0].llm_calls[1].counted);
}

TEST_CASE("a session beyond max_events keeps its time window but stores no more events") {
  auto cfg = engine_harness::default_config();
  cfg.max_events_per_session = 5;
  engine_harness h(cfg);
  h.feed_each(call("big", 5, 0));  // 10 events
  h.advance_to(200);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].truncated.events_not_stored == 5);
  CHECK(h.probe().events_not_stored == 5);
}

TEST_CASE("a flush at the end of a bounded replay completes every open session") {
  engine_harness h;
  h.feed_each(call("x", 4, 0));
  h.feed_each({obs_builder("held", obs_kind::generation, "unbound", "u1", 5)});
  std::vector<std::string> ids;
  uint64_t total = 0;
  REQUIRE(h.engine().open_sessions(10, ids, total).ok());
  CHECK(total == 1);
  CHECK(ids == std::vector<std::string>{"x"});
  h.flush();
  auto s = h.sessions();
  REQUIRE(s.size() == 2);  // x, and the held trace as its own session
  ids.clear();
  REQUIRE(h.engine().open_sessions(10, ids, total).ok());
  CHECK(total == 0);
}

TEST_CASE("a list over its bound keeps how the session began and how it ended") {
  auto cfg = engine_harness::default_config();
  cfg.summary.max_tool_calls = 4;
  engine_harness h(cfg);
  std::vector<observation> events{obs_builder("tr", obs_kind::trace, "t1", "t1", 0).session("s1")};
  for (int i = 0; i < 10; ++i)
    events.push_back(obs_builder("tool-" + std::to_string(i), obs_kind::tool, "t1", "tool-" + std::to_string(i), 1 + i)
                         .name("step" + std::to_string(i)));
  h.feed_each(events);
  h.advance_to(200);
  auto s = h.sessions();
  REQUIRE(s.size() == 1);
  CHECK(s[0].stats.tool_calls == 10);  // all counted
  REQUIRE(s[0].tool_calls.size() == 4);
  CHECK(s[0].tool_calls[0].name == "step0");
  CHECK(s[0].tool_calls[1].name == "step1");
  CHECK(s[0].tool_calls[2].name == "step8");  // the last two: how it ended
  CHECK(s[0].tool_calls[3].name == "step9");
  CHECK(s[0].truncated.tool_calls == 6);
}

TEST_CASE("the open-session and held-event gauges follow the state, survive a restart, and are counted in an older directory") {
  engine_harness h;  // gap 60 s, grace 10 min
  auto scanned_open = [&] {
    std::vector<std::string> ids;
    uint64_t n = 0;
    REQUIRE(h.engine().open_sessions(0, ids, n).ok());
    return n;
  };
  h.feed_each(call("s1", 3, 0));
  h.feed_one({obs_builder("held-1", obs_kind::generation, "tx", "tx-g", 5)});  // trace tx: session unknown yet
  h.feed_one({obs_builder("held-2", obs_kind::tool, "tx", "tx-t", 6).name("lookup")});
  CHECK(h.probe().open_sessions == 1);
  CHECK(h.probe().pending_events == 2);
  // The trace's session arrives: the held events join it.
  h.feed_one({obs_builder("tx-trace", obs_kind::trace, "tx", "tx", 7).session("s2")});
  CHECK(h.probe().pending_events == 0);
  CHECK(h.probe().open_sessions == 2);
  CHECK(h.probe().open_sessions == scanned_open());
  h.advance_to(200);  // s1 and s2 complete; the clock session stays open
  CHECK(h.sessions().size() == 2);
  CHECK(h.probe().open_sessions == 1);
  CHECK(h.probe().open_sessions == scanned_open());
  // A late event reopens s1, whose new revision is due at once (the watermark passed its cutoff):
  // emitted in the same batch, it is not open after it.
  h.feed_one({obs_builder("straggler", obs_kind::tool, "s1-t1", "tool-1", 15).name("lookup")});
  REQUIRE(h.sessions().size() == 3);
  CHECK(h.probe().open_sessions == 1);
  CHECK(h.probe().open_sessions == scanned_open());
  h.feed_one({obs_builder("held-3", obs_kind::generation, "ty", "ty-g", 199)});
  h.reopen();
  CHECK(h.probe().open_sessions == 1);
  CHECK(h.probe().pending_events == 1);
  // A directory from before the gauges were kept has no meta entries for them: they are counted.
  auto* db = h.store().db();
  REQUIRE(db->Delete(h.store().write_options(), h.store().handle(state::cf::meta), "open_sessions").ok());
  REQUIRE(db->Delete(h.store().write_options(), h.store().handle(state::cf::meta), "held_events").ok());
  h.probe().open_sessions = 0;
  h.probe().pending_events = 0;
  h.reopen();
  CHECK(h.probe().open_sessions == 1);
  CHECK(h.probe().pending_events == 1);
  h.advance_to(300);
  CHECK(h.probe().open_sessions == scanned_open());
}

TEST_CASE("the probe counts revisions by completion reason and dead letters by reason") {
  engine_harness h;
  h.feed_each(call("gap", 3, 0));
  auto marker = call("marked", 2, 0);
  marker.push_back(obs_builder("hang", obs_kind::event, "marked-t1", "hangup", 12).name("hangup"));
  h.feed_each(marker);
  rejected_event bad;
  bad.code = reject_code::missing_field;
  bad.detail = "body.id: missing";
  h.feed_rejection(bad);
  h.advance_to(200);
  const auto& p = h.probe();
  CHECK(p.completed_by_reason[static_cast<size_t>(completion_reason::gap)] == 1);
  CHECK(p.completed_by_reason[static_cast<size_t>(completion_reason::end_marker)] == 1);
  CHECK(p.dead_letters_by_reason[static_cast<size_t>(reject_code::missing_field)] == 1);
  CHECK(p.dead_letters == 1);
}
