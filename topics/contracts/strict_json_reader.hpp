// Strict JSON reading for the contract decoders (verdict_json.cpp, diagnostic_json.cpp).
// Internal to topics/contracts: not part of any contract's interface.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/time.hpp"

namespace tw::contracts_detail {

using json = nlohmann::ordered_json;

inline std::string member_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

inline std::string element_path(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// Strict reading, as the schema validates: `object` first checks that an object has exactly the
// contract's members, so the member readers after it can rely on each being there; every value's
// type is checked before it is read, because nlohmann's get<> throws on a mismatch and a decoder
// must answer with an error instead. The first problem becomes the error, as "path: why".
class reader {
 public:
  const std::string& error() const { return error_; }

  bool fail(const std::string& path, std::string_view why) {
    error_ = (path.empty() ? std::string("document") : path) + ": " + std::string(why);
    return false;
  }

  bool object(const json& j, const std::string& path, std::initializer_list<const char*> members) {
    if (!j.is_object()) return fail(path, "not an object");
    for (const char* m : members)
      if (!j.contains(m)) return fail(member_path(path, m), "missing");
    for (const auto& [key, value] : j.items()) {
      bool known = false;
      for (const char* m : members) known = known || key == m;
      if (!known) return fail(member_path(path, key), "not a member of the contract");
    }
    return true;
  }

  // The member readers: REQUIRES object() accepted `j` with `key` among its members.
  bool text(const json& j, const std::string& path, const char* key, std::string& out) {
    return string_value(at(j, key), member_path(path, key), out);
  }

  bool nonempty_text(const json& j, const std::string& path, const char* key, std::string& out) {
    if (!text(j, path, key, out)) return false;
    return !out.empty() || fail(member_path(path, key), "empty");
  }

  // Null or a non-empty string (the encoder writes an empty value as null); null reads as "".
  bool optional_text(const json& j, const std::string& path, const char* key, std::string& out) {
    const json& v = at(j, key);
    if (v.is_null()) {
      out.clear();
      return true;
    }
    if (!v.is_string() || v.get_ref<const std::string&>().empty())
      return fail(member_path(path, key), "neither null nor a non-empty string");
    out = v.get<std::string>();
    return true;
  }

  // An integer in [lo, hi]. Non-negative integers parse as unsigned, so a negative or fractional
  // number fails the type check like a string would.
  bool whole(const json& j, const std::string& path, const char* key, uint64_t lo, uint64_t hi, uint64_t& out) {
    const json& v = at(j, key);
    if (!v.is_number_unsigned()) return fail(member_path(path, key), "not a non-negative integer");
    out = v.get<uint64_t>();
    return (out >= lo && out <= hi) || fail(member_path(path, key), "out of range");
  }

  bool number(const json& j, const std::string& path, const char* key, double lo, double hi, double& out) {
    const json& v = at(j, key);
    if (!v.is_number()) return fail(member_path(path, key), "not a number");
    out = v.get<double>();
    return (out >= lo && out <= hi) || fail(member_path(path, key), "out of range");
  }

  bool optional_number(const json& j, const std::string& path, const char* key, std::optional<double>& out) {
    const json& v = at(j, key);
    if (v.is_null()) {
      out.reset();
      return true;
    }
    if (!v.is_number()) return fail(member_path(path, key), "neither null nor a number");
    out = v.get<double>();
    return true;
  }

  bool boolean(const json& j, const std::string& path, const char* key, bool& out) {
    const json& v = at(j, key);
    if (!v.is_boolean()) return fail(member_path(path, key), "not a boolean");
    out = v.get<bool>();
    return true;
  }

  // Only the encoder's own form, as the schema's pattern says: UTC with three fraction digits.
  bool time(const json& j, const std::string& path, const char* key, event_time& out) {
    const json& v = at(j, key);
    const auto t = v.is_string() ? parse_iso8601(v.get_ref<const std::string&>()) : std::nullopt;
    if (!t || format_iso8601(*t) != v.get_ref<const std::string&>())
      return fail(member_path(path, key), "not a time like 2025-01-01T00:00:00.000Z");
    out = *t;
    return true;
  }

  bool millis(const json& j, const std::string& path, const char* key, duration& out) {
    double ms = 0;
    if (!number(j, path, key, 0, 1e15, ms)) return false;
    out = duration{static_cast<int64_t>(ms * 1000.0 + 0.5)};
    return true;
  }

  // One of `allowed`, by its contract name (to_string).
  template <class E>
  bool choice(const json& j, const std::string& path, const char* key, std::initializer_list<E> allowed, E& out) {
    const json& v = at(j, key);
    if (v.is_string())
      for (E e : allowed)
        if (to_string(e) == v.get_ref<const std::string&>()) {
          out = e;
          return true;
        }
    return fail(member_path(path, key), "not one of the contract's values");
  }

  // An array of non-empty strings (ids).
  bool id_list(const json& j, const std::string& path, const char* key, std::vector<std::string>& out) {
    return each(j, path, key, [&](const json& e, const std::string& ep) {
      std::string id;
      if (!string_value(e, ep, id)) return false;
      if (id.empty()) return fail(ep, "empty");
      out.push_back(std::move(id));
      return true;
    });
  }

  // Calls read(element, its path) for each element of the array member; stops at the first false.
  template <class F>
  bool each(const json& j, const std::string& path, const char* key, F read) {
    const json& v = at(j, key);
    const std::string p = member_path(path, key);
    if (!v.is_array()) return fail(p, "not an array");
    for (size_t i = 0; i < v.size(); ++i)
      if (!read(v[i], element_path(p, i))) return false;
    return true;
  }

  static const json& at(const json& j, const char* key) { return *j.find(key); }

 private:
  bool string_value(const json& v, const std::string& path, std::string& out) {
    if (!v.is_string()) return fail(path, "not a string");
    out = v.get<std::string>();
    return true;
  }

  std::string error_;
};

}  // namespace tw::contracts_detail
