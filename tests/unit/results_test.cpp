// The results kept for queries (state/results.hpp) over a real RocksDB: what a session's lookup
// returns, the verdict index with its filters and cursors, the per-minute counts, the firing
// alerts, and retention — the sweep the state stage runs as its watermark moves.
#include <catch2/catch.hpp>

#include <set>

#include "tests/support/engine_harness.hpp"
#include "tests/support/results_fixture.hpp"

using namespace tw;
using namespace tw::test;
using state::verdict_query;

namespace {

event_time minute(int n) { return at_minute(60.0 * n); }

// s01..s10, one closing each minute, with a spread of statuses, intents and agents.
const std::vector<result_spec>& ten_sessions() {
  static const std::vector<result_spec> rows = {
      {"s01", 1, minute(1), verdict_status::pass, "book", "A", false},
      {"s02", 1, minute(2), verdict_status::fail, "book", "A", true},
      {"s03", 1, minute(3), verdict_status::partial, "cancel", "B", true},
      {"s04", 1, minute(4), verdict_status::error, "book", "", true},
      {"s05", 1, minute(5), verdict_status::pass, "cancel", "B", false},
      {"s06", 1, minute(6), verdict_status::fail, "cancel", "A", true},
      {"s07", 1, minute(7), verdict_status::abandoned, "book", "", false},
      {"s08", 1, minute(8), verdict_status::fail, "book", "B", false},
      {"s09", 1, minute(9), verdict_status::pass, "reschedule", "A", false},
      {"s10", 1, minute(10), verdict_status::error, "cancel", "B", true},
  };
  return rows;
}

std::vector<std::string> ids(const state::verdict_page& p) {
  std::vector<std::string> out;
  for (const auto& v : p.verdicts) out.push_back(v.session_id);
  return out;
}

state::verdict_page page_of(results_fixture& f, const verdict_query& q, std::optional<event_time> horizon = std::nullopt,
                            uint64_t budget = state::results_reader::default_scan_budget) {
  state::verdict_page p;
  auto st = f.reader(budget).verdicts(q, horizon, p);
  REQUIRE(st.ok());
  return p;
}

std::vector<state::revision_results> revisions_of(results_fixture& f, const std::string& id,
                                                  std::optional<event_time> horizon = std::nullopt) {
  std::vector<state::revision_results> out;
  auto st = f.reader().session(id, horizon, out);
  REQUIRE(st.ok());
  return out;
}

state::verdict_mix mix_of(results_fixture& f, event_time from, event_time to) {
  state::verdict_mix m;
  REQUIRE(f.reader().mix(from, to, m).ok());
  return m;
}

uint64_t count(const state::verdict_mix& m, verdict_status s) { return m.by_status[static_cast<size_t>(s)]; }

// Whether any key of the results column family mentions `id` (a session's keys all contain it).
bool any_key_of(results_fixture& f, const std::string& id) {
  std::unique_ptr<rocksdb::Iterator> it(f.store().db()->NewIterator(rocksdb::ReadOptions(), f.store().handle(state::cf::results)));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    if (it->key().ToString().find(id) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a session's kept results are its summary, verdict and diagnosis per revision, and only its latest verdict is indexed and counted") {
  results_fixture f;
  f.add({"call-1", 1, minute(1), verdict_status::fail, "book", "A", true});
  f.add({"call-1", 2, minute(3), verdict_status::pass, "book", "A", false});

  auto revs = revisions_of(f, "call-1");
  REQUIRE(revs.size() == 2);
  CHECK(revs[0].revision == 1);
  CHECK(revs[0].closed_at == minute(1));
  CHECK(revs[0].session_json == encode_session_json(summary_of({"call-1", 1, minute(1), verdict_status::fail, "book", "A", true})));
  CHECK(revs[0].verdict_json == encode_verdict_json(verdict_of({"call-1", 1, minute(1), verdict_status::fail, "book", "A", true})));
  CHECK(revs[0].status == verdict_status::fail);
  CHECK(revs[0].diagnostic_json == encode_diagnostic_json(diagnostic_of({"call-1", 1, minute(1), verdict_status::fail, "book", "A", true})));
  CHECK(revs[1].revision == 2);
  CHECK(revs[1].status == verdict_status::pass);
  CHECK_FALSE(revs[1].diagnostic_json);

  // The index and the counts know revision 2 only: a consumer keeping the highest revision agrees.
  auto all = page_of(f, {});
  REQUIRE(ids(all) == std::vector<std::string>{"call-1"});
  CHECK(all.verdicts[0].revision == 2);
  verdict_query failed;
  failed.statuses = {verdict_status::fail};
  CHECK(page_of(f, failed).verdicts.empty());
  auto m = mix_of(f, minute(0), minute(60));
  CHECK(count(m, verdict_status::pass) == 1);
  CHECK(count(m, verdict_status::fail) == 0);
  CHECK(revisions_of(f, "call-2").empty());
}

TEST_CASE("an older revision judged after a newer one is kept but leaves the index to the newer") {
  results_fixture f;
  f.add({"call-1", 2, minute(5), verdict_status::pass, "book", "", false});
  f.add({"call-1", 1, minute(2), verdict_status::fail, "book", "", false});
  auto all = page_of(f, {});
  REQUIRE(all.verdicts.size() == 1);
  CHECK(all.verdicts[0].revision == 2);
  CHECK(revisions_of(f, "call-1").size() == 2);
  CHECK(count(mix_of(f, minute(0), minute(60)), verdict_status::fail) == 0);
}

TEST_CASE("judging a revision again, as a restart does with what it had not written, changes neither the index nor the counts") {
  results_fixture f;
  const result_spec r{"call-1", 1, minute(2), verdict_status::fail, "book", "A", false};
  f.add(r);
  f.add(r);
  CHECK(page_of(f, {}).verdicts.size() == 1);
  CHECK(count(mix_of(f, minute(0), minute(60)), verdict_status::fail) == 1);
}

TEST_CASE("two revisions of a session judged into one batch index the later one only") {
  results_fixture f;
  rocksdb::WriteBatch b;
  auto& w = f.verdict_writer();
  REQUIRE(w.put(b, "call-1", 1, {minute(1), verdict_status::fail, "book", ""}, encode_verdict_json(verdict_of({"call-1", 1, minute(1), verdict_status::fail, "book", "", false}))).ok());
  REQUIRE(w.put(b, "call-1", 2, {minute(2), verdict_status::pass, "book", ""}, encode_verdict_json(verdict_of({"call-1", 2, minute(2), verdict_status::pass, "book", "", false}))).ok());
  f.write(b);
  w.batch_done(true);
  auto all = page_of(f, {});
  REQUIRE(all.verdicts.size() == 1);
  CHECK(all.verdicts[0].revision == 2);
  auto m = mix_of(f, minute(0), minute(60));
  CHECK(count(m, verdict_status::pass) == 1);
  CHECK(count(m, verdict_status::fail) == 0);
}

TEST_CASE("verdict queries filter by status, intent, agent and closed_at range, newest first") {
  results_fixture f;
  for (const auto& r : ten_sessions()) f.add(r);
  using S = verdict_status;
  struct row {
    const char* description;
    verdict_query q;
    std::vector<std::string> expected;
  };
  auto q = [](std::vector<S> st, std::optional<std::string> intent, std::optional<std::string> agent,
              std::optional<event_time> from = {}, std::optional<event_time> to = {}) {
    verdict_query v;
    v.statuses = std::move(st);
    v.intent = std::move(intent);
    v.agent = std::move(agent);
    v.from = from;
    v.to = to;
    return v;
  };
  const std::vector<row> rows = {
      {"no filter: every verdict", q({}, {}, {}), {"s10", "s09", "s08", "s07", "s06", "s05", "s04", "s03", "s02", "s01"}},
      {"one status", q({S::fail}, {}, {}), {"s08", "s06", "s02"}},
      {"several statuses merge, newest first", q({S::fail, S::error}, {}, {}), {"s10", "s08", "s06", "s04", "s02"}},
      {"an intent", q({}, "cancel", {}), {"s10", "s06", "s05", "s03"}},
      {"an agent", q({}, {}, "B"), {"s10", "s08", "s05", "s03"}},
      {"an agent and a status", q({S::fail}, {}, "A"), {"s06", "s02"}},
      {"an intent and statuses", q({S::fail, S::partial}, "book", {}), {"s08", "s02"}},
      {"intent, agent and status together", q({S::pass}, "cancel", "B"), {"s05"}},
      {"from is inclusive, to exclusive", q({}, {}, {}, minute(4), minute(8)), {"s07", "s06", "s05", "s04"}},
      {"a status from a time on", q({S::pass}, {}, {}, minute(5)), {"s09", "s05"}},
      {"an intent nobody has", q({}, "nothing", {}), {}},
      {"an agent nobody has", q({}, {}, "C"), {}},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto p = page_of(f, r.q);
    CHECK(ids(p) == r.expected);
    CHECK_FALSE(p.next_cursor);
    for (const auto& v : p.verdicts) CHECK(v.json == encode_verdict_json(verdict_of(ten_sessions()[std::stoi(v.session_id.substr(1)) - 1])));
  }
}

TEST_CASE("pages followed by their cursors give every match once, newest first, also while newer verdicts arrive") {
  results_fixture f;
  for (const auto& r : ten_sessions()) f.add(r);
  verdict_query q;
  q.limit = 3;
  auto first = page_of(f, q);
  CHECK(ids(first) == std::vector<std::string>{"s10", "s09", "s08"});
  REQUIRE(first.next_cursor);
  f.add({"s11", 1, minute(11), verdict_status::pass, "book", "", false});  // newer than the cursor
  q.cursor = state::parse_cursor(*first.next_cursor);
  REQUIRE(q.cursor);
  auto second = page_of(f, q);
  CHECK(ids(second) == std::vector<std::string>{"s07", "s06", "s05"});
  q.cursor = state::parse_cursor(*second.next_cursor);
  auto third = page_of(f, q);
  CHECK(ids(third) == std::vector<std::string>{"s04", "s03", "s02"});
  q.cursor = state::parse_cursor(*third.next_cursor);
  auto last = page_of(f, q);
  CHECK(ids(last) == std::vector<std::string>{"s01"});
  CHECK_FALSE(last.next_cursor);

  verdict_query failing;
  failing.statuses = {verdict_status::fail, verdict_status::error};
  failing.limit = 2;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto p = page_of(f, failing);
    for (const auto& id : ids(p)) seen.push_back(id);
    if (!p.next_cursor) break;
    failing.cursor = state::parse_cursor(*p.next_cursor);
  }
  CHECK(seen == std::vector<std::string>{"s10", "s08", "s06", "s04", "s02"});
}

TEST_CASE("a page ends at the scan budget with a cursor that goes on from the last entry examined") {
  results_fixture f;
  for (const auto& r : ten_sessions()) f.add(r);
  verdict_query q;  // agent A's index holds s09, s06, s02, s01; only fail ones match
  q.agent = "A";
  q.statuses = {verdict_status::fail};
  auto first = page_of(f, q, std::nullopt, /*budget=*/3);
  CHECK(ids(first) == std::vector<std::string>{"s06", "s02"});
  CHECK(first.scanned == 3);
  REQUIRE(first.next_cursor);
  q.cursor = state::parse_cursor(*first.next_cursor);
  auto second = page_of(f, q, std::nullopt, 3);
  CHECK(ids(second).empty());
  CHECK(second.scanned == 1);
  CHECK_FALSE(second.next_cursor);
}

TEST_CASE("results whose window closed before the retention horizon are not served") {
  results_fixture f;
  for (const auto& r : ten_sessions()) f.add(r);
  CHECK(ids(page_of(f, {}, minute(8))) == std::vector<std::string>{"s10", "s09", "s08"});
  verdict_query from_earlier;
  from_earlier.from = minute(1);  // asks for more than is kept: the horizon wins
  CHECK(ids(page_of(f, from_earlier, minute(9))) == std::vector<std::string>{"s10", "s09"});
  CHECK(revisions_of(f, "s07", minute(8)).empty());
  CHECK(revisions_of(f, "s08", minute(8)).size() == 1);
  CHECK(revisions_of(f, "s07").size() == 1);  // still on disk: only the sweep deletes
}

TEST_CASE("a cursor is the hex of a position; anything else is refused") {
  results_fixture f;
  for (const auto& r : ten_sessions()) f.add(r);
  verdict_query q;
  q.limit = 1;
  auto p = page_of(f, q);
  REQUIRE(p.next_cursor);
  CHECK(state::parse_cursor(*p.next_cursor));
  for (const char* bad : {"", "zz", "abc", "00", "0123456789abcdef", "ABCDEF"}) {
    INFO(bad);
    CHECK_FALSE(state::parse_cursor(bad));
  }
}

TEST_CASE("the alerts firing now are each one's last firing event, until it resolves") {
  results_fixture f;
  auto firing = [&] {
    std::vector<std::pair<std::string, std::string>> out;
    REQUIRE(f.reader().firing_alerts(out).ok());
    return out;
  };
  rocksdb::WriteBatch b;
  state::put_firing_alert(f.store(), b, "00000000000000bb", R"({"repeat":0})");
  state::put_firing_alert(f.store(), b, "00000000000000aa", R"({"repeat":0})");
  f.write(b);
  b.Clear();
  state::put_firing_alert(f.store(), b, "00000000000000bb", R"({"repeat":1})");
  state::remove_firing_alert(f.store(), b, "00000000000000aa");
  f.write(b);
  auto now = firing();
  REQUIRE(now.size() == 1);
  CHECK(now[0].first == "00000000000000bb");
  CHECK(now[0].second == R"({"repeat":1})");
}

// --- retention ----------------------------------------------------------------------------------

TEST_CASE("the sweep deletes every result closed before the horizon, with its index entries and counts, and nothing newer") {
  results_fixture f;
  for (const auto& r : ten_sessions()) f.add(r);
  state::results_sweeper sweeper(f.store(), std::chrono::hours(1));
  rocksdb::WriteBatch b;
  state::sweep_stats stats;
  REQUIRE(sweeper.sweep(b, minute(5), stats).ok());
  f.write(b);
  // s01..s04: a summary and a verdict each, and a diagnosis for s02, s03, s04.
  CHECK(stats.entries == 4 * 2 + 3);
  CHECK_FALSE(stats.more);
  for (const char* gone : {"s01", "s02", "s03", "s04"}) {
    INFO(gone);
    CHECK_FALSE(any_key_of(f, gone));
    CHECK(revisions_of(f, gone).empty());
  }
  for (const char* kept : {"s05", "s06", "s07", "s08", "s09", "s10"}) {
    INFO(kept);
    CHECK(revisions_of(f, kept).size() == 1);
  }
  CHECK(ids(page_of(f, {})) == std::vector<std::string>{"s10", "s09", "s08", "s07", "s06", "s05"});
  auto m = mix_of(f, minute(-60), minute(60));
  CHECK(count(m, verdict_status::pass) == 2);
  CHECK(count(m, verdict_status::fail) == 2);
  CHECK(count(m, verdict_status::partial) == 0);
  CHECK(count(m, verdict_status::error) == 1);
  CHECK(count(m, verdict_status::abandoned) == 1);
  // The same horizon again finds nothing to do.
  rocksdb::WriteBatch again;
  REQUIRE(sweeper.sweep(again, minute(5), stats).ok());
  CHECK(stats.entries == 0);
  CHECK(again.Count() == 0);
}

TEST_CASE("a sweep that runs out of budget goes on where it stopped at the next call") {
  results_fixture f;
  for (const auto& r : ten_sessions()) f.add(r);
  state::results_sweeper sweeper(f.store(), std::chrono::hours(1), /*budget=*/4);
  std::vector<uint64_t> per_call;
  for (int call = 0; call < 10; ++call) {
    rocksdb::WriteBatch b;
    state::sweep_stats stats;
    REQUIRE(sweeper.sweep(b, minute(5), stats).ok());
    f.write(b);
    per_call.push_back(stats.entries);
    CHECK(sweeper.pending() == stats.more);
    if (!stats.more) break;
  }
  CHECK(per_call == std::vector<uint64_t>{4, 4, 3});
  CHECK(ids(page_of(f, {})).size() == 6);
  CHECK_FALSE(any_key_of(f, "s04"));
}

TEST_CASE("a result written behind the sweep is hidden at once and deleted by the next whole pass") {
  results_fixture f;
  state::results_sweeper sweeper(f.store(), std::chrono::hours(1));
  auto sweep = [&](event_time horizon) {
    rocksdb::WriteBatch b;
    state::sweep_stats stats;
    REQUIRE(sweeper.sweep(b, horizon, stats).ok());
    f.write(b);
    return stats.entries;
  };
  f.add({"s20", 1, minute(20), verdict_status::pass, "book", "", false});
  CHECK(sweep(minute(10)) == 0);  // the first call is a whole pass; nothing is that old
  // A diagnosis that waited in its queue past the retention: written behind the sweep.
  f.add({"late", 1, minute(3), verdict_status::fail, "book", "", true});
  CHECK(revisions_of(f, "late", minute(11)).empty());  // never served
  CHECK(sweep(minute(11)) == 0);                       // the incremental sweep is past it
  CHECK(any_key_of(f, "late"));
  CHECK(sweep(minute(10) + std::chrono::hours(1)) == 3 + 2);  // the next whole pass: late's three, s20's two
  CHECK_FALSE(any_key_of(f, "late"));
  CHECK_FALSE(any_key_of(f, "s20"));
}

TEST_CASE("the state stage keeps each emitted revision for queries and deletes it once the watermark passes closed_at plus query.retention") {
  auto cfg = engine_harness::default_config();
  cfg.results_retention = std::chrono::hours(1);
  engine_harness h(cfg);
  h.feed_each(call("old-call", 4, 0));
  h.advance_to(200);  // past the last activity (30.5 s) plus the gap (60 s)
  auto emitted = h.session_payloads();
  REQUIRE(emitted.size() == 1);
  state::results_reader reader(h.store());
  std::vector<state::revision_results> old_call;
  REQUIRE(reader.session("old-call", std::nullopt, old_call).ok());
  REQUIRE(old_call.size() == 1);
  CHECK(old_call[0].session_json == emitted[0]);  // byte for byte what the topic got
  const event_time old_closed = old_call[0].closed_at;

  h.feed_each(call("new-call", 4, 3400));
  h.advance_to(3500);  // new-call closes; the watermark (3500 s) is not yet past old-call's closed_at + 1 h
  REQUIRE(h.engine().watermark() <= old_closed + std::chrono::hours(1));
  REQUIRE(reader.session("old-call", std::nullopt, old_call).ok());
  CHECK(old_call.size() == 1);

  h.advance_to(old_closed.micros() / 1e6 - 1'700'000'000 + 3600 + 10);  // now it is
  REQUIRE(h.engine().watermark() > old_closed + std::chrono::hours(1));
  REQUIRE(reader.session("old-call", std::nullopt, old_call).ok());
  CHECK(old_call.empty());
  std::vector<state::revision_results> new_call;
  REQUIRE(reader.session("new-call", std::nullopt, new_call).ok());
  CHECK(new_call.size() == 1);
  CHECK(h.probe().results_expired >= 1);
  h.reopen();  // a restart brings nothing back
  state::results_reader after(h.store());
  REQUIRE(after.session("old-call", std::nullopt, old_call).ok());
  CHECK(old_call.empty());
  REQUIRE(after.session("new-call", std::nullopt, new_call).ok());
  CHECK(new_call.size() == 1);
}

TEST_CASE("what is kept depends on the watermark alone: the same input in one batch or record by record keeps the same results") {
  auto cfg = engine_harness::default_config();
  cfg.results_retention = std::chrono::minutes(10);
  std::vector<std::vector<observation>> messages;
  for (int i = 0; i < 12; ++i)
    for (auto& o : call("call-" + std::to_string(i), 4, i * 200.0)) messages.push_back({o});
  messages.push_back({obs_builder("end", obs_kind::event, "clock", "end", 12 * 200.0 + 100).session("clock")});
  auto kept = [&](bool one_batch) {
    engine_harness h(cfg);
    if (one_batch) h.feed(messages);
    else for (const auto& m : messages) h.feed({m});
    std::set<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it(h.store().db()->NewIterator(rocksdb::ReadOptions(), h.store().handle(state::cf::results)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.insert(it->key().ToString());
    return keys;
  };
  const auto batched = kept(true), one_by_one = kept(false);
  CHECK(batched == one_by_one);
  // Calls closed more than 10 minutes before the last watermark are gone, the others kept.
  auto has = [&](const std::string& id) {
    for (const auto& k : batched)
      if (k.find(id) != std::string::npos) return true;
    return false;
  };
  CHECK_FALSE(has("call-0"));
  CHECK(has("call-11"));
}
