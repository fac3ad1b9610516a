// The input positions reach the consumer group (kafka.group_commit_interval), so that consumer-lag
// tools see progress — and nothing but those tools reads them: a restart resumes from RocksDB's
// positions whatever the group says, and `replay --topic` commits nothing. Against librdkafka's
// mock cluster (the real Kafka protocol), with a separate client reading the group's offsets as
// kafka-consumer-groups.sh would (rd_kafka_committed).
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>

#include "actors/pipeline.hpp"
#include "config/loader.hpp"
#include "config/options.hpp"
#include "sim/call_generator.hpp"
#include "tests/support/kafka_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/kafka/mock_cluster.hpp"

using namespace tw;
using namespace tw::test;
using namespace std::chrono_literals;

namespace {

constexpr int partitions = 4;
const std::string input = "traces.raw";

config::settings live_settings(const std::string& brokers, const std::string& state_dir, const std::string& group,
                               std::vector<std::string> more = {}) {
  std::vector<std::string> all{"kafka.bootstrap.servers=" + brokers, "state.dir=" + state_dir, "kafka.group.id=" + group,
                               "completion.gap=5s", "completion.settle_delay=500ms", "time.max_out_of_orderness=1s",
                               "time.idle_timeout=1s", "pipeline.tick_interval=100ms", "resolve.pending_timeout=10s",
                               "kafka.group_commit_interval=200ms", "log.level=warn",
                               // The mock cluster keeps a member that left until its session times
                               // out: short sessions let the next member of the group join soon.
                               "kafka.consumer.session.timeout.ms=6000", "kafka.consumer.heartbeat.interval.ms=500"};
  all.insert(all.end(), more.begin(), more.end());
  auto r = config::apply_overrides(all, config::defaults());
  REQUIRE(r);
  return *r.value;
}

std::unique_ptr<RdKafka::KafkaConsumer> group_client(const std::string& brokers, const std::string& group) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("group.id", group, err);
  conf->set("enable.auto.commit", "false", err);
  conf->set("log_level", "3", err);
  conf->set("session.timeout.ms", "6000", err);
  conf->set("heartbeat.interval.ms", "500", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  REQUIRE(c);
  return c;
}

using offsets = std::map<int32_t, int64_t>;

// What the group has committed for each input partition (RD_KAFKA_OFFSET_INVALID, -1001: nothing),
// read with a client that never joins the group.
offsets committed(const std::string& brokers, const std::string& group) {
  auto c = group_client(brokers, group);
  std::vector<RdKafka::TopicPartition*> parts;
  for (int p = 0; p < partitions; ++p) parts.push_back(RdKafka::TopicPartition::create(input, p));
  const auto e = c->committed(parts, 10000);
  offsets out;
  for (auto* tp : parts) out[tp->partition()] = tp->offset();
  RdKafka::TopicPartition::destroy(parts);
  c->close();
  REQUIRE(e == RdKafka::ERR_NO_ERROR);
  return out;
}

// Commits offsets for the group as a member of it, as another consumer of the group would (the
// mock cluster refuses commits from outside a group: UNKNOWN_MEMBER_ID).
void commit(const std::string& brokers, const std::string& group, const offsets& o) {
  auto c = group_client(brokers, group);
  REQUIRE(c->subscribe({input}) == RdKafka::ERR_NO_ERROR);
  REQUIRE(eventually(60s, [&] {
    std::unique_ptr<RdKafka::Message> m(c->consume(50));  // serves the join
    std::vector<RdKafka::TopicPartition*> mine;
    c->assignment(mine);
    const bool joined = mine.size() == static_cast<size_t>(partitions);
    RdKafka::TopicPartition::destroy(mine);
    return joined;
  }));
  std::vector<RdKafka::TopicPartition*> parts;
  for (const auto& [p, off] : o) parts.push_back(RdKafka::TopicPartition::create(input, p, off));
  const auto e = c->commitSync(parts);
  RdKafka::TopicPartition::destroy(parts);
  c->close();
  REQUIRE(e == RdKafka::ERR_NO_ERROR);
}

// The end of each input partition: one past its last record.
offsets end_offsets(const std::string& brokers) {
  auto c = group_client(brokers, "tracewatch-test-ends");
  offsets out;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    REQUIRE(c->query_watermark_offsets(input, p, &low, &high, 10000) == RdKafka::ERR_NO_ERROR);
    out[p] = high;
  }
  c->close();
  return out;
}

std::string show(const offsets& o) {
  std::ostringstream ss;
  for (const auto& [p, off] : o) ss << p << ":" << off << " ";
  return ss.str();
}

