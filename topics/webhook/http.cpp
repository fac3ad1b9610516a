#include "topics/webhook/http.hpp"

namespace tw::webhook {

namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h)
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return false;
  return h.front() != '.' && h.front() != '-';
}

bool is_ipv6_literal(std::string_view h) {
  if (h.size() < 4 || h.front() != '[' || h.back() != ']') return false;
  for (char c : h.substr(1, h.size() - 2)) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') return false;
  }
  return true;
}

}  // namespace

std::variant<url_parts, std::string> parse_http_url(std::string_view url) {
  url_parts p;
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    p.scheme = "http";
    p.port = 80;
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    p.scheme = "https";
    p.port = 443;
    rest = url.substr(8);
  } else {
    return std::string("must start with http:// or https://");
  }

  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::string("needs a path after the host (at least '/')");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    return std::string("must not carry user info; put credentials in a header");

  std::string_view host = authority;
  std::string_view port;
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (!is_host_name(host) && !is_ipv6_literal(host)) return std::string("has no valid host");
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    if (port.empty() || port.size() > 5) return std::string("has an invalid port");
    uint32_t n = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return std::string("has an invalid port");
      n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    if (n == 0 || n > 65535) return std::string("has a port outside 1-65535");
    p.port = static_cast<uint16_t>(n);
  }
  for (char c : path) {
    if (c <= ' ' || c == 0x7f || static_cast<unsigned char>(c) >= 0x80)
      return std::string("has a space, control or non-ASCII character in the path (percent-encode it)");
    if (c == '#') return std::string("must not have a fragment");
  }
  p.host = std::string(host);
  p.path = std::string(path);
  return p;
}

bool is_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    if (!is_alnum(c) && extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool is_header_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string_view to_string(transport_errc e) {
  switch (e) {
    case transport_errc::timeout: return "timeout";
    case transport_errc::connection: return "connection";
    case transport_errc::io: return "io";
    case transport_errc::tls_config: return "tls_config";
    case transport_errc::bad_request: return "bad_request";
  }
  return "unknown";
}

bool is_retriable(transport_errc e) {
  switch (e) {
    case transport_errc::timeout:
    case transport_errc::connection:
    case transport_errc::io:
      return true;
    case transport_errc::tls_config:
    case transport_errc::bad_request:
      return false;
  }
  return false;
}

}  // namespace tw::webhook
