// End to end through the real tracewatch binary: configuration errors, replay of a file, and the
// live pipeline against librdkafka's mock cluster — including a process killed with SIGKILL
// mid-stream and restarted, which must lose no session.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/support/e2e_support.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;


TEST_CASE("bad configuration makes every subcommand exit with status 2, naming the key") {
  temp_dir dir;
  struct row {
    std::vector<std::string> args;
    const char* names;
  };
  const row rows[] = {
      {{"config", "check", "--set", "completion.gap=5x"}, "completion.gap"},
      {{"run", "--set", "completion.min_traces=-1"}, "completion.min_traces"},
      {{"replay", "/dev/null", "--set", "nonsense.key=1"}, "nonsense.key"},
      {{"demo", "--set", "time.idle_timeout=1ms"}, "time.idle_timeout"},
  };
  for (const auto& r : rows) {
    INFO(r.args[0] << " " << r.args[1]);
    child_process p(binary, r.args, dir.sub("out"), dir.sub("err"));
    CHECK(p.wait(20s) == 2);
    CHECK_THAT(p.read_stderr(), Catch::Contains(r.names));
  }
  std::ofstream(dir.sub("bad.yaml")) << "completion:\n  gap: [1, 2]\n";
  child_process p(binary, {"config", "check", "--config", dir.sub("bad.yaml")}, dir.sub("out"), dir.sub("err"));
  CHECK(p.wait(20s) == 2);
  CHECK_THAT(p.read_stderr(), Catch::Contains("completion.gap"));
}

TEST_CASE("every subcommand answers --help") {
  temp_dir dir;
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"run", "--help"}, {"replay", "--help"},
                                        {"demo", "--help"}, {"generate", "--help"}, {"config", "check", "--help"}}) {
    INFO(args[0]);
    child_process p(binary, args, dir.sub("out"), dir.sub("err"));
    CHECK(p.wait(20s) == 0);
    CHECK_THAT(p.read_stdout(), Catch::Contains("Usage"));
  }
}

TEST_CASE("replay of a file gives schema-valid sessions that match the calls, identically every time") {
  temp_dir dir;
  auto g = make_calls(5, 1500, "2025-02-01T10:00:00Z");
  {
    std::ofstream f(dir.sub("in.jsonl"));
    for (const auto& m : g.messages) f << m.payload << "\n";
    f << "{not json\n";  // one unusable line
  }
  std::vector<std::string> args{"replay", dir.sub("in.jsonl"), "--flush", "--deadletter-out", dir.sub("dead.jsonl")};
  auto w = fast_windows();
  args.insert(args.end(), w.begin(), w.end());
  auto first_args = args, second_args = args;
  first_args.insert(first_args.end(), {"--out", dir.sub("a.jsonl")});
  second_args.insert(second_args.end(), {"--out", dir.sub("b.jsonl")});
  child_process first(binary, first_args, dir.sub("o1"), dir.sub("e1"));
  REQUIRE(first.wait(60s) == 0);
  child_process second(binary, second_args, dir.sub("o2"), dir.sub("e2"));
  REQUIRE(second.wait(60s) == 0);

  auto a = read_file(dir.sub("a.jsonl")), b = read_file(dir.sub("b.jsonl"));
  CHECK(a == b);
  auto sessions = latest_sessions(lines_of(a));
  CHECK(sessions.size() == g.plans.size());
  check_matches_plans(sessions, g.plans);
  auto dead = lines_of(read_file(dir.sub("dead.jsonl")));
  REQUIRE(dead.size() == 1);
  CHECK(contract_violations("tracewatch.deadletter.v1", dead[0]).empty());
  CHECK_THAT(dead[0], Catch::Contains("invalid_json"));
}

TEST_CASE("replay without --flush reports the sessions still open instead of inventing their completion") {
  temp_dir dir;
  auto g = make_calls(6, 300, "2025-02-01T10:00:00Z");
  {
    std::ofstream f(dir.sub("in.jsonl"));
    for (const auto& m : g.messages) f << m.payload << "\n";
  }
  std::vector<std::string> args{"replay", dir.sub("in.jsonl"), "--out", dir.sub("out.jsonl")};
  auto w = fast_windows();
  args.insert(args.end(), w.begin(), w.end());
  child_process p(binary, args, dir.sub("o"), dir.sub("e"));
  REQUIRE(p.wait(60s) == 0);
  auto emitted = latest_sessions(lines_of(read_file(dir.sub("out.jsonl"))));
  CHECK(emitted.size() < g.plans.size());  // the last calls have no event after them
  CHECK_THAT(p.read_stderr(), Catch::Contains("sessions still open at the end of the input"));
  CHECK_THAT(p.read_stderr(), Catch::Contains("count=" + std::to_string(g.plans.size() - emitted.size())));
}

