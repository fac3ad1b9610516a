// Strict reading of YAML documents that people write (the judgement rules, the alert rules):
// every read names the full path of the node it reads ("alerts[2].signal.latency"), the first
// problem is recorded and the callers stop (each returns as soon as ok() is false), and an
// unknown key is refused with the closest allowed one suggested. Header-only: each loader adds
// the reads of its own (regular expressions, durations, choices) in a class derived from this.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/values.hpp"

namespace tw::config::yaml {

using names = std::vector<std::string_view>;

inline std::string field(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
inline std::string item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

inline std::string join(const names& list) {
  std::string out;
  for (auto n : list) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// "unknown key (did you mean 'intents'?); allowed here: ..." for a name not in `allowed`.
inline std::string unknown(std::string_view noun, std::string_view k, const names& allowed) {
  std::string best = config::closest_name(k, allowed);
  std::string msg = "unknown " + std::string(noun);
  if (!best.empty()) msg += " (did you mean '" + best + "'?)";
  return msg + "; allowed here: " + join(allowed);
}

struct error {
  std::string path;
  std::string message;
};

enum class empty_text { refused, allowed };

class reader {
 public:
  bool ok() const { return !error_; }
  const std::optional<error>& first_error() const { return error_; }

  void fail(const std::string& path, std::string message) {
    if (!error_) error_ = error{path, std::move(message)};
  }

  // Refuses a key of `map` that is not in `allowed`, suggesting the closest allowed one, and a
  // key given twice (yaml-cpp keeps both; lookups would silently see only the first).
  bool only_keys(const YAML::Node& map, const std::string& path, const names& allowed,
                 std::string_view noun = "key") {
    std::vector<std::string> seen;
    for (const auto& kv : map) {
      if (!plain_key(kv.first, path)) return false;
      const std::string k = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        fail(field(path, k), unknown(noun, k, allowed));
        return false;
      }
      if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
        fail(field(path, k), "is given twice");
        return false;
      }
      seen.push_back(k);
    }
    return true;
  }

  bool plain_key(const YAML::Node& key, const std::string& path) {
    if (key.IsScalar() && !key.Scalar().empty()) return true;
    fail(path, "keys must be plain, non-empty text");
    return false;
  }

  bool is_map(const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) return true;
    fail(path, n.IsNull() ? "has no value; expected a map" : "expected a map");
    return false;
  }
  bool is_list(const YAML::Node& n, const std::string& path) {
    if (n.IsSequence()) return true;
    fail(path, n.IsNull() ? "has no value; expected a list" : "expected a list");
    return false;
  }

  // A scalar; empty_text::allowed admits "" (and no value at all, read as "").
  std::optional<std::string> text(const YAML::Node& n, const std::string& path,
                                  empty_text empty = empty_text::refused) {
    const bool allow_empty = empty == empty_text::allowed;
    if (n.IsNull() && !allow_empty) {
      fail(path, "has no value");
      return std::nullopt;
    }
    if (!n.IsScalar() && !n.IsNull()) {
      fail(path, "expected a single value (text)");
      return std::nullopt;
    }
    std::string s = n.IsNull() ? std::string() : n.Scalar();
    if (s.empty() && !allow_empty) {
      fail(path, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<double> number(const YAML::Node& n, const std::string& path, const char* expectation) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    double v = 0;
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || end != s->data() + s->size() || !std::isfinite(v)) {
      fail(path, "'" + *s + "' is not a number; " + expectation);
      return std::nullopt;
    }
    return v;
  }

  // A whole number in [min, max] (no upper bound when max is UINT64_MAX).
  std::optional<uint64_t> count(const YAML::Node& n, const std::string& path, uint64_t min,
                                uint64_t max = UINT64_MAX) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || end != s->data() + s->size() || v < min || v > max) {
      fail(path, max == UINT64_MAX
                     ? "must be a whole number of at least " + std::to_string(min)
                     : "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return v;
  }

  // Distinct, non-empty texts.
  std::vector<std::string> text_list(const YAML::Node& n, const std::string& path) {
    std::vector<std::string> out;
    if (!is_list(n, path)) return out;
    for (size_t i = 0; i < n.size() && ok(); ++i) {
      auto s = text(n[i], item(path, i));
      if (s && std::find(out.begin(), out.end(), *s) != out.end())
        fail(item(path, i), "'" + *s + "' is listed twice");
      if (s && ok()) out.push_back(*s);
    }
    return out;
  }

 private:
  std::optional<error> error_;
};

}  // namespace tw::config::yaml
