// Judgement end to end through the real binary: verdicts and diagnostics on Kafka that agree with
// what the generator made happen, backtesting with another rules file, the diagnostic backlog
// across a SIGKILL, and the webhook against a real local HTTP server.
#include <httplib.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "tests/support/e2e_support.hpp"
#include "judge/judge.hpp"
#include "topics/contracts/diagnostic_json.hpp"
#include "topics/contracts/verdict_json.hpp"

using namespace tw;
using namespace tw::test;

namespace {

verdict_status expected_verdict(const sim::call_plan& p) {
  switch (p.outcome) {
    case sim::call_outcome::fulfilled: return verdict_status::pass;
    case sim::call_outcome::tool_failed: return verdict_status::fail;
    case sim::call_outcome::transferred: return verdict_status::partial;
    case sim::call_outcome::abandoned: return verdict_status::abandoned;
    case sim::call_outcome::agent_error: return verdict_status::error;
  }
  return verdict_status::error;
}

// Latest revision per session of the verdicts among `payloads`, each checked against its schema.
std::map<std::string, verdict> latest_verdicts(const std::vector<std::string>& payloads) {
  std::map<std::string, verdict> out;
  for (const auto& p : payloads) {
    INFO(p.substr(0, 300));
    CHECK(contract_violations("tracewatch.verdict.v1", p).empty());
    auto v = decode_verdict_json(p);
    REQUIRE(v);
    auto it = out.find(v->session_id);
    if (it == out.end() || it->second.revision < v->revision) out[v->session_id] = *v;
  }
  return out;
}

std::vector<std::string> payloads_of(const topic_reader& r) {
  std::vector<std::string> out;
  for (const auto& m : r.messages) out.push_back(m.payload);
  return out;
}

size_t needing_diagnosis(const std::map<std::string, verdict>& verdicts) {
  return static_cast<size_t>(std::count_if(verdicts.begin(), verdicts.end(), [](const auto& kv) {
    auto s = kv.second.status;
    return s == verdict_status::fail || s == verdict_status::partial || s == verdict_status::error;
  }));
}

}  // namespace

TEST_CASE("the live pipeline judges every call as its outcome deserves, and diagnoses each failure") {
  cluster_fixture k;
  temp_dir dir;
  auto g = make_calls(31, 3000, "2025-02-01T10:00:00Z");
  produce_all(k.brokers, "traces.raw", g.messages);
  topic_reader verdicts(k.brokers, "tracewatch.verdicts", 4), diagnostics(k.brokers, "tracewatch.diagnostics", 4);
  child_process live(binary, with(k.run_args(dir.sub("state")), {"--set", "diagnostics.interval=1ms"}), dir.sub("o"),
                     dir.sub("e"));
  std::map<std::string, verdict> latest;
  REQUIRE(eventually(120s, [&] {
    verdicts.poll(100ms);
    diagnostics.poll(10ms);
    latest.clear();
    for (const auto& p : payloads_of(verdicts))
      if (auto v = decode_verdict_json(p)) latest[v->session_id] = *v;
    return latest.size() >= g.plans.size() && diagnostics.messages.size() >= needing_diagnosis(latest);
  }));
  live.signal(SIGTERM);
  CHECK(live.wait(30s) == 0);

  latest = latest_verdicts(payloads_of(verdicts));
  std::set<verdict_status> seen;
  for (const auto& plan : g.plans) {
    INFO(plan.session_id << " " << sim::to_string(plan.intent) << " " << sim::to_string(plan.outcome));
    REQUIRE(latest.count(plan.session_id));
    const auto& v = latest[plan.session_id];
    CHECK(v.status == expected_verdict(plan));
    seen.insert(v.status);
    if (plan.outcome != sim::call_outcome::abandoned) {
      static const std::map<sim::call_intent, std::string> intents = {
          {sim::call_intent::book, "book_appointment"}, {sim::call_intent::cancel, "cancel_appointment"},
          {sim::call_intent::reschedule, "reschedule_appointment"}, {sim::call_intent::question, "general_question"}};
      CHECK(v.intent.name == intents.at(plan.intent));
    }
  }
  CHECK(seen.size() == 5);  // pass, fail, partial, error and abandoned all occur
  std::set<std::string> diagnosed;
  for (const auto& p : payloads_of(diagnostics)) {
    INFO(p.substr(0, 300));
    CHECK(contract_violations("tracewatch.diagnostic.v1", p).empty());
    auto d = decode_diagnostic_json(p);
    REQUIRE(d);
    // A failure or an error has a cause the experts see; a clean hand-over to a human may not.
    if (d->verdict != verdict_status::partial) CHECK_FALSE(d->findings.empty());
    CHECK(d->webhook == std::nullopt);  // none configured
    diagnosed.insert(d->session_id);
  }
  for (const auto& [id, v] : latest)
    if (v.status == verdict_status::fail || v.status == verdict_status::partial || v.status == verdict_status::error)
      CHECK(diagnosed.count(id));
}

