// The JSON Schema validator the contract tests rely on. A validator that cannot fail would make
// every contract test pass vacuously, so each keyword is shown to reject as well as to accept,
// and every unsupported keyword is shown to stop the schema from loading.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/support/json_schema.hpp"
#include "tests/support/temp_dir.hpp"

using namespace tw::testing;
using nlohmann::json;

namespace {

struct validation_case {
  const char* description;
  const char* schema;    // JSON text
  const char* instance;  // JSON text
  bool valid;
  // When invalid, the one violation expected: where in the instance, and which keyword.
  const char* pointer = "";
  const char* keyword = "";
};

void run(const validation_case& c) {
  INFO(c.description << "\n  schema:   " << c.schema << "\n  instance: " << c.instance);
  auto loaded = load_schema(json::parse(c.schema));
  INFO(loaded.errors_text());
  REQUIRE(loaded);
  const auto violations = loaded.schema->validate(json::parse(c.instance));
  INFO("violations:\n" << to_string(violations));
  if (c.valid) {
    CHECK(violations.empty());
  } else {
    REQUIRE(violations.size() == 1);
    CHECK(violations[0].instance_pointer == c.pointer);
    CHECK(violations[0].keyword == c.keyword);
    CHECK_FALSE(violations[0].message.empty());
  }
}

}  // namespace

TEST_CASE("type accepts the listed JSON types and rejects the others", "[schema]") {
  const validation_case cases[] = {
      {"a string is a string", R"({"type":"string"})", R"("a")", true},
      {"a number is not a string", R"({"type":"string"})", "1", false, "", "type"},
      {"1.0 is an integer, as the specification says", R"({"type":"integer"})", "1.0", true},
      {"1.5 is not an integer", R"({"type":"integer"})", "1.5", false, "", "type"},
      {"a negative integer is an integer", R"({"type":"integer"})", "-3", true},
      {"an integer is a number", R"({"type":"number"})", "3", true},
      {"a boolean is not an integer", R"({"type":"integer"})", "true", false, "", "type"},
      {"a string is not a number", R"({"type":"number"})", R"("3")", false, "", "type"},
      {"null matches a nullable string", R"({"type":["string","null"]})", "null", true},
      {"a string matches a nullable string", R"({"type":["string","null"]})", R"("x")", true},
      {"a boolean does not match a nullable string", R"({"type":["string","null"]})", "false", false, "", "type"},
      {"an array is not an object", R"({"type":"object"})", "[]", false, "", "type"},
      {"an object is not an array", R"({"type":"array"})", "{}", false, "", "type"},
      {"null is not a boolean", R"({"type":"boolean"})", "null", false, "", "type"},
  };
  for (const auto& c : cases) run(c);
}

TEST_CASE("object keywords check members, required names and undeclared members", "[schema]") {
  const validation_case cases[] = {
      {"a declared member that matches", R"({"properties":{"a":{"type":"string"}}})", R"({"a":"x"})", true},
      {"a declared member that does not match is reported at its own pointer",
       R"({"properties":{"a":{"type":"string"}}})", R"({"a":1})", false, "/a", "type"},
      {"properties constrain only the members that are present", R"({"properties":{"a":{"type":"string"}}})", "{}", true},
      {"properties do not apply to non-objects", R"({"properties":{"a":{"type":"string"}}})", "5", true},
      {"a required member that is present", R"({"required":["a"]})", R"({"a":null})", true},
      {"a missing required member is reported at the object", R"({"required":["a"]})", R"({"b":1})", false, "",
       "required"},
      {"additionalProperties false accepts declared members",
       R"({"properties":{"a":{}},"additionalProperties":false})", R"({"a":1})", true},
      {"additionalProperties false rejects an undeclared member at that member's pointer",
       R"({"properties":{"a":{}},"additionalProperties":false})", R"({"a":1,"extra":2})", false, "/extra",
       "additionalProperties"},
      {"additionalProperties as a schema checks undeclared members", R"({"additionalProperties":{"type":"string"}})",
       R"({"k":"v"})", true},
      {"additionalProperties as a schema rejects a bad undeclared member",
       R"({"additionalProperties":{"type":"string"}})", R"({"k":"v","n":1})", false, "/n", "type"},
      {"a property named like a keyword is only a name", R"({"properties":{"exclusiveMaximum":{"type":"integer"}}})",
       R"({"exclusiveMaximum":"x"})", false, "/exclusiveMaximum", "type"},
  };
  for (const auto& c : cases) run(c);
}

