// The seam between the webhook client and the network: one HTTP POST, as values.
//
// webhook_client decides what to send, when to retry and when to give up; an http_transport only
// performs a single request and reports what happened. httplib_transport.hpp is the real one;
// tests script a fake. Nothing here throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "model/time.hpp"

namespace tw::webhook {

// An absolute http(s) URL split into what a client needs. Only the form tracewatch accepts:
//   url := ("http" | "https") "://" host [":" port] path
//   host := DNS name or IPv4 literal, or an IPv6 literal in brackets
//   path := "/" followed by printable ASCII without spaces or '#' (a query is part of the path)
// No user info, no fragment: credentials belong in a configured header, not in the URL.
struct url_parts {
  std::string scheme;  // "http" | "https"
  std::string host;    // as written, brackets included for IPv6
  uint16_t port = 0;   // explicit or the scheme's default (80, 443)
  std::string path;    // starts with '/'
};

// Returns the parts, or a message saying what is wrong (without naming the setting).
std::variant<url_parts, std::string> parse_http_url(std::string_view url);

// True for an RFC 9110 token (a valid header field name).
bool is_header_name(std::string_view name);
// True when a header value cannot break the request framing (no CR, LF or NUL).
bool is_header_value(std::string_view value);

struct http_request {
  std::string url;                             // absolute; see url_parts
  std::string body;
  std::map<std::string, std::string> headers;  // sent as given, Content-Type included
  duration timeout{std::chrono::seconds(5)};   // bound on the whole exchange, connect included
  // Bytes of the response body to keep; the rest is read and dropped, so a huge answer cannot
  // exhaust memory. The client asks for a little more than its excerpt needs.
  size_t max_body_bytes = 1 << 20;
};

struct http_response {
  int status = 0;
  std::string body;  // at most the request's max_body_bytes; not necessarily valid UTF-8
  // Names lower-cased (HTTP field names are case-insensitive); of repeated fields, the first.
  std::map<std::string, std::string> headers;

  // nullptr when absent. `lower_name` must be lower case.
  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

// Why no response came back. The kind decides whether another attempt can help.
enum class transport_errc : uint8_t {
  timeout,     // connect or response took longer than the request's timeout: retriable
  connection,  // refused, reset, DNS failure, closed early: retriable
  io,          // a read or write failed mid-exchange: retriable
  tls_config,  // certificate verification or CA loading failed: not retriable (a setting is wrong)
  bad_request  // the request itself cannot be sent (bad URL): not retriable
};
std::string_view to_string(transport_errc e);
bool is_retriable(transport_errc e);

struct transport_error {
  transport_errc code = transport_errc::connection;
  std::string message;
};

using http_result = std::variant<http_response, transport_error>;

class http_transport {
 public:
  virtual ~http_transport() = default;
  // Performs one POST and blocks until it completes, fails or `request.timeout` passes. Never
  // throws. Called from the webhook thread only (see webhook_client.hpp); an implementation need
  // not be thread-safe.
  virtual http_result post(const http_request& request) = 0;
};

}  // namespace tw::webhook
