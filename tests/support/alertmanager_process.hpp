// Debian's real Alertmanager (/usr/bin/prometheus-alertmanager) as a child process for tests:
// a config and storage in a temp dir, a free port on 127.0.0.1, clustering off. The constructor
// returns once GET /-/ready answers 200, or throws with the process's log after a deadline. A port
// taken between the probe and the start makes Alertmanager exit; it is then started again on
// another port.
#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tw::test {

inline constexpr const char* alertmanager_binary = "/usr/bin/prometheus-alertmanager";

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

class alertmanager_process {
 public:
  // `config_yaml`: the whole alertmanager.yml. `external_url`: --web.external-url (what it puts in
  // webhook messages as externalURL).
  explicit alertmanager_process(const std::string& config_yaml, const std::string& external_url = "",
                                std::chrono::milliseconds ready_within = std::chrono::seconds(30)) {
    std::ofstream(dir_.sub("am.yml")) << config_yaml;
    const auto deadline = std::chrono::steady_clock::now() + ready_within;
    for (int start = 1; start <= 3; ++start) {
      port_ = free_local_port();
      std::vector<std::string> args{"--config.file=" + dir_.sub("am.yml"), "--storage.path=" + dir_.path(),
                                    "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                    "--cluster.listen-address="};
      // The API stays at the root whatever the external URL's path (which would otherwise prefix it).
      if (!external_url.empty()) args.insert(args.end(), {"--web.external-url=" + external_url, "--web.route-prefix=/"});
      process_ = std::make_unique<child_process>(alertmanager_binary, args, dir_.sub("stdout.log"), dir_.sub("am.log"));
      while (process_->running() && std::chrono::steady_clock::now() < deadline) {
        if (answers_ready()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling readiness, with a deadline
      }
      if (process_->running()) break;  // up but never ready: another port will not help
    }
    throw std::runtime_error("Alertmanager did not become ready; its log:\n" + log());
  }

  ~alertmanager_process() { stop(std::chrono::seconds(10)); }
  alertmanager_process(const alertmanager_process&) = delete;
  alertmanager_process& operator=(const alertmanager_process&) = delete;

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
  bool answers_ready() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(std::chrono::milliseconds(200));
    client.set_read_timeout(std::chrono::milliseconds(500));
    auto res = client.Get("/-/ready");
    return res && res->status == 200;
  }

  temp_dir dir_;
  int port_ = 0;
  std::unique_ptr<child_process> process_;
};

}  // namespace tw::test
