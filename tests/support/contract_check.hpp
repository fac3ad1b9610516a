// Validates produced messages against the JSON Schemas in docs/schemas (what downstream consumers
// are promised).
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include "tests/support/json_schema.hpp"

namespace tw::test {

// Empty when `payload` is valid JSON conforming to docs/schemas/<schema>.json; else the violations.
inline std::string contract_violations(const std::string& schema, const std::string& payload) {
  static std::map<std::string, std::shared_ptr<const testing::json_schema>> cache;
  auto it = cache.find(schema);
  if (it == cache.end()) {
    auto r = testing::load_schema_file(std::string(TW_SOURCE_DIR) + "/docs/schemas/" + schema + ".json");
    if (!r) throw std::runtime_error("schema " + schema + ": " + r.errors_text());
    it = cache.emplace(schema, r.schema).first;
  }
  auto doc = nlohmann::json::parse(payload, nullptr, false);
  if (doc.is_discarded()) return "not JSON: " + payload.substr(0, 200);
  return testing::to_string(it->second->validate(doc));
}

}  // namespace tw::test
