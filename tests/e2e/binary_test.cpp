// End to end through the real tracewatch binary: configuration errors, replay of a file, and the
// live pipeline against librdkafka's mock cluster — including a process killed with SIGKILL
// mid-stream and restarted, which must lose no session.
#include <catch2/catch.hpp>

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

TEST_CASE("the live pipeline gives the same sessions as a replay of the same messages") {
  cluster_fixture k;
  temp_dir dir;
  auto g = make_calls(17, 1200, "2025-02-01T10:00:00Z");
  produce_all(k.brokers, "traces.raw", g.messages);
  topic_reader out(k.brokers, "tracewatch.sessions", 4);
  child_process live(binary, k.run_args(dir.sub("state")), dir.sub("o1"), dir.sub("e1"));
  REQUIRE(eventually(90s, [&] {
    out.poll(100ms);
    return out.messages.size() >= g.plans.size();
  }));
  live.signal(SIGTERM);
  CHECK(live.wait(30s) == 0);
  INFO("live log:\n" << live.read_stderr().substr(0, 6000));

  {
    std::ofstream f(dir.sub("in.jsonl"));
    for (const auto& m : g.messages) f << m.payload << "\n";
  }
  std::vector<std::string> args{"replay", dir.sub("in.jsonl"), "--flush", "--out", dir.sub("replayed.jsonl")};
  auto w = fast_windows();
  args.insert(args.end(), w.begin(), w.end());
  child_process replay(binary, args, dir.sub("o2"), dir.sub("e2"));
  REQUIRE(replay.wait(60s) == 0);

  std::vector<std::string> live_payloads, replayed = lines_of(read_file(dir.sub("replayed.jsonl")));
  for (const auto& m : out.messages) live_payloads.push_back(m.payload);
  std::sort(live_payloads.begin(), live_payloads.end());
  std::sort(replayed.begin(), replayed.end());
  std::vector<std::string> only_live, only_replayed;
  std::set_difference(live_payloads.begin(), live_payloads.end(), replayed.begin(), replayed.end(),
                      std::back_inserter(only_live));
  std::set_difference(replayed.begin(), replayed.end(), live_payloads.begin(), live_payloads.end(),
                      std::back_inserter(only_replayed));
  INFO("only live: " << only_live.size() << (only_live.empty() ? "" : "\n  e.g. " + only_live[0]));
  INFO("only replayed: " << only_replayed.size() << (only_replayed.empty() ? "" : "\n  e.g. " + only_replayed[0]));
  CHECK(live_payloads == replayed);
}

TEST_CASE("the replay of a Kafka topic gives the same sessions as the replay of a file") {
  cluster_fixture k;
  temp_dir dir;
  auto g = make_calls(21, 1000, "2025-02-01T10:00:00Z");
  produce_all(k.brokers, "traces.raw", g.messages);
  {
    std::ofstream f(dir.sub("in.jsonl"));
    for (const auto& m : g.messages) f << m.payload << "\n";
  }
  auto w = fast_windows();
  std::vector<std::string> from_topic{"replay", "--topic", "traces.raw", "--flush", "--out", dir.sub("t.jsonl"),
                                      "--set", "kafka.bootstrap.servers=" + k.brokers};
  std::vector<std::string> from_file{"replay", dir.sub("in.jsonl"), "--flush", "--out", dir.sub("f.jsonl")};
  from_topic.insert(from_topic.end(), w.begin(), w.end());
  from_file.insert(from_file.end(), w.begin(), w.end());
  child_process a(binary, from_topic, dir.sub("o1"), dir.sub("e1"));
  REQUIRE(a.wait(60s) == 0);
  child_process b(binary, from_file, dir.sub("o2"), dir.sub("e2"));
  REQUIRE(b.wait(60s) == 0);
  auto x = lines_of(read_file(dir.sub("t.jsonl"))), y = lines_of(read_file(dir.sub("f.jsonl")));
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  CHECK(x.size() == g.plans.size());
  CHECK(x == y);
}

TEST_CASE("the demo judges synthetic calls end to end and stops cleanly") {
  temp_dir dir;
  child_process demo(binary, {"demo", "--duration", "25s", "--calls-per-second", "3", "--quiet"}, dir.sub("out"),
                     dir.sub("err"));
  int code = demo.wait(90s);
  auto out = demo.read_stdout();
  INFO(out << demo.read_stderr());
  REQUIRE(code == 0);
  CHECK_THAT(out, Catch::Contains("embedded: librdkafka's mock cluster"));
  CHECK_THAT(out, Catch::Matches("(.|\n)*calls started, [0-9]+ messages consumed, [1-9][0-9]* sessions completed(.|\n)*"));
}
