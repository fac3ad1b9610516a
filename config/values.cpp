#include "config/values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace tw::config {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<double> parse_decimal(std::string_view text) {
  text = trim(text);
  double v = 0;
  // from_chars: the C locale's grammar whatever the process locale is; no leading '+', no hex.
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string format_decimal(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back as v
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

std::optional<host_port> parse_host_port(std::string_view text) {
  text = trim(text);
  host_port out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return std::nullopt;  // an IPv6 address needs brackets
    port = text.substr(colon + 1);
  }
  if (out.host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  for (char c : port)
    if (c < '0' || c > '9') return std::nullopt;
  out.port = std::stoi(std::string(port));
  if (out.port > 65535) return std::nullopt;
  return out;
}

std::string format_host_port(const host_port& a) {
  const bool v6 = a.host.find(':') != std::string::npos;
  return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

std::optional<int64_t> parse_integer(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  bool negative = text.front() == '-';
  if (negative || text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c == '_') continue;  // 1_000_000
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string t;
  for (char c : trim(text)) t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (t == "true" || t == "yes" || t == "on" || t == "1") return true;
  if (t == "false" || t == "no" || t == "off" || t == "0") return false;
  return std::nullopt;
}

std::optional<std::chrono::microseconds> parse_duration(std::string_view s) {
  s = trim(s);
  size_t pos = 0;
  int64_t value = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (value > (std::numeric_limits<int64_t>::max() - 9) / 10) return std::nullopt;
    value = value * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos == 0) return std::nullopt;
  std::string_view unit = s.substr(pos);
  int64_t scale;
  if (unit.empty() || unit == "ms") scale = 1000;
  else if (unit == "us") scale = 1;
  else if (unit == "s") scale = 1000000;
  else if (unit == "m" || unit == "min") scale = 60LL * 1000000;
  else if (unit == "h") scale = 3600LL * 1000000;
  else if (unit == "d") scale = 86400LL * 1000000;
  else return std::nullopt;
  if (value > std::numeric_limits<int64_t>::max() / scale) return std::nullopt;
  return std::chrono::microseconds{value * scale};
}

std::string format_duration(std::chrono::microseconds d) {
  int64_t us = d.count();
  struct unit {
    int64_t scale;
    const char* name;
  };
  constexpr unit units[] = {{86400LL * 1000000, "d"}, {3600LL * 1000000, "h"}, {60LL * 1000000, "m"},
                            {1000000, "s"}, {1000, "ms"}};
  if (us == 0) return "0s";
  for (const auto& u : units)
    if (us % u.scale == 0) return std::to_string(us / u.scale) + u.name;
  return std::to_string(us) + "us";
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  text = trim(text);
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    out.emplace_back(trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> split_map(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : split_list(text)) {
    auto eq = item.find('=');
    if (eq == std::string::npos) return std::nullopt;
    out.emplace_back(std::string(trim(std::string_view(item).substr(0, eq))),
                     std::string(trim(std::string_view(item).substr(eq + 1))));
  }
  return out;
}

namespace {
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closest_name(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  size_t best_d = 4;  // suggest only close matches, or a name the word is the start of
  for (auto c : candidates) {
    const bool prefix = word.size() >= 3 && c.size() > word.size() && c.compare(0, word.size(), word) == 0;
    size_t d = prefix ? 1 : edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  return best;
}

std::optional<std::string> expand_environment(std::string_view text, env_lookup lookup, std::string& missing) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") == 0) {
      const size_t close = text.find('}', i + 2);
      const std::string_view name = close == std::string_view::npos ? std::string_view() : text.substr(i + 2, close - i - 2);
      bool is_name = !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front()));
      for (char c : name) is_name = is_name && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (is_name) {
        auto v = lookup(std::string(name));
        if (!v) {
          missing = std::string(name);
          return std::nullopt;
        }
        out += *v;
        i = close + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

std::optional<std::string> process_environment(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace tw::config
