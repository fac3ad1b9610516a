// store::write: a batch written with its entries sorted leaves exactly what writing it as it was
// leaves — whatever one key gets keeps its order, and a range deletion still deletes what came
// before it and spares what came after. Two databases take the same random batches, one through
// store::write, one through RocksDB directly, and are compared key by key after every batch.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "state/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tw;
using namespace tw::state;

namespace {

std::map<std::string, std::string> contents(store& db, cf c) {
  std::map<std::string, std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(rocksdb::ReadOptions(), db.handle(c)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace(it->key().ToString(), it->value().ToString());
  REQUIRE(it->status().ok());
  return out;
}

}  // namespace

TEST_CASE("a sorted write leaves what the batch as written leaves: same-key order, range deletions") {
  test::temp_dir a_dir, b_dir;
  std::unique_ptr<store> a, b;
  store_options o;
  o.dir = a_dir.path();
  REQUIRE(store::open(o, a).ok());
  o.dir = b_dir.path();
  REQUIRE(store::open(o, b).ok());
  const cf families[] = {cf::sessions, cf::traces, cf::timers};
  uint64_t x = 42;
  auto next = [&](uint64_t n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (x >> 33) % n;
  };
  auto key = [&] { return "k" + std::to_string(next(300)); };
  for (int round = 0; round < 40; ++round) {
    rocksdb::WriteBatch via_store, direct;
    // Small batches too: those are written as they are.
    const uint64_t entries = round % 4 == 0 ? 1 + next(20) : 100 + next(400);
    for (uint64_t i = 0; i < entries; ++i) {
      const cf c = families[next(3)];
      const uint64_t what = next(20);
      if (what < 12) {
        const std::string k = key(), v = "v" + std::to_string(round) + "." + std::to_string(i);
        REQUIRE(via_store.Put(a->handle(c), k, v).ok());
        REQUIRE(direct.Put(b->handle(c), k, v).ok());
      } else if (what < 19) {
        const std::string k = key();
        REQUIRE(via_store.Delete(a->handle(c), k).ok());
        REQUIRE(direct.Delete(b->handle(c), k).ok());
      } else {
        std::string from = key(), to = key();
        if (to < from) std::swap(from, to);
        REQUIRE(via_store.DeleteRange(a->handle(c), from, to).ok());
        REQUIRE(direct.DeleteRange(b->handle(c), from, to).ok());
      }
    }
    REQUIRE(a->write(via_store, "test").ok());
    REQUIRE(b->db()->Write(b->write_options(), &direct).ok());
    for (cf c : families) {
      INFO("round " << round << ", column family " << cf_name(c));
      REQUIRE(contents(*a, c) == contents(*b, c));
    }
  }
  // The rounds did change something, and deleted some of it.
  CHECK(contents(*a, cf::sessions).size() > 50);
  CHECK(contents(*a, cf::sessions).size() < 300);
}
