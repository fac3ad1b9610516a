// Debian's real Alertmanager (/usr/bin/prometheus-alertmanager) as a child process for tests:
// a config and storage in a temp dir, a free port on 127.0.0.1, clustering off. The constructor
// returns once GET /-/ready answers 200, or throws with the process's log after a deadline
// (tests/support/local_service.hpp).
#pragma once

#include <chrono>
#include <fstream>
#include <string>

#include "tests/support/local_service.hpp"

namespace tw::test {

inline constexpr const char* alertmanager_binary = "/usr/bin/prometheus-alertmanager";

class alertmanager_process {
 public:
  // `config_yaml`: the whole alertmanager.yml. `external_url`: --web.external-url (what it puts in
  // webhook messages as externalURL).
  explicit alertmanager_process(const std::string& config_yaml, const std::string& external_url = "",
                                std::chrono::milliseconds ready_within = std::chrono::seconds(30)) {
    const auto& dir = service_.dir();
    std::ofstream(dir.sub("am.yml")) << config_yaml;
    service_.start(
        "Alertmanager", alertmanager_binary,
        [&](int port) {
          std::vector<std::string> args{"--config.file=" + dir.sub("am.yml"), "--storage.path=" + dir.path(),
                                        "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                        "--cluster.listen-address="};
          // The API stays at the root whatever the external URL's path (which would otherwise prefix it).
          if (!external_url.empty()) args.insert(args.end(), {"--web.external-url=" + external_url, "--web.route-prefix=/"});
          return args;
        },
        "/-/ready", ready_within);
  }

  int port() const { return service_.port(); }
  std::string base_url() const { return service_.base_url(); }
  std::string log() const { return service_.log(); }
  int stop(std::chrono::milliseconds within) { return service_.stop(within); }

 private:
  local_service service_;
};

}  // namespace tw::test