TEST_CASE("array keywords check every element and the length", "[schema]") {
  const validation_case cases[] = {
      {"every element matches items", R"({"items":{"type":"integer"}})", "[1,2,3]", true},
      // The element's own keyword fails (`type`); `items` only led there.
      {"a bad element is reported at its index", R"({"items":{"type":"integer"}})", R"([1,"two",3])", false, "/1",
       "type"},
      {"an empty array satisfies items", R"({"items":{"type":"integer"}})", "[]", true},
      {"items false allows only the empty array", R"({"items":false})", "[]", true},
      {"items false rejects any element", R"({"items":false})", "[0]", false, "/0", "items"},
      {"minItems at its bound", R"({"minItems":1})", "[0]", true},
      {"minItems below its bound", R"({"minItems":1})", "[]", false, "", "minItems"},
      {"maxItems at its bound", R"({"maxItems":2})", "[0,0]", true},
      {"maxItems above its bound", R"({"maxItems":2})", "[0,0,0]", false, "", "maxItems"},
      {"array keywords do not apply to strings", R"({"minItems":1})", R"("")", true},
  };
  for (const auto& c : cases) run(c);
}

TEST_CASE("enum and const compare with JSON equality", "[schema]") {
  const validation_case cases[] = {
      {"a listed value", R"({"enum":["gap","flush"]})", R"("gap")", true},
      {"an unlisted value", R"({"enum":["gap","flush"]})", R"("timeout")", false, "", "enum"},
      {"1.0 equals 1", R"({"enum":[1]})", "1.0", true},
      {"the string \"1\" does not equal 1", R"({"enum":[1]})", R"("1")", false, "", "enum"},
      {"null can be listed", R"({"enum":["a",null]})", "null", true},
      {"const accepts its value", R"({"const":"tracewatch.session.v1"})", R"("tracewatch.session.v1")", true},
      {"const rejects another value", R"({"const":"tracewatch.session.v1"})", R"("tracewatch.session.v2")", false,
       "", "const"},
      {"const objects ignore member order", R"({"const":{"a":1,"b":[true]}})", R"({"b":[true],"a":1})", true},
      {"const objects compare nested values", R"({"const":{"a":1,"b":[true]}})", R"({"b":[false],"a":1})", false,
       "", "const"},
  };
  for (const auto& c : cases) run(c);
}

TEST_CASE("numeric bounds compare exactly, integers and floats alike", "[schema]") {
  const validation_case cases[] = {
      {"minimum is inclusive", R"({"minimum":0})", "0", true},
      {"below the minimum", R"({"minimum":0})", "-1", false, "", "minimum"},
      {"a float below an integer minimum", R"({"minimum":1})", "0.999", false, "", "minimum"},
      {"maximum is inclusive", R"({"maximum":10})", "10.0", true},
      {"above the maximum", R"({"maximum":10})", "11", false, "", "maximum"},
      {"exclusiveMinimum excludes its bound", R"({"exclusiveMinimum":0})", "0", false, "", "exclusiveMinimum"},
      {"just above exclusiveMinimum", R"({"exclusiveMinimum":0})", "0.001", true},
      // 2^53 and 2^53 + 1 are the same double: a comparison through double would accept this.
      {"integers beyond 2^53 are not rounded", R"({"minimum":9007199254740993})", "9007199254740992", false, "",
       "minimum"},
      {"the largest uint64 is above a negative maximum", R"({"maximum":-1})", "18446744073709551615", false, "",
       "maximum"},
      {"bounds do not apply to strings", R"({"minimum":5})", R"("1")", true},
  };
  for (const auto& c : cases) run(c);
}

