#include "topics/webhook/retry_after.hpp"

#include <array>
#include <cstdint>

namespace tw::webhook {

namespace {

constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> short_days = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_days = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

// A cursor over the text; every reader consumes exactly what it matched or fails.
class cursor {
 public:
  explicit cursor(std::string_view s) : s_(s) {}
  bool done() const { return s_.empty(); }
  bool lit(std::string_view l) {
    if (s_.substr(0, l.size()) != l) return false;
    s_.remove_prefix(l.size());
    return true;
  }
  // Exactly n digits.
  bool digits(size_t n, int& out) {
    if (s_.size() < n) return false;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = s_[i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    s_.remove_prefix(n);
    return true;
  }
  template <size_t N>
  bool one_of(const std::array<std::string_view, N>& names, unsigned& index) {
    for (size_t i = 0; i < N; ++i)
      if (lit(names[i])) {
        index = static_cast<unsigned>(i);
        return true;
      }
    return false;
  }

 private:
  std::string_view s_;
};

std::optional<wall_time> make_time(int64_t year, unsigned month, int day, int h, int m, int s) {
  if (month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > days_in_month(year, month)) return std::nullopt;
  if (h > 23 || m > 59 || s > 60) return std::nullopt;  // 60: a leap second, as RFC 9110 allows
  int64_t secs = days_from_civil(year, month, static_cast<unsigned>(day)) * 86400 + h * 3600 + m * 60 + s;
  return wall_time::from_micros(secs * 1'000'000);
}

bool read_clock(cursor& c, int& h, int& m, int& s) {
  return c.digits(2, h) && c.lit(":") && c.digits(2, m) && c.lit(":") && c.digits(2, s);
}

std::optional<wall_time> parse_imf_fixdate(std::string_view text) {
  cursor c(text);
  unsigned wd = 0, mon = 0;
  int day = 0, year = 0, h = 0, m = 0, s = 0;
  if (c.one_of(short_days, wd) && c.lit(", ") && c.digits(2, day) && c.lit(" ") && c.one_of(months, mon) &&
      c.lit(" ") && c.digits(4, year) && c.lit(" ") && read_clock(c, h, m, s) && c.lit(" GMT") && c.done())
    return make_time(year, mon + 1, day, h, m, s);
  return std::nullopt;
}

std::optional<wall_time> parse_rfc850(std::string_view text) {
  cursor c(text);
  unsigned wd = 0, mon = 0;
  int day = 0, yy = 0, h = 0, m = 0, s = 0;
  if (c.one_of(long_days, wd) && c.lit(", ") && c.digits(2, day) && c.lit("-") && c.one_of(months, mon) &&
      c.lit("-") && c.digits(2, yy) && c.lit(" ") && read_clock(c, h, m, s) && c.lit(" GMT") && c.done())
    return make_time(yy >= 70 ? 1900 + yy : 2000 + yy, mon + 1, day, h, m, s);
  return std::nullopt;
}

std::optional<wall_time> parse_asctime(std::string_view text) {
  cursor c(text);
  unsigned wd = 0, mon = 0;
  int day = 0, year = 0, h = 0, m = 0, s = 0;
  if (!(c.one_of(short_days, wd) && c.lit(" ") && c.one_of(months, mon) && c.lit(" "))) return std::nullopt;
  if (c.lit(" ")) {
    if (!c.digits(1, day)) return std::nullopt;
  } else if (!c.digits(2, day)) {
    return std::nullopt;
  }
  if (c.lit(" ") && read_clock(c, h, m, s) && c.lit(" ") && c.digits(4, year) && c.done())
    return make_time(year, mon + 1, day, h, m, s);
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<wall_time> parse_http_date(std::string_view text) {
  if (auto t = parse_imf_fixdate(text)) return t;
  if (auto t = parse_rfc850(text)) return t;
  return parse_asctime(text);
}

std::optional<duration> parse_retry_after(std::string_view value, wall_time now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    // Saturate: a billion seconds (~31 years) is beyond any sane cap the caller applies.
    constexpr int64_t limit = 1'000'000'000;
    int64_t secs = 0;
    for (char c : value) {
      secs = secs * 10 + (c - '0');
      if (secs > limit) {
        secs = limit;
        break;
      }
    }
    return std::chrono::seconds(secs);
  }
  auto at = parse_http_date(value);
  if (!at) return std::nullopt;
  return *at <= now ? duration::zero() : *at - now;
}

}  // namespace tw::webhook