TEST_CASE("a process killed with SIGKILL mid-stream and restarted loses no session and resumes from its stored offsets") {
  cluster_fixture k;
  temp_dir dir;
  auto g = make_calls(9, 2500, "2025-02-01T10:00:00Z");
  const size_t half = g.messages.size() / 2;
  produce_all(k.brokers, "traces.raw", {g.messages.begin(), g.messages.begin() + half});

  topic_reader out(k.brokers, "tracewatch.sessions", 4);
  {
    child_process first(binary, k.run_args(dir.sub("state")), dir.sub("o1"), dir.sub("e1"));
    REQUIRE(eventually(60s, [&] {
      out.poll(100ms);
      return out.messages.size() >= 10 || !first.running();
    }));
    REQUIRE(first.running());
    first.signal(SIGKILL);  // mid-stream: no chance to drain or commit anything more
    CHECK(first.wait(10s) == 128 + SIGKILL);
  }
  const size_t before_restart = out.messages.size();
  produce_all(k.brokers, "traces.raw", {g.messages.begin() + half, g.messages.end()});

  child_process second(binary, k.run_args(dir.sub("state")), dir.sub("o2"), dir.sub("e2"));
  std::map<std::string, session_summary> sessions;
  bool complete = eventually(120s, [&] {
    out.poll(100ms);
    std::vector<std::string> payloads;
    for (const auto& m : out.messages) payloads.push_back(m.payload);
    sessions.clear();
    for (const auto& p : payloads)
      if (auto s = decode_session_json(p)) {
        auto it = sessions.find(s->session_id);
        if (it == sessions.end() || it->second.revision < s->revision) sessions[s->session_id] = *s;
      }
    return sessions.size() >= g.plans.size() || !second.running();
  });
  INFO("sessions before the kill: " << before_restart << ", in the end: " << sessions.size() << " of "
                                    << g.plans.size() << "\nsecond run's log:\n" << second.read_stderr().substr(0, 4000));
  REQUIRE(complete);
  REQUIRE(second.running());
  second.signal(SIGTERM);
  CHECK(second.wait(30s) == 0);

  std::vector<std::string> payloads;
  for (const auto& m : out.messages) payloads.push_back(m.payload);
  check_matches_plans(latest_sessions(payloads), g.plans);
  // At-least-once with deterministic content: a revision delivered twice is the same bytes.
  std::map<std::pair<std::string, uint32_t>, std::string> by_revision;
  for (const auto& p : payloads) {
    auto s = decode_session_json(p);
    auto [it, inserted] = by_revision.emplace(std::make_pair(s->session_id, s->revision), p);
    if (!inserted) CHECK(it->second == p);
  }
  // The second process resumed where the first one's state ended, not from the beginning.
  auto log = second.read_stderr();
  CHECK_THAT(log, Catch::Contains("stored=true"));
  CHECK_THAT(log, !Catch::Contains("from_offset=-2"));  // OFFSET_BEGINNING: would mean starting over
}

TEST_CASE("SIGTERM stops the live pipeline gracefully, and what it did not finish the next start completes") {
  cluster_fixture k;
  temp_dir dir;
  auto g = make_calls(13, 1500, "2025-02-01T10:00:00Z");
  produce_all(k.brokers, "traces.raw", g.messages);
  topic_reader out(k.brokers, "tracewatch.sessions", 4);
  {
    child_process first(binary, k.run_args(dir.sub("state")), dir.sub("o1"), dir.sub("e1"));
    REQUIRE(eventually(60s, [&] {
      out.poll(100ms);
      return !out.messages.empty() || !first.running();
    }));
    first.signal(SIGTERM);
    CHECK(first.wait(30s) == 0);
    CHECK_THAT(first.read_stderr(), Catch::Contains("pipeline stopped"));
  }
  child_process second(binary, k.run_args(dir.sub("state")), dir.sub("o2"), dir.sub("e2"));
  std::set<std::string> ids;
  REQUIRE(eventually(90s, [&] {
    out.poll(100ms);
    for (const auto& m : out.messages) ids.insert(m.key);
    return ids.size() >= g.plans.size();
  }));
  second.signal(SIGTERM);
  CHECK(second.wait(30s) == 0);
  std::vector<std::string> payloads;
  for (const auto& m : out.messages) payloads.push_back(m.payload);
  check_matches_plans(latest_sessions(payloads), g.plans);
}