sim::generator_options calls(uint64_t seed, const std::string& prefix) {
  sim::generator_options o;
  o.seed = seed;
  o.keys = sim::key_mode::trace_id;
  o.turn_interval = 1s;
  o.max_shuffle = 800ms;
  o.id_prefix = prefix;
  return o;
}

std::vector<sim::message> stream(uint64_t seed, const std::string& prefix, const char* start,
                                 std::vector<sim::call_plan>& plans) {
  sim::call_generator gen(calls(seed, prefix));
  return sim::generate_stream(gen, 300, *parse_iso8601(start), 3s, &plans);
}

// A mock cluster holding the input topic; it lives as long as the handle.
std::unique_ptr<kafka::mock_cluster> cluster_with_input() {
  std::unique_ptr<kafka::mock_cluster> cluster;
  REQUIRE(kafka::mock_cluster::start(1, cluster).ok());
  REQUIRE(cluster->create_topic(input, partitions).ok());
  return cluster;
}

// Calls from 09:00 on the input topic; returns the messages produced.
std::vector<sim::message> produce_calls(const std::string& brokers, uint64_t seed, const std::string& prefix) {
  std::vector<sim::call_plan> plans;
  auto msgs = stream(seed, prefix, "2025-03-01T09:00:00Z", plans);
  produce_all(brokers, input, msgs);
  return msgs;
}

}  // namespace

TEST_CASE("after processing, the consumer group's committed offsets are the next offsets to consume") {
  const auto cluster = cluster_with_input();
  const auto brokers = cluster->bootstrap_servers();
  const auto msgs = produce_calls(brokers, 31, "c-");
  const offsets ends = end_offsets(brokers);
  INFO("partition ends " << show(ends));
  for (const auto& [p, end] : ends) REQUIRE(end > 0);  // every partition holds records

  temp_dir state;
  actors::pipeline p(live_settings(brokers, state.path(), "tw-commits"), system_clock::instance());
  REQUIRE(p.start_live().ok);
  // Every record applied (and committed to RocksDB with its position)...
  REQUIRE(eventually(60s, [&] { return p.probes().engine.records.load() == msgs.size(); }));
  // ...and, while it runs, the group holds the same positions: for every partition the last
  // record's offset plus one, which is the partition's end.
  offsets seen;
  CHECK(eventually(20s, [&] { return (seen = committed(brokers, "tw-commits")) == ends; }, 200ms));
  INFO("committed " << show(seen));
  CHECK(p.probes().group_commits.commits >= 1);
  CHECK(p.probes().group_commits.commits_failed == 0);
  CHECK(p.probes().engine.records_skipped == 0);
  p.request_stop();
  CHECK(p.wait().ok);
  CHECK(committed(brokers, "tw-commits") == ends);
}

TEST_CASE("a clean stop commits the final positions as the partitions are revoked, between two intervals") {
  // An interval of an hour: the first durable positions go at once, the next not for an hour —
  // only the revocation on SIGTERM (the consumer leaving the group) brings the group up to date,
  // and close() must wait for that commit.
  const auto cluster = cluster_with_input();
  const auto brokers = cluster->bootstrap_servers();
  const auto msgs = produce_calls(brokers, 61, "s-");
  const offsets ends = end_offsets(brokers);
  temp_dir state;
  actors::pipeline p(live_settings(brokers, state.path(), "tw-final",
                                   {"kafka.group_commit_interval=1h", "pipeline.batch_max_records=7"}),
                     system_clock::instance());
  REQUIRE(p.start_live().ok);
  REQUIRE(eventually(60s, [&] { return p.probes().engine.records.load() == msgs.size(); }));
  REQUIRE(eventually(20s, [&] { return p.probes().group_commits.partitions_committed.load() > 0; }));
  const offsets before_stop = committed(brokers, "tw-final");
  INFO("before the stop " << show(before_stop) << "; ends " << show(ends));
  CHECK(before_stop != ends);  // the first batch's positions only: seven records of hundreds
  CHECK(p.probes().group_commits.commits == 1);
  p.request_stop();
  REQUIRE(p.wait().ok);
  CHECK(committed(brokers, "tw-final") == ends);
  CHECK(p.probes().group_commits.commits == 2);
  CHECK(p.probes().group_commits.commits_failed == 0);
}

