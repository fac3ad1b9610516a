// Secrets through the real binary (docs/configuration.md, "Secret"; issue 8): a value planted in
// every option the table marks secret is printed by no output path — `config show`, configuration
// errors, the log, the demo's output, the diagnostics it writes, and every HTTP endpoint of a
// running demo (the status page, /status.json, /metrics, the probes, the queries).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <regex>
#include <set>

#include "tests/support/e2e_support.hpp"
#include "tests/support/served_binary.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// One planted value per secret place; the URLs point at a port where nothing listens (the
// discard port), so every delivery fails and its error is reported.
struct planted {
  std::string yaml;
  std::vector<std::string> secrets;
  std::set<std::string> keys;  // the options they are planted in
};

planted plant() {
  planted p;
  int n = 0;
  auto secret = [&](const std::string& key) {
    p.keys.insert(key);
    p.secrets.push_back("planted-SECRET-" + std::to_string(++n) + "-q7Xw");
    return p.secrets.back();
  };
  for (const char* client : {"librdkafka", "consumer", "producer"}) {
    const std::string key = std::string("kafka.") + client;
    p.yaml += key + ":\n  sasl.password: \"" + secret(key) + "\"\n";
    p.yaml += "  ssl.key.password: \"" + secret(key) + "\"\n";
  }
  p.yaml += "webhook.url: \"http://127.0.0.1:9/hooks/" + secret("webhook.url") + "\"\n";
  p.yaml += "webhook.headers:\n  Authorization: \"Bearer " + secret("webhook.headers") + "\"\n";
  p.yaml += "alerts.alertmanager.url: \"http://127.0.0.1:9/am/" + secret("alerts.alertmanager.url") + "\"\n";
  p.yaml += "alerts.alertmanager.headers:\n  Authorization: \"Basic " + secret("alerts.alertmanager.headers") + "\"\n";
  p.yaml += "alerts.webhook.url: \"http://127.0.0.1:9/alerts/" + secret("alerts.webhook.url") + "\"\n";
  p.yaml += "alerts.webhook.headers:\n  X-Token: \"" + secret("alerts.webhook.headers") + "\"\n";
  p.yaml += "privacy.hash_key: \"" + secret("privacy.hash_key") + "\"\n";
  p.yaml += "query.token: \"" + secret("query.token") + "\"\n";
  return p;
}

// The planted secrets that `text` shows.
std::vector<std::string> leaked(const planted& p, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& s : p.secrets)
    if (text.find(s) != std::string::npos) out.push_back(s);
  return out;
}

// Every option `config docs` marks secret.
std::set<std::string> secret_options() {
  auto docs = run_command(binary + " config docs");
  REQUIRE(docs.first == 0);
  std::set<std::string> out;
  const std::regex row(R"(\| `([a-z_.]+)` \|[^\n]*\*Secret)");
  for (auto it = std::sregex_iterator(docs.second.begin(), docs.second.end(), row); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1].str());
  return out;
}

}  // namespace

