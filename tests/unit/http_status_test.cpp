// The status page (http/status_page.hpp, docs/queries.md "Status page") through a real socket:
// the page is self-contained, /status.json says what the probes and the kept results say —
// validated against docs/schemas/tracewatch.status.v1.json — and carries nothing secret; and the
// throughput rates over the last minute.
#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <regex>

#include "http/status_page.hpp"
#include "tests/support/contract_check.hpp"
#include "tests/support/fake_pipeline.hpp"
#include "tests/support/results_fixture.hpp"
#include "topics/contracts/alert_json.hpp"

using namespace tw;
using namespace tw::http;
using namespace tw::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

event_time minute(int n) { return at_minute(60.0 * n); }
wall_time wall(event_time t) { return wall_time::from_micros(t.micros()); }

struct served {
  results_fixture results;
  state::results_reader reader{results.store()};
  fake_pipeline f;
  manual_clock clk{wall(minute(90))};
  server srv{server_settings{"127.0.0.1", 0, 2}};
  std::unique_ptr<httplib::Client> client;

  explicit served(duration retention = 24h) {
    f.reader = &reader;
    status_settings s;
    s.queries_enabled = true;
    s.retention = retention;
    s.started = wall(minute(80));
    add_status_endpoints(srv, f, s, clk);
    REQUIRE_FALSE(srv.start());
    client = std::make_unique<httplib::Client>("127.0.0.1", srv.port());
    client->set_read_timeout(5s);
  }
  json status() {
    auto r = client->Get("/status.json");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("Cache-Control") == "no-store");
    CHECK(contract_violations("tracewatch.status.v1", r->body).empty());
    return json::parse(r->body);
  }
};

}  // namespace

TEST_CASE("GET / serves one self-contained page: nothing loaded from elsewhere, and a policy that forbids it") {
  served s;
  auto r = s.client->Get("/");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK_THAT(r->get_header_value("Content-Security-Policy"), Catch::Contains("default-src 'none'"));
  CHECK_THAT(r->get_header_value("Content-Security-Policy"), Catch::Contains("connect-src 'self'"));
  const std::string& page = r->body;
  CHECK(page == std::string(status_page_html()));
  // No URL of another host, and no element that loads a resource from anywhere.
  CHECK_FALSE(std::regex_search(page, std::regex(R"((https?:)?//[a-zA-Z0-9])")));
  CHECK_FALSE(std::regex_search(page, std::regex(R"(<(script|img|link|iframe)[^>]*\b(src|href)=)", std::regex::icase)));
  CHECK_FALSE(std::regex_search(page, std::regex(R"(@import|url\()")));
  // What it fetches, and the figures the end-to-end test reads.
  CHECK_THAT(page, Catch::Contains("fetch(\"/status.json\""));
  CHECK_THAT(page, Catch::Contains("fetch(\"/api/v1/failures?limit=10\""));
  for (const char* id : {"verdicts-total", "records-total", "open-sessions", "alerts-firing-count", "mix-pass", "mix-fail",
                         "mix-total", "failures", "alerts", "mailboxes", "partitions"})
    CHECK_THAT(page, Catch::Contains(std::string("id=\"") + id + "\""));
  // Server data is set as text, never parsed as markup.
  CHECK(page.find("innerHTML") == std::string::npos);
}

