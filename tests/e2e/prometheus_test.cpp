// The binary's HTTP endpoints end to end (docs/operations.md, "Health and metrics"): a real
// Prometheus server scrapes a running tracewatch and its series say what the run produced; the
// shipped rules load into it and pass promtool; every metric the Grafana dashboard queries is one
// the binary exports; and http.enabled / http.listen behave at start.
#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <set>

#include "tests/support/e2e_support.hpp"
#include "tests/support/prom_text.hpp"
#include "tests/support/prometheus_process.hpp"
#include "tests/support/served_binary.hpp"
#include "topics/contracts/verdict_json.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string docs_dir = std::string(TW_SOURCE_DIR) + "/docs";

// Prometheus and promtool come from the Debian package `prometheus` (tools/install-deps.sh):
// without them these tests say so and check nothing.
bool have_prometheus() {
  if (std::filesystem::exists(prometheus_binary) && std::filesystem::exists(promtool_binary)) return true;
  WARN("SKIPPED: " << prometheus_binary << " or " << promtool_binary
                   << " is not installed (Debian package prometheus; tools/install-deps.sh installs it)");
  return false;
}

// Every metric name a PromQL text mentions: tracewatch_*, process_* and recorded tracewatch:*.
std::set<std::string> metric_names_in(const std::string& promql) {
  static const std::regex name(R"((^|[^a-zA-Z0-9_:])((tracewatch|process)[_:][a-zA-Z0-9_:]*))");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(promql.begin(), promql.end(), name); it != std::sregex_iterator(); ++it)
    out.insert((*it)[2].str());
  return out;
}

// Every string under a key named `expr` or `query`/`definition` (template variables) in a JSON tree.
void queries_in(const json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if ((k == "expr" || k == "definition") && v.is_string()) out.push_back(v.get<std::string>());
      else if (k == "query" && v.is_string()) out.push_back(v.get<std::string>());
      else queries_in(v, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) queries_in(v, out);
  }
}

// The names the rules file records.
std::set<std::string> recorded_names(const std::string& rules_text) {
  std::set<std::string> out;
  static const std::regex record(R"(- record: ([a-zA-Z0-9_:]+))");
  for (auto it = std::sregex_iterator(rules_text.begin(), rules_text.end(), record); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1].str());
  return out;
}

// What in `queries` names a metric neither the scrape nor the rules file has.
std::vector<std::string> unknown_metrics(const std::vector<std::string>& queries, const prom_text& scrape,
                                         const std::set<std::string>& recorded) {
  std::vector<std::string> out;
  for (const auto& q : queries)
    for (const auto& n : metric_names_in(q)) {
      if (n.find(':') != std::string::npos) {
        if (!recorded.count(n)) out.push_back(n + " (in " + q + ")");
        continue;
      }
      std::string base = n;
      for (const char* sfx : {"_bucket", "_sum", "_count"}) {
        const std::string s(sfx);
        if (n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0 &&
            scrape.families.count(n.substr(0, n.size() - s.size())) &&
            scrape.families.at(n.substr(0, n.size() - s.size())) == "histogram")
          base = n.substr(0, n.size() - s.size());
      }
      if (!scrape.has_family(base)) out.push_back(n + " (in " + q + ")");
    }
  return out;
}

}  // namespace

TEST_CASE("promtool accepts the shipped Prometheus configuration and rules, and the rules' unit tests pass") {
  if (!have_prometheus()) return;
  const std::string dir = docs_dir + "/prometheus";
  auto rules = run_command(std::string(promtool_binary) + " check rules " + dir + "/tracewatch-rules.yml");
  INFO(rules.second);
  CHECK(rules.first == 0);
  auto config = run_command(std::string(promtool_binary) + " check config " + dir + "/prometheus.yml");
  INFO(config.second);
  CHECK(config.first == 0);
  auto tests = run_command("cd " + dir + " && " + promtool_binary + " test rules tracewatch-rules.test.yml");
  INFO(tests.second);
  CHECK(tests.first == 0);
}

