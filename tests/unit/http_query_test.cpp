// The query endpoints (http/query_endpoints.hpp, docs/queries.md) through a real socket on
// 127.0.0.1, over results kept in a real store (written as the stages write them): the bearer
// token, each endpoint's answer — validated against docs/schemas, whose query schemas embed the
// topics' own — the filters and cursors, the retention horizon, and every refusal.
#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "config/options.hpp"
#include "http/ops_endpoints.hpp"
#include "http/query_auth.hpp"
#include "http/query_endpoints.hpp"
#include "http/server.hpp"
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

const std::string token = "test-query-token-0123456789abcdef";

event_time minute(int n) { return at_minute(60.0 * n); }

// The sessions of these tests: s01..s06, one closing each minute.
const std::vector<result_spec> sessions = {
    {"s01", 1, minute(1), verdict_status::pass, "book", "A", false},
    {"s02", 1, minute(2), verdict_status::fail, "book", "A", true},
    {"s03", 1, minute(3), verdict_status::partial, "cancel", "B", false},
    {"s04", 1, minute(4), verdict_status::error, "book", "", true},
    {"s05", 1, minute(5), verdict_status::pass, "cancel", "B", false},
    {"s06", 1, minute(6), verdict_status::fail, "cancel", "A", true},
};

struct served {
  results_fixture results;
  state::results_reader reader{results.store()};
  fake_pipeline f;
  manual_clock clk{wall_time::from_micros(minute(10).micros())};
  server srv{server_settings{"127.0.0.1", 0, 2}};
  std::unique_ptr<httplib::Client> client;

  explicit served(std::optional<query_token> t = query_token{token, "query.token"}, duration retention = 24h,
                  bool open = true) {
    for (const auto& r : sessions) results.add(r);
    if (open) f.reader = &reader;
    f.p.engine.watermark_us = minute(10).micros();
    add_ops_endpoints(srv, f, health_settings{}, clk);
    add_query_endpoints(srv, f, query_endpoint_settings{t, retention});
    REQUIRE_FALSE(srv.start());
    client = std::make_unique<httplib::Client>("127.0.0.1", srv.port());
    client->set_read_timeout(5s);
    client->set_keep_alive(true);
  }
  httplib::Result get(const std::string& path, const std::string& auth = "Bearer " + token) {
    httplib::Headers h;
    if (!auth.empty()) h.emplace("Authorization", auth);
    return client->Get(path.c_str(), h);
  }
  // A 200 answer's body, checked against its schema.
  json ok(const std::string& path, const std::string& schema) {
    auto r = get(path);
    REQUIRE(r);
    INFO(path << " -> " << r->status << " " << r->body);
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "application/json");
    CHECK(r->get_header_value("Cache-Control") == "no-store");
    CHECK(contract_violations(schema, r->body).empty());
    return json::parse(r->body);
  }
  // An error answer: its status, and that its body names `what`.
  void refused(const std::string& path, int status, const std::string& what) {
    auto r = get(path);
    REQUIRE(r);
    INFO(path << " -> " << r->status << " " << r->body);
    CHECK(r->status == status);
    CHECK(contract_violations("tracewatch.query.error.v1", r->body).empty());
    CHECK_THAT(r->body, Catch::Contains(what));
  }
};

std::vector<std::string> ids_of(const json& verdicts) {
  std::vector<std::string> out;
  for (const auto& v : verdicts) out.push_back(v["session_id"]);
  return out;
}

const char* const query_paths[] = {"/api/v1/session?id=s01", "/api/v1/verdicts", "/api/v1/failures", "/api/v1/alerts"};

}  // namespace

