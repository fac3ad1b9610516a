// The status page end to end (docs/queries.md, "Status page"): Debian's headless Chromium loads /
// from a running demo; the page's own scripts fetch /status.json and, with the query token from
// the address's fragment, /api/v1/failures; the DOM then holds the live figures the server gave
// around the load, the recent failures are sessions the query API knows as failed, and the token
// is nowhere on the page. A screenshot is kept as the test's artifact
// (build/artifacts/status_page.png).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "tests/support/e2e_support.hpp"
#include "tests/support/served_binary.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const char* const chromium_binary = "/usr/bin/chromium";

bool have_chromium() {
  if (std::filesystem::exists(chromium_binary)) return true;
  WARN("SKIPPED: " << chromium_binary << " is not installed (Debian package chromium; tools/install-deps.sh installs it)");
  return false;
}

// Headless, and quiet on this machine's closed network: no background connections, no first-run
// work, a profile of its own. --no-sandbox: the tests may run as root, which the sandbox refuses.
std::string chromium_command(const std::string& profile, const std::string& what, const std::string& url) {
  return std::string("timeout 90 ") + chromium_binary +
         " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
         " --disable-component-update --disable-sync --disable-extensions --hide-scrollbars"
         " --user-data-dir=" + profile + " --virtual-time-budget=8000 --window-size=1280,1700 " + what + " '" + url + "'";
}

// The text of the element with this id, in a dumped DOM (the page sets figures as plain text).
std::optional<std::string> text_of(const std::string& dom, const std::string& id) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex("id=\"" + id + "\"[^>]*>([^<]*)<"))) return std::nullopt;
  return m[1].str();
}

// A figure as the page prints it ("1,234"), or nullopt for anything else ("—").
std::optional<double> number_of(const std::string& dom, const std::string& id) {
  auto t = text_of(dom, id);
  if (!t) return std::nullopt;
  std::string digits;
  for (char c : *t)
    if (c != ',') digits += c;
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stod(digits);
}

json status_json(const std::string& address) {
  int code = 0;
  auto body = http_get(address, "/status.json", &code);
  REQUIRE(body);
  REQUIRE(code == 200);
  return json::parse(*body);
}

}  // namespace

