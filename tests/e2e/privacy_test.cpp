// PII redaction through the real binary (docs/privacy.md; issue 8): the same input replayed with
// privacy.redact off and on. Off, the personal data of the input reaches the outputs (so the test
// can fail); on, none of it does, and nothing else changes: the same records, each still valid
// against its topic's schema, the same sessions under the same ids, the same verdicts. On the real
// fixtures (an OTLP export whose spans name the user by e-mail address) and on generated calls
// (callers' phone numbers as user ids and in tool inputs).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <set>

#include "tests/support/e2e_support.hpp"
#include "tests/support/fixture_messages.hpp"
#include "tests/support/served_binary.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct replayed {
  std::vector<std::string> sessions, verdicts, diagnostics, deadletters;
  std::string all() const {
    std::string out;
    for (const auto* v : {&sessions, &verdicts, &diagnostics, &deadletters})
      for (const auto& l : *v) out += l + "\n";
    return out;
  }
};

replayed replay(const temp_dir& dir, const std::string& name, const std::string& input,
                const std::vector<std::string>& settings) {
  std::vector<std::string> args{"replay", input, "--flush", "--out", dir.sub(name + ".sessions"),
                                "--verdicts-out", dir.sub(name + ".verdicts"), "--diagnostics-out",
                                dir.sub(name + ".diagnostics"), "--deadletter-out", dir.sub(name + ".deadletter")};
  for (const auto& kv : settings) {
    args.push_back("--set");
    args.push_back(kv);
  }
  child_process p(binary, args, dir.sub(name + ".out"), dir.sub(name + ".err"));
  const int code = p.wait(120s);
  INFO(name << ": " << p.read_stderr().substr(0, 2000));
  REQUIRE(code == 0);
  replayed r;
  r.sessions = lines_of(read_file(dir.sub(name + ".sessions")));
  r.verdicts = lines_of(read_file(dir.sub(name + ".verdicts")));
  r.diagnostics = lines_of(read_file(dir.sub(name + ".diagnostics")));
  r.deadletters = lines_of(read_file(dir.sub(name + ".deadletter")));
  return r;
}

std::set<std::string> matches(const std::string& text, const std::regex& re) {
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[0].str());
  return out;
}

// Each record still meets its topic's contract.
void check_contracts(const replayed& r) {
  for (const auto& [schema, lines] : std::vector<std::pair<std::string, const std::vector<std::string>*>>{
           {"tracewatch.session.v1", &r.sessions},
           {"tracewatch.verdict.v1", &r.verdicts},
           {"tracewatch.diagnostic.v1", &r.diagnostics},
           {"tracewatch.deadletter.v1", &r.deadletters}})
    for (const auto& l : *lines) {
      INFO(schema << ": " << l.substr(0, 400));
      CHECK(contract_violations(schema, l).empty());
    }
}

const std::regex email_re(R"([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})");
const std::regex caller_re(R"(\+1555[0-9]{7})");  // the generator's callers (sim/call_generator.cpp)

}  // namespace

TEST_CASE("the real fixtures replayed with privacy.redact: no e-mail address of theirs is left in any output, and nothing else changes") {
  temp_dir dir;
  const std::string input = dir.sub("fixtures.jsonl");
  {
    std::ofstream f(input);
    for (const auto& m : fixture_messages(std::string(TW_SOURCE_DIR) + "/tests/fixtures/real"))
      f << json::parse(m.payload).dump() << "\n";  // one message per line
  }
  const auto off = replay(dir, "off", input, {});
  const auto on = replay(dir, "on", input, {"privacy.redact=true", "privacy.hash_key=fixture-test-key"});

  const auto found = matches(off.all(), email_re);
  INFO("e-mail addresses in the outputs without redaction: " << found.size());
  REQUIRE(found.count("admin@kagent.dev") == 1);  // kagent's spans name their user
  for (const auto& e : found) {
    INFO(e);
    CHECK(on.all().find(e) == std::string::npos);
  }
  CHECK(matches(on.all(), email_re).empty());
  CHECK(on.all().find("[email]") != std::string::npos);

  // The same records, where the fixtures carry nothing personal byte for byte the same.
  CHECK(on.sessions.size() == off.sessions.size());
  CHECK(on.verdicts.size() == off.verdicts.size());
  CHECK(on.diagnostics.size() == off.diagnostics.size());
  CHECK(on.deadletters.size() == off.deadletters.size());
  CHECK(on.sessions == off.sessions);
  CHECK(on.verdicts == off.verdicts);
  size_t changed = 0;
  for (size_t i = 0; i < std::min(on.deadletters.size(), off.deadletters.size()); ++i) {
    if (on.deadletters[i] == off.deadletters[i]) continue;
    ++changed;
    INFO(off.deadletters[i].substr(0, 300));
    CHECK(!matches(off.deadletters[i], email_re).empty());  // changed only where there was something to redact
  }
  CHECK(changed > 0);
  check_contracts(on);
}

