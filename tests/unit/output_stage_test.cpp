// The output stage over a real outbox (RocksDB in a temp directory) and a scripted writer: what
// it does with records that are acknowledged, refused for a while, or refused for good. Issue 6:
// a record larger than message.max.bytes used to be retried forever, silently, holding up
// every record behind it in its lane. Time is a manual clock: nothing here sleeps.
#include <catch2/catch.hpp>

#include <functional>
#include <nlohmann/json.hpp>

#include "actors/output_stage.hpp"
#include "model/clock.hpp"
#include "model/log.hpp"
#include "state/outbox.hpp"
#include "state/store.hpp"
#include "tests/support/contract_check.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tw;
using namespace tw::actors;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct written_record {
  uint64_t id;
  std::string topic, key, payload;
};

// A record_writer whose answers a test scripts: `on_write` decides what write() says, `on_deliver`
// whether a queued record is acknowledged (nullopt) or fails, when poll() next runs.
class scripted_writer final : public record_writer {
 public:
  std::function<write_result(const written_record&)> on_write = [](const written_record&) { return write_result{}; };
  std::function<std::optional<write_failure>(const written_record&)> on_deliver =
      [](const written_record&) -> std::optional<write_failure> { return std::nullopt; };
  std::vector<written_record> queued;  // every write() that was queued, in order

  write_result write(uint64_t id, const std::string& topic, const std::string& key,
                     const std::string& payload) override {
    written_record r{id, topic, key, payload};
    auto result = on_write(r);
    if (result.status == write_status::queued) {
      queued.push_back(r);
      pending_.push_back(std::move(r));
    }
    return result;
  }
  void poll(duration, write_outcome& out) override {
    for (const auto& r : pending_) {
      if (auto f = on_deliver(r)) {
        f->seq = r.id;
        out.failed.push_back(*f);
      } else {
        out.acknowledged.push_back(r.id);
      }
    }
    pending_.clear();
  }
  size_t in_flight() const override { return pending_.size(); }

  std::vector<written_record> to(const std::string& topic) const {
    std::vector<written_record> out;
    for (const auto& r : queued)
      if (r.topic == topic) out.push_back(r);
    return out;
  }

 private:
  std::vector<written_record> pending_;
};

// Records every log line while alive.
struct log_capture {
  struct line {
    log::level level;
    std::string msg;
    std::string text;
  };
  std::vector<line> lines;
  log_capture() {
    log::set_observer([this](log::level l, std::string_view msg, std::string_view text) {
      lines.push_back({l, std::string(msg), std::string(text)});
    });
  }
  ~log_capture() { log::set_observer(nullptr); }
  size_t count(log::level l, std::string_view msg_starts) const {
    size_t n = 0;
    for (const auto& x : lines) n += x.level == l && x.msg.rfind(msg_starts, 0) == 0 ? 1 : 0;
    return n;
  }
};

const std::string sessions_topic = "tracewatch.sessions";
const std::string deadletter_topic = "tracewatch.deadletter";

struct output_fixture {
  test::temp_dir dir;
  std::unique_ptr<state::store> db;
  manual_clock clock;
  output_probe probe;
  scripted_writer writer;
  std::unique_ptr<state::outbox_writer> lane;
  std::unique_ptr<output_stage> stage;

  explicit output_fixture(output_stage_config cfg = with_deadletter_topic()) {
    state::store_options o;
    o.dir = dir.path();
    REQUIRE(state::store::open(o, db).ok());
    lane = std::make_unique<state::outbox_writer>(*db, state::outbox_lane::sessions);
    REQUIRE(lane->open().ok());
    stage = std::make_unique<output_stage>(*db, writer, clock, probe, std::move(cfg));
  }
  static output_stage_config with_deadletter_topic() {
    output_stage_config c;
    c.deadletter_topic = deadletter_topic;
    c.retry_backoff = 1s;
    c.stall_after = 30s;
    return c;
  }
  // Commits records to the sessions lane (as the state stage does) and tells the stage.
  void commit(const std::vector<std::pair<std::string, std::string>>& keyed_payloads) {
    rocksdb::WriteBatch batch;
    for (const auto& [key, payload] : keyed_payloads) lane->put(batch, sessions_topic, key, payload);
    lane->save(batch);
    REQUIRE(db->db()->Write(db->write_options(), &batch).ok());
    stage->available(state::outbox_lane::sessions, lane->next());
  }
  void step() {
    std::string error;
    REQUIRE(stage->step(0ms, error));
  }
  // Steps, moving the clock by `tick` each time, until the stage is idle; false if it never is.
  bool run_until_idle(duration tick = 100ms, int max_steps = 1000) {
    for (int i = 0; i < max_steps; ++i) {
      step();
      if (stage->idle()) return true;
      clock.advance(tick);
    }
    return false;
  }
  size_t left_in_outbox() {
    state::outbox_reader r(*db);
    std::vector<state::outbox_entry> entries;
    REQUIRE(r.read(state::outbox_lane::sessions, 0, 100000, entries).ok());
    return entries.size();
  }
};

