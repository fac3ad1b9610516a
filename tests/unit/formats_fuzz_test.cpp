// Deterministic mutation fuzzing of payload_parser: 20,000 mutations of the real fixtures prove
// that parse() never throws or crashes on hostile input and that everything it emits keeps the
// observation invariants (model/observation.hpp) and the configured bounds.
//
// Two families of mutations, from a fixed seed so that a failure reproduces exactly:
//   - textual (one in four): byte flips, truncations, deletions, duplications, insertions of JSON fragments;
//     most become invalid JSON, which exercises the message-level rejections;
//   - structural (three in four): the document is parsed (nlohmann) and one value somewhere in it is replaced by
//     a hostile one — wrong types, huge and negative numbers, deep nesting, long or odd strings,
//     JSON hidden in strings, "<elided>" — or removed; the result is still valid JSON, so the
//     format parsers themselves are exercised.
// Seeds are the fixtures cut into messages (tests/support/fixture_messages.hpp: each .jsonl line,
// each servertest request) so that most mutations are small and the run stays well under a second
// or two. The coverage-guided counterpart, with more invariants, is tests/fuzz.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "formats_test_support.hpp"
#include "tests/support/fixture_messages.hpp"

using namespace tw;
using namespace tw::test;
using json = nlohmann::json;

namespace {

std::vector<std::string> seed_messages() {
  std::vector<std::string> seeds;
  for (auto& m : fixture_messages(std::string(TW_FIXTURES_DIR) + "/real")) seeds.push_back(std::move(m.payload));
  // A native list, so that tracewatch.event.v1 is mutated too.
  seeds.push_back(
      R"([{"schema":"tracewatch.event.v1","event_id":"e-1","session_id":"s","trace_id":"t","kind":"tool","tool_name":"x","tool_result":{"a":[1,2]},"start":1735725600000,"end":"2025-01-01T10:00:01Z","input_tokens":3,"metadata":{"k":"v"}},{"schema":"tracewatch.event.v1","event_id":"e-2","trace_id":"t","kind":"generation","timestamp":0,"user_text":"hi","update":true}])");
  return seeds;
}

class mutator {
 public:
  explicit mutator(uint64_t seed) : rng_(seed) {}

  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }
  bool chance(size_t one_in) { return below(one_in) == 0; }

  std::string textual(std::string s) {
    const size_t edits = 1 + below(4);
    for (size_t e = 0; e < edits && !s.empty(); ++e) {
      const size_t pos = below(s.size());
      switch (below(6)) {
        case 0: s[pos] = static_cast<char>(s[pos] ^ (1u << below(8))); break;  // bit flip (may break UTF-8)
        case 1: s.resize(pos); break;                                           // truncation
        case 2: s.erase(pos, below(64)); break;
        case 3: s.insert(pos, s.substr(below(s.size()), below(128))); break;   // duplication
        case 4: s.insert(pos, fragment()); break;
        default: s[pos] = "{}[],:\"\\0-e."[below(13)]; break;
      }
    }
    return s;
  }

  std::string structural(const std::string& seed) {
    json doc = json::parse(seed, nullptr, false);
    if (doc.is_discarded()) return textual(seed);
    const size_t edits = 1 + below(3);
    for (size_t e = 0; e < edits; ++e) mutate_somewhere(doc, 0);
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
  }

 private:
  std::string fragment() {
    static const char* const fragments[] = {
        "18446744073709551615", "-9223372036854775808", "1e308", "-0.0", "1e-320", "null", "true", "\"\"",
        "\"<elided>\"", "[[[[[[[[", "]]]]", "{\"a\":", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\xF0\x9F\x98", "\xFF",
        "\"SPAN_KIND_SERVER\"", "\"STATUS_CODE_ERROR\"", "99999999999999999999999", ",,"};
    return fragments[below(std::size(fragments))];
  }