TEST_CASE("a real Prometheus scrapes a running tracewatch, and the series equal what the run produced") {
  if (!have_prometheus()) return;
  cluster_fixture k;
  temp_dir dir;
  // Calls of the last few minutes, so that the end-marker latency is what a live run would see.
  sim::call_generator gen(calls_options(31));
  std::vector<sim::call_plan> plans;
  const event_time start = event_time::from_micros(system_clock::instance().now().micros()) - std::chrono::minutes(4);
  auto messages = sim::generate_stream(gen, 600, start, 2s, &plans);
  produce_all(k.brokers, "traces.raw", messages);

  child_process tw(binary, k.run_args(dir.sub("state")), dir.sub("out"), dir.sub("err"));
  std::optional<std::string> address;
  REQUIRE(eventually(30s, [&] { return (address = listening_address(tw)) || !tw.running(); }));
  REQUIRE(address);
  INFO("tracewatch at " << *address << "; its log:\n" << tw.read_stderr().substr(0, 3000));

  // /healthz answers while the run works; /readyz once assigned and caught up.
  int status = 0;
  auto health = http_get(*address, "/healthz", &status);
  REQUIRE(health);
  CHECK(status == 200);
  CHECK(json::parse(*health)["stages"].size() == 8);

  // The run is done when every call has a session and every session revision a verdict.
  topic_reader sessions_topic(k.brokers, "tracewatch.sessions", 4), verdicts_topic(k.brokers, "tracewatch.verdicts", 4);
  std::set<std::string> session_ids;
  REQUIRE(eventually(120s, [&] {
    sessions_topic.poll(100ms);
    verdicts_topic.poll(100ms);
    session_ids.clear();
    for (const auto& m : sessions_topic.messages) session_ids.insert(m.key);
    return (session_ids.size() >= plans.size() && verdicts_topic.messages.size() == sessions_topic.messages.size()) ||
           !tw.running();
  }));
  REQUIRE(tw.running());
  const double verdicts = static_cast<double>(verdicts_topic.messages.size());
  double by_end_marker = 0;
  for (const auto& m : verdicts_topic.messages) by_end_marker += decode_verdict_json(m.payload)->reason == completion_reason::end_marker;
  REQUIRE(by_end_marker > 0);

  // tracewatch's own /metrics says the same, in a scrape promtool finds nothing to object to.
  prom_text scrape;
  REQUIRE(eventually(30s, [&] {
    auto body = http_get(*address, "/metrics");
    if (!body) return false;
    scrape = parse_prom_text(*body);
    std::ofstream(dir.sub("scrape.txt")) << *body;
    return scrape.sum("tracewatch_verdicts_total") == verdicts && scrape.sum("tracewatch_ready") == 1;
  }));
  INFO("the scrape:\n" << read_file(dir.sub("scrape.txt")).substr(0, 6000));
  CHECK(scrape.problems.empty());
  CHECK(scrape.sum("tracewatch_input_records_total") == static_cast<double>(messages.size()));
  CHECK(scrape.sum("tracewatch_sessions_completed_total") == static_cast<double>(sessions_topic.messages.size()));
  CHECK(scrape.sum("tracewatch_end_marker_to_verdict_seconds_count") == by_end_marker);
  CHECK(scrape.sum("tracewatch_consumer_lag_records") == 0);
  CHECK(scrape.count("tracewatch_consumer_lag_records") == 4);
  CHECK(scrape.sum("tracewatch_partitions_assigned") == 4);
  CHECK(scrape.sum("tracewatch_state_batch_duration_seconds_count") > 0);
  CHECK(scrape.sum("tracewatch_rocksdb_sst_bytes") + scrape.sum("tracewatch_rocksdb_memtable_bytes") > 0);
  CHECK(scrape.sum("tracewatch_healthy") == 1);
  auto lint = run_command(std::string(promtool_binary) + " check metrics < " + dir.sub("scrape.txt"));
  INFO(lint.second);
  CHECK(lint.first == 0);
  auto ready = http_get(*address, "/readyz", &status);
  REQUIRE(ready);
  CHECK(status == 200);

  // Prometheus, scraping every second, with the shipped rules evaluated every second.
  const std::string rules_text = read_file(docs_dir + "/prometheus/tracewatch-rules.yml");
  prometheus_process prom("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          "rule_files: [tracewatch-rules.yml]\n"
                          "scrape_configs:\n  - job_name: tracewatch\n    static_configs:\n      - targets: ['" +
                              *address + "']\n",
                          {{"tracewatch-rules.yml", rules_text}});
  INFO("Prometheus's log:\n" << prom.log().substr(0, 3000));
  CHECK(eventually(60s, [&] { return prom.scalar("sum(tracewatch_verdicts_total)") == verdicts; }, 200ms));
  CHECK(prom.scalar("up{job=\"tracewatch\"}") == 1.0);
  CHECK(prom.scalar("sum(tracewatch_sessions_completed_total)") == static_cast<double>(sessions_topic.messages.size()));
  CHECK(prom.scalar("tracewatch_ready") == 1.0);
  CHECK(prom.scalar("sum(tracewatch_end_marker_to_verdict_seconds_count)") == by_end_marker);
  // The recording rules produce their series; every rule evaluates without an error.
  CHECK(eventually(30s, [&] { return prom.scalar("tracewatch:consumer_lag_records:sum") == 0.0; }, 200ms));
  bool rules_ok = eventually(30s, [&] {
    auto groups = prom.api("rules");
    if (!groups) return false;
    size_t n = 0, healthy = 0;
    for (const auto& g : (*groups)["groups"])
      for (const auto& r : g["rules"]) {
        ++n;
        healthy += r["health"] == "ok";
      }
    return n == 18 && healthy == n;
  }, 200ms);
  INFO("rules: " << (prom.api("rules") ? prom.api("rules")->dump() : "none"));
  CHECK(rules_ok);
  CHECK(prom.api("alerts").value_or(json::object())["alerts"].empty());  // a healthy run fires none

  // Every query of the dashboard and the rules names a metric that this scrape holds (or a rule
  // records), and Prometheus accepts each as PromQL.
  std::vector<std::string> dashboard_queries;
  queries_in(json::parse(read_file(docs_dir + "/grafana/tracewatch.json")), dashboard_queries);
  REQUIRE(dashboard_queries.size() > 30);
  const auto recorded = recorded_names(rules_text);
  std::vector<std::string> rule_queries;
  static const std::regex expr(R"(expr: (\|\n((?:\s{10,}.*\n)+)|(.*)))");
  for (auto it = std::sregex_iterator(rules_text.begin(), rules_text.end(), expr); it != std::sregex_iterator(); ++it)
    rule_queries.push_back((*it)[2].matched ? (*it)[2].str() : (*it)[3].str());
  REQUIRE(rule_queries.size() == 18);
  CHECK(unknown_metrics(dashboard_queries, scrape, recorded).empty());
  CHECK(unknown_metrics(rule_queries, scrape, recorded).empty());
  for (auto q : dashboard_queries) {
    if (q == "prometheus") continue;  // the datasource variable's type, not a query
    if (q.rfind("label_values(", 0) == 0) q = q.substr(13, q.rfind(',') - 13);  // its series selector
    for (const auto& [var, value] : {std::pair<std::string, std::string>{"$__rate_interval", "1m"},
                                     {"$job", ".*"},
                                     {"$instance", ".*"}})
      for (size_t at; (at = q.find(var)) != std::string::npos;) q.replace(at, var.size(), value);
    INFO(q);
    CHECK(prom.api("query", {{"query", q}}));
  }

  CHECK(prom.stop(20s) == 0);
  tw.signal(SIGTERM);
  CHECK(tw.wait(30s) == 0);
}

