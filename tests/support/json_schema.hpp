// A small JSON Schema (draft 2020-12) validator for the tests, over nlohmann::json.
//
// It exists because the output contracts (docs/schemas/*.json, DESIGN.md §8) must be checked by
// the tests and no JSON Schema library may be used. It supports exactly the subset our schemas
// use, and it refuses every other keyword when the schema is loaded: a schema can never rely on
// a keyword that is silently ignored here.
//
// Supported keywords (2020-12 meaning unless noted):
//   type                   a type name or an array of distinct names: null, boolean, object, array,
//                          number, string, integer ("integer" = any number with no fractional part,
//                          so 1.0 is an integer, as the specification says).
//   properties             object of subschemas, applied to the members that are present.
//   required               array of distinct member names.
//   additionalProperties   a subschema (true/false included) for the members not named in
//                          `properties` (there is no patternProperties).
//   items                  a single subschema for every element. The array (tuple) form of older
//                          drafts is refused, as is prefixItems.
//   minItems, maxItems     non-negative integers.
//   enum                   a non-empty array; JSON equality (1 == 1.0, member order irrelevant).
//   const                  any value; JSON equality.
//   minimum, maximum, exclusiveMinimum
//                          numbers; compared exactly across integer and floating-point values.
//                          (exclusiveMaximum is not supported.)
//   minLength, maxLength   non-negative integers, counted in Unicode code points, not bytes.
//   pattern                a regular expression, matched anywhere in the string (unanchored, as the
//                          specification says: use ^...$ to anchor). Evaluated by RE2, so the syntax
//                          is RE2's: lookaround and backreferences fail at load time.
//   format                 only "date-time" (RFC 3339 §5.6, checked strictly: calendar-valid date,
//                          'T' separator, seconds required, offset Z or ±hh:mm, leap second 60 only
//                          at 23:59 UTC). Unlike the specification's default, format is an assertion
//                          here; any other format value is refused at load time.
//   oneOf, anyOf           non-empty arrays of subschemas.
//   $ref                   "#/$defs/<name>", or "<name>.json": another schema file in the same
//                          directory (only for load_schema_file; the file is loaded and applied whole
//                          to the instance, e.g. a query answer embedding a topic's document).
//                          Evaluated alongside its sibling keywords. Cycles of $ref/oneOf/anyOf that
//                          never descend into the instance are refused, as are files that refer
//                          to one another more than 8 deep.
//   $defs                  at the root only.
//   $schema                at the root only, and only "https://json-schema.org/draft/2020-12/schema".
//   $id                    at the root only (a nested $id would change $ref resolution).
//   title, description, $comment (strings), examples (array)
//                          annotations: checked for their type, otherwise without effect.
// A subschema may be a boolean: true accepts everything, false nothing.
//
// Errors are values: loading returns the schema or every problem found in it; validation returns
// every violation (empty = valid). Nothing here throws for a bad schema or a bad instance.
// Thread-safety: a loaded json_schema is immutable; validate() may run concurrently.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tw::testing {

// One way in which an instance does not conform.
struct schema_violation {
  std::string instance_pointer;  // RFC 6901 pointer into the instance; "" is the whole document
  std::string keyword;           // the keyword that failed: "required", "type", "additionalProperties"...
  std::string schema_pointer;    // where that keyword sits in the schema: "/properties/revision/minimum"
  std::string message;
  std::string to_string() const;  // "/window/reason: enum: ..." for test output
};

// One problem that makes a schema unusable.
struct schema_load_error {
  std::string schema_pointer;  // "" is the schema's root
  std::string message;
  std::string to_string() const;
};

class json_schema;

// Result of loading: the schema, or every problem found (never both).
struct schema_load_result {
  std::shared_ptr<const json_schema> schema;
  std::vector<schema_load_error> errors;
  explicit operator bool() const { return schema != nullptr; }
  std::string errors_text() const;  // one error per line
};

schema_load_result load_schema(const nlohmann::json& document);
// The same, with `load_file` loading the schema files its $refs name (by file name).
schema_load_result load_schema(const nlohmann::json& document,
                               std::function<schema_load_result(const std::string&)> load_file);
// Reads and parses `path` first; unreadable files and JSON syntax errors are load errors too.
schema_load_result load_schema_file(const std::string& path);

class json_schema {
 public:
  ~json_schema();
  json_schema(const json_schema&) = delete;
  json_schema& operator=(const json_schema&) = delete;

  // Every violation found, in document order of the schema; empty when `instance` is valid.
  std::vector<schema_violation> validate(const nlohmann::json& instance) const;

 private:
  friend schema_load_result load_schema(const nlohmann::json& document,
                                        std::function<schema_load_result(const std::string&)> load_file);
// The same, with `load_file` loading the schema files its $refs name (by file name).
schema_load_result load_schema(const nlohmann::json& document,
                               std::function<schema_load_result(const std::string&)> load_file);
  struct compiled;
  explicit json_schema(std::unique_ptr<const compiled> c);

  std::unique_ptr<const compiled> compiled_;
};

// All violations, one per line ("" when there are none): for INFO() in tests.
std::string to_string(const std::vector<schema_violation>& violations);

// True when `s` is an RFC 3339 date-time (exposed for its own unit tests).
bool is_rfc3339_date_time(const std::string& s);

}  // namespace tw::testing