TEST_CASE("judging a sessions file again reproduces the verdicts, and another rules file changes them") {
  temp_dir dir;
  auto g = make_calls(37, 1500, "2025-02-01T10:00:00Z");
  {
    std::ofstream f(dir.sub("in.jsonl"));
    for (const auto& m : g.messages) f << m.payload << "\n";
  }
  auto replay_args = with({"replay", dir.sub("in.jsonl"), "--flush", "--out", dir.sub("sessions.jsonl"),
                           "--verdicts-out", dir.sub("verdicts.jsonl"), "--diagnostics-out", dir.sub("diagnostics.jsonl")},
                          fast_windows());
  child_process replay(binary, replay_args, dir.sub("o1"), dir.sub("e1"));
  REQUIRE(replay.wait(60s) == 0);

  child_process again(binary, {"judge", dir.sub("sessions.jsonl"), "-o", dir.sub("verdicts2.jsonl"),
                               "--diagnostics-out", dir.sub("diagnostics2.jsonl")},
                      dir.sub("o2"), dir.sub("e2"));
  REQUIRE(again.wait(60s) == 0);
  auto sorted = [&](const std::string& name) {
    auto l = lines_of(read_file(dir.sub(name)));
    std::sort(l.begin(), l.end());
    return l;
  };
  CHECK(sorted("verdicts.jsonl").size() == g.plans.size());
  CHECK(sorted("verdicts.jsonl") == sorted("verdicts2.jsonl"));
  CHECK(sorted("diagnostics.jsonl") == sorted("diagnostics2.jsonl"));

  // A stricter policy: a transfer to a human is a failure, not a partial success.
  std::string rules(judge::builtin_rules_yaml());
  auto at = rules.find("implies: partial");
  REQUIRE(at != std::string::npos);
  std::string stricter = rules;
  while ((at = stricter.find("implies: partial")) != std::string::npos) stricter.replace(at, 16, "implies: fail");
  std::ofstream(dir.sub("strict.yaml")) << stricter;
  child_process strict(binary, {"judge", dir.sub("sessions.jsonl"), "--rules", dir.sub("strict.yaml"), "-o",
                                dir.sub("verdicts3.jsonl")},
                       dir.sub("o3"), dir.sub("e3"));
  REQUIRE(strict.wait(60s) == 0);
  auto before = latest_verdicts(lines_of(read_file(dir.sub("verdicts.jsonl"))));
  auto after = latest_verdicts(lines_of(read_file(dir.sub("verdicts3.jsonl"))));
  size_t partial_before = 0, changed = 0;
  for (const auto& [id, v] : before) {
    if (v.status == verdict_status::partial) {
      ++partial_before;
      CHECK(after.at(id).status == verdict_status::fail);
      ++changed;
    } else {
      CHECK(after.at(id).status == v.status);
    }
    CHECK(after.at(id).rules_version != v.rules_version);
  }
  CHECK(partial_before > 0);
  CHECK(changed == partial_before);

  child_process bad(binary, {"judge", dir.sub("sessions.jsonl"), "--rules", dir.sub("in.jsonl")}, dir.sub("o4"),
                    dir.sub("e4"));
  CHECK(bad.wait(30s) == 2);
  CHECK_THAT(bad.read_stderr(), Catch::Contains("judge.rules"));
}

