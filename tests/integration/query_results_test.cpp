// The results the stages keep for queries (state/results.hpp), through the whole pipeline (a file
// replay: state stage, judge, diagnostic and alert stages): every verdict a session ends with is
// in the index as it was produced, every diagnosis is kept with its verdict's revision, the alerts
// stored as firing are those the alert events leave firing, and query.retention deletes what the
// watermark has left behind.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "actors/pipeline.hpp"
#include "config/loader.hpp"
#include "config/options.hpp"
#include "sim/call_generator.hpp"
#include "tests/support/temp_dir.hpp"
#include "topics/contracts/alert_json.hpp"
#include "topics/contracts/diagnostic_json.hpp"
#include "topics/contracts/verdict_json.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

struct replayed {
  std::string verdicts, diagnostics, alerts;
  event_time watermark;
};

// Generated calls, one every `spacing`, from 2025-01-01T09:00Z, and a last event `then` after them
// that moves event time on; replayed with `retention`. The state directory stays in `dir`.
replayed replay(const temp_dir& dir, size_t events, duration spacing, duration then, const std::string& retention) {
  sim::generator_options g;
  g.seed = 7;
  g.turn_interval = 1s;
  g.max_shuffle = 800ms;
  g.tool_failure_fraction = 0.4;  // failures to diagnose, and the failure-rate alerts to fire
  sim::call_generator gen(g);
  const event_time start = *parse_iso8601("2025-01-01T09:00:00Z");
  auto messages = sim::generate_stream(gen, events, start, spacing);
  {
    std::ofstream in(dir.sub("in.jsonl"));
    event_time last = start;
    for (const auto& m : messages) {
      in << m.payload << "\n";
      last = std::max(last, m.send_at);
    }
    const std::string at = format_iso8601(last + then);
    in << R"({"schema":"tracewatch.event.v1","event_id":"clock","session_id":"clock","trace_id":"clock",)"
       << R"("observation_id":"clock","kind":"event","name":"tick","start":")" << at << R"(","timestamp":")" << at
       << "\"}\n";
  }
  auto s = config::apply_overrides({"state.dir=" + dir.sub("state"), "completion.gap=30s", "completion.settle_delay=1s",
                                    "time.max_out_of_orderness=1s", "query.retention=" + retention, "log.level=warn"},
                                   config::defaults());
  REQUIRE(s);
  actors::pipeline p(*s.value, system_clock::instance());
  std::ostringstream sessions, verdicts, diagnostics, alerts;
  actors::replay_options o;
  o.input_path = dir.sub("in.jsonl");
  o.sessions_out = &sessions;
  o.verdicts_out = &verdicts;
  o.diagnostics_out = &diagnostics;
  o.alerts_out = &alerts;
  auto r = p.run_replay(o);
  INFO(r.error);
  REQUIRE(r.ok);
  return {verdicts.str(), diagnostics.str(), alerts.str(), event_time::from_micros(p.probes().engine.watermark_us)};
}

std::unique_ptr<state::store> open_store(const temp_dir& dir) {
  std::unique_ptr<state::store> st;
  state::store_options so;
  so.dir = dir.sub("state");
  REQUIRE(state::store::open(so, st).ok());
  return st;
}

// Every page of a query, followed to its end.
std::vector<state::stored_verdict> all_verdicts(const state::results_reader& reader, std::optional<event_time> horizon) {
  std::vector<state::stored_verdict> out;
  state::verdict_query q;
  q.limit = 100;
  for (;;) {
    state::verdict_page page;
    REQUIRE(reader.verdicts(q, horizon, page).ok());
    for (auto& v : page.verdicts) out.push_back(std::move(v));
    if (!page.next_cursor) return out;
    q.cursor = state::parse_cursor(*page.next_cursor);
  }
}

}  // namespace

TEST_CASE("a replay keeps every session's latest verdict as produced, every diagnosis, and the alerts left firing") {
  temp_dir dir;
  const auto out = replay(dir, 3000, 4s, 10min, "7d");
  auto store = open_store(dir);
  state::results_reader reader(*store);

  // The latest revision's verdict per session, as the topic carried it.
  std::map<std::string, std::pair<uint32_t, std::string>> latest;
  for (const auto& line : lines(out.verdicts)) {
    auto v = decode_verdict_json(line);
    REQUIRE(v);
    auto& l = latest[v->session_id];
    if (v->revision >= l.first) l = {v->revision, line};
  }
  REQUIRE(latest.size() > 100);
  const auto indexed = all_verdicts(reader, std::nullopt);
  std::map<std::string, std::pair<uint32_t, std::string>> in_index;
  for (const auto& v : indexed) CHECK(in_index.emplace(v.session_id, std::make_pair(v.revision, v.json)).second);
  CHECK(in_index == latest);
  for (size_t i = 1; i < indexed.size(); ++i) CHECK_FALSE(indexed[i - 1].fields.closed_at < indexed[i].fields.closed_at);

  const auto diagnosed = lines(out.diagnostics);
  REQUIRE(diagnosed.size() > 10);
  for (const auto& line : diagnosed) {
    auto d = decode_diagnostic_json(line);
    REQUIRE(d);
    std::optional<std::string> kept;
    REQUIRE(reader.diagnostic(d->session_id, d->revision, kept).ok());
    CHECK(kept == line);
  }

  // An alert is firing when its last event is a firing one.
  std::map<std::string, std::string> last_event;
  for (const auto& line : lines(out.alerts)) last_event[decode_alert_json(line)->alert_id] = line;
  std::map<std::string, std::string> expected_firing;
  for (const auto& [id, line] : last_event)
    if (decode_alert_json(line)->state == alerts::alert_state::firing) expected_firing[id] = line;
  std::vector<std::pair<std::string, std::string>> stored;
  REQUIRE(reader.firing_alerts(stored).ok());
  CHECK(std::map<std::string, std::string>(stored.begin(), stored.end()) == expected_firing);
  INFO(out.alerts);
  CHECK_FALSE(last_event.empty());  // the failures make the failure-rate rules change state
}

TEST_CASE("a replay with a short query.retention serves and keeps only what closed within it of the watermark") {
  temp_dir dir;
  const auto out = replay(dir, 3000, 10s, 2min, "10m");
  auto store = open_store(dir);
  state::results_reader reader(*store);
  const auto horizon = state::retention_horizon(out.watermark, 10min);
  REQUIRE(horizon);

  std::map<std::string, event_time> closed;
  for (const auto& line : lines(out.verdicts)) {
    auto v = decode_verdict_json(line);
    closed[v->session_id] = std::max(closed[v->session_id], v->closed_at);
  }
  size_t recent = 0, old = 0;
  std::set<std::string> served;
  for (const auto& v : all_verdicts(reader, horizon)) served.insert(v.session_id);
  for (const auto& [id, at] : closed) {
    INFO(id << " closed at " << format_iso8601(at) << ", horizon " << format_iso8601(*horizon));
    std::vector<state::revision_results> revs;
    REQUIRE(reader.session(id, std::nullopt, revs).ok());
    if (at < *horizon) {
      ++old;
      CHECK_FALSE(served.count(id));
      // The state stage's own results are deleted as its watermark passes them (a verdict the
      // judge wrote after the sweep had passed waits, hidden, for the next whole pass).
      for (const auto& r : revs) CHECK_FALSE(r.session_json);
    } else {
      ++recent;
      CHECK(served.count(id));
      REQUIRE_FALSE(revs.empty());
      CHECK(revs.back().session_json);
    }
  }
  CHECK(old > 50);
  CHECK(recent > 5);
}
