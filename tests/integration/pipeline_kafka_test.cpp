// The live pipeline in-process against librdkafka's mock cluster (the real Kafka protocol on
// loopback): synthetic calls in, sessions and dead letters out, read back with a real consumer
// and checked against the generator's truth and the published JSON Schemas.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <set>

#include "actors/pipeline.hpp"
#include "config/loader.hpp"
#include "config/options.hpp"
#include "sim/call_generator.hpp"
#include "tests/support/contract_check.hpp"
#include "tests/support/kafka_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/kafka/mock_cluster.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;

namespace {

config::settings test_settings(const std::string& brokers, const std::string& state_dir,
                               std::vector<std::string> more = {}) {
  std::vector<std::string> all{"kafka.bootstrap.servers=" + brokers, "state.dir=" + state_dir, "completion.gap=5s",
                               "completion.settle_delay=500ms", "time.max_out_of_orderness=1s", "time.idle_timeout=1s",
                               "pipeline.tick_interval=100ms", "resolve.pending_timeout=10s", "log.level=warn"};
  all.insert(all.end(), more.begin(), more.end());
  auto r = config::apply_overrides(all, config::defaults());
  REQUIRE(r);
  return *r.value;
}

sim::generator_options calls_options(uint64_t seed, sim::key_mode keys) {
  sim::generator_options o;
  o.seed = seed;
  o.keys = keys;                          // trace id or none: a call is spread over partitions
  o.turn_interval = 1s;                   // pauses of at most 1.5 s, well inside the 5 s gap
  o.max_shuffle = 800ms;                  // inside the 1 s out-of-orderness bound
  return o;
}

}  // namespace