TEST_CASE("string keywords count code points and match patterns anywhere", "[schema]") {
  const validation_case cases[] = {
      {"é is one code point although two bytes", R"({"maxLength":1})", R"("é")", true},
      {"é is too short for minLength 2", R"({"minLength":2})", R"("é")", false, "", "minLength"},
      {"two CJK characters exceed maxLength 1", R"({"maxLength":1})", R"("日本")", false, "", "maxLength"},
      {"an emoji outside the BMP is one code point", R"({"minLength":1,"maxLength":1})", R"("🙂")", true},
      {"the empty string is below minLength 1", R"({"minLength":1})", R"("")", false, "", "minLength"},
      {"pattern is not anchored", R"({"pattern":"b"})", R"("abc")", true},
      {"an anchored pattern that does not match", R"({"pattern":"^b"})", R"("abc")", false, "", "pattern"},
      {"a fully anchored pattern", R"({"pattern":"^[0-9]{3}$"})", R"("123")", true},
      {"a fully anchored pattern rejects a longer string", R"({"pattern":"^[0-9]{3}$"})", R"("1234")", false, "",
       "pattern"},
      {"pattern does not apply to numbers", R"({"pattern":"^a$"})", "1", true},
      {"a date-time", R"({"format":"date-time"})", R"("2025-01-01T00:00:00.123Z")", true},
      {"a date-time needs its offset", R"({"format":"date-time"})", R"("2025-01-01T00:00:00")", false, "", "format"},
      {"format does not apply to numbers", R"({"format":"date-time"})", "0", true},
  };
  for (const auto& c : cases) run(c);
}

TEST_CASE("oneOf needs exactly one alternative and anyOf at least one", "[schema]") {
  const validation_case cases[] = {
      {"oneOf with one match", R"({"oneOf":[{"type":"string"},{"type":"integer"}]})", R"("a")", true},
      {"oneOf with no match", R"({"oneOf":[{"type":"string"},{"type":"integer"}]})", "null", false, "", "oneOf"},
      {"oneOf with two matches", R"({"oneOf":[{"type":"number"},{"type":"integer"}]})", "1", false, "", "oneOf"},
      {"anyOf with one match", R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", "2", true},
      {"anyOf with two matches", R"({"anyOf":[{"type":"number"},{"type":"integer"}]})", "2", true},
      {"anyOf with no match", R"({"anyOf":[{"type":"string"},{"minimum":5}]})", "2", false, "", "anyOf"},
  };
  for (const auto& c : cases) run(c);
}

TEST_CASE("$ref applies a root $defs entry alongside its sibling keywords", "[schema]") {
  const char* schema = R"({
    "$defs": {"count": {"type": "integer", "minimum": 0}},
    "properties": {"n": {"$ref": "#/$defs/count"}, "s": {"$ref": "#/$defs/count", "maximum": 9}}
  })";
  const validation_case cases[] = {
      {"a value that matches the definition", schema, R"({"n":1})", true},
      {"a value that breaks the definition is reported at its pointer", schema, R"({"n":-1})", false, "/n", "minimum"},
      {"the definition's type applies too", schema, R"({"n":"1"})", false, "/n", "type"},
      {"siblings of $ref apply as well as the definition", schema, R"({"s":10})", false, "/s", "maximum"},
  };
  for (const auto& c : cases) run(c);

  auto loaded = load_schema(json::parse(schema));
  REQUIRE(loaded);
  auto violations = loaded.schema->validate(json::parse(R"({"n":-1})"));
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].schema_pointer == "/$defs/count/minimum");
}