TEST_CASE("a restart resumes from RocksDB's positions whatever the group's committed offsets say") {
  // The group's offsets are informational. Set ahead (the group claims everything was read, so a
  // consumer that believed it would lose the second half) or behind (back at the start, so one
  // that believed it would apply the first half twice), tracewatch must resume where its own
  // state ends: every session once, revision 1, and exactly the second half's records applied.
  const bool ahead = GENERATE(true, false);
  INFO((ahead ? "group offsets ahead of RocksDB" : "group offsets behind RocksDB"));
  const auto cluster = cluster_with_input();
  const auto brokers = cluster->bootstrap_servers();
  REQUIRE(cluster->create_topic("tracewatch.sessions", 4).ok());
  // Two sets of calls an hour apart: no call spans the restart.
  std::vector<sim::call_plan> first_plans, second_plans;
  const auto first = stream(41, "a-", "2025-03-01T09:00:00Z", first_plans);
  const auto second = stream(42, "b-", "2025-03-01T10:00:00Z", second_plans);
  temp_dir state;
  const std::string group = ahead ? "tw-ahead" : "tw-behind";

  produce_all(brokers, input, first);
  uint64_t emitted_before = 0;
  {
    actors::pipeline p(live_settings(brokers, state.path(), group), system_clock::instance());
    REQUIRE(p.start_live().ok);
    REQUIRE(eventually(60s, [&] { return p.probes().engine.records.load() == first.size(); }));
    p.request_stop();
    REQUIRE(p.wait().ok);
    emitted_before = p.probes().engine.revisions_emitted;
  }
  const offsets after_first = end_offsets(brokers);
  REQUIRE(committed(brokers, group) == after_first);

  produce_all(brokers, input, second);
  const offsets after_second = end_offsets(brokers);
  offsets wrong;
  for (int p = 0; p < partitions; ++p) wrong[p] = ahead ? after_second.at(p) : 0;
  commit(brokers, group, wrong);
  REQUIRE(committed(brokers, group) == wrong);

  actors::pipeline p(live_settings(brokers, state.path(), group), system_clock::instance());
  REQUIRE(p.start_live().ok);
  topic_reader sessions(brokers, "tracewatch.sessions", 4);
  std::set<std::string> expected;
  for (const auto* plans : {&first_plans, &second_plans})
    for (const auto& plan : *plans) expected.insert(plan.session_id);
  REQUIRE(expected.size() == first_plans.size() + second_plans.size());  // the prefixes keep them apart
  std::set<std::string> got;
  CHECK(eventually(90s, [&] {
    sessions.poll(100ms);
    got.clear();
    for (const auto& m : sessions.messages) got.insert(m.key);
    return got == expected;
  }));
  INFO("sessions " << got.size() << " of " << expected.size());
  // Exactly the second half was read after the restart: nothing skipped as applied already
  // (behind) and nothing missing (ahead).
  CHECK(eventually(30s, [&] { return p.probes().engine.records.load() == second.size(); }));
  CHECK(p.probes().engine.records_skipped == 0);
  p.request_stop();
  CHECK(p.wait().ok);
  CHECK(emitted_before + p.probes().engine.revisions_emitted == expected.size());
  CHECK(p.probes().engine.late_events == 0);
  std::map<std::string, std::set<std::string>> payloads;
  for (const auto& m : sessions.messages) {
    auto s = decode_session_json(m.payload);
    REQUIRE(s);
    CHECK(s->revision == 1);
    payloads[m.key].insert(m.payload);
  }
  for (const auto& [id, versions] : payloads) {
    INFO(id);
    CHECK(versions.size() == 1);  // a re-delivered record says the same: never a second version
  }
  // And the group's offsets are right again.
  CHECK(committed(brokers, group) == after_second);
}

TEST_CASE("replay --topic reads the input without committing anything to a consumer group") {
  // The range reader assigns partitions itself under a group id of its own ("tracewatch-replay")
  // and never commits; kafka.group.id is only the name under which recorded watermark decisions
  // are looked up.
  const auto cluster = cluster_with_input();
  const auto brokers = cluster->bootstrap_servers();
  const auto msgs = produce_calls(brokers, 51, "r-");
  temp_dir state;
  actors::pipeline p(live_settings(brokers, state.path(), "tw-replayed"), system_clock::instance());
  std::ostringstream out;
  actors::replay_options o;
  o.topics = {input};
  o.sessions_out = &out;
  o.flush = true;
  REQUIRE(p.run_replay(o).ok);
  CHECK(p.probes().engine.records == msgs.size());
  CHECK(p.probes().group_commits.commits == 0);
  const offsets none{{0, RdKafka::Topic::OFFSET_INVALID}, {1, RdKafka::Topic::OFFSET_INVALID},
                     {2, RdKafka::Topic::OFFSET_INVALID}, {3, RdKafka::Topic::OFFSET_INVALID}};
  CHECK(committed(brokers, "tw-replayed") == none);
  CHECK(committed(brokers, "tracewatch-replay") == none);
}
