// Helpers shared by the input-format tests: the observation invariants (model/observation.hpp,
// from tests/support/observation_invariants.hpp), fixture loading, and a readable dump for
// failure messages.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/observation.hpp"
#include "model/text.hpp"
#include "tests/support/observation_invariants.hpp"
#include "topics/formats/formats.hpp"

namespace tw::test {

// One line per observation, for INFO() when a count is off.
inline std::string describe(const observation& o) {
  std::ostringstream ss;
  ss << to_string(o.kind) << " event=" << o.event_id << " trace=" << o.trace_id << " obs=" << o.observation_id
     << " session=" << o.session_id;
  if (o.name) ss << " name=" << *o.name;
  if (o.parent_id) ss << " parent=" << *o.parent_id;
  if (o.model) ss << " model=" << *o.model;
  if (o.input_tokens) ss << " in=" << *o.input_tokens;
  if (o.output_tokens) ss << " out=" << *o.output_tokens;
  if (o.cost_usd) ss << " cost=" << *o.cost_usd;
  if (o.level) ss << " level=" << to_string(*o.level);
  if (o.status_message) ss << " status=" << *o.status_message;
  if (o.tool_name) ss << " tool=" << *o.tool_name;
  if (o.tool_call_id) ss << " call=" << *o.tool_call_id;
  if (o.tool_result) ss << " result=" << *o.tool_result;
  if (o.finish_reason) ss << " finish=" << *o.finish_reason;
  if (o.user_text) ss << " user=" << *o.user_text;
  if (o.assistant_text) ss << " assistant=" << *o.assistant_text;
  if (o.environment) ss << " env=" << *o.environment;
  if (o.score_value) ss << " score=" << *o.score_value;
  if (o.score_label) ss << " label=" << *o.score_label;
  if (o.metadata)
    for (const auto& [k, v] : *o.metadata) ss << " [" << k << "=" << v << "]";
  return ss.str();
}

inline std::string describe(const parse_result& r) {
  std::ostringstream ss;
  ss << "detected=" << to_string(r.detected) << " observations=" << r.observations.size()
     << " rejected=" << r.rejected.size() << " ignored=" << r.ignored << "\n";
  for (const auto& o : r.observations) ss << "  " << describe(o) << "\n";
  for (const auto& x : r.rejected)
    ss << "  REJECTED " << to_string(x.code) << " " << x.detail << (x.index ? " #" + std::to_string(*x.index) : "")
       << "\n";
  return ss.str();
}

// Parses `json` with a fresh parser and checks every observation's invariants.
inline parse_result parse_checked(std::string_view json, input_format format = input_format::auto_detect,
                                  parse_limits limits = {}) {
  payload_parser parser(limits);
  parse_result r = parser.parse(json, format);
  for (const auto& o : r.observations) {
    INFO(describe(o));
    CHECK(invariant_violations(o, limits).empty());
  }
  return r;
}

// The single observation of a message that must yield exactly one and reject nothing.
inline observation only_observation(std::string_view json, input_format format = input_format::auto_detect,
                                    parse_limits limits = {}) {
  parse_result r = parse_checked(json, format, limits);
  INFO(describe(r));
  REQUIRE(r.rejected.empty());
  REQUIRE(r.observations.size() == 1);
  return r.observations.front();
}

// The single rejection of a message that must yield nothing else.
inline rejected_event only_rejection(std::string_view json, input_format format = input_format::auto_detect,
                                     parse_limits limits = {}) {
  parse_result r = parse_checked(json, format, limits);
  INFO(describe(r));
  REQUIRE(r.observations.empty());
  REQUIRE(r.rejected.size() == 1);
  return r.rejected.front();
}

inline std::optional<std::string> metadata_value(const observation& o, std::string_view key) {
  if (!o.metadata) return std::nullopt;
  for (const auto& [k, v] : *o.metadata)
    if (k == key) return v;
  return std::nullopt;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string fixture(const std::string& name) { return read_file(std::string(TW_FIXTURES_DIR) + "/real/" + name); }

}  // namespace tw::test