TEST_CASE("boolean schemas accept everything or nothing", "[schema]") {
  const validation_case cases[] = {
      {"true accepts an object", "true", R"({"a":1})", true},
      {"false rejects null", "false", "null", false, "", "the root schema"},
      {"a false property schema forbids the member", R"({"properties":{"a":false}})", R"({"a":0})", false, "/a",
       "properties"},
  };
  for (const auto& c : cases) run(c);
}

TEST_CASE("errors deep inside arrays and objects carry the exact instance pointer", "[schema]") {
  auto loaded = load_schema(json::parse(R"({
    "type": "object",
    "properties": {
      "calls": {"type": "array", "items": {
        "type": "object",
        "properties": {"a/b": {"type": "string"}, "t~": {"format": "date-time"}},
        "additionalProperties": false
      }}
    }
  })"));
  REQUIRE(loaded);
  auto violations = loaded.schema->validate(
      json::parse(R"({"calls": [{"a/b": "ok"}, {"a/b": 1, "t~": "yesterday", "z": 0}]})"));
  INFO(to_string(violations));
  REQUIRE(violations.size() == 3);
  CHECK(violations[0].instance_pointer == "/calls/1/a~1b");  // RFC 6901 escapes '/' as ~1
  CHECK(violations[0].keyword == "type");
  CHECK(violations[0].schema_pointer == "/properties/calls/items/properties/a~1b/type");
  CHECK(violations[1].instance_pointer == "/calls/1/t~0");  // and '~' as ~0
  CHECK(violations[1].keyword == "format");
  CHECK(violations[2].instance_pointer == "/calls/1/z");
  CHECK(violations[2].keyword == "additionalProperties");
}

TEST_CASE("every violation is reported, not only the first", "[schema]") {
  auto loaded = load_schema(json::parse(R"({"required": ["a", "b"], "properties": {"c": {"type": "null"}}})"));
  REQUIRE(loaded);
  auto violations = loaded.schema->validate(json::parse(R"({"c": 1})"));
  INFO(to_string(violations));
  CHECK(violations.size() == 3);
}

TEST_CASE("annotation keywords are accepted and change nothing", "[schema]") {
  auto loaded = load_schema(json::parse(R"({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.invalid/x.json",
    "title": "t", "description": "d", "$comment": "c", "examples": [1],
    "type": "integer"
  })"));
  INFO(loaded.errors_text());
  REQUIRE(loaded);
  CHECK(loaded.schema->validate(json(1)).empty());
  CHECK(loaded.schema->validate(json("1")).size() == 1);
}