TEST_CASE("calls on Kafka become sessions on Kafka that match what happened and the published schema") {
  // Keyed by trace id or not keyed at all: either way a call's traces land on several partitions.
  auto keys = GENERATE(sim::key_mode::trace_id, sim::key_mode::none);
  INFO("message keys: " << sim::to_string(keys));
  std::unique_ptr<kafka::mock_cluster> cluster;
  REQUIRE(kafka::mock_cluster::start(1, cluster).ok());
  const auto brokers = cluster->bootstrap_servers();
  REQUIRE(cluster->create_topic("traces.raw", 4).ok());
  REQUIRE(cluster->create_topic("tracewatch.sessions", 4).ok());
  REQUIRE(cluster->create_topic("tracewatch.deadletter", 1).ok());

  sim::call_generator gen(calls_options(11, keys));
  std::vector<sim::call_plan> plans;
  auto start = *parse_iso8601("2025-03-01T09:00:00Z");
  auto msgs = sim::generate_stream(gen, 400, start, 3s, &plans);
  // Two unusable messages: not JSON, and a Langfuse event without its traceId.
  msgs.push_back(sim::message{"bad-1", "this is not json", start});
  msgs.push_back(sim::message{"bad-2",
                              R"({"id":"ev-x","type":"span-create","timestamp":"2025-03-01T09:00:01.000Z",)"
                              R"("body":{"id":"span-x","startTime":"2025-03-01T09:00:01.000Z"}})",
                              start});
  produce_all(brokers, "traces.raw", msgs);

  temp_dir state;
  actors::pipeline p(test_settings(brokers, state.path()), system_clock::instance());
  REQUIRE(p.start_live().ok);

  topic_reader sessions(brokers, "tracewatch.sessions", 4);
  std::map<std::string, session_summary> latest;
  bool all_in = eventually(90s, [&] {
    sessions.poll(100ms);
    for (const auto& m : sessions.messages) {
      auto s = decode_session_json(m.payload);
      if (s && (!latest.count(s->session_id) || latest[s->session_id].revision < s->revision))
        latest[s->session_id] = *s;
    }
    return latest.size() >= plans.size();
  });
  INFO("sessions received: " << latest.size() << " of " << plans.size());
  REQUIRE(all_in);

  for (const auto& m : sessions.messages) {
    INFO(m.payload.substr(0, 300));
    CHECK(contract_violations("tracewatch.session.v1", m.payload).empty());
  }
  for (const auto& plan : plans) {
    INFO("session " << plan.session_id << " outcome " << sim::to_string(plan.outcome));
    REQUIRE(latest.count(plan.session_id));
    const auto& s = latest[plan.session_id];
    CHECK(s.stats.traces == static_cast<uint64_t>(plan.traces));
    CHECK(s.stats.tool_calls == static_cast<uint64_t>(plan.tool_calls));
    CHECK(s.stats.tool_errors == static_cast<uint64_t>(plan.tool_errors));
    CHECK(s.stats.generations == static_cast<uint64_t>(plan.generations));
    CHECK(s.stats.input_tokens == plan.input_tokens);
    CHECK(s.stats.output_tokens == plan.output_tokens);
    CHECK(s.abandoned == (plan.traces < 4));
    CHECK(s.first_event_at == plan.first_event);
    CHECK(s.last_event_at == plan.last_event);
    // The completion point is the data's (the hang-up is a call's last event), whatever the reason.
    const completion_reason natural = plan.hangup ? completion_reason::end_marker : completion_reason::gap;
    CHECK(s.closed_at == plan.last_event + (plan.hangup ? duration(500ms) : duration(5s)));
    CHECK((s.reason == natural || s.reason == completion_reason::idle));
    CHECK(s.revision == 1);
  }
  // The last calls close only because input stopped (every partition idle) and say so: one
  // threshold — the data floor, the minimum over partitions of their latest event minus the
  // out-of-orderness — separates the sessions the data closed from those idleness closed.
  event_time last_natural = event_time::min(), first_idle = event_time::max();
  size_t idle = 0;
  for (const auto& [id, s] : latest) {
    if (s.reason == completion_reason::idle) {
      ++idle;
      first_idle = std::min(first_idle, s.closed_at);
    } else {
      last_natural = std::max(last_natural, s.closed_at);
    }
  }
  // How many depends on where each partition's data ends (unkeyed, the producer's sticky
  // partitioner gives each partition runs of the stream): only the threshold is a rule.
  CHECK(idle >= 1);
  CHECK(last_natural < first_idle);

  topic_reader dead(brokers, "tracewatch.deadletter", 1);
  REQUIRE(eventually(10s, [&] {
    dead.poll(100ms);
    return dead.messages.size() >= 2;
  }));
  std::set<std::string> reasons;
  for (const auto& m : dead.messages) {
    INFO(m.payload);
    CHECK(contract_violations("tracewatch.deadletter.v1", m.payload).empty());
    auto j = nlohmann::json::parse(m.payload);
    reasons.insert(j["reason"].get<std::string>());
    CHECK(j["source"]["topic"] == "traces.raw");
    CHECK(j["source"]["offset"].get<int64_t>() >= 0);
  }
  CHECK(reasons == std::set<std::string>{"invalid_json", "missing_field"});

  p.request_stop();
  auto r = p.wait();
  CHECK(r.ok);
  CHECK(p.probes().engine.duplicates > 0);       // the generator retries some messages
  CHECK(p.probes().engine.pending_released > 0);  // and sends some observations before their trace
}

