// The rate-limited mailbox: durable FIFO backlog in RocksDB, bounded in-memory queue, token
// bucket in front. Time is a manual clock: nothing here sleeps.
#include <catch2/catch.hpp>

#include <map>

#include "model/clock.hpp"
#include "state/mailbox.hpp"
#include "state/store.hpp"
#include "state/token_bucket.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tw;
using namespace tw::state;
using namespace std::chrono_literals;

namespace {

struct mailbox_fixture {
  test::temp_dir dir;
  std::unique_ptr<store> db;
  manual_clock clock;
  mailbox_fixture() { reopen(); }
  void reopen() {
    db.reset();
    store_options o;
    o.dir = dir.path();
    REQUIRE(store::open(o, db).ok());
  }
  // The producer side: items committed in batches of `per_batch`, handed over in memory.
  std::vector<mailbox_item> produce(size_t n, size_t per_batch = 100) {
    mailbox_writer w(*db, mailbox_lane::diagnostics);
    REQUIRE(w.open().ok());
    std::vector<mailbox_item> items;
    for (size_t i = 0; i < n;) {
      rocksdb::WriteBatch batch;
      for (size_t k = 0; k < per_batch && i < n; ++k, ++i)
        items.push_back(w.put(batch, "session-" + std::to_string(i), clock.now()));
      w.save(batch);
      REQUIRE(db->db()->Write(db->write_options(), &batch).ok());
    }
    return items;
  }
};

}  // namespace

TEST_CASE("a token bucket allows a burst, then one item per interval, and does not bank idle time beyond the burst") {
  manual_clock clock;
  token_bucket b(250ms, 3, clock.now());
  CHECK(b.try_take(clock.now()));
  CHECK(b.try_take(clock.now()));
  CHECK(b.try_take(clock.now()));
  CHECK_FALSE(b.try_take(clock.now()));
  CHECK(b.next_token_at(clock.now()) == clock.now() + 250ms);
  clock.advance(249ms);
  CHECK_FALSE(b.try_take(clock.now()));
  clock.advance(1ms);
  CHECK(b.try_take(clock.now()));
  clock.advance(10s);  // idle: the bucket refills to the burst, no more
  CHECK(b.tokens(clock.now()) == 3);
}

TEST_CASE("an unlimited token bucket never makes anyone wait") {
  manual_clock clock;
  token_bucket b(std::nullopt, 1, clock.now());
  for (int i = 0; i < 1000; ++i) CHECK(b.try_take(clock.now()));
}

TEST_CASE("a burst of 10,000 items is processed at the configured rate, in order, with a bounded memory queue") {
  mailbox_fixture f;
  auto items = f.produce(10000);
  mailbox_probe probe;
  mailbox_settings s;
  s.interval = 200ms;  // five per second
  s.burst = 10;
  s.memory_capacity = 500;
  rate_limited_mailbox m(*f.db, mailbox_lane::diagnostics, s, f.clock.now(), probe);
  for (auto& it : items) m.offer(it);
  CHECK(probe.spilled == 10000 - 500);  // the rest waits in RocksDB
  CHECK(probe.in_memory == 500);

  const wall_time start = f.clock.now();
  std::vector<uint64_t> order;
  std::map<int64_t, int> per_second;  // simulated second -> items started in it
  size_t max_in_memory = 0;
  while (order.size() < items.size()) {
    REQUIRE(m.refill().ok());
    wall_time retry_at;
    auto item = m.take(f.clock.now(), retry_at);
    if (!item) {
      REQUIRE(retry_at != wall_time::max());
      f.clock.set(retry_at);  // wait for the next token: the clock jumps, nothing sleeps
      continue;
    }
    order.push_back(item->seq);
    per_second[(f.clock.now() - start).count() / 1000000]++;
    rocksdb::WriteBatch done;
    m.done(done, *item);
    REQUIRE(f.db->db()->Write(f.db->write_options(), &done).ok());
    max_in_memory = std::max<size_t>(max_in_memory, probe.in_memory);
  }
  for (size_t i = 0; i < order.size(); ++i) REQUIRE(order[i] == items[i].seq);  // FIFO
  CHECK(max_in_memory <= 500);
  // 10 at once (the burst), then one per 200 ms: the last starts at (10,000 - 10) x 200 ms.
  CHECK(f.clock.now() - start == duration(std::chrono::milliseconds((10000 - 10) * 200)));
  CHECK(per_second.at(0) == 10 + 4);  // the burst plus tokens at 200, 400, 600, 800 ms
  for (const auto& [second, n] : per_second)
    if (second > 0 && second < static_cast<int64_t>(per_second.size()) - 1) CHECK(n == 5);
  CHECK(probe.depth() == 0);
  CHECK(probe.read_from_disk == 10000 - 500);
}