std::string session_doc(const std::string& id, size_t padding = 0) {
  return R"({"schema":"tracewatch.session.v1","session_id":")" + id + R"(","pad":")" + std::string(padding, 'x') + "\"}";
}

// What a producer with message.max.bytes = `limit` answers at write().
std::function<write_result(const written_record&)> refuses_over(size_t limit) {
  return [limit](const written_record& r) {
    if (r.payload.size() + r.key.size() > limit)
      return write_result{write_status::rejected, "producing to " + r.topic + ": Broker: Message size too large"};
    return write_result{};
  };
}

}  // namespace

TEST_CASE("a record larger than message.max.bytes becomes a dead letter and the lane moves on") {
  log_capture logs;
  output_fixture f;
  f.writer.on_write = refuses_over(100'000);  // message.max.bytes = 100000
  f.commit({{"s1", session_doc("s1")}, {"big", session_doc("big", 2'000'000)}, {"s2", session_doc("s2")},
            {"s3", session_doc("s3")}});
  REQUIRE(f.run_until_idle());

  auto sessions = f.writer.to(sessions_topic);
  REQUIRE(sessions.size() == 3);  // the big one was never queued: write() refused it at once
  CHECK(sessions[0].key == "s1");
  CHECK(sessions[1].key == "s2");
  CHECK(sessions[2].key == "s3");
  auto dead = f.writer.to(deadletter_topic);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].key == "big");
  INFO(dead[0].payload.substr(0, 600));
  CHECK(test::contract_violations("tracewatch.deadletter.v1", dead[0].payload).empty());
  CHECK(dead[0].payload.size() < 100 * 1024);
  auto doc = json::parse(dead[0].payload);
  CHECK(doc["reason"] == "undeliverable");
  const std::string detail = doc["detail"];
  CHECK(detail.find(sessions_topic) != std::string::npos);
  CHECK(detail.find("\"big\"") != std::string::npos);
  CHECK(detail.find(std::to_string(session_doc("big", 2'000'000).size()) + " bytes") != std::string::npos);
  CHECK(detail.find("Message size too large") != std::string::npos);
  CHECK(doc["source"] == json::parse(R"({"topic":"tracewatch.sessions","partition":0,"offset":1,"index":null})"));
  CHECK(doc["payload_encoding"] == "utf8");
  CHECK(std::string(doc["payload"]).rfind(R"({"schema":"tracewatch.session.v1","session_id":"big")", 0) == 0);

  CHECK(f.left_in_outbox() == 0);
  CHECK(f.probe.undeliverable == 1);
  CHECK(f.probe.dead_letters_dropped == 0);
  CHECK(f.probe.acknowledged == 4);  // three sessions and the dead letter that replaced the fourth
  CHECK(logs.count(log::level::error, "output record undeliverable") == 1);
  bool logged_key_and_size = false;
  for (const auto& l : logs.lines)
    if (l.msg.rfind("output record undeliverable", 0) == 0)
      logged_key_and_size = l.text.find("key=big") != std::string::npos &&
                            l.text.find("bytes=" + std::to_string(session_doc("big", 2'000'000).size())) != std::string::npos;
  CHECK(logged_key_and_size);
}

TEST_CASE("a record the brokers refuse for good in the delivery report becomes a dead letter too") {
  output_fixture f;
  f.writer.on_deliver = [](const written_record& r) -> std::optional<write_failure> {
    if (r.topic == sessions_topic && r.key == "poison")
      return write_failure{0, "delivering to tracewatch.sessions: Broker: Invalid record", true};
    return std::nullopt;
  };
  f.commit({{"poison", session_doc("poison")}, {"fine", session_doc("fine")}});
  REQUIRE(f.run_until_idle());
  auto dead = f.writer.to(deadletter_topic);
  REQUIRE(dead.size() == 1);
  CHECK(json::parse(dead[0].payload)["reason"] == "undeliverable");
  CHECK(std::string(json::parse(dead[0].payload)["detail"]).find("Invalid record") != std::string::npos);
  CHECK(f.writer.to(sessions_topic).size() == 2);  // tried once each: a rejection is not retried
  CHECK(f.left_in_outbox() == 0);
}