TEST_CASE("generated calls replayed with privacy.redact in hash mode: callers' numbers become keyed hashes, the same caller the same token") {
  temp_dir dir;
  auto g = make_calls(41, 1500, "2025-02-01T10:00:00Z");
  const std::string input = dir.sub("calls.jsonl");
  {
    std::ofstream f(input);
    for (const auto& m : g.messages) f << m.payload << "\n";
  }
  const std::vector<std::string> hashed{"privacy.redact=true", "privacy.mode=hash", "privacy.hash_key=calls-test-key"};
  const auto off = replay(dir, "off", input, {});
  const auto on = replay(dir, "on", input, hashed);
  const auto again = replay(dir, "again", input, hashed);
  const auto other_key = replay(dir, "other", input, {"privacy.redact=true", "privacy.mode=hash", "privacy.hash_key=another-key"});

  const auto callers = matches(off.all(), caller_re);
  REQUIRE(callers.size() >= 10);
  CHECK(matches(on.all(), caller_re).empty());
  // Deterministic: the same input and key give the same bytes (live equals replay); another key
  // other tokens.
  CHECK(again.all() == on.all());
  CHECK(other_key.all() != on.all());

  // Session by session: the same ids, the same verdicts; each caller's number, wherever it was
  // (the session's user_id, a tool's input), is one token, and distinct callers distinct tokens.
  const auto before = latest_sessions(off.sessions), after = latest_sessions(on.sessions);
  REQUIRE(after.size() == before.size());
  check_matches_plans(after, g.plans);
  const std::regex token(R"(\[phone:[0-9a-f]{16}\])");
  std::map<std::string, std::string> token_of;  // caller -> token
  for (const auto& line : on.sessions) {
    const auto j = json::parse(line);
    const auto& was = before.at(j["session_id"].get<std::string>());
    if (was.user_id.empty()) continue;
    const auto user = j["user_id"].get<std::string>();
    INFO(was.user_id << " -> " << user);
    CHECK(std::regex_match(user, token));
    auto [it, fresh] = token_of.emplace(was.user_id, user);
    CHECK(it->second == user);
    // Every phone token in the session is its caller's.
    for (const auto& t : matches(line, token)) CHECK(t == user);
  }
  CHECK(token_of.size() >= 10);
  std::set<std::string> distinct;
  for (const auto& [caller, t] : token_of) distinct.insert(t);
  CHECK(distinct.size() == token_of.size());
  CHECK(on.verdicts.size() == off.verdicts.size());
  for (size_t i = 0; i < on.verdicts.size(); ++i)
    CHECK(json::parse(on.verdicts[i])["verdict"] == json::parse(off.verdicts[i])["verdict"]);
  check_contracts(on);
}

TEST_CASE("a redaction pattern that does not compile stops the start, naming it") {
  auto r = run_command(binary + " config check --set privacy.redact=true --set privacy.hash_key=k"
                                " --set 'privacy.patterns=member_id=M-[0-9'");
  INFO(r.second);
  CHECK(r.first != 0);
  CHECK_THAT(r.second, Catch::Contains("privacy.patterns.member_id") && Catch::Contains("RE2"));
  auto missing_key = run_command(binary + " config check --set privacy.redact=true");
  INFO(missing_key.second);
  CHECK(missing_key.first != 0);
  CHECK_THAT(missing_key.second, Catch::Contains("privacy.hash_key"));
}
