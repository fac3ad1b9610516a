#include "tests/fuzz/payload_parser_check.hpp"

#include <cstring>
#include <exception>
#include <optional>

#include "model/text.hpp"
#include "tests/support/observation_invariants.hpp"

namespace tw::fuzz {
namespace {

constexpr input_format all_formats[] = {input_format::auto_detect, input_format::langfuse,
                                        input_format::langfuse_export, input_format::otlp, input_format::native};

// Doubles are compared bit for bit, so that a NaN equals itself: the question is whether two
// parses agree, not whether the value is sensible.
bool same_double(const std::optional<double>& a, const std::optional<double>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::memcmp(&*a, &*b, sizeof(double)) == 0;
}

// The first field in which two observations differ, or nullptr. Lists every field of
// tw::observation: a field added there must be added here.
const char* first_difference(const observation& a, const observation& b) {
#define TW_SAME(field) \
  if (!(a.field == b.field)) return #field;
  TW_SAME(event_id) TW_SAME(session_id) TW_SAME(trace_id) TW_SAME(observation_id) TW_SAME(kind)
  TW_SAME(is_update) TW_SAME(source_type) TW_SAME(source_index) TW_SAME(timestamp) TW_SAME(start) TW_SAME(end)
  TW_SAME(parent_id) TW_SAME(name) TW_SAME(level) TW_SAME(status_message) TW_SAME(model) TW_SAME(input_tokens)
  TW_SAME(output_tokens) TW_SAME(finish_reason) TW_SAME(tool_name) TW_SAME(tool_call_id) TW_SAME(tool_result)
  TW_SAME(user_text) TW_SAME(assistant_text) TW_SAME(user_id) TW_SAME(environment) TW_SAME(metadata)
  TW_SAME(score_label)
#undef TW_SAME
  if (!same_double(a.cost_usd, b.cost_usd)) return "cost_usd";
  if (!same_double(a.score_value, b.score_value)) return "score_value";
  return nullptr;
}

// How two results of the same bytes differ, in words; empty when they agree.
std::string difference(const parse_result& a, const parse_result& b) {
  if (a.detected != b.detected)
    return "detected " + std::string(to_string(a.detected)) + " then " + std::string(to_string(b.detected));
  if (a.ignored != b.ignored) return "ignored " + std::to_string(a.ignored) + " then " + std::to_string(b.ignored);
  if (a.observations.size() != b.observations.size())
    return std::to_string(a.observations.size()) + " observations then " + std::to_string(b.observations.size());
  if (a.rejected.size() != b.rejected.size())
    return std::to_string(a.rejected.size()) + " rejections then " + std::to_string(b.rejected.size());
  for (size_t i = 0; i < a.observations.size(); ++i)
    if (const char* field = first_difference(a.observations[i], b.observations[i]))
      return "observation " + std::to_string(i) + " differs in " + field;
  for (size_t i = 0; i < a.rejected.size(); ++i) {
    const auto& x = a.rejected[i];
    const auto& y = b.rejected[i];
    if (x.code != y.code || x.detail != y.detail || x.index != y.index || x.payload != y.payload)
      return "rejection " + std::to_string(i) + " differs: " + x.detail + " | " + y.detail;
  }
  return {};
}

bool is_message_level(reject_code c) {
  return c == reject_code::too_large || c == reject_code::invalid_json || c == reject_code::unknown_format;
}

// The promises one result must keep on its own (see the header), appended to `out` with `where`.
void check_result(std::string_view input, input_format format, const parse_limits& limits, const parse_result& r,
                  const std::string& where, std::vector<std::string>& out) {
  auto fail = [&](const std::string& what) { out.push_back(where + ": " + what); };

  for (size_t i = 0; i < r.observations.size(); ++i)
    for (const auto& v : test::invariant_violations(r.observations[i], limits))
      fail("observation " + std::to_string(i) + ": " + v);

  for (size_t i = 0; i < r.rejected.size(); ++i) {
    const auto& x = r.rejected[i];
    const std::string which = "rejection " + std::to_string(i);
    if (to_string(x.code) == "unknown") fail(which + ": reason code " + std::to_string(int(x.code)) + " is not one of reject_code");
    if (x.detail.empty()) fail(which + " (" + std::string(to_string(x.code)) + "): empty detail");
    if (!is_valid_utf8(x.detail)) fail(which + ": detail is not valid UTF-8");
    if (is_message_level(x.code)) {
      if (r.rejected.size() != 1 || !r.observations.empty() || r.ignored != 0)
        fail(which + ": " + std::string(to_string(x.code)) + " (the whole message) does not come alone");
      if (x.payload != input) fail(which + ": " + std::string(to_string(x.code)) + " does not carry the whole message");
      if (x.index) fail(which + ": " + std::string(to_string(x.code)) + " (the whole message) names an item index");
    }
  }

  if (input.size() > limits.max_message_bytes) {
    const bool alone_too_large = r.rejected.size() == 1 && r.rejected[0].code == reject_code::too_large &&
                                 r.observations.empty() && r.ignored == 0;
    if (!alone_too_large) fail("over max_message_bytes, but not one too_large rejection and nothing else");
  }

  const bool parsed_something = !r.observations.empty() || r.ignored > 0;
  if (parsed_something && r.detected == input_format::auto_detect) fail("parsed, but `detected` is not set");
  if (format != input_format::auto_detect && r.detected != input_format::auto_detect && r.detected != format)
    fail("the format is fixed, but `detected` says " + std::string(to_string(r.detected)));
  // Nothing at all comes out only of a message that reached a format parser (an empty batch, an
  // OTLP export without spans): invalid JSON, an unknown shape, a message too large are rejected.
  if (!parsed_something && r.rejected.empty() && r.detected == input_format::auto_detect)
    fail("neither parsed nor rejected");
}

std::string describe_limits(const parse_limits& l) {
  return "max_message_bytes=" + std::to_string(l.max_message_bytes) + " text_excerpt_bytes=" +
         std::to_string(l.text_excerpt_bytes) + " result_excerpt_bytes=" + std::to_string(l.result_excerpt_bytes) +
         " metadata_entries=" + std::to_string(l.metadata_entries) +
         " metadata_value_bytes=" + std::to_string(l.metadata_value_bytes);
}

// parse() with the promise "never throws" turned into a violation. Catching everything is the
// point here: whatever escapes parse() is the finding, reported with where it happened.
std::optional<parse_result> parse_guarded(payload_parser& parser, std::string_view input, input_format format,
                                          const std::string& where, std::vector<std::string>& out) {
  try {
    return parser.parse(input, format);
  } catch (const std::exception& e) {
    out.push_back(where + ": parse threw " + e.what());
  } catch (...) {
    out.push_back(where + ": parse threw something that is not a std::exception");
  }
  return std::nullopt;
}

void check_with(payload_parser& parser, const parse_limits& limits, const std::string& limits_name,
                std::string_view input, std::vector<std::string>& out) {
  std::optional<parse_result> detected_result;
  for (input_format format : all_formats) {
    const std::string where = limits_name + " limits, format " + std::string(to_string(format));
    auto r = parse_guarded(parser, input, format, where, out);
    if (!r) continue;
    check_result(input, format, limits, *r, where, out);
    if (format == input_format::auto_detect) {
      if (auto again = parse_guarded(parser, input, format, where + ", parsed again", out)) {
        auto d = difference(*r, *again);
        if (!d.empty()) out.push_back(where + ": the same bytes parsed twice differ: " + d);
      }
      // The reused parser has parsed other messages before (in the fuzzer, whatever came
      // before this input): what it returns must not depend on them.
      payload_parser fresh(limits);
      if (auto first = parse_guarded(fresh, input, format, where + ", fresh parser", out)) {
        auto d = difference(*first, *r);
        if (!d.empty()) out.push_back(where + ": a fresh parser and the reused one differ (state left by an earlier message?): " + d);
      }
      detected_result = std::move(*r);
    } else if (detected_result && detected_result->detected == format) {
      auto d = difference(*detected_result, *r);
      if (!d.empty()) out.push_back(where + ": differs from auto-detection, which chose this format: " + d);
    }
  }
}

}  // namespace

parse_limits tiny_limits_for(std::string_view input) {
  const uint64_t h = stable_hash(input);
  parse_limits l;
  if (h % 4 == 0) l.max_message_bytes = 256 + (h >> 2) % 768;
  l.text_excerpt_bytes = 1 + (h >> 12) % 16;
  l.result_excerpt_bytes = 1 + (h >> 16) % 16;
  l.metadata_entries = (h >> 20) % 3;
  l.metadata_value_bytes = 1 + (h >> 24) % 16;
  return l;
}

std::vector<std::string> payload_checker::check(std::string_view input) {
  std::vector<std::string> out;
  check_with(default_parser_, parse_limits{}, "default", input, out);
  const parse_limits tiny = tiny_limits_for(input);
  payload_parser tiny_parser(tiny);
  check_with(tiny_parser, tiny, "tiny (" + describe_limits(tiny) + ")", input, out);
  return out;
}

}  // namespace tw::fuzz
