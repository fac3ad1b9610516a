// A JSON writer that appends to a string as it goes, without building a document first: what the
// encoders of the output contracts write with (sessions, verdicts, diagnostics are encoded once or
// more per session, and a DOM of nested nodes cost more than all the judging).
//
// Its output is byte for byte what nlohmann::ordered_json's dump(-1, ' ', false,
// error_handler_t::replace) gives for the same members in the same order: the same escapes (only
// `"`, `\` and control characters; \u00xx in lower case), the same shortest round-trip doubles
// (nlohmann's own to_chars), non-finite doubles as null, text that is not valid UTF-8 replaced as
// nlohmann replaces it. tests/unit/json_writer_test.cpp holds it to that, so the contracts did not
// change when the encoders moved to it.
//
// The caller writes a well-formed document (a key before each member's value, ends matching
// begins); the writer only keeps track of where commas go.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "model/time.hpp"

namespace tw {

class json_writer {
 public:
  // The bytes `s` takes as a JSON string, quotes included: what fitting a record counts.
  static size_t string_size(std::string_view s) {
    std::string out;
    json_writer(out).value(s);
    return out.size();
  }

  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& begin_object() {
    separate();
    out_.push_back('{');
    comma_ = false;
    return *this;
  }
  json_writer& end_object() {
    out_.push_back('}');
    comma_ = true;
    return *this;
  }
  json_writer& begin_array() {
    separate();
    out_.push_back('[');
    comma_ = false;
    return *this;
  }
  json_writer& end_array() {
    out_.push_back(']');
    comma_ = true;
    return *this;
  }
  // A member's name; its value comes next.
  json_writer& key(std::string_view k) {
    separate();
    append_string(k);
    out_.push_back(':');
    comma_ = false;
    return *this;
  }

  json_writer& value(std::string_view s) {
    separate();
    append_string(s);
    comma_ = true;
    return *this;
  }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(std::nullptr_t) { return raw("null"); }
  json_writer& value(bool b) { return raw(b ? "true" : "false"); }
  json_writer& value(double v);
  template <class Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  json_writer& value(Int v) {
    if constexpr (std::is_signed_v<Int>) return append_signed(static_cast<int64_t>(v));
    else return append_unsigned(static_cast<uint64_t>(v));
  }
  // An event time as the contracts write it (format_iso8601), without a string in between.
  json_writer& time(event_time t);
  // null when empty.
  template <class T>
  json_writer& value(const std::optional<T>& v) {
    return v ? value(*v) : value(nullptr);
  }
  // null for "", as the contracts write absent text.
  json_writer& text_or_null(std::string_view s) { return s.empty() ? value(nullptr) : value(s); }

  template <class T>
  json_writer& member(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  template <class List>
  json_writer& string_array(const List& list) {
    begin_array();
    for (const auto& s : list) value(std::string_view(s));
    return end_array();
  }

 private:
  void separate() {
    if (comma_) out_.push_back(',');
  }
  json_writer& raw(std::string_view s) {
    separate();
    out_.append(s);
    comma_ = true;
    return *this;
  }
  json_writer& append_signed(int64_t v);
  json_writer& append_unsigned(uint64_t v);
  void append_string(std::string_view s);

  std::string& out_;
  bool comma_ = false;  // a value was just completed: the next member or element needs a comma
};

}  // namespace tw