TEST_CASE("a schema that uses anything unsupported fails to load, naming where", "[schema]") {
  struct load_case {
    const char* description;
    const char* schema;
    const char* pointer;  // of the (first) load error
  };
  const load_case cases[] = {
      {"an unsupported keyword", R"({"exclusiveMaximum": 5})", "/exclusiveMaximum"},
      {"a misspelt keyword", R"({"additionalProperty": false})", "/additionalProperty"},
      {"an unsupported keyword deep inside", R"({"properties": {"a": {"items": {"uniqueItems": true}}}})",
       "/properties/a/items/uniqueItems"},
      {"patternProperties", R"({"patternProperties": {"^x": {}}})", "/patternProperties"},
      {"conditionals", R"({"if": {}, "then": {}})", "/if"},
      {"prefixItems", R"({"prefixItems": [{}]})", "/prefixItems"},
      {"the tuple form of items", R"({"items": [{}, {}]})", "/items"},
      {"a format other than date-time", R"({"format": "email"})", "/format"},
      {"a $ref outside $defs", R"({"definitions": {}, "$ref": "#/definitions/x"})", "/definitions"},
      {"a $ref to another document", R"({"$ref": "other.json#/$defs/x"})", "/$ref"},
      {"a $ref to a missing definition", R"({"$defs": {"a": {}}, "$ref": "#/$defs/b"})", "/$ref"},
      {"a $ref to a file, from a schema that came from no file", R"({"$ref": "other.json"})", "/$ref"},
      {"a $ref to a file outside the directory", R"({"$ref": "../other.json"})", "/$ref"},
      {"$defs below the root", R"({"properties": {"a": {"$defs": {}}}})", "/properties/a/$defs"},
      {"$id below the root", R"({"properties": {"a": {"$id": "x"}}})", "/properties/a/$id"},
      {"another draft", R"({"$schema": "http://json-schema.org/draft-07/schema#"})", "/$schema"},
      {"an unknown type", R"({"type": "str"})", "/type"},
      {"a type listed twice", R"({"type": ["null", "null"]})", "/type"},
      {"required that is not an array", R"({"required": "a"})", "/required"},
      {"a negative minItems", R"({"minItems": -1})", "/minItems"},
      {"a fractional maxLength", R"({"maxLength": 1.5})", "/maxLength"},
      {"a string minimum", R"({"minimum": "0"})", "/minimum"},
      {"an empty enum, which could accept nothing", R"({"enum": []})", "/enum"},
      {"an empty oneOf", R"({"oneOf": []})", "/oneOf"},
      {"a pattern RE2 cannot compile (lookahead)", R"j({"pattern": "(?=a)"})j", "/pattern"},
      {"a subschema that is neither object nor boolean", R"({"properties": {"a": 5}})", "/properties/a"},
      {"a non-string description", R"({"description": 5})", "/description"},
      {"a $ref cycle that never descends into the instance",
       R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"})",
       "/$defs/a"},
  };
  for (const auto& c : cases) {
    INFO(c.description << ": " << c.schema);
    auto loaded = load_schema(json::parse(c.schema));
    CHECK_FALSE(loaded);
    CHECK(loaded.schema == nullptr);
    REQUIRE_FALSE(loaded.errors.empty());
    INFO(loaded.errors_text());
    CHECK(loaded.errors[0].schema_pointer == c.pointer);
  }
}

TEST_CASE("a recursive $ref through a property is allowed, since it descends", "[schema]") {
  auto loaded = load_schema(json::parse(R"({
    "$defs": {"tree": {"type": "object", "properties": {"children": {"items": {"$ref": "#/$defs/tree"}}},
                       "additionalProperties": false}},
    "$ref": "#/$defs/tree"
  })"));
  INFO(loaded.errors_text());
  REQUIRE(loaded);
  CHECK(loaded.schema->validate(json::parse(R"({"children": [{"children": []}]})")).empty());
  auto violations = loaded.schema->validate(json::parse(R"({"children": [{"children": [{"leaf": 1}]}]})"));
  REQUIRE(violations.size() == 1);
  CHECK(violations[0].instance_pointer == "/children/0/children/0/leaf");
}

TEST_CASE("all problems of a schema are reported together", "[schema]") {
  auto loaded = load_schema(json::parse(R"({"type": "str", "properties": {"a": {"maxItems": -2}}, "x-extra": 1})"));
  CHECK_FALSE(loaded);
  CHECK(loaded.errors.size() == 3);
}

TEST_CASE("a schema file that cannot be read or parsed is a load error, not an exception", "[schema]") {
  auto missing = load_schema_file(TW_SOURCE_DIR "/docs/schemas/does-not-exist.json");
  CHECK_FALSE(missing);
  REQUIRE(missing.errors.size() == 1);
  CHECK_THAT(missing.errors[0].message, Catch::Contains("cannot open"));

  auto not_json = load_schema_file(TW_SOURCE_DIR "/tests/unit/json_schema_test.cpp");
  CHECK_FALSE(not_json);
  REQUIRE(not_json.errors.size() == 1);
  CHECK_THAT(not_json.errors[0].message, Catch::Contains("not JSON"));
}

TEST_CASE("date-time follows RFC 3339 section 5.6 strictly", "[schema]") {
  struct row {
    const char* description;
    const char* text;
    bool valid;
  };
  const row rows[] = {
      {"what tracewatch writes", "2025-01-01T00:00:00.123Z", true},
      {"RFC 3339's own example with a fraction", "1985-04-12T23:20:50.52Z", true},
      {"a negative offset", "1996-12-19T16:39:57-08:00", true},
      {"lower-case t and z", "2024-02-29t12:00:00z", true},
      {"a leap second at 23:59 UTC", "1990-12-31T23:59:60Z", true},
      {"a leap second at 23:59 UTC in local time", "1990-12-31T15:59:60-08:00", true},
      {"many fraction digits", "2025-01-01T00:00:00.123456789Z", true},
      {"a leap second at the wrong time", "1990-12-31T22:59:60Z", false},
      {"February 29 in a common year", "2023-02-29T00:00:00Z", false},
      {"April 31", "2025-04-31T00:00:00Z", false},
      {"month 13", "2025-13-01T00:00:00Z", false},
      {"hour 24", "2025-01-01T24:00:00Z", false},
      {"minute 60", "2025-01-01T00:60:00Z", false},
      {"no offset", "2025-01-01T00:00:00", false},
      {"a space instead of T", "2025-01-01 00:00:00Z", false},
      {"no seconds", "2025-01-01T00:00Z", false},
      {"an empty fraction", "2025-01-01T00:00:00.Z", false},
      {"an offset without a colon", "2025-01-01T00:00:00+0200", false},
      {"an offset hour of 24", "2025-01-01T00:00:00+24:00", false},
      {"a one-digit month", "2025-1-01T00:00:00Z", false},
      {"trailing text", "2025-01-01T00:00:00Zjunk", false},
      {"trailing space", "2025-01-01T00:00:00Z ", false},
      {"offset seconds", "2025-01-01T00:00:00+02:00:00", false},
      {"a date alone", "2025-01-01", false},
      {"the empty string", "", false},
      {"a non-ASCII digit", "1963-06-1\xe0\xa7\xaaT00:00:00Z", false},
  };
  for (const auto& r : rows) {
    INFO(r.description << ": " << r.text);
    CHECK(is_rfc3339_date_time(r.text) == r.valid);
  }
}

TEST_CASE("a $ref to a sibling file applies that whole schema, and its violations say where in both", "[schema]") {
  tw::test::temp_dir dir;
  std::ofstream(dir.sub("inner.json")) << R"({"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}})";
  std::ofstream(dir.sub("outer.json")) << R"({"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "inner.json"}}}})";
  auto loaded = load_schema_file(dir.sub("outer.json"));
  INFO(loaded.errors_text());
  REQUIRE(loaded);
  CHECK(loaded.schema->validate(json::parse(R"({"items": [{"n": 1}, {"n": 2}]})")).empty());
  auto violations = loaded.schema->validate(json::parse(R"({"items": [{"n": 1}, {"n": "two"}, {}]})"));
  REQUIRE(violations.size() == 2);
  CHECK(violations[0].instance_pointer == "/items/1/n");
  CHECK(violations[0].keyword == "type");
  CHECK(violations[0].schema_pointer == "inner.json#/properties/n/type");
  CHECK(violations[1].instance_pointer == "/items/2");
  CHECK(violations[1].keyword == "required");

  std::ofstream(dir.sub("dangling.json")) << R"({"$ref": "missing.json"})";
  auto dangling = load_schema_file(dir.sub("dangling.json"));
  CHECK_FALSE(dangling);
  REQUIRE_FALSE(dangling.errors.empty());
  CHECK(dangling.errors[0].schema_pointer == "/$ref");
  CHECK_THAT(dangling.errors[0].message, Catch::Contains("cannot open"));

  std::ofstream(dir.sub("a.json")) << R"({"$ref": "b.json"})";
  std::ofstream(dir.sub("b.json")) << R"({"$ref": "a.json"})";
  auto cycle = load_schema_file(dir.sub("a.json"));
  CHECK_FALSE(cycle);
  CHECK_THAT(cycle.errors_text(), Catch::Contains("nest too deep"));
}