TEST_CASE("a consumer joining the group mid-stream and leaving again changes no output") {
  // Its arrival revokes partitions in the middle of a poll (what was gathered before the
  // rebalance is applied before the revocation); while it holds them, the rest of the input goes
  // on arriving and tracewatch goes on with its own partitions — the absent ones must keep holding
  // the watermark; when it leaves, they come back at their stored offsets. The sessions must be
  // those of an undisturbed run over the same input, revision for revision, with nothing late.
  std::unique_ptr<kafka::mock_cluster> cluster;
  REQUIRE(kafka::mock_cluster::start(1, cluster).ok());
  const auto brokers = cluster->bootstrap_servers();
  REQUIRE(cluster->create_topic("traces.raw", 8).ok());
  for (const char* t : {"ref.sessions", "tw.sessions"}) REQUIRE(cluster->create_topic(t, 4).ok());
  sim::call_generator gen(calls_options(23, sim::key_mode::trace_id));
  std::vector<sim::call_plan> plans;
  auto msgs = sim::generate_stream(gen, 3000, *parse_iso8601("2025-03-01T09:00:00Z"), 2s, &plans);
  const size_t third = msgs.size() / 3;
  auto part_of = [&](size_t k) {
    return std::vector<sim::message>(msgs.begin() + static_cast<std::ptrdiff_t>(k * third),
                                     k == 2 ? msgs.end() : msgs.begin() + static_cast<std::ptrdiff_t>((k + 1) * third));
  };

  auto run = [&](const std::string& name, const std::function<void(actors::pipeline&)>& meanwhile) {
    temp_dir state;
    // Small batches, so that a rebalance lands between the records of one poll.
    actors::pipeline p(test_settings(brokers, state.path(),
                                     {"kafka.group.id=" + name, "topics.sessions=" + name + ".sessions",
                                      "topics.watermarks=" + name + ".watermarks", "topics.verdicts=" + name + ".verdicts",
                                      "topics.diagnostics=" + name + ".diagnostics", "pipeline.batch_max_records=7",
                                      "kafka.consumer.session.timeout.ms=6000", "kafka.consumer.heartbeat.interval.ms=500"}),
                       system_clock::instance());
    REQUIRE(p.start_live().ok);
    meanwhile(p);
    topic_reader out(brokers, name + ".sessions", 4);
    REQUIRE(eventually(120s, [&] {
      out.poll(100ms);
      std::set<std::string> ids;
      for (const auto& m : out.messages) ids.insert(m.key);
      return ids.size() >= plans.size();
    }));
    p.request_stop();
    CHECK(p.wait().ok);
    CHECK(p.probes().engine.late_events == 0);
    CHECK(p.probes().engine.sessions_reopened == 0);
    std::set<std::string> payloads;
    for (const auto& m : out.messages) payloads.insert(m.payload);
    return payloads;
  };

  produce_all(brokers, "traces.raw", part_of(0));
  auto disturbed = run("tw", [&](actors::pipeline& p) {
    REQUIRE(eventually(60s, [&] { return p.probes().engine.records >= third; }));  // the first third applied
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", brokers, err);
    conf->set("group.id", "tw", err);
    conf->set("enable.auto.commit", "false", err);
    conf->set("session.timeout.ms", "6000", err);
    conf->set("heartbeat.interval.ms", "500", err);
    conf->set("log_level", "3", err);
    std::unique_ptr<RdKafka::KafkaConsumer> stray(RdKafka::KafkaConsumer::create(conf.get(), err));
    REQUIRE(stray);
    REQUIRE(stray->subscribe({"traces.raw"}) == RdKafka::ERR_NO_ERROR);
    std::vector<int32_t> held;
    auto holds_partitions = [&] {
      std::unique_ptr<RdKafka::Message> m(stray->consume(50));
      std::vector<RdKafka::TopicPartition*> mine;
      stray->assignment(mine);
      held.clear();
      for (auto* tp : mine) held.push_back(tp->partition());
      RdKafka::TopicPartition::destroy(mine);
      return !held.empty();
    };
    REQUIRE(eventually(30s, holds_partitions));
    INFO("the stray holds " << held.size() << " partitions");
    // The second third arrives while the stray holds its partitions; tracewatch applies its share.
    const uint64_t before = p.probes().engine.records;
    produce_all(brokers, "traces.raw", part_of(1));
    CHECK(eventually(30s, [&] { return holds_partitions() && p.probes().engine.records >= before + third / 4; }));
    stray->close();  // leaves: its partitions go back
    produce_all(brokers, "traces.raw", part_of(2));
  });
  auto reference = run("ref", [](actors::pipeline&) {});
  INFO("reference " << reference.size() << ", disturbed " << disturbed.size());
  std::vector<std::string> only_ref, only_disturbed;
  std::set_difference(reference.begin(), reference.end(), disturbed.begin(), disturbed.end(), std::back_inserter(only_ref));
  std::set_difference(disturbed.begin(), disturbed.end(), reference.begin(), reference.end(),
                      std::back_inserter(only_disturbed));
  INFO("only in the reference: " << only_ref.size() << (only_ref.empty() ? "" : " e.g. " + only_ref[0].substr(0, 400)));
  INFO("only when disturbed: " << only_disturbed.size()
                               << (only_disturbed.empty() ? "" : " e.g. " + only_disturbed[0].substr(0, 400)));
  CHECK(reference == disturbed);
}