TEST_CASE("a dead letter that is refused too is logged, dropped and counted, never retried") {
  log_capture logs;
  output_fixture f;
  f.writer.on_write = [](const written_record& r) {
    if (r.key == "big") return write_result{write_status::rejected, "Broker: Message size too large"};
    return write_result{};
  };
  f.commit({{"big", session_doc("big")}, {"next", session_doc("next")}});
  REQUIRE(f.run_until_idle());
  CHECK(f.writer.to(deadletter_topic).empty());
  CHECK(f.writer.to(sessions_topic).size() == 1);
  CHECK(f.probe.undeliverable == 1);
  CHECK(f.probe.dead_letters_dropped == 1);
  CHECK(f.left_in_outbox() == 0);
  CHECK(logs.count(log::level::error, "the dead letter of an undeliverable output record was refused too") == 1);
}

TEST_CASE("without a dead-letter topic an undeliverable record is logged, dropped and counted") {
  log_capture logs;
  output_fixture f(output_stage_config{});
  f.writer.on_write = refuses_over(1000);
  f.commit({{"big", session_doc("big", 5000)}, {"next", session_doc("next")}});
  REQUIRE(f.run_until_idle());
  CHECK(f.writer.to(sessions_topic).size() == 1);
  CHECK(f.probe.dead_letters_dropped == 1);
  CHECK(f.left_in_outbox() == 0);
  CHECK(logs.count(log::level::error, "output record undeliverable and no dead-letter topic") == 1);
}

TEST_CASE("a retriable failure is retried after the backoff until the record is delivered") {
  output_fixture f;
  int failures_left = 3;
  f.writer.on_deliver = [&](const written_record&) -> std::optional<write_failure> {
    if (failures_left-- > 0) return write_failure{0, "Local: Broker transport failure", false};
    return std::nullopt;
  };
  f.commit({{"s1", session_doc("s1")}});
  f.step();
  CHECK(f.writer.queued.size() == 1);
  f.clock.advance(999ms);
  f.step();
  CHECK(f.writer.queued.size() == 1);  // not before the backoff
  f.clock.advance(1ms);
  f.step();
  CHECK(f.writer.queued.size() == 2);
  REQUIRE(f.run_until_idle(1s));
  CHECK(f.writer.queued.size() == 4);
  CHECK(f.writer.to(deadletter_topic).empty());
  CHECK(f.left_in_outbox() == 0);
}

TEST_CASE("a lane whose oldest record waits longer than stall_after is logged once as stalled, and again when it moves") {
  log_capture logs;
  output_fixture f;
  bool brokers_up = false;
  f.writer.on_deliver = [&](const written_record&) -> std::optional<write_failure> {
    if (!brokers_up) return write_failure{0, "Local: All broker connections are down", false};
    return std::nullopt;
  };
  f.commit({{"s1", session_doc("s1")}, {"s2", session_doc("s2")}});
  for (int i = 0; i < 29; ++i) {  // 29 s of failures, retried every second
    f.step();
    f.clock.advance(1s);
  }
  f.step();
  CHECK(f.probe.stalled_lanes == 0);
  CHECK(f.probe.oldest_unacked_age_us == std::chrono::microseconds(29s).count());
  CHECK(logs.count(log::level::warn, "output delivery failed") == 1);  // one line, not one per retry
  for (int i = 0; i < 60; ++i) {
    f.clock.advance(1s);
    f.step();
  }
  CHECK(f.probe.stalled_lanes == 1);
  CHECK(logs.count(log::level::error, "output lane stalled") == 1);  // once, however long it lasts
  CHECK(logs.count(log::level::warn, "output delivery failed") == 1);
  std::string stall_line;
  for (const auto& l : logs.lines)
    if (l.msg.rfind("output lane stalled", 0) == 0) stall_line = l.text;
  CHECK(stall_line.find("lane=sessions") != std::string::npos);
  CHECK(stall_line.find("depth=2") != std::string::npos);
  CHECK(stall_line.find("All broker connections are down") != std::string::npos);

  brokers_up = true;
  REQUIRE(f.run_until_idle(1s));
  CHECK(f.probe.stalled_lanes == 0);
  CHECK(f.probe.oldest_unacked_age_us == 0);
  CHECK(logs.count(log::level::info, "output lane moving again") == 1);
  CHECK(f.left_in_outbox() == 0);
}

TEST_CASE("a lane that keeps delivering is never called stalled, however long its backlog") {
  log_capture logs;
  output_fixture f;
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 3000; ++i) many.emplace_back("s" + std::to_string(i), session_doc("s" + std::to_string(i)));
  f.commit(many);
  for (int i = 0; i < 100 && !f.stage->idle(); ++i) {
    f.step();
    f.clock.advance(20s);  // each step delivers what it sent: the oldest record keeps changing
  }
  CHECK(f.stage->idle());
  CHECK(logs.count(log::level::error, "output lane stalled") == 0);
  CHECK(f.probe.stalled_lanes == 0);
}