namespace {

std::vector<std::string> payloads_of(const topic_reader& r) {
  std::vector<std::string> out;
  for (const auto& m : r.messages) out.push_back(m.payload);
  return out;
}

// What one run produced, as a consumer that keeps one copy of each (key, revision) sees it.
std::set<std::string> distinct(std::vector<std::string> lines) { return {lines.begin(), lines.end()}; }

// Lines of `a` not in `b`, and the first of them, for a failure message.
std::string difference(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::vector<std::string> only;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only));
  return std::to_string(only.size()) + (only.empty() ? "" : ", e.g. " + only[0].substr(0, 400));
}

// A session line with its window.reason replaced, to compare runs that may only differ there.
std::string with_reason(std::string line, const std::string& reason) {
  auto at = line.find("\"reason\":\"");
  if (at == std::string::npos) return line;
  auto end = line.find('"', at + 10);
  return line.replace(at + 10, end - (at + 10), reason);
}

std::string reason_of(const std::string& line) {
  auto at = line.find("\"reason\":\"");
  return at == std::string::npos ? "" : line.substr(at + 10, line.find('"', at + 10) - (at + 10));
}

std::vector<std::string> replay_topic_args(const cluster_fixture& k, const temp_dir& dir, const std::string& tag,
                                           std::vector<std::string> extra) {
  std::vector<std::string> a{"replay", "--topic", "traces.raw", "--flush", "--out", dir.sub(tag + ".sessions"),
                             "--verdicts-out", dir.sub(tag + ".verdicts"), "--set", "kafka.bootstrap.servers=" + k.brokers};
  auto w = fast_windows();
  a.insert(a.end(), w.begin(), w.end());
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

TEST_CASE("a replay of the input topic gives the live run's sessions and verdicts byte for byte") {
  // The live run closes its last sessions because input went idle (wall clock); it records those
  // decisions (topics.watermarks) and the replay takes them at the same input positions.
  cluster_fixture k;
  temp_dir dir;
  auto g = make_calls(17, 1200, "2025-02-01T10:00:00Z");
  produce_all(k.brokers, "traces.raw", g.messages);
  topic_reader sessions(k.brokers, "tracewatch.sessions", 4), verdicts(k.brokers, "tracewatch.verdicts", 4);
  child_process live(binary, k.run_args(dir.sub("state")), dir.sub("o1"), dir.sub("e1"));
  REQUIRE(eventually(90s, [&] {
    sessions.poll(100ms);
    verdicts.poll(10ms);
    return latest_sessions(payloads_of(sessions)).size() >= g.plans.size() && verdicts.messages.size() >= sessions.messages.size();
  }));
  live.signal(SIGTERM);
  CHECK(live.wait(30s) == 0);
  INFO("live log:\n" << live.read_stderr().substr(0, 4000));

  child_process replay(binary, replay_topic_args(k, dir, "replayed", {}), dir.sub("o2"), dir.sub("e2"));
  REQUIRE(replay.wait(60s) == 0);
  INFO("replay log:\n" << replay.read_stderr().substr(0, 4000));
  CHECK_THAT(replay.read_stderr(), Catch::Contains("replaying with the watermark decisions a live run recorded"));

  auto live_sessions = distinct(payloads_of(sessions)), live_verdicts = distinct(payloads_of(verdicts));
  auto replayed_sessions = distinct(lines_of(read_file(dir.sub("replayed.sessions"))));
  auto replayed_verdicts = distinct(lines_of(read_file(dir.sub("replayed.verdicts"))));
  INFO("sessions only live: " << difference(live_sessions, replayed_sessions));
  INFO("sessions only replayed: " << difference(replayed_sessions, live_sessions));
  CHECK(live_sessions == replayed_sessions);
  CHECK(live_verdicts == replayed_verdicts);
  check_matches_plans(latest_sessions(payloads_of(sessions)), g.plans);
  size_t idle = 0;
  for (const auto& line : live_sessions) idle += reason_of(line) == "idle";
  CHECK(idle >= 1);  // the last calls: the test exercises the recorded decisions

  // Without the decisions, only the data decides: the same sessions, except that what the live
  // run's idleness closed is closed by a finished partition (idle) or by the flush.
  child_process alone(binary, replay_topic_args(k, dir, "alone", {"--ignore-watermarks"}), dir.sub("o3"), dir.sub("e3"));
  REQUIRE(alone.wait(60s) == 0);
  std::map<std::string, std::string> live_by_key;
  for (const auto& line : live_sessions) live_by_key[decode_session_json(line)->session_id] = line;
  size_t flushed = 0;
  for (const auto& line : lines_of(read_file(dir.sub("alone.sessions")))) {
    INFO(line.substr(0, 300));
    auto s = decode_session_json(line);
    REQUIRE(s);
    REQUIRE(live_by_key.count(s->session_id));
    const auto& theirs = live_by_key[s->session_id];
    flushed += s->reason == completion_reason::flush;
    if (reason_of(theirs) == "idle") {
      CHECK((s->reason == completion_reason::idle || s->reason == completion_reason::flush));
      CHECK(with_reason(line, "*") == with_reason(theirs, "*"));
    } else {
      CHECK(line == theirs);
    }
  }
  CHECK(flushed >= 1);  // the decisions made a difference: without them the flush closed some
}

TEST_CASE("after a pause longer than the idle timeout, traffic resuming gives what a replay gives, with no churn") {
  // Regression (issue 6): with a 45 s pause, the idle advance ran event time ahead with the wall
  // clock; new sessions then completed at their first event and were reopened again and again
  // (10,365 session records where a replay emitted 2,111). Event time now moves only as far as
  // the due completions need, and the first partition to deliver after the pause cannot drag the
  // watermark past what the others are about to deliver.
  cluster_fixture k;
  temp_dir dir;
  auto before = make_calls(31, 600, "2025-02-01T10:00:00Z");
  // The second wave continues in event time right where the first ended: a producer that paused.
  event_time first_end = event_time::min();
  for (const auto& p : before.plans) first_end = std::max(first_end, p.last_event);
  auto after = make_calls(32, 600, format_iso8601(first_end + duration(2s)).c_str());
  produce_all(k.brokers, "traces.raw", before.messages);
  topic_reader sessions(k.brokers, "tracewatch.sessions", 4);
  child_process live(binary, k.run_args(dir.sub("state")), dir.sub("o1"), dir.sub("e1"));
  // The first wave closes completely (the last calls by idleness), then the input stays quiet for
  // several idle timeouts and gaps of wall time before the second wave.
  REQUIRE(eventually(90s, [&] {
    sessions.poll(100ms);
    return latest_sessions(payloads_of(sessions)).size() >= before.plans.size();
  }));
  // The pause itself is the scenario (wall time must pass: the idle advance follows it), and
  // nothing may be produced during it.
  const size_t first_wave = sessions.messages.size();
  REQUIRE_FALSE(eventually(20s, [&] {  // many idle timeouts (1 s) and gaps (5 s)
    sessions.poll(100ms);
    return sessions.messages.size() > first_wave || !live.running();
  }));
  produce_all(k.brokers, "traces.raw", after.messages);
  const size_t expected = before.plans.size() + after.plans.size();
  REQUIRE(eventually(90s, [&] {
    sessions.poll(100ms);
    return latest_sessions(payloads_of(sessions)).size() >= expected;
  }));
  live.signal(SIGTERM);
  CHECK(live.wait(30s) == 0);
  INFO("live log:\n" << live.read_stderr().substr(0, 3000));

  auto all_plans = before.plans;
  all_plans.insert(all_plans.end(), after.plans.begin(), after.plans.end());
  auto live_lines = payloads_of(sessions);
  check_matches_plans(latest_sessions(live_lines), all_plans);
  auto live_sessions = distinct(live_lines);
  CHECK(live_sessions.size() == expected);  // one revision per call: no churn
  for (const auto& line : live_sessions) CHECK_THAT(line, Catch::Contains("\"revision\":1,"));

  child_process replay(binary, replay_topic_args(k, dir, "replayed", {}), dir.sub("o2"), dir.sub("e2"));
  REQUIRE(replay.wait(60s) == 0);
  auto replayed = distinct(lines_of(read_file(dir.sub("replayed.sessions"))));
  INFO("only live: " << difference(live_sessions, replayed));
  INFO("only replayed: " << difference(replayed, live_sessions));
  CHECK(live_sessions == replayed);

  topic_reader decisions(k.brokers, "tracewatch.watermarks", 4);
  decisions.poll(1s);
  std::set<std::string> kinds;
  for (const auto& m : decisions.messages) {
    CHECK(contract_violations("tracewatch.watermark.v1", m.payload).empty());
    kinds.insert(nlohmann::json::parse(m.payload)["decision"].get<std::string>());
  }
  CHECK(kinds == std::set<std::string>{"assign", "idle", "wake"});
}

TEST_CASE("the replay of a Kafka topic gives the replay of a file's sessions, except where finished partitions closed them") {
  // A file is one partition. In a topic replay, a partition whose range ended stops holding the
  // watermark back, so the sessions between the earliest and the latest partition's end close
  // before the flush — and say `idle`, as the live run would — where the file's single partition
  // closes them by its data.
  cluster_fixture k;
  temp_dir dir;
  auto g = make_calls(21, 1000, "2025-02-01T10:00:00Z");
  produce_all(k.brokers, "traces.raw", g.messages);
  {
    std::ofstream f(dir.sub("in.jsonl"));
    for (const auto& m : g.messages) f << m.payload << "\n";
  }
  auto w = fast_windows();
  std::vector<std::string> from_file{"replay", dir.sub("in.jsonl"), "--flush", "--out", dir.sub("f.jsonl")};
  from_file.insert(from_file.end(), w.begin(), w.end());
  child_process a(binary, replay_topic_args(k, dir, "t", {}), dir.sub("o1"), dir.sub("e1"));
  REQUIRE(a.wait(60s) == 0);
  child_process b(binary, from_file, dir.sub("o2"), dir.sub("e2"));
  REQUIRE(b.wait(60s) == 0);
  auto x = lines_of(read_file(dir.sub("t.sessions"))), y = lines_of(read_file(dir.sub("f.jsonl")));
  CHECK(x.size() == g.plans.size());
  std::map<std::string, std::string> by_key;
  for (const auto& line : y) by_key[decode_session_json(line)->session_id] = line;
  size_t idle = 0;
  for (const auto& line : x) {
    auto s = decode_session_json(line);
    REQUIRE(s);
    INFO(line.substr(0, 300));
    REQUIRE(by_key.count(s->session_id));
    const auto& other = by_key[s->session_id];
    if (s->reason == completion_reason::idle) {
      ++idle;
      CHECK(reason_of(other) != "idle");
      CHECK(with_reason(line, "*") == with_reason(other, "*"));
    } else {
      CHECK(line == other);
    }
  }
  CHECK(idle < x.size() / 4);
}

TEST_CASE("the demo judges synthetic calls end to end and stops cleanly") {
  temp_dir dir;
  child_process demo(binary, {"demo", "--duration", "25s", "--calls-per-second", "3", "--quiet", "--set",
                              "http.listen=127.0.0.1:0"},
                     dir.sub("out"), dir.sub("err"));
  int code = demo.wait(90s);
  auto out = demo.read_stdout();
  INFO(out << demo.read_stderr());
  REQUIRE(code == 0);
  CHECK_THAT(out, Catch::Contains("embedded: librdkafka's mock cluster"));
  CHECK_THAT(out, Catch::Matches("(.|\n)*calls started, [0-9]+ messages consumed, [1-9][0-9]* sessions completed(.|\n)*"));
}

TEST_CASE("output.max_record_bytes bounds the session records the pipeline writes") {
  // The option reaches the state stage (summary_limits::max_record_bytes): a session of 2000 tool
  // calls, listed whole by session.max_tool_calls, is cut to the budget and says so.
  temp_dir dir;
  {
    std::ofstream f(dir.sub("in.jsonl"));
    for (int t = 0; t < 4; ++t)
      f << R"({"schema":"tracewatch.event.v1","event_id":"tr)" << t << R"(","kind":"trace","trace_id":"t)" << t
        << R"(","session_id":"s1","timestamp":)" << 1735725600000 + t * 1000 << R"(,"user_text":"hello"})" << "\n";
    for (int i = 0; i < 2000; ++i)
      f << R"({"schema":"tracewatch.event.v1","event_id":"tool)" << i << R"(","kind":"tool","trace_id":"t)" << i % 4
        << R"(","observation_id":"tool-)" << i << R"(","start":)" << 1735725600000 + i << R"(,"tool_name":"lookup","tool_result":")"
        << std::string(300, 'r') << "\"}\n";
  }
  std::vector<std::string> args{"replay", dir.sub("in.jsonl"), "--flush", "--out", dir.sub("out.jsonl"),
                                "--set", "output.max_record_bytes=65536", "--set", "session.max_tool_calls=100000"};
  child_process p(binary, args, dir.sub("o"), dir.sub("e"));
  REQUIRE(p.wait(60s) == 0);
  auto lines = lines_of(read_file(dir.sub("out.jsonl")));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].size() <= 65536);
  CHECK(contract_violations("tracewatch.session.v1", lines[0]).empty());
  auto s = decode_session_json(lines[0]);
  REQUIRE(s);
  CHECK(s->stats.tool_calls == 2000);
  CHECK(s->tool_calls.size() + s->truncated.tool_calls == 2000);
  CHECK(s->truncated.tool_calls > 1000);
}
