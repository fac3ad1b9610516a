// The real fixtures (tests/fixtures/real, SOURCES.md) cut into the Kafka messages they hold: one
// per .jsonl line, one per recorded request of Langfuse's servertest and fern examples, and the
// single-document fixtures whole. The seeds of the mutation test (tests/unit/formats_fuzz_test.cpp)
// and of the libFuzzer corpus (tests/fuzz/write_seeds.cpp), so that both start from the same data.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tw::test {

struct fixture_message {
  std::string name;     // "<fixture file>#<n>": where the message came from
  std::string payload;  // the message's bytes
};

// The order is part of the contract: the mutation test draws seeds by index from a fixed seed.
// Throws std::runtime_error when a fixture is missing or not the JSON it should be.
inline std::vector<fixture_message> fixture_messages(const std::string& real_dir) {
  auto read = [&](const std::string& name) {
    std::ifstream in(real_dir + "/" + name, std::ios::binary);
    if (!in) throw std::runtime_error("fixture missing: " + real_dir + "/" + name);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  using json = nlohmann::json;
  std::vector<fixture_message> out;
  auto add = [&](const std::string& file, size_t n, std::string payload) {
    out.push_back({file + "#" + std::to_string(n), std::move(payload)});
  };

  const std::string jsonl = "langfuse__otel-mapping-servertest-spans.otlp.jsonl";
  std::istringstream lines(read(jsonl));
  size_t n = 0;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) add(jsonl, ++n, line);

  const std::string servertest = "langfuse__ingestion-api-servertest-batches.json";
  n = 0;
  // The documents are named: a range-for over a member of a temporary would outlive it.
  const json servertest_doc = json::parse(read(servertest));
  for (const auto& c : servertest_doc.at("cases")) add(servertest, ++n, c.at("request").dump());

  const std::string fern = "langfuse__fern-ingestion-examples.json";
  n = 0;
  const json fern_doc = json::parse(read(fern));
  for (const auto& ex : fern_doc.at("examples")) add(fern, ++n, ex.at("request").dump());

  for (const char* whole : {"otel-proto__examples-trace.json", "agentevals__adk-py-v1_default-S3-multiturn-session.otlp.json",
                            "agentevals__kagent-tempo-export-with-batches.json",
                            "langfuse__framework-trace-google-adk-2025-08-28.langfuse-export.json"})
    add(whole, 1, read(whole));
  return out;
}

}  // namespace tw::test
