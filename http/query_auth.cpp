#include "http/query_auth.hpp"

#include <strings.h>

#include "config/options.hpp"

namespace tw::http {

token_lookup resolve_query_token(const config::settings& s,
                                 const std::function<const char*(const char*)>& getenv) {
  token_lookup out;
  if (!s.query.token.empty()) {
    out.token = query_token{s.query.token, "query.token"};
    return out;
  }
  if (s.query.token_env.empty()) return out;
  const char* value = getenv(s.query.token_env.c_str());
  if (!value || !*value) return out;
  // The same bounds as query.token; the message names the variable and never quotes the value.
  config::settings scratch;
  if (auto err = config::find_option("query.token")->assign(scratch, value)) {
    out.error = "the environment variable " + s.query.token_env + " (query.token_env) holds no usable query token: " + *err;
    return out;
  }
  out.token = query_token{value, s.query.token_env};
  return out;
}

bool compare_token(std::string_view given, std::string_view expected) {
  // Every byte of `expected` is compared whatever differs first, and a shorter or longer guess
  // costs the same: the answer cannot be found one character at a time from response times.
  unsigned diff = given.size() != expected.size() ? 1u : 0u;
  for (size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0u;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  // Keep the compiler from turning the loop into an early exit.
  volatile unsigned result = diff;
  return result == 0;
}

bool authorized(const request& r, const query_token& token) {
  // httplib keeps header names as sent; HTTP names are case-insensitive.
  for (const auto& [name, value] : r.headers) {
    if (strcasecmp(name.c_str(), "Authorization") != 0) continue;
    constexpr std::string_view scheme = "bearer ";
    if (value.size() < scheme.size() || strncasecmp(value.c_str(), scheme.data(), scheme.size()) != 0) return false;
    std::string_view given(value);
    given.remove_prefix(scheme.size());
    while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
    while (!given.empty() && (given.back() == ' ' || given.back() == '\t')) given.remove_suffix(1);
    return compare_token(given, token.value);
  }
  return false;
}

}  // namespace tw::http
