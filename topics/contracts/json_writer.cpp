#include "topics/contracts/json_writer.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

namespace tw {

namespace {

// The length of the well-formed UTF-8 sequence at s[i] (Unicode Table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF — what nlohmann's decoder accepts), 0 when there is none.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) n = 3;
  else if (c == 0xED) n = 3, hi = 0x9F;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else return 0;
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

// Whether the 8 bytes at p are all printable ASCII other than '"' and '\\': copied as they are.
// Word-at-a-time tests (exact for "is there such a byte" once no byte has its high bit set).
bool plain8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  constexpr uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
  if (v & high) return false;
  auto has_zero = [&](uint64_t x) { return ((x - ones) & ~x & high) != 0; };
  if (((v - 0x20 * ones) & ~v & high) != 0) return false;  // a byte below 0x20
  return !has_zero(v ^ ('"' * ones)) && !has_zero(v ^ ('\\' * ones));
}

}  // namespace

json_writer& json_writer::value(double v) {
  separate();
  if (!std::isfinite(v)) {
    out_.append("null");
  } else {
    char buf[64];
    char* end = nlohmann::detail::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, static_cast<size_t>(end - buf));
  }
  comma_ = true;
  return *this;
}

json_writer& json_writer::append_unsigned(uint64_t v) {
  separate();
  char buf[20];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out_.append(p, static_cast<size_t>(buf + sizeof buf - p));
  comma_ = true;
  return *this;
}

json_writer& json_writer::append_signed(int64_t v) {
  if (v >= 0) return append_unsigned(static_cast<uint64_t>(v));
  separate();
  out_.push_back('-');
  comma_ = false;  // the digits follow the sign
  return append_unsigned(0 - static_cast<uint64_t>(v));
}

json_writer& json_writer::time(event_time t) {
  separate();
  char buf[iso8601_length + 2];
  buf[0] = '"';
  char* end = format_iso8601_to(buf + 1, t);
  *end++ = '"';
  out_.append(buf, static_cast<size_t>(end - buf));
  comma_ = true;
  return *this;
}

void json_writer::append_string(std::string_view s) {
  const size_t start = out_.size();
  out_.push_back('"');
  size_t run = 0;  // the start of the bytes not yet copied
  for (size_t i = 0; i < s.size();) {
    while (i + 8 <= s.size() && plain8(s.data() + i)) i += 8;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t n = utf8_sequence(s, i);
      if (n == 0) {
        // Not UTF-8: nlohmann's replacement is what the contracts have always written.
        out_.resize(start);
        out_.append(nlohmann::ordered_json(std::string(s)).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
        return;
      }
      i += n;
      continue;
    }
    out_.append(s.data() + run, i - run);
    switch (c) {
      case '"': out_.append("\\\""); break;
      case '\\': out_.append("\\\\"); break;
      case '\b': out_.append("\\b"); break;
      case '\t': out_.append("\\t"); break;
      case '\n': out_.append("\\n"); break;
      case '\f': out_.append("\\f"); break;
      case '\r': out_.append("\\r"); break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
        out_.append(esc, sizeof esc);
      }
    }
    run = ++i;
  }
  out_.append(s.data() + run, s.size() - run);
  out_.push_back('"');
}

}  // namespace tw