TEST_CASE("with http.enabled false nothing listens; a taken http.listen port stops the start naming the key") {
  cluster_fixture k;
  temp_dir dir;
  {
    auto args = k.run_args(dir.sub("state1"));
    args.insert(args.end(), {"--set", "http.enabled=false"});
    child_process tw(binary, args, dir.sub("o1"), dir.sub("e1"));
    REQUIRE(eventually(30s, [&] { return tw.read_stderr().find("pipeline started") != std::string::npos || !tw.running(); }));
    CHECK(tw.read_stderr().find("http server listening") == std::string::npos);
    tw.signal(SIGTERM);
    CHECK(tw.wait(30s) == 0);
  }
  // Another process's listening socket on the port.
  httplib::Server squatter;
  const int port = squatter.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread squatting([&] { squatter.listen_after_bind(); });
  REQUIRE(eventually(10s, [&] { return squatter.is_running(); }));
  auto args = k.run_args(dir.sub("state2"));
  args.insert(args.end(), {"--set", "http.listen=127.0.0.1:" + std::to_string(port)});
  child_process tw(binary, args, dir.sub("o2"), dir.sub("e2"));
  CHECK(tw.wait(30s) == 1);
  CHECK_THAT(tw.read_stderr(), Catch::Contains("http.listen: cannot listen on 127.0.0.1:" + std::to_string(port)));
  squatter.stop();
  squatting.join();
}
