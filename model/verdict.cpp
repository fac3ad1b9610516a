#include "model/verdict.hpp"

namespace tw {

std::string_view to_string(verdict_status v) {
  switch (v) {
    case verdict_status::pass: return "pass";
    case verdict_status::fail: return "fail";
    case verdict_status::partial: return "partial";
    case verdict_status::error: return "error";
    case verdict_status::abandoned: return "abandoned";
  }
  return "unknown";
}

std::optional<verdict_status> parse_verdict_status(std::string_view s) {
  for (auto v : {verdict_status::pass, verdict_status::fail, verdict_status::partial, verdict_status::error,
                 verdict_status::abandoned})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::string_view to_string(check_outcome c) {
  switch (c) {
    case check_outcome::passed: return "passed";
    case check_outcome::failed: return "failed";
    case check_outcome::skipped: return "skipped";
  }
  return "unknown";
}

std::string_view to_string(severity s) {
  switch (s) {
    case severity::info: return "info";
    case severity::warning: return "warning";
    case severity::critical: return "critical";
  }
  return "unknown";
}

}  // namespace tw
