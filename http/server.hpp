// The one HTTP server in the binary (run and demo): a route table of GET handlers over
// cpp-httplib. The operational endpoints (http/ops_endpoints.hpp), the status page
// (http/status_page.hpp) and the queries (http/query_endpoints.hpp) are its routes.
//
// Threads: start() binds, then serves on threads of its own — one accepting, `threads` handling
// requests (httplib's thread pool; a keep-alive connection holds its thread while it lasts).
// Handlers run there, several at once, and must be thread-safe; they read probes and never call
// into a stage, so no stage ever waits for a request. stop() (or the destructor) closes the
// socket and joins every thread.
//
// httplib stays inside server.cpp: includers do not compile it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/time.hpp"

namespace tw::http {

struct request {
  std::string path;
  std::multimap<std::string, std::string> params;   // the query string
  std::multimap<std::string, std::string> headers;  // names as sent (httplib compares them case-insensitively)
};

struct response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type and Content-Length
};

using handler = std::function<response(const request&)>;

// What the server knows of itself.
struct server_stats {
  struct route_count {
    std::string path;  // a registered route, or "other"
    int code = 200;
    uint64_t requests = 0;
  };
  std::vector<route_count> requests;
  duration handler_cpu{0};  // CPU time of the handlers (their threads' clocks): what serving costs
};

struct server_settings {
  std::string host = "127.0.0.1";
  int port = 0;        // 0: any free port
  size_t threads = 4;  // request threads
};

class server {
 public:
  explicit server(server_settings s);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // A GET route; before start() only. The same path twice: the later handler wins.
  void get(const std::string& path, handler h);
  // Binds and starts serving. nullopt once listening; otherwise why it cannot (e.g. the port is
  // taken), naming the address.
  [[nodiscard]] std::optional<std::string> start();
  // host:port actually bound (the port chosen when 0 was asked for); empty before start().
  std::string bound_address() const;
  int port() const;
  // Stops accepting, finishes the requests in hand, joins the threads. Idempotent.
  void stop();

  // Requests served and the handlers' CPU time (/metrics reports them). Thread-safe.
  server_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tw::http
