// The real http_transport, over cpp-httplib (Debian's libcpp-httplib, built with OpenSSL).
//
// Each post() opens a fresh connection (no keep-alive: a webhook is rare, and a connection that
// just timed out must not be reused), sends one request and closes. Redirects are not followed:
// a 3xx comes back as a response and the client treats it as a non-retriable failure.
//
// The timeout bounds the whole exchange: connect, write and every read wait are each limited to
// it, and a watchdog thread shuts the socket down when it passes, so a server that trickles its
// answer cannot hold the webhook thread longer. Not bounded: the DNS lookup (getaddrinfo blocks
// in httplib 0.11); use an IP address or a local resolver if that matters.
//
// https: certificates are verified against the system CA store (OpenSSL's default paths). A
// verification failure is tls_config (not retried).
//
// Thread: post() blocks the calling (webhook) thread. Instances hold no state between calls, so
// one may be shared, but the client calls it from one thread only.
#pragma once

#include "topics/webhook/http.hpp"

namespace tw::webhook {

class httplib_transport final : public http_transport {
 public:
  http_result post(const http_request& request) override;
};

// Whether this build can send https requests (libcpp-httplib compiled with OpenSSL).
bool https_supported();

}  // namespace tw::webhook