  json hostile() {
    switch (below(16)) {
      case 0: return nullptr;
      case 1: return json(below(2) == 0);
      case 2: return json(std::numeric_limits<uint64_t>::max());
      case 3: return json(std::numeric_limits<int64_t>::min());
      case 4: return json(-1);
      case 5: return json(1.5e300);
      case 6: return json("");
      case 7: return json("<elided>");
      case 8: return json(std::string(5000 + below(20000), "a\n\"\\<{x"[below(8)]));
      case 9: {  // deep nesting within simdjson's limit (moved, not copied, level by level)
        json v = "deep";
        const size_t depth = 50 + below(700);
        for (size_t i = 0; i < depth; ++i) {
          json wrapper = below(2) ? json::array() : json::object();
          if (wrapper.is_array())
            wrapper.push_back(std::move(v));
          else
            wrapper["content"] = std::move(v);
          v = std::move(wrapper);
        }
        return v;
      }
      case 10: return json(R"([{"role":"user","content":[{"type":"text","text":"nested \"json\""}]}])");
      case 11: return json(R"("{\"role\":\"assistant\",\"content\":\"twice\"}")");
      case 12: return json::array();
      case 13: return json::object();
      case 14: return json("9223372036854775808");
      default: return json{{"stringValue", "x"}, {"intValue", "12345678901234567890"}, {"arrayValue", {{"values", json::array({1})}}}};
    }
  }

  // Walks a random path and replaces, removes or wraps the value found there.
  void mutate_somewhere(json& v, size_t depth) {
    // Below the root, so that most mutations keep the message's shape and reach a format parser.
    const bool stop = depth > 12 || (depth > 1 && chance(4)) || (!v.is_object() && !v.is_array()) || v.empty();
    if (stop) {
      switch (below(4)) {
        case 0: v = json::array({v}); break;
        default: v = hostile(); break;
      }
      return;
    }
    if (v.is_array()) {
      const size_t i = below(v.size());
      if (chance(6))
        v.erase(i);
      else
        mutate_somewhere(v[i], depth + 1);
      return;
    }
    auto it = v.begin();
    std::advance(it, static_cast<long>(below(v.size())));
    if (chance(6))
      v.erase(it);
    else
      mutate_somewhere(*it, depth + 1);
  }

  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("twenty thousand mutations of the real fixtures never throw and keep every invariant") {
  const std::vector<std::string> seeds = seed_messages();
  REQUIRE(seeds.size() > 300);
  parse_limits tiny;
  tiny.max_message_bytes = 200000;
  tiny.text_excerpt_bytes = 7;
  tiny.result_excerpt_bytes = 5;
  tiny.metadata_entries = 3;
  tiny.metadata_value_bytes = 6;
  payload_parser normal_parser;
  payload_parser tiny_parser(tiny);
  mutator m(0x7261636577617463ULL);  // fixed: a failure names its iteration and reproduces

  size_t observations = 0, rejections = 0, field_rejections = 0, failures = 0;
  for (size_t i = 0; i < 20000 && failures < 5; ++i) {
    const std::string& seed = seeds[m.below(seeds.size())];
    const std::string input = i % 4 ? m.structural(seed) : m.textual(seed);  // 3 of 4 keep valid JSON
    const bool use_tiny = m.chance(3);
    const parse_limits& limits = use_tiny ? tiny : parse_limits{};
    const auto format = static_cast<input_format>(m.chance(5) ? m.below(5) : 0);
    parse_result r;
    try {
      r = (use_tiny ? tiny_parser : normal_parser).parse(input, format);
    } catch (const std::exception& e) {
      FAIL_CHECK("iteration " << i << ": parse threw " << e.what());
      ++failures;
      continue;
    }
    observations += r.observations.size();
    rejections += r.rejected.size();
    for (const auto& o : r.observations) {
      auto v = invariant_violations(o, limits);
      if (!v.empty()) {
        FAIL_CHECK("iteration " << i << ": " << v.front() << "\n" << describe(o) << "\ninput: " << input.substr(0, 2000));
        ++failures;
      }
    }
    for (const auto& x : r.rejected) {
      field_rejections += x.code == reject_code::missing_field || x.code == reject_code::invalid_field ||
                          x.code == reject_code::unsupported_type;
      if (x.detail.empty() || !is_valid_utf8(x.detail)) {
        FAIL_CHECK("iteration " << i << ": rejection without a readable reason");
        ++failures;
      }
    }
    if (r.observations.empty() && r.rejected.empty() && r.ignored == 0 && !input.empty()) {
      // Legitimate (an empty batch, an OTLP export without spans), but only for valid JSON.
      if (json::parse(input, nullptr, false).is_discarded()) {
        FAIL_CHECK("iteration " << i << ": invalid JSON neither parsed nor rejected");
        ++failures;
      }
    }
  }
  CHECK(failures == 0);
  // The mutations must reach the format parsers, not only the JSON-level rejection: about a third
  // of the structural mutations still yield observations, and many are refused field by field.
  INFO("observations " << observations << ", rejections " << rejections << ", by field " << field_rejections);
  CHECK(observations > 4000);
  CHECK(rejections > 5000);
  CHECK(field_rejections > 1000);
}
