#include "topics/formats/json_util.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "model/text.hpp"

namespace tw::formats {
namespace {

// Recursion bound for walking producer JSON (simdjson itself allows 1024 levels).
constexpr size_t max_walk_depth = 16;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

bool role_matches(std::string_view role, speaker who) {
  if (who == speaker::user) return iequals(role, "user") || iequals(role, "human");
  return iequals(role, "assistant") || iequals(role, "model") || iequals(role, "ai") || iequals(role, "bot");
}

void append_text(std::string& out, std::string_view piece) {
  if (piece.empty()) return;
  if (!out.empty()) out.push_back('\n');
  out.append(piece);
}

// Text parts: "text" strings ([{text}], Gemini parts, OpenAI content parts) or {type:"text",
// content} (OTel GenAI parts). Non-text parts (tool calls, images) are skipped.
std::optional<std::string> parts_text(dom::array parts) {
  std::string out;
  for (dom::element part : parts) {
    if (auto s = as_string(part)) {
      if (!is_placeholder_text(*s)) append_text(out, *s);
      continue;
    }
    auto obj = as_object(part);
    if (!obj) continue;
    if (auto t = string_member(*obj, "text")) {
      if (!is_placeholder_text(*t)) append_text(out, *t);
    } else if (auto type = string_member(*obj, "type"); type && *type == "text") {
      if (auto c = string_member(*obj, "content"); c && !is_placeholder_text(*c)) append_text(out, *c);
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// True when every element is a text part object (so that an array of mixed values is not
// mistaken for a message).
bool looks_like_parts(dom::array arr) {
  bool any = false;
  for (dom::element el : arr) {
    auto obj = as_object(el);
    if (!obj) return false;
    if (!string_member(*obj, "text") && !string_member(*obj, "type")) return false;
    any = true;
  }
  return any;
}

std::optional<std::string> find_text_at(dom::element v, speaker who, nested_json& nested, size_t level, size_t depth);

// The text of one message object {role, content | parts | text | message}.
std::optional<std::string> message_text(dom::object msg, speaker who, nested_json& nested, size_t level,
                                        size_t depth) {
  if (auto c = member_not_null(msg, "content")) {
    if (auto s = as_string(*c)) {
      if (is_placeholder_text(*s)) return std::nullopt;
      return std::string(*s);
    }
    if (auto arr = as_array(*c)) {
      if (auto t = parts_text(*arr)) return t;
    } else if (auto obj = as_object(*c)) {
      if (auto p = member_not_null(*obj, "parts"); p && as_array(*p)) {
        if (auto t = parts_text(*as_array(*p))) return t;
      }
      if (auto t = string_member(*obj, "text"); t && !is_placeholder_text(*t)) return std::string(*t);
    }
  }
  if (auto p = member_not_null(msg, "parts"); p && as_array(*p)) {
    if (auto t = parts_text(*as_array(*p))) return t;
  }
  if (auto t = string_member(msg, "text"); t && !is_placeholder_text(*t)) return std::string(*t);
  if (auto m = member_not_null(msg, "message"); m && depth < max_walk_depth)
    return find_text_at(*m, who, nested, level, depth + 1);
  return std::nullopt;
}

// Keys that wrap what the user said, tried in order.
constexpr std::string_view user_keys[] = {"messages", "contents", "new_message", "input", "prompt", "query",
                                          "question", "user_input", "task",        "text",    "content", "parts", "message"};
// Keys that wrap what the assistant answered, tried in order.
constexpr std::string_view assistant_keys[] = {"choices", "candidates", "content", "parts",  "message", "output",
                                               "text",    "completion", "response", "answer", "result", "messages"};

std::optional<std::string> find_text_at(dom::element v, speaker who, nested_json& nested, size_t level, size_t depth) {
  if (depth > max_walk_depth) return std::nullopt;
  switch (v.type()) {
    case dom::element_type::STRING: {
      std::string_view s;
      if (v.get_string().get(s)) return std::nullopt;
      if (is_placeholder_text(s)) return std::nullopt;
      if (auto decoded = nested.decode(s, level)) return find_text_at(*decoded, who, nested, level + 1, depth + 1);
      return std::string(s);
    }
    case dom::element_type::ARRAY: {
      dom::array arr;
      if (v.get_array().get(arr)) return std::nullopt;
      bool has_messages = false;
      for (dom::element el : arr) {
        auto obj = as_object(el);
        if (obj && string_member(*obj, "role")) {
          has_messages = true;
          break;
        }
      }
      if (has_messages) {
        // The last message of the speaker that carries text: earlier turns are history.
        std::optional<std::string> found;
        for (dom::element el : arr) {
          auto obj = as_object(el);
          if (!obj) continue;
          auto role = string_member(*obj, "role");
          if (!role || !role_matches(*role, who)) continue;
          if (auto t = message_text(*obj, who, nested, level, depth + 1)) found = std::move(t);
        }
        return found;
      }
      if (looks_like_parts(arr)) return parts_text(arr);
      return std::nullopt;
    }
    case dom::element_type::OBJECT: {
      dom::object obj;
      if (v.get_object().get(obj)) return std::nullopt;
      if (auto role = string_member(obj, "role")) {
        if (!role_matches(*role, who)) return std::nullopt;
        return message_text(obj, who, nested, level, depth + 1);
      }
      const auto* keys = who == speaker::user ? user_keys : assistant_keys;
      const size_t n = who == speaker::user ? std::size(user_keys) : std::size(assistant_keys);
      for (size_t i = 0; i < n; ++i) {
        auto m = member_not_null(obj, keys[i]);
        if (!m) continue;
        if (keys[i] == "choices" || keys[i] == "candidates") {
          // OpenAI choices[0].message / Gemini candidates[0].content: the first is the answer.
          auto arr = as_array(*m);
          if (!arr) continue;
          for (dom::element first : *arr) {
            if (auto t = find_text_at(first, who, nested, level, depth + 1)) return t;
            break;
          }
          continue;
        }
        if (auto t = find_text_at(*m, who, nested, level, depth + 1)) return t;
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> finish_reason_at(dom::element v, nested_json& nested, size_t level, size_t depth) {
  if (depth > max_walk_depth) return std::nullopt;
  if (auto s = as_string(v)) {
    if (auto decoded = nested.decode(*s, level)) return finish_reason_at(*decoded, nested, level + 1, depth + 1);
    return std::nullopt;
  }
  if (auto arr = as_array(v)) {
    std::optional<dom::element> last;
    for (dom::element el : *arr) last = el;
    if (last) return finish_reason_at(*last, nested, level, depth + 1);
    return std::nullopt;
  }
  auto obj = as_object(v);
  if (!obj) return std::nullopt;
  for (auto key : {"finish_reason", "finishReason", "stop_reason"})
    if (auto s = string_member(*obj, key); s && !s->empty()) return finish_reason_text(*s);
  for (auto key : {"choices", "candidates"}) {
    auto m = member_not_null(*obj, key);
    auto arr = m ? as_array(*m) : std::nullopt;
    if (arr)
      for (dom::element first : *arr) return finish_reason_at(first, nested, level, depth + 1);
  }
  return std::nullopt;
}

void append_value(std::string& out, dom::element e, size_t limit, size_t depth) {
  if (out.size() > limit) return;
  if (depth > 64) {
    out += "\"\xE2\x80\xA6\"";  // "…": deeper than anyone reads
    return;
  }
  char buf[32];
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      dom::array arr;
      if (e.get_array().get(arr)) return;
      out.push_back('[');
      bool first = true;
      for (dom::element el : arr) {
        if (out.size() > limit) return;
        if (!first) out.push_back(',');
        first = false;
        append_value(out, el, limit, depth + 1);
      }
      out.push_back(']');
      return;
    }
    case dom::element_type::OBJECT: {
      dom::object obj;
      if (e.get_object().get(obj)) return;
      out.push_back('{');
      bool first = true;
      for (dom::key_value_pair kv : obj) {
        if (out.size() > limit) return;
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, kv.key);
        out.push_back(':');
        append_value(out, kv.value, limit, depth + 1);
      }
      out.push_back('}');
      return;
    }
    case dom::element_type::INT64: {
      int64_t v = 0;
      if (e.get_int64().get(v)) return;
      auto r = std::to_chars(buf, buf + sizeof buf, v);
      out.append(buf, r.ptr);
      return;
    }
    case dom::element_type::UINT64: {
      uint64_t v = 0;
      if (e.get_uint64().get(v)) return;
      auto r = std::to_chars(buf, buf + sizeof buf, v);
      out.append(buf, r.ptr);
      return;
    }
    case dom::element_type::DOUBLE: {
      double v = 0;
      if (e.get_double().get(v)) return;
      auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
      out.append(buf, r.ptr);
      return;
    }
    case dom::element_type::STRING: {
      std::string_view s;
      if (e.get_string().get(s)) return;
      // Only what can still be shown is escaped: a 5 MB string costs its excerpt, not 5 MB.
      const size_t room = limit >= out.size() ? limit - out.size() + 8 : 8;
      if (s.size() > room) s = s.substr(0, room);
      append_json_string(out, s);
      return;
    }
    case dom::element_type::BOOL: {
      bool b = false;
      if (e.get_bool().get(b)) return;
      out += b ? "true" : "false";
      return;
    }
    case dom::element_type::NULL_VALUE:
      out += "null";
      return;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// DOM access

std::optional<dom::element> member(dom::object obj, std::string_view key) {
  dom::element e;
  if (obj.at_key(key).get(e)) return std::nullopt;
  return e;
}

std::optional<dom::element> member_not_null(dom::object obj, std::string_view key) {
  auto e = member(obj, key);
  if (!e || e->is_null()) return std::nullopt;
  return e;
}

std::optional<dom::object> as_object(dom::element e) {
  dom::object o;
  if (e.get_object().get(o)) return std::nullopt;
  return o;
}

std::optional<dom::array> as_array(dom::element e) {
  dom::array a;
  if (e.get_array().get(a)) return std::nullopt;
  return a;
}

std::optional<std::string_view> as_string(dom::element e) {
  std::string_view s;
  if (e.get_string().get(s)) return std::nullopt;
  return s;
}

bool is_null(dom::element e) { return e.is_null(); }

std::optional<std::string_view> string_member(dom::object obj, std::string_view key) {
  auto e = member(obj, key);
  if (!e) return std::nullopt;
  return as_string(*e);
}

object_view::object_view(dom::object obj) : obj_(obj) {
  for (dom::key_value_pair kv : obj) {
    if (size_ == inline_members) {
      overflow_ = true;
      break;
    }
    keys_[size_] = kv.key;
    values_[size_] = kv.value;
    ++size_;
  }
}

std::optional<dom::element> object_view::get(std::string_view key) const {
  // Keys are short: an inline comparison beats a call to memcmp for each candidate.
  for (size_t i = 0; i < size_; ++i) {
    const std::string_view k = keys_[i];
    if (k.size() != key.size()) continue;
    size_t j = 0;
    while (j < k.size() && k[j] == key[j]) ++j;
    if (j == k.size()) return values_[i];
  }
  if (overflow_) return member(obj_, key);
  return std::nullopt;
}

std::optional<dom::element> object_view::get_not_null(std::string_view key) const {
  auto e = get(key);
  if (!e || e->is_null()) return std::nullopt;
  return e;
}

std::optional<std::string_view> object_view::get_string(std::string_view key) const {
  auto e = get(key);
  if (!e) return std::nullopt;
  return as_string(*e);
}

presence presence_of(dom::object obj, std::string_view key) {
  auto e = member(obj, key);
  if (!e) return presence::absent;
  return e->is_null() ? presence::null : presence::value;
}

// ---------------------------------------------------------------------------------------------
// Numbers

std::optional<int64_t> parse_int64_text(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> parse_uint64_text(std::string_view s) {
  if (s.empty() || s.size() > 20 || s.front() == '-' || s.front() == '+') return std::nullopt;
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double_text(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> read_int64(dom::element e) {
  switch (e.type()) {
    case dom::element_type::INT64: {
      int64_t v;
      if (e.get_int64().get(v)) return std::nullopt;
      return v;
    }
    case dom::element_type::UINT64: {
      uint64_t v;
      if (e.get_uint64().get(v) || v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    case dom::element_type::DOUBLE: {
      double d;
      // 2^63 is exactly representable; anything at or above it does not fit.
      if (e.get_double().get(d) || !std::isfinite(d) || d != std::trunc(d) || d < -9223372036854775808.0 ||
          d >= 9223372036854775808.0)
        return std::nullopt;
      return static_cast<int64_t>(d);
    }
    case dom::element_type::STRING:
      return parse_int64_text(*as_string(e));
    default:
      return std::nullopt;
  }
}

std::optional<uint64_t> read_uint64(dom::element e) {
  switch (e.type()) {
    case dom::element_type::INT64: {
      int64_t v;
      if (e.get_int64().get(v) || v < 0) return std::nullopt;
      return static_cast<uint64_t>(v);
    }
    case dom::element_type::UINT64: {
      uint64_t v;
      if (e.get_uint64().get(v)) return std::nullopt;
      return v;
    }
    case dom::element_type::DOUBLE: {
      // Only a literal with a fraction or exponent ("1.5e18") arrives here: its precision is
      // already what the producer wrote.
      double d;
      if (e.get_double().get(d) || !std::isfinite(d) || d < 0 || d >= 18446744073709551616.0) return std::nullopt;
      return static_cast<uint64_t>(d);
    }
    case dom::element_type::STRING:
      return parse_uint64_text(*as_string(e));
    default:
      return std::nullopt;
  }
}

std::optional<double> read_double(dom::element e) {
  switch (e.type()) {
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: {
      double d;
      if (e.get_double().get(d) || !std::isfinite(d)) return std::nullopt;
      return d;
    }
    case dom::element_type::STRING:
      return parse_double_text(*as_string(e));
    default:
      return std::nullopt;
  }
}

std::optional<event_time> read_time(dom::element e, bool allow_epoch_millis) {
  if (auto s = as_string(e)) return parse_iso8601(*s);
  if (!allow_epoch_millis) return std::nullopt;
  if (e.type() != dom::element_type::INT64 && e.type() != dom::element_type::UINT64) return std::nullopt;
  auto ms = read_int64(e);
  // Beyond ±2^53 ms (±285,000 years) is not a time; it also keeps the µs conversion in range.
  constexpr int64_t bound = int64_t{1} << 53;
  if (!ms || *ms <= -bound || *ms >= bound) return std::nullopt;
  return event_time::from_millis(*ms);
}

// ---------------------------------------------------------------------------------------------
// Ids

size_t utf16_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80) continue;
    n += c >= 0xF0 ? 2 : 1;  // a 4-byte sequence is a surrogate pair in UTF-16
  }
  return n;
}

const char* id_text_problem(std::string_view s) {
  static_assert(bounds::max_id_bytes == 512, "the message below names the bound");
  if (s.empty()) return "empty";
  if (s.size() > bounds::max_id_bytes) return "longer than 512 bytes";
  if (s.find('\r') != std::string_view::npos) return "contains a carriage return";
  return nullptr;
}

const char* id_problem(dom::element e) {
  auto s = as_string(e);
  if (!s) return "not a string";
  return id_text_problem(*s);
}

std::optional<problem> check_id(dom::element e, std::string_view path) {
  if (const char* why = id_problem(e)) return invalid(path, why);
  return std::nullopt;
}

std::optional<std::string> normalize_otlp_id(std::string_view text, size_t bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  if (text.size() == 2 * bytes) {
    hex.resize(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      int v = hex_value(text[i]);
      if (v < 0) return std::nullopt;
      hex[i] = digits[v];
    }
  } else if (text.size() == (bytes + 2) / 3 * 4) {
    // base64 with padding, as protobuf's JSON mapping writes bytes fields.
    auto raw = base64_decode(text);
    if (!raw || raw->size() != bytes) return std::nullopt;
    for (unsigned char byte : *raw) {
      hex.push_back(digits[byte >> 4]);
      hex.push_back(digits[byte & 0xF]);
    }
  } else {
    return std::nullopt;
  }
  if (hex.find_first_not_of('0') == std::string::npos) return std::nullopt;
  return hex;
}

// ---------------------------------------------------------------------------------------------
// JSON text

void append_compact_json(std::string& out, dom::element e, size_t limit) { append_value(out, e, limit, 0); }

std::string compact_json(dom::element e, size_t max_bytes) {
  std::string out;
  append_value(out, e, max_bytes, 0);
  // append_value stops only after passing max_bytes, so a character cut at the stop lies beyond
  // the excerpt's cut.
  if (out.size() > max_bytes) return excerpt(out, max_bytes);
  return out;
}

std::optional<dom::element> nested_json::decode(std::string_view text, size_t level) {
  if (level >= max_levels) return std::nullopt;
  text = trim(text);
  if (text.size() < 2) return std::nullopt;
  const char first = text.front(), last = text.back();
  if (!((first == '{' && last == '}') || (first == '[' && last == ']') || (first == '"' && last == '"')))
    return std::nullopt;
  slot& s = slots_[level];
  s.buffer.assign(text.data(), text.size());
  s.buffer.append(simdjson::SIMDJSON_PADDING, '\0');
  dom::element e;
  if (s.parser.parse(s.buffer.data(), text.size(), false).get(e)) return std::nullopt;
  return e;
}

bool is_placeholder_text(std::string_view s) {
  s = trim(s);
  return s.empty() || s == "<elided>";
}

// ---------------------------------------------------------------------------------------------
// Conversation text

std::optional<std::string> find_text(dom::element v, speaker who, nested_json& nested, size_t level) {
  return find_text_at(v, who, nested, level, 0);
}

std::optional<std::string> text_or_json(dom::element v, speaker who, nested_json& nested, size_t max_bytes) {
  if (v.is_null()) return std::nullopt;
  if (auto t = find_text(v, who, nested)) return excerpt(*t, max_bytes);
  if (auto s = as_string(v)) {
    if (is_placeholder_text(*s)) return std::nullopt;
    return excerpt(*s, max_bytes);
  }
  return compact_json(v, max_bytes);
}

std::optional<std::string> result_excerpt(dom::element v, size_t max_bytes) {
  if (v.is_null()) return std::nullopt;
  if (auto s = as_string(v)) return excerpt(*s, max_bytes);
  return compact_json(v, max_bytes);
}

std::optional<std::string> find_finish_reason(dom::element v, nested_json& nested, size_t level) {
  return finish_reason_at(v, nested, level, 0);
}

std::string finish_reason_text(std::string_view s) { return excerpt(s, bounds::max_finish_reason_bytes); }

// ---------------------------------------------------------------------------------------------
// Metadata

void add_metadata(metadata_entries& entries, std::string_view key, std::string_view value, const parse_limits& limits) {
  if (entries.size() >= limits.metadata_entries) return;
  entries.emplace_back(excerpt(key, limits.metadata_value_bytes), excerpt(value, limits.metadata_value_bytes));
}

void flatten_metadata(dom::element v, const parse_limits& limits, nested_json& nested, metadata_entries& entries,
                      std::string_view fallback_key, size_t level) {
  if (v.is_null()) return;
  if (auto s = as_string(v)) {
    if (auto decoded = nested.decode(*s, level); decoded && as_object(*decoded)) {
      flatten_metadata(*decoded, limits, nested, entries, fallback_key, level + 1);
      return;
    }
    add_metadata(entries, fallback_key, *s, limits);
    return;
  }
  auto obj = as_object(v);
  if (!obj) {
    add_metadata(entries, fallback_key, compact_json(v, limits.metadata_value_bytes), limits);
    return;
  }
  for (dom::key_value_pair kv : *obj) {
    if (entries.size() >= limits.metadata_entries) return;
    if (auto s = as_string(kv.value))
      add_metadata(entries, kv.key, *s, limits);
    else
      add_metadata(entries, kv.key, compact_json(kv.value, limits.metadata_value_bytes), limits);
  }
}

std::optional<obs_kind> langfuse_observation_kind(std::string_view t) {
  if (t == "GENERATION" || t == "EMBEDDING") return obs_kind::generation;
  if (t == "TOOL") return obs_kind::tool;
  if (t == "EVENT") return obs_kind::event;
  if (t == "SPAN" || t == "AGENT" || t == "CHAIN" || t == "RETRIEVER" || t == "EVALUATOR" || t == "GUARDRAIL")
    return obs_kind::span;
  return std::nullopt;
}

std::optional<obs_level> langfuse_level(std::string_view s) {
  if (s == "DEBUG") return obs_level::debug;
  if (s == "DEFAULT") return obs_level::normal;
  if (s == "WARNING") return obs_level::warning;
  if (s == "ERROR") return obs_level::error;
  return std::nullopt;
}

std::string normalize_environment(std::string_view raw) {
  if (raw.empty() || raw.size() > 40) return "default";
  std::string env(raw.size(), '\0');
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = ascii_lower(raw[i]);
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return "default";
    env[i] = c;
  }
  // Langfuse reserves the "langfuse" prefix for its own environments.
  if (env.compare(0, 8, "langfuse") == 0) return "default";
  return env;
}

// ---------------------------------------------------------------------------------------------
// Usage

namespace {

std::optional<dom::element> get_not_null(const object_view& v, std::string_view key) { return v.get_not_null(key); }
std::optional<dom::element> get_not_null(dom::object o, std::string_view key) { return member_not_null(o, key); }

template <class Obj>
std::optional<int64_t> token_count(const Obj& obj, std::string_view key) {
  auto e = get_not_null(obj, key);
  if (!e) return std::nullopt;
  auto v = read_int64(*e);
  if (!v || *v < 0) return std::nullopt;  // non-integers are dropped, as Langfuse does
  return v;
}

template <class Obj>
std::optional<double> cost_value(const Obj& obj, std::string_view key) {
  auto e = get_not_null(obj, key);
  if (!e) return std::nullopt;
  return read_double(*e);
}

}  // namespace

usage_totals read_langfuse_usage(const object_view& body) {
  usage_totals t;
  std::optional<dom::object> details;
  if (auto e = body.get_not_null("usageDetails")) details = as_object(*e);
  if (details) {
    if (member(*details, "prompt_tokens") || member(*details, "completion_tokens")) {
      // OpenAI chat usage. Inclusive counts: the *_details breakdowns are parts of these.
      t.input_tokens = token_count(*details, "prompt_tokens");
      t.output_tokens = token_count(*details, "completion_tokens");
    } else if (!member(*details, "input") && (member(*details, "input_tokens") || member(*details, "output_tokens"))) {
      // OpenAI Responses usage.
      t.input_tokens = token_count(*details, "input_tokens");
      t.output_tokens = token_count(*details, "output_tokens");
    } else {
      t.input_tokens = token_count(*details, "input");
      t.output_tokens = token_count(*details, "output");
    }
  }

  std::optional<dom::object> usage;
  if (auto e = body.get_not_null("usage")) usage = as_object(*e);
  if (usage) {
    auto unit = string_member(*usage, "unit");
    if (!unit || iequals(*unit, "TOKENS")) {
      if (!t.input_tokens) t.input_tokens = token_count(*usage, "input");
      if (!t.input_tokens) t.input_tokens = token_count(*usage, "promptTokens");
      if (!t.output_tokens) t.output_tokens = token_count(*usage, "output");
      if (!t.output_tokens) t.output_tokens = token_count(*usage, "completionTokens");
    }
  }

  std::optional<dom::object> costs;
  if (auto e = body.get_not_null("costDetails")) costs = as_object(*e);
  if (costs) {
    if (auto total = cost_value(*costs, "total")) {
      t.cost_usd = total;
    } else {
      double sum = 0;
      bool any = false;
      for (dom::key_value_pair kv : *costs)
        if (auto d = read_double(kv.value)) {
          sum += *d;
          any = true;
        }
      if (any) t.cost_usd = sum;
    }
  }
  if (!t.cost_usd && usage) {
    if (auto total = cost_value(*usage, "totalCost")) {
      t.cost_usd = total;
    } else {
      auto in = cost_value(*usage, "inputCost");
      auto out = cost_value(*usage, "outputCost");
      if (in || out) t.cost_usd = in.value_or(0) + out.value_or(0);
    }
  }
  return t;
}

}  // namespace tw::formats
