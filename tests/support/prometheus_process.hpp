// Debian's real Prometheus server (/usr/bin/prometheus) as a child process for tests: the given
// prometheus.yml and its TSDB in a temp dir, a free port on 127.0.0.1. The constructor returns
// once GET /-/ready answers 200 (tests/support/local_service.hpp). query() asks its HTTP API.
#pragma once

#include <chrono>
#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/local_service.hpp"

namespace tw::test {

inline constexpr const char* prometheus_binary = "/usr/bin/prometheus";
inline constexpr const char* promtool_binary = "/usr/bin/promtool";

class prometheus_process {
 public:
  // `config_yaml`: the whole prometheus.yml; `files`: more files beside it (rule files), by name.
  explicit prometheus_process(const std::string& config_yaml,
                              const std::vector<std::pair<std::string, std::string>>& files = {},
                              std::chrono::milliseconds ready_within = std::chrono::seconds(60)) {
    const auto& dir = service_.dir();
    std::ofstream(dir.sub("prometheus.yml")) << config_yaml;
    for (const auto& [name, text] : files) std::ofstream(dir.sub(name)) << text;
    service_.start(
        "Prometheus", prometheus_binary,
        [&](int port) {
          return std::vector<std::string>{"--config.file=" + dir.sub("prometheus.yml"),
                                          "--storage.tsdb.path=" + dir.sub("tsdb"),
                                          "--web.listen-address=127.0.0.1:" + std::to_string(port)};
        },
        "/-/ready", ready_within);
  }

  // GET /api/v1/<what>?<params>: the response's `data`, or nullopt when it does not answer success.
  std::optional<nlohmann::json> api(const std::string& what, const httplib::Params& params = {}) const {
    httplib::Client client("127.0.0.1", service_.port());
    client.set_read_timeout(std::chrono::seconds(5));
    auto res = client.Get(("/api/v1/" + what).c_str(), params, httplib::Headers{});
    if (!res || res->status != 200) return std::nullopt;
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
    return j["data"];
  }
  // An instant query's single value, or nullopt when the result is not exactly one sample.
  std::optional<double> scalar(const std::string& promql) const {
    auto d = api("query", {{"query", promql}});
    if (!d || (*d)["resultType"] != "vector" || (*d)["result"].size() != 1) return std::nullopt;
    return std::stod((*d)["result"][0]["value"][1].get<std::string>());
  }

  std::string log() const { return service_.log(); }
  int stop(std::chrono::milliseconds within) { return service_.stop(within); }

 private:
  local_service service_;
};

}  // namespace tw::test