TEST_CASE("without a configured token every query endpoint answers 403 saying so, and the others still serve") {
  served s(std::nullopt);
  for (const char* path : query_paths) {
    s.refused(path, 403, "no query token is configured");
    auto r = s.get(path);  // a token changes nothing: there is none to match
    REQUIRE(r);
    CHECK(r->status == 403);
  }
  auto health = s.get("/healthz", "");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("a query needs Authorization: Bearer with the configured token; anything else is 401") {
  served s;
  struct row {
    const char* description;
    std::string header;
    int status;
  };
  const std::vector<row> rows = {
      {"no header", "", 401},
      {"another token", "Bearer another-token-0123456789abcdef", 401},
      {"the token cut short", "Bearer " + token.substr(0, token.size() - 1), 401},
      {"the token and more", "Bearer " + token + "x", 401},
      {"the token as Basic credentials", "Basic " + token, 401},
      {"the token without a scheme", token, 401},
      {"an empty bearer", "Bearer ", 401},
      {"the token", "Bearer " + token, 200},
      {"the scheme in any case", "bearer " + token, 200},
  };
  for (const char* path : query_paths)
    for (const auto& r : rows) {
      INFO(path << ": " << r.description);
      auto res = s.get(path, r.header);
      REQUIRE(res);
      CHECK(res->status == r.status);
      if (r.status == 401) {
        CHECK(res->get_header_value("WWW-Authenticate") == "Bearer realm=\"tracewatch\"");
        CHECK(res->body.find(token) == std::string::npos);
        CHECK(contract_violations("tracewatch.query.error.v1", res->body).empty());
      }
    }
}

TEST_CASE("the token is compared in full: equal strings only") {
  struct row {
    const char* given;
    const char* expected;
    bool equal;
  };
  const row rows[] = {{"abc", "abc", true}, {"abd", "abc", false}, {"ab", "abc", false}, {"abcd", "abc", false},
                      {"", "abc", false},   {"xbc", "abc", false}, {"", "", true}};
  for (const auto& r : rows) {
    INFO(r.given << " vs " << r.expected);
    CHECK(compare_token(r.given, r.expected) == r.equal);
  }
}

TEST_CASE("the query token comes from query.token, else from the environment variable query.token_env names") {
  auto s = config::defaults();
  std::map<std::string, std::string> env;
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  CHECK_FALSE(resolve_query_token(s, getenv).token);  // neither: queries are off
  env["TRACEWATCH_QUERY_TOKEN"] = "from-the-environment-0123456789";
  auto from_env = resolve_query_token(s, getenv);
  REQUIRE(from_env.token);
  CHECK(from_env.token->value == "from-the-environment-0123456789");
  CHECK(from_env.token->source == "TRACEWATCH_QUERY_TOKEN");
  s.query.token = "from-the-config-file-0123456789";
  auto from_config = resolve_query_token(s, getenv);
  REQUIRE(from_config.token);
  CHECK(from_config.token->value == "from-the-config-file-0123456789");
  CHECK(from_config.token->source == "query.token");
  s.query.token.clear();
  s.query.token_env = "MY_TOKEN";
  env["MY_TOKEN"] = "short";
  auto bad = resolve_query_token(s, getenv);
  CHECK_FALSE(bad.token);
  REQUIRE(bad.error);
  CHECK_THAT(*bad.error, Catch::Contains("MY_TOKEN"));
  CHECK(bad.error->find("short") == std::string::npos);
}

TEST_CASE("GET /api/v1/session answers the latest revision's summary, verdict and diagnosis, and every revision kept") {
  served s;
  s.results.add({"s02", 2, minute(7), verdict_status::pass, "book", "A", false});
  auto latest = s.ok("/api/v1/session?id=s02", "tracewatch.query.session.v1");
  CHECK(latest["session_id"] == "s02");
  CHECK(latest["revision"] == 2);
  CHECK(latest["session"] == json::parse(encode_session_json(summary_of({"s02", 2, minute(7), verdict_status::pass, "book", "A", false}))));
  CHECK(latest["verdict"] == json::parse(encode_verdict_json(verdict_of({"s02", 2, minute(7), verdict_status::pass, "book", "A", false}))));
  CHECK(latest["diagnostic"].is_null());
  CHECK(latest["revisions"] == json::parse(R"([
      {"revision": 1, "closed_at": "2025-01-01T09:02:00.000Z", "summary": true, "verdict": "fail", "diagnosed": true},
      {"revision": 2, "closed_at": "2025-01-01T09:07:00.000Z", "summary": true, "verdict": "pass", "diagnosed": false}])"));
  auto first = s.ok("/api/v1/session?id=s02&revision=1", "tracewatch.query.session.v1");
  CHECK(first["revision"] == 1);
  CHECK(first["verdict"]["verdict"] == "fail");
  CHECK(first["diagnostic"] == json::parse(encode_diagnostic_json(diagnostic_of(sessions[1]))));
}

TEST_CASE("GET /api/v1/session refuses what it cannot answer, naming why") {
  served s;
  struct row {
    const char* description;
    const char* path;
    int status;
    const char* names;
  };
  const row rows[] = {
      {"an unknown session", "/api/v1/session?id=nobody", 404, "no results are kept for this session"},
      {"a revision not kept", "/api/v1/session?id=s01&revision=2", 404, "revision 2"},
      {"no id", "/api/v1/session", 400, "id"},
      {"an empty id", "/api/v1/session?id=", 400, "id"},
      {"a revision that is not a number", "/api/v1/session?id=s01&revision=x", 400, "revision"},
      {"revision 0", "/api/v1/session?id=s01&revision=0", 400, "revision"},
      {"an unknown parameter", "/api/v1/session?id=s01&rev=1", 400, "unknown parameter 'rev'"},
      {"a parameter given twice", "/api/v1/session?id=s01&id=s02", 400, "given twice"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    s.refused(r.path, r.status, r.names);
  }
}

TEST_CASE("GET /api/v1/verdicts filters by status, intent, agent and time, newest first, a page at a time") {
  served s;
  struct row {
    const char* description;
    std::string query;
    std::vector<std::string> expected;
  };
  const std::vector<row> rows = {
      {"everything", "", {"s06", "s05", "s04", "s03", "s02", "s01"}},
      {"statuses", "?status=fail,error", {"s06", "s04", "s02"}},
      {"an intent", "?intent=cancel", {"s06", "s05", "s03"}},
      {"an agent and a status", "?agent=A&status=fail", {"s06", "s02"}},
      {"a time range, from inclusive, to exclusive", "?from=2025-01-01T09:02:00Z&to=2025-01-01T09:05:00Z", {"s04", "s03", "s02"}},
      {"nothing matches", "?intent=nothing", {}},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto page = s.ok("/api/v1/verdicts" + r.query, "tracewatch.query.verdicts.v1");
    CHECK(ids_of(page["verdicts"]) == r.expected);
    CHECK(page["next_cursor"].is_null());
    CHECK(page["kept_since"] == "2024-12-31T09:10:00.000Z");  // the watermark (09:10) minus the 24 h retention
  }
  std::vector<std::string> seen;
  std::string path = "/api/v1/verdicts?status=pass,fail,partial&limit=2";
  std::vector<size_t> sizes;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = s.ok(path, "tracewatch.query.verdicts.v1");
    sizes.push_back(page["verdicts"].size());
    for (const auto& id : ids_of(page["verdicts"])) seen.push_back(id);
    if (page["next_cursor"].is_null()) break;
    path = "/api/v1/verdicts?status=pass,fail,partial&limit=2&cursor=" + page["next_cursor"].get<std::string>();
  }
  CHECK(seen == std::vector<std::string>{"s06", "s05", "s03", "s02", "s01"});
  CHECK(sizes == std::vector<size_t>{2, 2, 1});
}

TEST_CASE("GET /api/v1/verdicts refuses a bad parameter, naming it") {
  served s;
  struct row {
    const char* query;
    const char* names;
  };
  const row rows[] = {
      {"?status=failed", "status: 'failed'"},
      {"?status=", "status"},
      {"?intent=", "intent must not be empty"},
      {"?agent=", "agent must not be empty"},
      {"?from=yesterday", "from: 'yesterday'"},
      {"?to=2025-13-01T00:00:00Z", "to:"},
      {"?from=2025-01-01T10:00:00Z&to=2025-01-01T09:00:00Z", "from must be before to"},
      {"?limit=0", "limit must be an integer from 1 to 500"},
      {"?limit=501", "limit must be an integer from 1 to 500"},
      {"?limit=ten", "limit"},
      {"?cursor=not-a-cursor", "cursor"},
      {"?stauts=fail", "unknown parameter 'stauts'"},
  };
  for (const auto& r : rows) {
    INFO(r.query);
    s.refused(std::string("/api/v1/verdicts") + r.query, 400, r.names);
  }
}

TEST_CASE("GET /api/v1/failures lists the latest fail, partial and error verdicts with the diagnosis of their revision") {
  served s;
  auto doc = s.ok("/api/v1/failures", "tracewatch.query.failures.v1");
  std::vector<std::string> got;
  for (const auto& f : doc["failures"]) {
    got.push_back(f["verdict"]["session_id"]);
    const bool diagnosed = f["verdict"]["session_id"] != "s03";  // s03 waits for its diagnosis
    CHECK(f["diagnostic"].is_null() == !diagnosed);
    if (diagnosed) CHECK(f["diagnostic"]["session_id"] == f["verdict"]["session_id"]);
  }
  CHECK(got == std::vector<std::string>{"s06", "s04", "s03", "s02"});
  auto two = s.ok("/api/v1/failures?limit=2", "tracewatch.query.failures.v1");
  CHECK(two["failures"].size() == 2);
  s.refused("/api/v1/failures?limit=51", 400, "limit must be an integer from 1 to 50");
}

TEST_CASE("GET /api/v1/alerts lists the alerts firing now as their last firing events") {
  served s;
  alerts::alert_event e;
  e.alert_id = "0123456789abcdef";
  e.rule = "booking_failure_rate";
  e.state = alerts::alert_state::firing;
  e.level = severity::critical;
  e.labels = {{"intent", "book"}};
  e.value = 0.5;
  e.threshold = 0.2;
  e.at = minute(6);
  e.started_at = minute(5);
  e.samples = 12;
  e.repeat = 1;
  e.examples = {"s02", "s06"};
  e.summary = "half of the bookings failed";
  rocksdb::WriteBatch b;
  state::put_firing_alert(s.results.store(), b, e.alert_id, encode_alert_json(e));
  s.results.write(b);
  auto doc = s.ok("/api/v1/alerts", "tracewatch.query.alerts.v1");
  REQUIRE(doc["alerts"].size() == 1);
  CHECK(doc["alerts"][0] == json::parse(encode_alert_json(e)));
  s.refused("/api/v1/alerts?x=1", 400, "unknown parameter 'x'");
}

TEST_CASE("a result whose window closed before the watermark minus query.retention is not served") {
  served s(query_token{token, "query.token"}, /*retention=*/6min);  // watermark 09:10: kept since 09:04
  CHECK(ids_of(s.ok("/api/v1/verdicts", "tracewatch.query.verdicts.v1")["verdicts"]) ==
        std::vector<std::string>{"s06", "s05", "s04"});
  s.refused("/api/v1/session?id=s03", 404, "past query.retention");
  CHECK(s.ok("/api/v1/session?id=s04", "tracewatch.query.session.v1")["revision"] == 1);
  std::vector<std::string> failures;
  const auto doc = s.ok("/api/v1/failures", "tracewatch.query.failures.v1");
  for (const auto& f : doc["failures"]) failures.push_back(f["verdict"]["session_id"]);
  CHECK(failures == std::vector<std::string>{"s06", "s04"});
}

TEST_CASE("with query.retention 0 the queries say nothing is kept; before the state opens they say so") {
  {
    served s(query_token{token, "query.token"}, duration{0});
    for (const char* path : query_paths) s.refused(path, 404, "query.retention is 0");
  }
  served closed(query_token{token, "query.token"}, 24h, /*open=*/false);
  for (const char* path : query_paths) closed.refused(path, 503, "not open yet");
}