TEST_CASE("a backlog survives a restart: what was done stays done, the rest comes back in order") {
  mailbox_fixture f;
  auto items = f.produce(100, 7);
  std::vector<uint64_t> processed;
  {
    mailbox_probe probe;
    mailbox_settings s;
    s.memory_capacity = 20;
    rate_limited_mailbox m(*f.db, mailbox_lane::diagnostics, s, f.clock.now(), probe);
    for (auto& it : items) m.offer(it);
    for (int i = 0; i < 30; ++i) {
      REQUIRE(m.refill().ok());
      wall_time retry_at;
      auto item = m.take(f.clock.now(), retry_at);
      REQUIRE(item);
      processed.push_back(item->seq);
      rocksdb::WriteBatch done;
      m.done(done, *item);
      REQUIRE(f.db->db()->Write(f.db->write_options(), &done).ok());
    }
    // One more is taken but its result never committed: the process dies here.
    wall_time retry_at;
    REQUIRE(m.refill().ok());
    REQUIRE(m.take(f.clock.now(), retry_at));
  }
  f.reopen();  // a new process: nothing in memory, only what RocksDB holds
  mailbox_probe probe;
  rate_limited_mailbox m(*f.db, mailbox_lane::diagnostics, mailbox_settings{}, f.clock.now(), probe);
  while (true) {
    REQUIRE(m.refill().ok());
    wall_time retry_at;
    auto item = m.take(f.clock.now(), retry_at);
    if (!item) break;
    processed.push_back(item->seq);
    rocksdb::WriteBatch done;
    m.done(done, *item);
    REQUIRE(f.db->db()->Write(f.db->write_options(), &done).ok());
  }
  REQUIRE(processed.size() == 100);  // the one taken but not done came back: nothing lost
  for (size_t i = 0; i < processed.size(); ++i) CHECK(processed[i] == items[i].seq);
  CHECK(m.idle());
}

TEST_CASE("an item offered after it was already read back from disk is not queued twice") {
  mailbox_fixture f;
  auto items = f.produce(5);
  mailbox_probe probe;
  rate_limited_mailbox m(*f.db, mailbox_lane::diagnostics, mailbox_settings{}, f.clock.now(), probe);
  REQUIRE(m.refill().ok());  // reads all five (the producer's hand-over is still on its way)
  for (auto& it : items) m.offer(it);
  int taken = 0;
  wall_time retry_at;
  while (m.take(f.clock.now(), retry_at)) ++taken;
  CHECK(taken == 5);
}

TEST_CASE("a new producer continues the sequence after a restart, even without its saved position") {
  mailbox_fixture f;
  f.produce(3);
  f.reopen();
  mailbox_writer w(*f.db, mailbox_lane::diagnostics);
  REQUIRE(w.open().ok());
  CHECK(w.next() == 3);
  // Without meta (as if it were lost), the lane's last key still says where to continue.
  rocksdb::WriteBatch drop;
  drop.Delete(f.db->handle(cf::meta), "lane.mailbox.1");
  REQUIRE(f.db->db()->Write(f.db->write_options(), &drop).ok());
  mailbox_writer again(*f.db, mailbox_lane::diagnostics);
  REQUIRE(again.open().ok());
  CHECK(again.next() == 3);
}

TEST_CASE("items the producer committed but did not hand over are read back in order once it says how far they go") {
  // The state stage hands at most a bounded number of completed sessions over in memory; for the
  // rest it only says where the queue ends.
  mailbox_fixture f;
  auto items = f.produce(50);
  mailbox_probe probe;
  mailbox_settings s;
  s.memory_capacity = 8;
  rate_limited_mailbox m(*f.db, mailbox_lane::diagnostics, s, f.clock.now(), probe);
  REQUIRE(m.refill().ok());  // a fresh consumer reads what exists: learns the end by reading
  for (size_t i = 0; i < 3; ++i) REQUIRE(m.offer(items[i]) == false);  // read back already
  std::vector<uint64_t> seen;
  auto drain = [&] {
    wall_time retry;
    for (;;) {
      REQUIRE(m.refill().ok());
      auto it = m.take(f.clock.now(), retry);
      if (!it) return;
      seen.push_back(it->seq);
      rocksdb::WriteBatch b;
      m.done(b, *it);
      REQUIRE(f.db->db()->Write(f.db->write_options(), &b).ok());
    }
  };
  drain();
  REQUIRE(seen.size() == 50);
  CHECK(m.idle());
  // 30 more, none handed over: idle until told, then all of them, in order.
  auto more = f.produce(30);
  CHECK(m.idle());
  m.known_until(more.back().seq + 1);
  CHECK_FALSE(m.idle());
  drain();
  REQUIRE(seen.size() == 80);
  for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == items.front().seq + i);
  CHECK(m.idle());
}