TEST_CASE("a diagnostic backlog held back by the rate limit survives SIGKILL and is worked off after the restart") {
  cluster_fixture k;
  temp_dir dir;
  sim::generator_options o = calls_options(41);
  o.tool_failure_fraction = 0.6;  // a storm of failures
  sim::call_generator gen(o);
  std::vector<sim::call_plan> plans;
  auto msgs = sim::generate_stream(gen, 1500, *parse_iso8601("2025-02-01T10:00:00Z"), 2s, &plans);
  produce_all(k.brokers, "traces.raw", msgs);
  topic_reader verdicts(k.brokers, "tracewatch.verdicts", 4), diagnostics(k.brokers, "tracewatch.diagnostics", 4);
  size_t failures = 0;
  {
    // One diagnosis every 5 s after a burst of 1: nearly all failures wait in the mailbox.
    child_process slow(binary,
                       with(k.run_args(dir.sub("state")), {"--set", "diagnostics.interval=5s", "--set", "diagnostics.burst=1"}),
                       dir.sub("o1"), dir.sub("e1"));
    REQUIRE(eventually(60s, [&] {
      verdicts.poll(100ms);
      std::map<std::string, verdict> latest;
      for (const auto& p : payloads_of(verdicts))
        if (auto v = decode_verdict_json(p)) latest[v->session_id] = *v;
      failures = needing_diagnosis(latest);
      return latest.size() >= plans.size();
    }));
    diagnostics.poll(200ms);
    INFO("failures " << failures << ", diagnosed before the kill " << diagnostics.messages.size());
    REQUIRE(failures > 10);
    REQUIRE(diagnostics.messages.size() < failures / 2);  // the rate limit held them back
    slow.signal(SIGKILL);
    CHECK(slow.wait(10s) == 128 + SIGKILL);
  }
  child_process fast(binary, with(k.run_args(dir.sub("state")), {"--set", "diagnostics.interval=1ms"}), dir.sub("o2"),
                     dir.sub("e2"));
  std::set<std::string> diagnosed;
  REQUIRE(eventually(90s, [&] {
    diagnostics.poll(100ms);
    diagnosed.clear();
    for (const auto& m : diagnostics.messages) diagnosed.insert(m.key);
    return diagnosed.size() >= failures;
  }));
  fast.signal(SIGTERM);
  CHECK(fast.wait(30s) == 0);
  CHECK(diagnosed.size() == failures);
}

TEST_CASE("the webhook receives each failed session and its answer is attached to the diagnostic") {
  // A real HTTP server on loopback that answers the first call 503 with Retry-After: 1, then 200.
  httplib::Server server;
  std::mutex mutex;
  std::vector<std::string> bodies;
  int calls = 0;
  server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mutex);
    if (calls++ == 0) {
      res.status = 503;
      res.set_header("Retry-After", "1");
      return;
    }
    bodies.push_back(req.body);
    res.set_content(R"({"ticket":"T-1"})", "application/json");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread serving([&] { server.listen_after_bind(); });
  REQUIRE(eventually(10s, [&] { return server.is_running(); }));

  cluster_fixture k;
  temp_dir dir;
  sim::generator_options o = calls_options(43);
  o.tool_failure_fraction = 0.5;
  sim::call_generator gen(o);
  std::vector<sim::call_plan> plans;
  auto msgs = sim::generate_stream(gen, 600, *parse_iso8601("2025-02-01T10:00:00Z"), 2s, &plans);
  produce_all(k.brokers, "traces.raw", msgs);
  topic_reader diagnostics(k.brokers, "tracewatch.diagnostics", 4), verdicts(k.brokers, "tracewatch.verdicts", 4);
  child_process live(binary,
                     with(k.run_args(dir.sub("state")),
                          {"--set", "webhook.url=http://127.0.0.1:" + std::to_string(port) + "/hook", "--set",
                           "diagnostics.interval=10ms", "--set", "webhook.backoff_initial=50ms"}),
                     dir.sub("o"), dir.sub("e"));
  size_t failures = 0;
  REQUIRE(eventually(90s, [&] {
    verdicts.poll(50ms);
    diagnostics.poll(50ms);
    std::map<std::string, verdict> latest;
    for (const auto& p : payloads_of(verdicts))
      if (auto v = decode_verdict_json(p)) latest[v->session_id] = *v;
    failures = needing_diagnosis(latest);
    return latest.size() >= plans.size() && diagnostics.messages.size() >= failures;
  }));
  live.signal(SIGTERM);
  CHECK(live.wait(30s) == 0);
  server.stop();
  serving.join();

  REQUIRE(failures > 0);
  int delivered = 0;
  for (const auto& p : payloads_of(diagnostics)) {
    INFO(p.substr(0, 400));
    CHECK(contract_violations("tracewatch.diagnostic.v1", p).empty());
    auto d = decode_diagnostic_json(p);
    REQUIRE(d);
    REQUIRE(d->webhook);
    CHECK(d->webhook->status == "delivered");
    CHECK(d->webhook->http_status == 200);
    CHECK_THAT(d->webhook->response, Catch::Contains("T-1"));
    delivered += d->webhook->status == "delivered";
  }
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(bodies.size() == static_cast<size_t>(delivered));
  for (const auto& b : bodies) CHECK_THAT(b, Catch::Contains("\"schema\":\"tracewatch.session.v1\""));
  CHECK(calls == delivered + 1);  // the 503 was retried after its Retry-After, not given up
}
