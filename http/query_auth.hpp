// The bearer token of the query endpoints (docs/queries.md, "Authentication"): where it comes from,
// and checking a request's Authorization header against it.
//
// The token is a secret: nothing here logs it or puts it in an error message, and neither may a
// caller. A request is checked in time that depends on the configured token's length only, not on
// how much of a guess matches (compare_token).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/settings.hpp"
#include "http/server.hpp"

namespace tw::http {

struct query_token {
  std::string value;
  std::string source;  // "query.token" or the environment variable's name: safe to log
};

struct token_lookup {
  std::optional<query_token> token;  // none: the query endpoints are off
  std::optional<std::string> error;  // a bad token in the environment; names the variable, not the value
};

// query.token, else the environment variable query.token_env names (read through `getenv`, a
// seam for the tests). A value from the environment must meet query.token's bounds.
token_lookup resolve_query_token(const config::settings& s,
                                 const std::function<const char*(const char*)>& getenv);

// True when a and b are equal, in time that depends on b's length alone.
bool compare_token(std::string_view given, std::string_view expected);

// Whether the request carries `Authorization: Bearer <token>` (the scheme case-insensitive).
bool authorized(const request& r, const query_token& token);

}  // namespace tw::http
