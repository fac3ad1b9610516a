// Validates produced messages against the JSON Schemas in docs/schemas (what downstream consumers
// are promised).
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include "tests/support/json_schema.hpp"

namespace tw::test {

// The contract's schema, docs/schemas/<contract>.json (loaded once; a bad schema throws).
inline const testing::json_schema& contract_schema(const std::string& contract) {
  static std::map<std::string, std::shared_ptr<const testing::json_schema>> cache;
  auto it = cache.find(contract);
  if (it == cache.end()) {
    auto r = testing::load_schema_file(std::string(TW_SOURCE_DIR) + "/docs/schemas/" + contract + ".json");
    if (!r) throw std::runtime_error("schema " + contract + ": " + r.errors_text());
    it = cache.emplace(contract, r.schema).first;
  }
  return *it->second;
}

// Empty when `payload` is valid JSON conforming to docs/schemas/<contract>.json; else the violations.
inline std::string contract_violations(const std::string& contract, const std::string& payload) {
  auto doc = nlohmann::json::parse(payload, nullptr, false);
  if (doc.is_discarded()) return "not JSON: " + payload.substr(0, 200);
  return testing::to_string(contract_schema(contract).validate(doc));
}

}  // namespace tw::test