TEST_CASE("headless Chromium loads the status page of a running demo, shows its live figures and failures, and keeps a screenshot") {
  if (!have_chromium()) return;
  temp_dir dir;
  // The token from the environment (query.token_env), as docs/queries.md recommends.
  const std::string token = "status-page-e2e-token-5f1c2a9b";
  ::setenv("TRACEWATCH_QUERY_TOKEN", token.c_str(), 1);
  child_process demo(binary,
                     {"demo", "--duration", "600s", "--calls-per-second", "4", "--quiet", "--set", "http.listen=127.0.0.1:0"},
                     dir.sub("out"), dir.sub("err"));
  ::unsetenv("TRACEWATCH_QUERY_TOKEN");
  std::optional<std::string> address;
  // The demo prints where its status page is.
  const std::regex banner(R"(status: +http://([0-9.]+:[0-9]+)/ )");
  REQUIRE(eventually(30s, [&] {
    std::smatch m;
    const std::string out = demo.read_stdout();
    if (std::regex_search(out, m, banner)) address = m[1].str();
    return address || !demo.running();
  }));
  REQUIRE(address);
  INFO("demo at " << *address << "; it printed:\n" << demo.read_stdout().substr(0, 3000) << demo.read_stderr().substr(0, 3000));
  const httplib::Headers auth{{"Authorization", "Bearer " + token}};

  // Wait for something worth showing: verdicts, and a diagnosed failure among the kept results.
  REQUIRE(eventually(120s, [&] {
    if (!demo.running()) return true;
    auto body = http_get(*address, "/api/v1/failures?limit=10", nullptr, auth);
    if (!body) return false;
    const auto f = json::parse(*body);
    if (!f.is_object() || !f.contains("failures")) {
      UNSCOPED_INFO("/api/v1/failures answered " << *body);
      return false;
    }
    for (const auto& x : f["failures"])
      if (!x["diagnostic"].is_null()) return status_json(*address)["totals"]["verdicts"].get<double>() >= 5;
    return false;
  }));
  REQUIRE(demo.running());

  const std::string url = "http://" + *address + "/#token=" + token;
  const json before = status_json(*address);
  auto dumped = run_command(chromium_command(dir.sub("profile-dom"), "--dump-dom", url));
  const json after = status_json(*address);
  const std::string& dom = dumped.second;
  std::ofstream(dir.sub("dom.html")) << dom;
  INFO("chromium exit " << dumped.first << "; the DOM (first 4000 bytes):\n" << dom.substr(0, 4000));
  REQUIRE(dumped.first == 0);
  REQUIRE(dom.find("id=\"verdicts-total\"") != std::string::npos);

  // The scripts ran and rendered /status.json: every counter lies between what the server said
  // just before and just after the load.
  std::smatch fetches;
  REQUIRE(std::regex_search(dom, fetches, std::regex(R"re(<body[^>]*data-fetches="([0-9]+)")re")));
  CHECK(std::stoi(fetches[1].str()) >= 1);
  for (const auto& [id, key] : std::vector<std::pair<std::string, std::string>>{
           {"records-total", "records"}, {"sessions-total", "sessions_completed"}, {"verdicts-total", "verdicts"},
           {"diagnoses-total", "diagnoses"}}) {
    INFO(id << ": " << text_of(dom, id).value_or("(missing)"));
    const auto shown = number_of(dom, id);
    REQUIRE(shown);
    CHECK(*shown >= before["totals"][key].get<double>());
    CHECK(*shown <= after["totals"][key].get<double>());
  }
  CHECK(*number_of(dom, "verdicts-total") > 0);
  CHECK(number_of(dom, "open-sessions"));
  CHECK(number_of(dom, "alerts-firing-count"));
  const auto health = text_of(dom, "health").value_or("");
  CHECK((health == "ready" || health.rfind("not ready", 0) == 0));
  CHECK(text_of(dom, "version") == before["version"].get<std::string>());

  // The verdict mix of the last hour: its parts add up, and it has counted verdicts.
  double parts = 0;
  for (const char* st : {"pass", "fail", "partial", "error", "abandoned"}) {
    const auto n = number_of(dom, std::string("mix-") + st);
    REQUIRE(n);
    parts += *n;
  }
  REQUIRE(number_of(dom, "mix-total"));
  CHECK(*number_of(dom, "mix-total") == parts);
  CHECK(parts > 0);

  // The partitions the demo holds, and its work queues.
  CHECK(std::regex_search(dom, std::regex(R"(<tr data-partition="[^"]+/[0-9]+">)")));
  CHECK(std::regex_search(dom, std::regex(R"(<tr data-lane="judge">)")));

  // Recent failures, with the token: each row is a session the query API knows as failed, and at
  // least one of them shows its diagnosis.
  std::set<std::string> rows;
  const std::regex row(R"re(<tr data-session="([^"]+)" data-revision="([0-9]+)">)re");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), row); it != std::sregex_iterator(); ++it)
    rows.insert((*it)[1].str());
  REQUIRE_FALSE(rows.empty());
  for (const auto& id : rows) {
    int code = 0;
    auto body = http_get(*address, "/api/v1/session?id=" + id, &code, auth);
    REQUIRE(body);
    INFO(id << ": " << *body);
    REQUIRE(code == 200);
    const auto s = json::parse(*body);
    const auto status = s["verdict"]["verdict"].get<std::string>();
    CHECK((status == "fail" || status == "partial" || status == "error"));
    // The demo redacts personal data by default (privacy.redact): the caller's number is a hash.
    CHECK_FALSE(std::regex_search(*body, std::regex(R"(\+1555[0-9]{7})")));
    CHECK(std::regex_match(s["session"]["user_id"].get<std::string>(), std::regex(R"(\[phone:[0-9a-f]{16}\])")));
  }
  CHECK(std::regex_search(dom, std::regex(R"(<td class="diagnosis">[A-Za-z_]+: )")));
  // The token opened the failures and stays out of the page (it was removed from the address).
  CHECK(dom.find(token) == std::string::npos);

  // The screenshot, kept where the build keeps test artifacts.
  const std::string artifacts = TW_ARTIFACT_DIR;
  std::filesystem::create_directories(artifacts);
  const std::string png = artifacts + "/status_page.png";
  std::filesystem::remove(png);
  auto shot = run_command(chromium_command(dir.sub("profile-shot"), "--screenshot=" + png, url));
  INFO(shot.second);
  REQUIRE(shot.first == 0);
  const std::string image = read_file(png);
  REQUIRE(image.size() > 20000);  // a rendered page, not a blank one
  CHECK(image.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);

  demo.signal(SIGTERM);
  CHECK(demo.wait(60s) == 0);
}
