// The HTTP server's endpoints (http/): the text format, liveness and readiness decided from
// probes, /metrics built from them, and every endpoint through a real socket. The pipeline here is
// probes alone (a fake pipeline_view), set by each test to the state it is about.
#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http/exposition.hpp"
#include "http/health.hpp"
#include "http/metrics.hpp"
#include "http/ops_endpoints.hpp"
#include "http/server.hpp"
#include "tests/support/fake_pipeline.hpp"
#include "tests/support/prom_text.hpp"

using namespace tw;
using namespace tw::http;
using namespace std::chrono_literals;
using json = nlohmann::json;
using tw::test::fake_pipeline;

namespace {

wall_time at(int64_t seconds) { return wall_time::from_micros(1'700'000'000'000'000 + seconds * 1'000'000); }


health_settings settings_of(duration stall = 60s, uint64_t max_lag = 100) {
  health_settings s;
  s.stall_timeout = stall;
  s.ready_max_lag = max_lag;
  return s;
}

const stage_report& stage(const liveness& l, std::string_view name) {
  for (const auto& r : l.stages)
    if (r.stage == name) return r;
  FAIL("no stage " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

// --- the text format ------------------------------------------------------------------------------

TEST_CASE("the text format escapes label values and writes histograms cumulatively with sum and count") {
  exposition e;
  e.family("tw_requests_total", metric_kind::counter, "Requests.\nTwo lines, a \\ too.");
  e.sample({{"path", "/a\"b\\c\nd"}}, uint64_t{3});
  e.family("tw_latency_seconds", metric_kind::histogram, "Latency.");
  duration_histogram<2> h{{std::chrono::milliseconds(250), std::chrono::seconds(1)}};
  h.record(std::chrono::milliseconds(100));
  h.record(std::chrono::milliseconds(500));
  h.record(std::chrono::seconds(3));
  e.histogram<2>({{"stage", "judge"}}, h.read());
  CHECK(e.text() ==
        "# HELP tw_requests_total Requests.\\nTwo lines, a \\\\ too.\n"
        "# TYPE tw_requests_total counter\n"
        "tw_requests_total{path=\"/a\\\"b\\\\c\\nd\"} 3\n"
        "# HELP tw_latency_seconds Latency.\n"
        "# TYPE tw_latency_seconds histogram\n"
        "tw_latency_seconds_bucket{stage=\"judge\",le=\"0.25\"} 1\n"
        "tw_latency_seconds_bucket{stage=\"judge\",le=\"1\"} 2\n"
        "tw_latency_seconds_bucket{stage=\"judge\",le=\"+Inf\"} 3\n"
        "tw_latency_seconds_sum{stage=\"judge\"} 3.6\n"
        "tw_latency_seconds_count{stage=\"judge\"} 3\n");
}

TEST_CASE("values are written exactly: integers as integers, doubles in their shortest round-trip form") {
  CHECK(exposition::format_value(0.1) == "0.1");
  CHECK(exposition::format_value(7.5) == "7.5");
  CHECK(exposition::format_value(1e-6) == "1e-06");
  CHECK(exposition::format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(exposition::format_value(std::nan("")) == "NaN");
  exposition e;
  e.family("tw_big_total", metric_kind::counter, "Big.");
  e.sample(uint64_t{18446744073709551615u});  // beyond a double's integers: still exact
  CHECK_THAT(e.text(), Catch::EndsWith("tw_big_total 18446744073709551615\n"));
}

// --- liveness -------------------------------------------------------------------------------------

TEST_CASE("a stage with work that shows no life for the stall timeout is wedged, and only then") {
  struct row {
    const char* description;
    std::string_view stage;
    std::function<void(fake_pipeline&)> give_work;
    std::function<heartbeat&(fake_pipeline&)> beat;
  };
  const std::vector<row> rows = {
      {"the source always has work", "source", [](fake_pipeline&) {}, [](fake_pipeline& f) -> heartbeat& { return f.p.source_alive; }},
      {"the importer has records handed to it", "importer", [](fake_pipeline& f) { f.p.records_sent = 10; },
       [](fake_pipeline& f) -> heartbeat& { return f.p.importer.alive; }},
      {"the state stage always has work (it ticks)", "state", [](fake_pipeline&) {},
       [](fake_pipeline& f) -> heartbeat& { return f.p.engine.alive; }},
      {"the judge has queued sessions", "judge", [](fake_pipeline& f) { f.p.judge.queue.enqueued_end = 3; },
       [](fake_pipeline& f) -> heartbeat& { return f.p.judge.queue.consumer; }},
      {"the diagnostic stage has queued failures", "diagnostic",
       [](fake_pipeline& f) { f.p.diagnostic.queue.enqueued_end = 3; },
       [](fake_pipeline& f) -> heartbeat& { return f.p.diagnostic.queue.consumer; }},
      {"the alert stage has queued facts", "alerts", [](fake_pipeline& f) { f.p.alerts.queue.enqueued_end = 3; },
       [](fake_pipeline& f) -> heartbeat& { return f.p.alerts.queue.consumer; }},
      {"the notifier has queued events", "notifier", [](fake_pipeline& f) { f.p.notifier.queue.enqueued_end = 3; },
       [](fake_pipeline& f) -> heartbeat& { return f.p.notifier.queue.consumer; }},
      {"the output stage has unacknowledged entries", "output", [](fake_pipeline& f) { f.p.output.backlog = 3; },
       [](fake_pipeline& f) -> heartbeat& { return f.p.output.alive; }},
  };
  const auto s = settings_of(60s);
  // Every stage but the one under test shows life at `t`.
  auto others_alive = [](fake_pipeline& f, heartbeat* silent, wall_time t) {
    for (heartbeat* hb : {&f.p.source_alive, &f.p.importer.alive, &f.p.engine.alive, &f.p.judge.queue.consumer,
                          &f.p.diagnostic.queue.consumer, &f.p.alerts.queue.consumer, &f.p.notifier.queue.consumer,
                          &f.p.output.alive})
      if (hb != silent) hb->beat(t);
  };
  for (const auto& r : rows) {
    INFO(r.description);
    fake_pipeline f;
    f.healthy(at(0));
    r.give_work(f);
    others_alive(f, &r.beat(f), at(60));
    CHECK(check_liveness(f.p, {}, false, s, at(60)).ok);  // silent for exactly the timeout: not yet
    others_alive(f, &r.beat(f), at(61));
    auto l = check_liveness(f.p, {}, false, s, at(61));
    CHECK_FALSE(l.ok);
    CHECK(stage(l, r.stage).wedged);
    for (const auto& other : l.stages)
      if (other.stage != r.stage) CHECK_FALSE(other.wedged);
    CHECK_THAT(to_json(l, false), Catch::Contains("\"stage\":\"" + std::string(r.stage) + "\",\"state\":\"wedged\""));
    // Without work the same silence is idleness (the source and the state stage always have work).
    if (r.stage == "source" || r.stage == "state") continue;
    fake_pipeline idle;
    idle.healthy(at(0));
    others_alive(idle, &r.beat(idle), at(1000));
    CHECK(check_liveness(idle.p, {}, false, s, at(1000)).ok);
  }
}

TEST_CASE("a wait a stage announced is not a wedge; a stage that never beat, or a stopping pipeline, is not judged") {
  fake_pipeline f;
  f.healthy(at(0));
  f.p.diagnostic.queue.enqueued_end = 5;
  f.p.diagnostic.queue.consumer.quiet_until(at(600));  // a webhook call bounded at 10 minutes
  for (heartbeat* hb : {&f.p.source_alive, &f.p.engine.alive}) hb->beat(at(590));
  CHECK(check_liveness(f.p, {}, false, settings_of(60s), at(600)).ok);
  CHECK_FALSE(check_liveness(f.p, {}, false, settings_of(60s), at(661)).ok);
  CHECK(check_liveness(f.p, {}, true, settings_of(60s), at(10000)).ok);  // stopping: stages end in turn

  fake_pipeline fresh;  // nothing started yet
  fresh.p.records_sent = 100;
  auto l = check_liveness(fresh.p, {}, false, settings_of(), at(1000));
  CHECK(l.ok);
  CHECK_FALSE(stage(l, "importer").running);
}

TEST_CASE("a failed stage fails liveness and says why") {
  fake_pipeline f;
  f.healthy(at(0));
  auto l = check_liveness(f.p, std::string("state stage: disk full"), false, settings_of(), at(1));
  CHECK_FALSE(l.ok);
  auto body = json::parse(to_json(l, false));
  CHECK(body["status"] == "failed");
  CHECK(body["failure"] == "state stage: disk full");
}

// --- readiness ------------------------------------------------------------------------------------

TEST_CASE("ready means opened, assigned, every lag known and under the bound, alive and not stopping") {
  const auto s = settings_of(60s, 100);
  struct row {
    const char* description;
    std::function<void(fake_pipeline&)> change;
    bool ready;
    const char* reason;
  };
  const std::vector<row> rows = {
      {"healthy, lag 2 x 50 = 100: at the bound", [](fake_pipeline& f) { f.healthy(at(0), 2, 50); }, true, ""},
      {"lag 2 x 51 = 102: over it", [](fake_pipeline& f) { f.healthy(at(0), 2, 51); }, false, "consumer lag 102"},
      {"the state is still being opened",
       [](fake_pipeline& f) {
         f.healthy(at(0));
         f.p.engine.opened = false;
       },
       false, "restoring"},
      {"no partition assigned (a rebalance in progress)", [](fake_pipeline& f) { f.healthy(at(0), 0); }, false,
       "no input partition assigned"},
      {"a partition not fetched from yet",
       [](fake_pipeline& f) {
         f.healthy(at(0), 2);
         f.p.input_extents.publish({{{"traces.raw", partition_id{0}}, offset{0}, offset{100}}});
       },
       false, "traces.raw/1 is not known yet"},
      {"a wedged stage",
       [](fake_pipeline& f) {
         f.healthy(at(-1000));
         f.p.source_alive.beat(at(0));
         f.p.engine.alive.beat(at(0));
         f.p.output.backlog = 1;
       },
       false, "stage output is wedged"},
      {"stopping",
       [](fake_pipeline& f) {
         f.healthy(at(0));
         f.stop = true;
       },
       false, "stopping"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    fake_pipeline f;
    r.change(f);
    auto alive = check_liveness(f.p, f.failed, f.stop, s, at(0));
    auto ready = check_readiness(f.p, alive, f.stop, s);
    CHECK(ready.ok == r.ready);
    const std::string body = to_json(ready, s);
    CHECK_THAT(body, Catch::Contains(r.reason));
  }
}

TEST_CASE("a partition with nothing applied yet lags by the whole log, or by nothing when starting from the latest") {
  fake_pipeline f;
  f.healthy(at(0), 1);
  f.p.engine.partitions.publish({{{"traces.raw", partition_id{0}}, std::nullopt, std::nullopt, false}});
  f.p.input_extents.publish({{{"traces.raw", partition_id{0}}, offset{40}, offset{100}}});
  CHECK(input_progress(f.p, false).at(0).lag == 60u);
  CHECK(input_progress(f.p, true).at(0).lag == 0u);
}

// --- /metrics -------------------------------------------------------------------------------------

TEST_CASE("/metrics declares every family once, follows the naming rules, and says what the probes hold") {
  fake_pipeline f;
  f.healthy(at(0), 2, 7);
  auto& p = f.p;
  p.importer.records = 40;
  p.importer.rejected_by_reason[static_cast<size_t>(reject_code::invalid_json)] = 2;
  p.engine.completed_by_reason[static_cast<size_t>(completion_reason::end_marker)] = 5;
  p.engine.dead_letters_by_reason[static_cast<size_t>(reject_code::late_event)] = 3;
  p.output.undeliverable = 1;
  p.engine.open_sessions = 9;
  p.engine.pending_events = 4;
  p.engine.watermark_us = at(-30).micros();
  p.judge.intents.slot_of("book");
  p.judge.record_verdict(verdict_status::pass, "book");
  p.judge.record_verdict(verdict_status::pass, "book");
  p.judge.record_verdict(verdict_status::fail, "cancel");
  p.judge.end_marker_to_verdict.record(3s);
  p.judge.queue.enqueued_end = 4;
  p.judge.queue.head = 1;
  p.judge.queue.head_enqueued_us = at(-12).micros();
  state::store_stats st;
  st.sst_bytes[static_cast<size_t>(state::cf::sessions)] = 4096;
  st.pending_compaction_bytes = 77;
  f.stats = st;
  server_stats self;
  self.requests = {{"/metrics", 200, 5}, {"other", 404, 1}};

  const auto text = render_metrics(f, settings_of(60s, 100), self, at(0));
  auto m = test::parse_prom_text(text);
  INFO(text);
  CHECK(m.problems.empty());
  for (const auto& [name, type] : m.families)
    CHECK((name.rfind("tracewatch_", 0) == 0 || name.rfind("process_", 0) == 0));

  CHECK(m.sum("tracewatch_input_records_total") == 40);
  CHECK(m.sum("tracewatch_input_rejected_total", {{"reason", "invalid_json"}}) == 2);
  CHECK(m.count("tracewatch_input_rejected_total") == 6);  // the parsers' reasons, zeros included
  CHECK(m.sum("tracewatch_sessions_completed_total", {{"reason", "end_marker"}}) == 5);
  CHECK(m.count("tracewatch_sessions_completed_total") == 5);
  CHECK(m.sum("tracewatch_dead_letters_total", {{"reason", "late_event"}}) == 3);
  CHECK(m.sum("tracewatch_dead_letters_total", {{"reason", "undeliverable"}}) == 1);
  CHECK(m.sum("tracewatch_sessions_open") == 9);
  CHECK(m.sum("tracewatch_pending_observations") == 4);
  CHECK(m.sum("tracewatch_verdicts_total", {{"status", "pass"}, {"intent", "book"}}) == 2);
  CHECK(m.sum("tracewatch_verdicts_total", {{"status", "fail"}, {"intent", "cancel"}}) == 1);
  CHECK(m.sum("tracewatch_verdicts_total") == 3);
  // every status x (the two intents seen + other)
  CHECK(m.count("tracewatch_verdicts_total") == 5 * 3);
  CHECK(m.sum("tracewatch_end_marker_to_verdict_seconds_count") == 1);
  CHECK(m.sum("tracewatch_end_marker_to_verdict_seconds_bucket", {{"le", "3"}}) == 1);
  CHECK(m.sum("tracewatch_end_marker_to_verdict_seconds_bucket", {{"le", "2"}}) == 0);
  CHECK(m.sum("tracewatch_consumer_lag_records") == 14);
  CHECK(m.sum("tracewatch_consumer_lag_records", {{"topic", "traces.raw"}, {"partition", "1"}}) == 7);
  CHECK(m.sum("tracewatch_partition_watermark_lag_seconds", {{"partition", "0"}}) == Approx(2));
  CHECK(m.sum("tracewatch_watermark_lag_seconds") == Approx(30));
  CHECK(m.sum("tracewatch_mailbox_depth", {{"lane", "judge"}}) == 3);
  CHECK(m.sum("tracewatch_mailbox_oldest_wait_seconds", {{"lane", "judge"}}) == Approx(12));
  CHECK(m.sum("tracewatch_mailbox_oldest_wait_seconds", {{"lane", "diagnostics"}}) == 0);
  CHECK(m.sum("tracewatch_rocksdb_sst_bytes", {{"cf", "sessions"}}) == 4096);
  CHECK(m.sum("tracewatch_rocksdb_pending_compaction_bytes") == 77);
  CHECK(m.sum("tracewatch_ready") == 1);
  CHECK(m.sum("tracewatch_healthy") == 1);
  CHECK(m.count("tracewatch_stage_wedged") == 8);
  CHECK(m.sum("tracewatch_http_requests_total", {{"path", "/metrics"}, {"code", "200"}}) == 5);
  CHECK(m.has_family("process_cpu_seconds_total"));
  CHECK(m.sum("process_resident_memory_bytes") > 0);
}

TEST_CASE("an intent beyond the label budget is counted as other, so a rules file cannot blow up the series") {
  fake_pipeline f;
  for (size_t i = 0; i < actors::judge_probe::intent_labels + 10; ++i)
    f.p.judge.record_verdict(verdict_status::pass, "intent-" + std::to_string(i));
  auto m = test::parse_prom_text(render_metrics(f, settings_of(), {}, at(0)));
  CHECK(m.problems.empty());
  CHECK(m.count("tracewatch_verdicts_total") == 5 * actors::judge_probe::intent_labels);
  CHECK(m.sum("tracewatch_verdicts_total", {{"intent", "other"}}) == 11);
  CHECK(m.sum("tracewatch_verdicts_total") == actors::judge_probe::intent_labels + 10);
}

// --- through a real socket --------------------------------------------------------------------------

namespace {
struct served {
  fake_pipeline f;
  manual_clock clk{at(0)};
  server srv{server_settings{"127.0.0.1", 0, 2}};
  std::unique_ptr<httplib::Client> client;
  explicit served(health_settings s = settings_of(60s, 100)) {
    add_ops_endpoints(srv, f, s, clk);
    auto err = srv.start();
    REQUIRE_FALSE(err);
    client = std::make_unique<httplib::Client>("127.0.0.1", srv.port());
    client->set_read_timeout(5s);
    client->set_keep_alive(true);  // one connection, so one server thread serves the requests in order
  }
};
}  // namespace

TEST_CASE("GET /healthz answers 200 while alive and 503 naming a wedged stage") {
  served s;
  s.f.healthy(at(0));
  auto ok = s.client->Get("/healthz");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->get_header_value("Content-Type") == "application/json");
  CHECK(json::parse(ok->body)["status"] == "ok");

  s.f.p.judge.queue.enqueued_end = 2;  // work for the judge, which last showed life at 0
  s.f.p.source_alive.beat(at(100));
  s.f.p.engine.alive.beat(at(100));
  s.clk.set(at(100));
  auto wedged = s.client->Get("/healthz");
  REQUIRE(wedged);
  CHECK(wedged->status == 503);
  auto body = json::parse(wedged->body);
  CHECK(body["status"] == "wedged");
  bool named = false;
  for (const auto& st : body["stages"]) named = named || (st["stage"] == "judge" && st["state"] == "wedged");
  CHECK(named);
}

TEST_CASE("GET /readyz answers 503 with its reasons until ready, then 200") {
  served s;
  auto restoring = s.client->Get("/readyz");
  REQUIRE(restoring);
  CHECK(restoring->status == 503);
  auto body = json::parse(restoring->body);
  CHECK(body["ready"] == false);
  CHECK(body["restoring"] == true);
  s.f.healthy(at(0), 4, 10);
  auto ready = s.client->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  body = json::parse(ready->body);
  CHECK(body["lag"] == 40);
  CHECK(body["partitions"] == 4);
}

TEST_CASE("GET /metrics serves the text format, counts the requests, and an unknown path is a 404") {
  served s;
  s.f.healthy(at(0));
  s.f.p.judge.record_verdict(verdict_status::error, "book");
  auto res = s.client->Get("/metrics");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  auto m = test::parse_prom_text(res->body);
  CHECK(m.problems.empty());
  CHECK(m.sum("tracewatch_verdicts_total", {{"status", "error"}, {"intent", "book"}}) == 1);
  auto missing = s.client->Get("/nothing/here");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  auto again = test::parse_prom_text(s.client->Get("/metrics")->body);
  CHECK(again.sum("tracewatch_http_requests_total", {{"path", "/metrics"}, {"code", "200"}}) == 1);  // the one before
  CHECK(again.sum("tracewatch_http_requests_total", {{"path", "other"}, {"code", "404"}}) == 1);
}

TEST_CASE("a second server on a port already taken refuses to start, naming the address; stop is idempotent") {
  server first{server_settings{"127.0.0.1", 0, 1}};
  first.get("/x", [](const request&) { return response{200, "text/plain", "x", {}}; });
  REQUIRE_FALSE(first.start());
  server second{server_settings{"127.0.0.1", first.port(), 1}};
  auto err = second.start();
  REQUIRE(err);
  CHECK_THAT(*err, Catch::Contains("127.0.0.1:" + std::to_string(first.port())));
  first.stop();
  first.stop();
  httplib::Client c("127.0.0.1", first.port());
  c.set_connection_timeout(1s);
  CHECK_FALSE(c.Get("/x"));  // nothing listens any more
}
