// A server binary as a child process for tests (Debian's Alertmanager, Prometheus): its files in a
// temp dir, a free port on 127.0.0.1. start() returns once GET <ready_path> answers 200, or throws
// with the process's log after a deadline. A port taken between the probe and the start makes the
// server exit; it is then started again on another port.
#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tw::test {

// A port nothing listens on right now (bound to 0 and released; may be taken again before use).
inline int free_local_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  if (port == 0) throw std::runtime_error("no free port on 127.0.0.1");
  return port;
}

class local_service {
 public:
  local_service() = default;
  ~local_service() { stop(std::chrono::seconds(10)); }
  local_service(const local_service&) = delete;
  local_service& operator=(const local_service&) = delete;

  // Where the caller writes the server's configuration before start().
  const temp_dir& dir() const { return dir_; }

  // `args_for(port)`: the arguments that make the binary listen on 127.0.0.1:port.
  void start(const std::string& name, const std::string& binary, const std::function<std::vector<std::string>(int)>& args_for,
             const std::string& ready_path, std::chrono::milliseconds ready_within) {
    const auto deadline = std::chrono::steady_clock::now() + ready_within;
    for (int attempt = 1; attempt <= 3; ++attempt) {
      port_ = free_local_port();
      process_ = std::make_unique<child_process>(binary, args_for(port_), dir_.sub("stdout.log"), dir_.sub("stderr.log"));
      while (process_->running() && std::chrono::steady_clock::now() < deadline) {
        if (answers(ready_path)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling readiness, with a deadline
      }
      if (process_->running()) break;  // up but never ready: another port will not help
    }
    throw std::runtime_error(name + " did not become ready; its log:\n" + log());
  }

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return process_ ? process_->read_stderr() : ""; }

  // SIGTERM, then waits for the exit. Returns its code (0: a clean shutdown), -1 on timeout (the
  // destructor of child_process then kills it).
  int stop(std::chrono::milliseconds within) {
    if (!process_ || !process_->running()) return process_ ? process_->wait(within) : -1;
    process_->signal(SIGTERM);
    return process_->wait(within);
  }

 private:
  bool answers(const std::string& path) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(std::chrono::milliseconds(200));
    client.set_read_timeout(std::chrono::milliseconds(500));
    auto res = client.Get(path.c_str());
    return res && res->status == 200;
  }

  temp_dir dir_;
  int port_ = 0;
  std::unique_ptr<child_process> process_;
};

}  // namespace tw::test