TEST_CASE("a secret planted in every secret option shows in neither config show nor a configuration error") {
  temp_dir dir;
  const planted p = plant();
  const std::string file = dir.sub("secrets.yaml");
  std::ofstream(file) << p.yaml;
  // Every secret option of the table is planted (a new one must join plant()).
  const auto marked = secret_options();
  REQUIRE_FALSE(marked.empty());
  for (const auto& k : marked) {
    INFO(k);
    CHECK(p.keys.count(k) == 1);
  }

  auto shown = run_command(binary + " config show --config " + file);
  INFO(shown.second);
  REQUIRE(shown.first == 0);
  CHECK(leaked(p, shown.second).empty());
  CHECK_THAT(shown.second, Catch::Contains("webhook.url: \"http://127.0.0.1:9/<redacted>\""));
  CHECK_THAT(shown.second, Catch::Contains("query.token: \"<redacted>\""));
  CHECK_THAT(shown.second, Catch::Contains("\"Authorization\": \"<redacted>\""));

  // Errors: about a secret option's own value, and about another option while secrets are loaded.
  for (const std::vector<std::string>& set : std::vector<std::vector<std::string>>{
           {"webhook.url=ftp://hooks.example.com/planted-SECRET-bad-url"},
           {"query.token=planted SECRET with spaces"},
           {"alerts.alertmanager.url=not a url planted-SECRET-am"},
           {"completion.gap=banana"}}) {
    std::string cmd = binary + " config check --config " + file;
    for (const auto& kv : set) cmd += " --set '" + kv + "'";
    auto r = run_command(cmd);
    INFO(cmd << "\n" << r.second);
    CHECK(r.first != 0);
    CHECK_THAT(r.second, Catch::Contains("configuration error"));
    CHECK(leaked(p, r.second).empty());
    CHECK(r.second.find("planted-SECRET") == std::string::npos);  // the bad value itself neither
  }
}

TEST_CASE("a running demo with every secret planted prints none, writes none, and serves none on any endpoint") {
  temp_dir dir;
  const planted p = plant();
  const std::string file = dir.sub("secrets.yaml");
  std::ofstream(file) << p.yaml;
  child_process demo(binary,
                     {"demo", "--duration", "600s", "--calls-per-second", "4", "--config", file, "--set",
                      "http.listen=127.0.0.1:0", "--set", "log.level=debug"},
                     dir.sub("out"), dir.sub("err"));
  std::optional<std::string> address;
  const std::regex banner(R"(status: +http://([0-9.]+:[0-9]+)/ )");
  REQUIRE(eventually(30s, [&] {
    std::smatch m;
    const std::string out = demo.read_stdout();
    if (std::regex_search(out, m, banner)) address = m[1].str();
    return address || !demo.running();
  }));
  REQUIRE(address);
  const httplib::Headers auth{{"Authorization", "Bearer " + p.secrets.back()}};  // query.token, planted last

  // Until a failure is diagnosed: its diagnosis carries the webhook's failed delivery (the
  // webhook URL's port refuses), so that path has run.
  json failures;
  REQUIRE(eventually(120s, [&] {
    if (!demo.running()) return true;
    auto body = http_get(*address, "/api/v1/failures?limit=50", nullptr, auth);
    if (!body) return false;
    failures = json::parse(*body, nullptr, false);
    if (!failures.is_object() || !failures.contains("failures")) return false;
    for (const auto& f : failures["failures"])
      if (f["diagnostic"].is_object() && f["diagnostic"].contains("webhook")) return true;
    return false;
  }));
  REQUIRE(demo.running());
  INFO("a failure: " << failures["failures"][0].dump());

  for (const char* path : {"/", "/status.json", "/metrics", "/healthz", "/readyz", "/api/v1/failures?limit=50",
                           "/api/v1/verdicts?limit=500", "/api/v1/alerts"}) {
    int code = 0;
    auto body = http_get(*address, path, &code, auth);
    REQUIRE(body);
    INFO(path << " answered " << code);
    CHECK(code == 200);
    CHECK(leaked(p, *body).empty());
  }
  // A wrong token is refused without the right one quoted.
  int code = 0;
  auto refused = http_get(*address, "/api/v1/alerts", &code, {{"Authorization", "Bearer planted-SECRET-wrong-guess"}});
  REQUIRE(refused);
  CHECK(code == 401);
  CHECK(leaked(p, *refused).empty());

  demo.signal(SIGTERM);
  CHECK(demo.wait(60s) == 0);
  const std::string out = demo.read_stdout(), err = demo.read_stderr();
  INFO(err.substr(0, 4000));
  CHECK(leaked(p, out).empty());
  CHECK(leaked(p, err).empty());
  CHECK(err.find("level=debug") != std::string::npos);  // the most verbose log said nothing either
}