TEST_CASE("GET /status.json says what the probes and the kept results say, and nothing secret") {
  served s;
  // Results: three sessions within the hour before the watermark (10:30), one before it.
  s.results.add({"old", 1, minute(20), verdict_status::fail, "book", "", true});
  s.results.add({"a", 1, minute(40), verdict_status::pass, "book", "", false});
  s.results.add({"b", 1, minute(70), verdict_status::fail, "book", "", true});
  s.results.add({"c", 1, minute(89), verdict_status::partial, "cancel", "", false});
  alerts::alert_event e;
  e.alert_id = "00000000000000aa";
  e.rule = "booking_failure_rate";
  e.level = severity::critical;
  e.labels = {{"intent", "book"}};
  e.value = 0.5;
  e.threshold = 0.2;
  e.at = minute(88);
  e.started_at = minute(87);
  e.examples = {"secret-session-id"};
  e.summary = "half of the bookings failed";
  rocksdb::WriteBatch b;
  state::put_firing_alert(s.results.store(), b, e.alert_id, encode_alert_json(e));
  s.results.write(b);

  auto& p = s.f.p;
  s.f.healthy(wall(minute(90)), 2, 5);
  p.engine.watermark_us = minute(90).micros();
  p.importer.records = 1200;
  p.importer.observations = 5400;
  p.engine.revisions_emitted = 97;
  p.judge.judged = 95;
  p.judge.by_verdict[static_cast<size_t>(verdict_status::pass)] = 60;
  p.judge.by_verdict[static_cast<size_t>(verdict_status::fail)] = 35;
  p.diagnostic.diagnosed = 30;
  p.engine.dead_letters = 3;
  p.output.undeliverable = 1;
  p.engine.open_sessions = 7;
  p.engine.pending_events = 2;
  p.alerts.firing_now = 1;
  p.diagnostic.queue.enqueued_end = 9;
  p.diagnostic.queue.head = 4;
  p.diagnostic.queue.head_enqueued_us = wall(minute(89)).micros();
  p.output.backlog = 11;

  auto st = s.status();
  CHECK(st["at"] == "2025-01-01T10:30:00.000Z");
  CHECK(st["uptime_s"] == 600.0);
  CHECK(st["health"]["alive"] == true);
  CHECK(st["health"]["ready"] == true);
  CHECK(st["watermark"] == "2025-01-01T10:30:00.000Z");
  CHECK(st["totals"] == json::parse(R"({"records": 1200, "observations": 5400, "sessions_completed": 97,
                                        "verdicts": 95, "diagnoses": 30, "dead_letters": 4})"));
  CHECK(st["verdicts_by_status"] == json::parse(R"({"pass": 60, "fail": 35, "partial": 0, "error": 0, "abandoned": 0, "total": 95})"));
  CHECK(st["per_second"].is_null());  // one sample so far
  CHECK(st["open_sessions"] == 7);
  CHECK(st["pending_observations"] == 2);
  CHECK(st["last_hour"]["from"] == "2025-01-01T09:30:00.000Z");
  CHECK(st["last_hour"]["verdicts"] == json::parse(R"({"pass": 1, "fail": 1, "partial": 1, "error": 0, "abandoned": 0, "total": 3})"));
  CHECK(st["alerts"]["count"] == 1);
  REQUIRE(st["alerts"]["firing"].size() == 1);
  CHECK(st["alerts"]["firing"][0]["rule"] == "booking_failure_rate");
  CHECK(st["alerts"]["firing"][0]["labels"] == json::parse(R"({"intent": "book"})"));
  CHECK(st["mailboxes"][1] == json::parse(R"({"lane": "diagnostics", "depth": 5, "oldest_wait_s": 60.0})"));
  CHECK(st["outbox"]["depth"] == 11);
  REQUIRE(st["partitions"].size() == 2);
  CHECK(st["partitions"][0] == json::parse(R"({"topic": "traces.raw", "partition": 0, "next_offset": 100, "lag": 5,
                                               "watermark": "2025-01-01T10:29:58.000Z", "idle": false})"));
  CHECK(st["queries"] == json::parse(R"({"enabled": true, "retention_s": 86400.0})"));
  // What names sessions stays behind the query token.
  const std::string body = st.dump();
  for (const char* not_here : {"secret-session-id", "\"old\"", "\"session_id\""}) {
    INFO(not_here);
    CHECK(body.find(not_here) == std::string::npos);
  }
}

TEST_CASE("/status.json before any event time and with no results kept says so with nulls") {
  served s(/*retention=*/duration{0});
  auto st = s.status();
  CHECK(st["watermark"].is_null());
  CHECK(st["last_hour"].is_null());
  CHECK(st["alerts"]["firing"].is_null());
  CHECK(st["partitions"].empty());
  CHECK(st["health"]["ready"] == false);
}

TEST_CASE("throughput is measured over the last minute of requests, once two are a second apart") {
  rate_sampler r;
  const wall_time t0 = wall(minute(0));
  CHECK_FALSE(r.sample(t0, 0, 0, 0));
  CHECK_FALSE(r.sample(t0 + 500ms, 50, 5, 5));  // less than a second: no rate yet
  auto one = r.sample(t0 + 2s, 200, 20, 10);
  REQUIRE(one);
  CHECK(one->window_s == 2.0);
  CHECK(one->records == 100.0);
  CHECK(one->sessions == 10.0);
  CHECK(one->verdicts == 5.0);
  for (int i = 3; i <= 70; ++i) r.sample(t0 + std::chrono::seconds(i), 100u * i, 10u * i, 5u * i);
  auto later = r.sample(t0 + 71s, 7100, 710, 355);
  REQUIRE(later);
  CHECK(later->window_s <= 60.0);  // the oldest point kept is within the last minute
  CHECK(later->window_s >= 59.0);
  CHECK(later->records == Approx(100.0));
}
