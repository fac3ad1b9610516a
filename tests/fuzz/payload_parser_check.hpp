// What payload_parser (topics/formats/formats.hpp) promises for any bytes, as one check that the
// libFuzzer harness (payload_parser_fuzzer.cpp) runs on every input it makes and the unit tests
// run on every committed input (tests/unit/fuzz_inputs_test.cpp), in every build.
//
// One input is parsed under two sets of limits — the defaults, and tiny ones derived from the
// input's bytes (tiny_limits_for) — and, under each, with format auto-detection and with each
// fixed format, as a topic configured for that format would. The promises checked, each taken
// from a header or docs/input-formats.md, not from what the code happens to do:
//   - parse() never throws (formats.hpp);
//   - every observation keeps the invariants of model/observation.hpp and the parse_limits bounds
//     (tests/support/observation_invariants.hpp);
//   - every rejection has a known reason code and a non-empty, valid UTF-8 detail
//     (model/rejection.hpp, "precise and human-readable");
//   - a message over max_message_bytes is one too_large rejection and nothing else ("not parsed");
//     the message-level codes (too_large, invalid_json, unknown_format) come alone and carry the
//     whole message as their payload and no item index (parsers.hpp, reject_message);
//   - `detected` says what the message turned out to be: set whenever anything was parsed, and
//     the configured format itself when one is fixed;
//   - the same bytes give the same result: parsed twice by one (reused) parser, by a fresh
//     parser, and with the format auto-detection chose given as the fixed format (formats.hpp:
//     the parser only "reuses its parse buffers between calls").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "topics/formats/formats.hpp"

namespace tw::fuzz {

// Small limits that make the bounds bite, chosen from a hash of the input so that a failing input
// reproduces them and the corpus stays plain messages: text and result excerpts of 1–16 bytes,
// 0–2 metadata entries of 1–16 bytes, and for one input in four a max_message_bytes of 256–1023
// bytes (otherwise the default, so that the excerpt bounds are also met on large messages).
parse_limits tiny_limits_for(std::string_view input);

// Checks one input. Reuses a parser with the default limits between inputs, as the importer
// does, so that state left over from one message cannot leak into the next unnoticed. Not
// thread-safe: one per thread.
class payload_checker {
 public:
  // Every promise `input` makes the parser break, in words (with the limits and format it was
  // parsed with); empty when it keeps them all.
  std::vector<std::string> check(std::string_view input);

 private:
  payload_parser default_parser_;
};

}  // namespace tw::fuzz
