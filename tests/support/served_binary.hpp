// Shared by the end-to-end tests that talk to a running tracewatch over HTTP or run a program
// beside it (Prometheus, promtool, Chromium): where it listens, a GET, a command's output.
#pragma once

#include <httplib.h>
#include <sys/wait.h>

#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <utility>

#include "tests/support/child_process.hpp"

namespace tw::test {

// Runs a shell command; its exit code and what it printed (stdout and stderr).
inline std::pair<int, std::string> run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The address a tracewatch child logged it listens on, once it did.
inline std::optional<std::string> listening_address(const child_process& p) {
  static const std::regex line(R"(msg="http server listening" address=([0-9.]+:[0-9]+))");
  std::smatch m;
  const std::string err = p.read_stderr();
  if (std::regex_search(err, m, line)) return m[1].str();
  return std::nullopt;
}

// GET `path` from `address` (host:port); the body, or nullopt when nothing answered.
inline std::optional<std::string> http_get(const std::string& address, const std::string& path, int* status = nullptr,
                                           const httplib::Headers& headers = {}) {
  const auto colon = address.rfind(':');
  httplib::Client c(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  c.set_read_timeout(std::chrono::seconds(5));
  auto res = c.Get(path.c_str(), headers);
  if (!res) return std::nullopt;
  if (status) *status = res->status;
  return res->body;
}

}  // namespace tw::test
