// topics/contracts/json_writer.hpp: what it writes is byte for byte what nlohmann's ordered_json
// dump(-1, ' ', false, replace) writes for the same values, so that moving the contract encoders
// onto it changed no output.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "topics/contracts/json_writer.hpp"

using tw::json_writer;
using ordered = nlohmann::ordered_json;

namespace {

std::string nlohmann_dump(const ordered& j) { return j.dump(-1, ' ', false, ordered::error_handler_t::replace); }

template <class T>
std::string written(const T& v) {
  std::string out;
  json_writer(out).value(v);
  return out;
}

}  // namespace

TEST_CASE("the writer escapes text as nlohmann does, and replaces what is not UTF-8 as nlohmann does", "[json_writer]") {
  const std::vector<std::string> fixed = {
      "", "plain", "quote \" backslash \\ slash /", "\b\f\n\r\t", std::string("nul \0 byte", 10), "\x01\x1f\x7f",
      "Grüß dich — 日本語 🙂", "\xc3\x28", "\xe2\x82", "\xed\xa0\x80" /* a surrogate */, "\xf4\x90\x80\x80" /* > U+10FFFF */,
      "\xc0\xaf" /* overlong */, "ok then \xff bad", "\xf0\x9f\x99\x82\xf0\x9f"};
  for (const auto& s : fixed) {
    INFO(s);
    CHECK(written(s) == nlohmann_dump(ordered(s)));
  }
  // Random bytes, weighted to the edges: control characters, quotes, lead and continuation bytes.
  std::mt19937 rng(7);
  const unsigned char alphabet[] = {0x00, 0x01, 0x08, 0x09, 0x0a, 0x1f, 0x20, '"', '\\', 'a', 0x7f, 0x80, 0x9f, 0xa0,
                                    0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf3, 0xf4, 0xf5, 0xff};
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const size_t len = rng() % 12;
    for (size_t i = 0; i < len; ++i) s.push_back(static_cast<char>(alphabet[rng() % sizeof alphabet]));
    INFO("case " << n);
    REQUIRE(written(s) == nlohmann_dump(ordered(s)));
  }
  // Long runs of plain text (which the writer copies a word at a time) with any byte at all now
  // and then, at every offset within a word.
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const size_t len = rng() % 80;
    for (size_t i = 0; i < len; ++i)
      s.push_back(rng() % 16 == 0 ? static_cast<char>(rng() % 256) : static_cast<char>(0x20 + rng() % 95));
    INFO("long case " << n);
    REQUIRE(written(s) == nlohmann_dump(ordered(s)));
  }
}

TEST_CASE("the writer writes numbers as nlohmann does: shortest round-trip doubles, non-finite as null", "[json_writer]") {
  for (double d : {0.0, -0.0, 1.0, 8924.0, 0.1, 0.0123, 1e-7, 123456789012345678.0, 1e300, -2.5e-300, 5e-324,
                   std::numeric_limits<double>::max(), std::nan(""), std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    INFO(d);
    CHECK(written(d) == nlohmann_dump(ordered(d)));
  }
  std::mt19937_64 rng(11);
  for (int n = 0; n < 20000; ++n) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    const double millis = static_cast<double>(rng() % 100000000) / 1000.0;  // as to_millis makes them
    REQUIRE(written(d) == nlohmann_dump(ordered(d)));
    REQUIRE(written(millis) == nlohmann_dump(ordered(millis)));
  }
  for (int64_t i : {int64_t{0}, int64_t{-1}, int64_t{42}, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()})
    CHECK(written(i) == nlohmann_dump(ordered(i)));
  CHECK(written(std::numeric_limits<uint64_t>::max()) == nlohmann_dump(ordered(std::numeric_limits<uint64_t>::max())));
  CHECK(written(uint32_t{7}) == "7");
  CHECK(written(true) == "true");
  CHECK(written(nullptr) == "null");
  CHECK(written(std::optional<double>{}) == "null");
}

TEST_CASE("the writer puts commas between members and elements at every depth, and none elsewhere", "[json_writer]") {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.member("a", 1);
  w.key("empty").begin_object().end_object();
  w.key("list").begin_array();
  w.value("x").begin_array().end_array().begin_object().member("k", -3).member("n", nullptr).end_object().value(2.5);
  w.end_array();
  w.key("at").time(tw::event_time::from_millis(1735689600123));
  w.key("none").text_or_null("");
  w.key("ids").string_array(std::vector<std::string>{"p", "q"});
  w.end_object();
  ordered expected;
  expected["a"] = 1;
  expected["empty"] = ordered::object();
  expected["list"] = ordered::array({"x", ordered::array(), {{"k", -3}, {"n", nullptr}}, 2.5});
  expected["at"] = "2025-01-01T00:00:00.123Z";
  expected["none"] = nullptr;
  expected["ids"] = {"p", "q"};
  CHECK(out == nlohmann_dump(expected));
}
