#include "tests/support/json_schema.hpp"

#include <re2/re2.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

namespace tw::testing {

using json = nlohmann::json;

namespace {

constexpr const char* draft_2020_12 = "https://json-schema.org/draft/2020-12/schema";

// The bits of a `type` keyword. A number with no fractional part is both number and integer.
enum : unsigned {
  type_null = 1u << 0,
  type_boolean = 1u << 1,
  type_object = 1u << 2,
  type_array = 1u << 3,
  type_number = 1u << 4,
  type_string = 1u << 5,
  type_integer = 1u << 6,
};

struct named_type {
  std::string_view name;
  unsigned bit;
};
constexpr named_type type_names[] = {
    {"null", type_null},     {"boolean", type_boolean}, {"object", type_object}, {"array", type_array},
    {"number", type_number}, {"string", type_string},   {"integer", type_integer},
};

std::optional<unsigned> type_bit(std::string_view name) {
  for (const auto& t : type_names)
    if (t.name == name) return t.bit;
  return std::nullopt;
}

std::string type_list(unsigned bits) {
  std::string out;
  for (const auto& t : type_names) {
    if (!(bits & t.bit)) continue;
    if (!out.empty()) out += " or ";
    out += t.name;
  }
  return out;
}

bool is_integral(const json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

// The type bits an instance satisfies.
unsigned type_of(const json& v) {
  if (v.is_null()) return type_null;
  if (v.is_boolean()) return type_boolean;
  if (v.is_object()) return type_object;
  if (v.is_array()) return type_array;
  if (v.is_string()) return type_string;
  if (v.is_number()) return type_number | (is_integral(v) ? type_integer : 0u);
  return 0;  // binary or discarded: not JSON
}

// The name to show in a message: the narrowest type (1 is "integer", 1.5 is "number").
std::string_view shown_type(const json& v) {
  const unsigned t = type_of(v);
  if (t & type_integer) return "integer";
  for (const auto& n : type_names)
    if (t & n.bit) return n.name;
  return "non-JSON value";
}

// Every int64, uint64 and double is exactly representable in a long double with a 64-bit
// significand (x86-64's extended precision, or quad precision), so comparisons through it are
// exact: 2^53 + 1 is correctly greater than 2^53.
static_assert(std::numeric_limits<long double>::digits >= 64, "exact number comparison needs a 64-bit significand");
long double exact(const json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<int64_t>());
  return static_cast<long double>(v.get<double>());
}

// Code points, not bytes: every byte that is not a UTF-8 continuation byte starts one.
uint64_t code_points(const std::string& s) {
  uint64_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Never throws, even for strings that are not UTF-8; long values are cut.
std::string shown(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 120) text = text.substr(0, 117) + "...";
  return text;
}

std::string escape_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string child(const std::string& pointer, std::string_view key) { return pointer + "/" + escape_token(key); }
std::string child(const std::string& pointer, size_t index) { return pointer + "/" + std::to_string(index); }

std::optional<uint64_t> non_negative_integer(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return v.get<int64_t>() >= 0 ? std::optional<uint64_t>(v.get<int64_t>()) : std::nullopt;
  if (v.is_number_float() && is_integral(v) && v.get<double>() >= 0 && v.get<double>() < 1.8e19)
    return static_cast<uint64_t>(v.get<double>());
  return std::nullopt;
}

bool read_digits(const std::string& s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;  // ASCII only: "৪" is not a digit here
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

int days_in_month(int year, int month) {
  static constexpr int table[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : table[month - 1];
}

// A compiled (sub)schema. Subschemas are indices into compiled::nodes, so that $ref can point at
// a node compiled elsewhere.
struct node {
  std::string pointer;           // where this schema sits in the schema document
  std::optional<bool> constant;  // a boolean schema: true accepts everything, false nothing
  unsigned types = 0;            // 0: no `type` keyword
  std::vector<std::pair<std::string, size_t>> properties;
  std::vector<std::string> required;
  std::optional<size_t> additional_properties;
  std::optional<size_t> items;
  std::optional<uint64_t> min_items, max_items;
  std::optional<json> enum_values;  // an array
  std::optional<json> const_value;
  std::optional<json> minimum, maximum, exclusive_minimum;
  std::optional<uint64_t> min_length, max_length;
  std::unique_ptr<const RE2> pattern;
  bool date_time = false;
  std::vector<size_t> one_of, any_of;
  std::optional<size_t> ref;
  std::shared_ptr<const json_schema> external;  // a $ref to another schema file
  std::string external_name;                    // its file name, for violations
};

}  // namespace

struct json_schema::compiled {
  std::vector<node> nodes;  // nodes[0] is the root
};

namespace {

// Builds the nodes of one schema document and collects every problem instead of stopping at the
// first, so that one test run shows everything wrong with a schema.
class compiler {
 public:
  std::vector<node> nodes;
  std::vector<schema_load_error> errors;
  // Loads a schema file named by a $ref ("tracewatch.verdict.v1.json"); empty for a document
  // loaded from memory, which then cannot name files.
  std::function<schema_load_result(const std::string&)> load_file;

  void compile_document(const json& document) {
    compile(document, "", /*is_root=*/true);
    resolve_refs();
    if (errors.empty()) reject_cycles();
  }

 private:
  struct pending_ref {
    size_t from;
    std::string target;   // the $ref text
    std::string pointer;  // where the $ref keyword is
  };
  std::map<std::string, size_t> defs_;  // "#/$defs/<name>" -> node
  std::vector<pending_ref> refs_;

  void fail(const std::string& pointer, std::string message) {
    errors.push_back(schema_load_error{pointer, std::move(message)});
  }

  size_t compile(const json& s, const std::string& pointer, bool is_root = false) {
    const size_t id = nodes.size();
    nodes.emplace_back();
    nodes[id].pointer = pointer;
    if (s.is_boolean()) {
      nodes[id].constant = s.get<bool>();
      return id;
    }
    if (!s.is_object()) {
      fail(pointer, "a schema must be an object or a boolean, not " + std::string(shown_type(s)));
      return id;
    }
    // Note: nodes may reallocate inside the recursive compile() calls, so nodes[id] is looked up
    // again after each of them rather than held as a reference.
    for (const auto& [key, value] : s.items()) {
      const std::string at = child(pointer, key);
      if (key == "type") {
        compile_type(id, value, at);
      } else if (key == "properties") {
        if (!value.is_object()) {
          fail(at, "properties must be an object");
          continue;
        }
        for (const auto& [name, sub] : value.items()) {
          const size_t sub_id = compile(sub, child(at, name));
          nodes[id].properties.emplace_back(name, sub_id);
        }
      } else if (key == "required") {
        std::set<std::string> seen;
        if (!value.is_array()) fail(at, "required must be an array of strings");
        else
          for (const auto& name : value) {
            if (!name.is_string()) fail(at, "required must be an array of strings, found " + shown(name));
            else if (!seen.insert(name.get<std::string>()).second) fail(at, "required lists " + shown(name) + " twice");
            else nodes[id].required.push_back(name.get<std::string>());
          }
      } else if (key == "additionalProperties") {
        const size_t sub_id = compile(value, at);
        nodes[id].additional_properties = sub_id;
      } else if (key == "items") {
        if (value.is_array()) {
          fail(at, "items must be a single schema (the array form belongs to drafts before 2020-12)");
          continue;
        }
        const size_t sub_id = compile(value, at);
        nodes[id].items = sub_id;
      } else if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength") {
        auto n = non_negative_integer(value);
        if (!n) {
          fail(at, key + " must be a non-negative integer, not " + shown(value));
          continue;
        }
        (key == "minItems"    ? nodes[id].min_items
         : key == "maxItems"  ? nodes[id].max_items
         : key == "minLength" ? nodes[id].min_length
                              : nodes[id].max_length) = *n;
      } else if (key == "enum") {
        if (!value.is_array() || value.empty()) fail(at, "enum must be a non-empty array (an empty one accepts nothing)");
        else nodes[id].enum_values = value;
      } else if (key == "const") {
        nodes[id].const_value = value;
      } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum") {
        if (!value.is_number()) {
          fail(at, key + " must be a number, not " + shown(value));
          continue;
        }
        (key == "minimum" ? nodes[id].minimum : key == "maximum" ? nodes[id].maximum : nodes[id].exclusive_minimum) = value;
      } else if (key == "pattern") {
        compile_pattern(id, value, at);
      } else if (key == "format") {
        if (value != "date-time") fail(at, "format " + shown(value) + " is not supported (only \"date-time\")");
        else nodes[id].date_time = true;
      } else if (key == "oneOf" || key == "anyOf") {
        if (!value.is_array() || value.empty()) {
          fail(at, key + " must be a non-empty array of schemas");
          continue;
        }
        for (size_t i = 0; i < value.size(); ++i) {
          const size_t sub_id = compile(value[i], child(at, i));
          (key == "oneOf" ? nodes[id].one_of : nodes[id].any_of).push_back(sub_id);
        }
      } else if (key == "$ref") {
        if (!value.is_string()) fail(at, "$ref must be a string");
        else refs_.push_back(pending_ref{id, value.get<std::string>(), at});
      } else if (key == "$defs") {
        if (!is_root) {
          fail(at, "$defs is supported only at the root (refs are resolved against the root's $defs)");
          continue;
        }
        if (!value.is_object()) {
          fail(at, "$defs must be an object");
          continue;
        }
        for (const auto& [name, sub] : value.items()) {
          const size_t sub_id = compile(sub, child(at, name));
          defs_["#/$defs/" + escape_token(name)] = sub_id;
        }
      } else if (key == "$schema") {
        if (!is_root) fail(at, "$schema is supported only at the root");
        else if (value != draft_2020_12)
          fail(at, "only draft 2020-12 (\"" + std::string(draft_2020_12) + "\") is supported, not " + shown(value));
      } else if (key == "$id") {
        if (!is_root) fail(at, "$id is supported only at the root (a nested $id would change how $ref resolves)");
        else if (!value.is_string()) fail(at, "$id must be a string");
      } else if (key == "title" || key == "description" || key == "$comment") {
        if (!value.is_string()) fail(at, key + " must be a string");
      } else if (key == "examples") {
        if (!value.is_array()) fail(at, "examples must be an array");
      } else {
        fail(at, "unsupported keyword \"" + key + "\": it would be ignored, so the schema is refused "
                 "(tests/support/json_schema.hpp lists the supported keywords)");
      }
    }
    return id;
  }

  void compile_type(size_t id, const json& value, const std::string& at) {
    unsigned bits = 0;
    auto add = [&](const json& name) {
      auto bit = name.is_string() ? type_bit(name.get<std::string>()) : std::nullopt;
      if (!bit) fail(at, "unknown type " + shown(name));
      else if (bits & *bit) fail(at, "type lists " + shown(name) + " twice");
      else bits |= *bit;
    };
    if (value.is_array()) {
      if (value.empty()) fail(at, "type must not be an empty array");
      for (const auto& name : value) add(name);
    } else {
      add(value);
    }
    nodes[id].types = bits;
  }

  void compile_pattern(size_t id, const json& value, const std::string& at) {
    if (!value.is_string()) {
      fail(at, "pattern must be a string");
      return;
    }
    RE2::Options options;
    options.set_log_errors(false);  // the error is reported as a load error instead of on stderr
    auto re = std::make_unique<const RE2>(value.get<std::string>(), options);
    if (!re->ok()) {
      fail(at, "pattern " + shown(value) + " does not compile under RE2: " + re->error());
      return;
    }
    nodes[id].pattern = std::move(re);
  }

  static bool is_file_name(const std::string& target) {
    static const RE2 file(R"(^[A-Za-z0-9_.-]+\.json$)");
    return RE2::FullMatch(target, file) && target.find("..") == std::string::npos;
  }

  void resolve_refs() {
    for (const auto& r : refs_) {
      auto it = defs_.find(r.target);
      if (it != defs_.end()) {
        nodes[r.from].ref = it->second;
        continue;
      }
      if (is_file_name(r.target)) {
        if (!load_file) {
          fail(r.pointer, "$ref \"" + r.target + "\" names a file: only a schema loaded from a file (load_schema_file) may");
          continue;
        }
        auto loaded = load_file(r.target);
        if (!loaded) fail(r.pointer, "$ref \"" + r.target + "\" does not load: " + loaded.errors_text());
        nodes[r.from].external = loaded.schema;
        nodes[r.from].external_name = r.target;
        continue;
      }
      if (r.target.rfind("#/$defs/", 0) != 0)
        fail(r.pointer, "$ref \"" + r.target + "\" is not supported: only \"#/$defs/<name>\" or a sibling file \"<name>.json\" is");
      else
        fail(r.pointer, "$ref \"" + r.target + "\" names no entry of the root's $defs");
    }
  }

  // $ref, oneOf and anyOf apply a schema to the same instance. A cycle of them would recurse
  // forever on any instance, so it is a load error rather than a stack overflow in a test.
  void reject_cycles() {
    enum class mark { unvisited, on_path, done };
    std::vector<mark> marks(nodes.size(), mark::unvisited);
    std::function<bool(size_t)> visit = [&](size_t id) -> bool {
      if (marks[id] == mark::on_path) {
        fail(nodes[id].pointer, "a cycle of $ref/oneOf/anyOf returns here without descending into the instance");
        return false;
      }
      if (marks[id] == mark::done) return true;
      marks[id] = mark::on_path;
      std::vector<size_t> next = nodes[id].one_of;
      next.insert(next.end(), nodes[id].any_of.begin(), nodes[id].any_of.end());
      if (nodes[id].ref) next.push_back(*nodes[id].ref);
      for (size_t n : next)
        if (!visit(n)) return false;
      marks[id] = mark::done;
      return true;
    };
    for (size_t id = 0; id < nodes.size(); ++id)
      if (!visit(id)) return;
  }
};

class validator {
 public:
  explicit validator(const std::vector<node>& nodes) : nodes_(nodes) {}

  // `via` is the keyword that applied this schema ("properties", "items", ...): it names the
  // violation when the schema is `false`.
  void check(size_t id, const json& v, const std::string& at, std::string_view via,
             std::vector<schema_violation>& out) const {
    const node& n = nodes_[id];
    auto violation = [&](std::string_view keyword, std::string message) {
      out.push_back(schema_violation{at, std::string(keyword), child(n.pointer, keyword), std::move(message)});
    };
    if (n.constant) {
      if (!*n.constant)
        out.push_back(schema_violation{at, std::string(via), n.pointer,
                                       via == "additionalProperties"
                                           ? "property \"" + last_token(at) + "\" is not allowed here"
                                           : "the schema is false: no value is allowed here"});
      return;
    }
    if (n.ref) check(*n.ref, v, at, "$ref", out);
    if (n.external)
      for (auto x : n.external->validate(v)) {
        x.instance_pointer = at + x.instance_pointer;
        x.schema_pointer = n.external_name + "#" + x.schema_pointer;
        out.push_back(std::move(x));
      }
    if (n.types && !(type_of(v) & n.types))
      violation("type", "expected " + type_list(n.types) + ", got " + std::string(shown_type(v)));
    if (n.enum_values) {
      bool found = false;
      for (const auto& e : *n.enum_values) found = found || e == v;
      if (!found) violation("enum", shown(v) + " is not one of " + shown(*n.enum_values));
    }
    if (n.const_value && !(*n.const_value == v)) violation("const", "expected " + shown(*n.const_value) + ", got " + shown(v));
    if (v.is_number()) check_number(n, v, violation);
    if (v.is_string()) check_string(n, v.get_ref<const std::string&>(), violation);
    if (v.is_array()) {
      if (n.min_items && v.size() < *n.min_items)
        violation("minItems", "has " + std::to_string(v.size()) + " items, fewer than " + std::to_string(*n.min_items));
      if (n.max_items && v.size() > *n.max_items)
        violation("maxItems", "has " + std::to_string(v.size()) + " items, more than " + std::to_string(*n.max_items));
      if (n.items)
        for (size_t i = 0; i < v.size(); ++i) check(*n.items, v[i], child(at, i), "items", out);
    }
    if (v.is_object()) {
      for (const auto& name : n.required)
        if (!v.contains(name)) violation("required", "missing required property \"" + name + "\"");
      for (const auto& [name, sub] : n.properties) {
        auto it = v.find(name);
        if (it != v.end()) check(sub, *it, child(at, name), "properties", out);
      }
      if (n.additional_properties)
        for (const auto& [name, value] : v.items()) {
          if (declared(n, name)) continue;
          check(*n.additional_properties, value, child(at, name), "additionalProperties", out);
        }
    }
    if (!n.any_of.empty()) {
      std::vector<std::vector<schema_violation>> branches = run_branches(n.any_of, v, at, "anyOf");
      bool matched = false;
      for (const auto& b : branches) matched = matched || b.empty();
      if (!matched) violation("anyOf", "matches none of the " + std::to_string(branches.size()) + " alternatives: " + summary(branches));
    }
    if (!n.one_of.empty()) {
      std::vector<std::vector<schema_violation>> branches = run_branches(n.one_of, v, at, "oneOf");
      std::string matched;
      size_t count = 0;
      for (size_t i = 0; i < branches.size(); ++i)
        if (branches[i].empty()) {
          matched += (count++ ? ", " : "") + std::to_string(i);
        }
      if (count == 0)
        violation("oneOf", "matches none of the " + std::to_string(branches.size()) + " alternatives: " + summary(branches));
      else if (count > 1)
        violation("oneOf", "matches " + std::to_string(count) + " alternatives (" + matched + "); exactly one must match");
    }
  }

 private:
  const std::vector<node>& nodes_;

  template <class Violation>
  static void check_number(const node& n, const json& v, Violation& violation) {
    const long double x = exact(v);
    if (n.minimum && x < exact(*n.minimum)) violation("minimum", shown(v) + " is less than the minimum " + shown(*n.minimum));
    if (n.maximum && x > exact(*n.maximum)) violation("maximum", shown(v) + " is greater than the maximum " + shown(*n.maximum));
    if (n.exclusive_minimum && !(x > exact(*n.exclusive_minimum)))
      violation("exclusiveMinimum", shown(v) + " is not greater than " + shown(*n.exclusive_minimum));
  }

  template <class Violation>
  static void check_string(const node& n, const std::string& s, Violation& violation) {
    const uint64_t length = code_points(s);
    if (n.min_length && length < *n.min_length)
      violation("minLength", "is " + std::to_string(length) + " code points long, fewer than " + std::to_string(*n.min_length));
    if (n.max_length && length > *n.max_length)
      violation("maxLength", "is " + std::to_string(length) + " code points long, more than " + std::to_string(*n.max_length));
    if (n.pattern && !RE2::PartialMatch(s, *n.pattern))
      violation("pattern", shown(json(s)) + " does not match " + shown(json(n.pattern->pattern())));
    if (n.date_time && !is_rfc3339_date_time(s)) violation("format", shown(json(s)) + " is not an RFC 3339 date-time");
  }

  static bool declared(const node& n, const std::string& name) {
    for (const auto& p : n.properties)
      if (p.first == name) return true;
    return false;
  }

  std::vector<std::vector<schema_violation>> run_branches(const std::vector<size_t>& ids, const json& v,
                                                          const std::string& at, std::string_view via) const {
    std::vector<std::vector<schema_violation>> branches(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) check(ids[i], v, at, via, branches[i]);
    return branches;
  }

  // "[0] /x: type: ...; [1] ..." — the first violation of each alternative, so that a failing
  // test shows why each alternative was rejected.
  static std::string summary(const std::vector<std::vector<schema_violation>>& branches) {
    std::string out;
    for (size_t i = 0; i < branches.size(); ++i) {
      if (i) out += "; ";
      out += "[" + std::to_string(i) + "] " + branches[i].front().to_string();
      if (branches[i].size() > 1) out += " (+" + std::to_string(branches[i].size() - 1) + " more)";
    }
    return out;
  }

  static std::string last_token(const std::string& pointer) {
    std::string token = pointer.substr(pointer.rfind('/') + 1), out;
    for (size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size()) {
        out += token[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        out += token[i];
      }
    }
    return out;
  }
};

}  // namespace

std::string schema_violation::to_string() const {
  return (instance_pointer.empty() ? "(root)" : instance_pointer) + ": " + keyword + ": " + message;
}

std::string schema_load_error::to_string() const {
  return (schema_pointer.empty() ? "(root)" : schema_pointer) + ": " + message;
}

std::string schema_load_result::errors_text() const {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

std::string to_string(const std::vector<schema_violation>& violations) {
  std::string out;
  for (const auto& v : violations) out += v.to_string() + "\n";
  return out;
}

json_schema::json_schema(std::unique_ptr<const compiled> c) : compiled_(std::move(c)) {}
json_schema::~json_schema() = default;

std::vector<schema_violation> json_schema::validate(const json& instance) const {
  std::vector<schema_violation> out;
  validator(compiled_->nodes).check(0, instance, "", "the root schema", out);
  return out;
}

schema_load_result load_schema(const json& document,
                               std::function<schema_load_result(const std::string&)> load_file) {
  compiler c;
  c.load_file = std::move(load_file);
  c.compile_document(document);
  schema_load_result r;
  if (!c.errors.empty()) {
    r.errors = std::move(c.errors);
    return r;
  }
  auto compiled = std::make_unique<json_schema::compiled>();
  compiled->nodes = std::move(c.nodes);
  r.schema = std::shared_ptr<const json_schema>(new json_schema(std::move(compiled)));  // private constructor
  return r;
}

schema_load_result load_schema(const json& document) { return load_schema(document, nullptr); }

schema_load_result load_schema_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return schema_load_result{nullptr, {schema_load_error{"", path + ": cannot open the file"}}};
  std::stringstream text;
  text << in.rdbuf();
  json document;
  try {
    document = json::parse(text.str());
  } catch (const json::parse_error& e) {
    // The library's only error channel for positions; converted into a value here.
    return schema_load_result{nullptr, {schema_load_error{"", path + ": not JSON: " + e.what()}}};
  }
  // A $ref to a file loads it from this file's directory; a chain of them deeper than this is a
  // cycle (a schema that refers back to itself through files would never finish loading).
  static thread_local int depth = 0;
  if (depth > 8) return schema_load_result{nullptr, {schema_load_error{"", path + ": $ref files nest too deep (a cycle?)"}}};
  const std::string dir = path.find('/') == std::string::npos ? std::string(".") : path.substr(0, path.rfind('/'));
  ++depth;
  schema_load_result r = load_schema(document, [&dir](const std::string& name) { return load_schema_file(dir + "/" + name); });
  --depth;
  for (auto& e : r.errors) e.message = path + ": " + e.message;
  return r;
}

bool is_rfc3339_date_time(const std::string& s) {
  // date-time := full-date "T" full-time ; full-time := hh ":" mm ":" ss [ "." 1*DIGIT ] offset
  // offset := "Z" / ("+" / "-") hh ":" mm ; T and Z are case-insensitive (RFC 3339 §5.6 note).
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || !read_digits(s, 0, 4, year) || s[4] != '-' || !read_digits(s, 5, 2, month) || s[7] != '-' ||
      !read_digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') || !read_digits(s, 11, 2, hour) || s[13] != ':' ||
      !read_digits(s, 14, 2, minute) || s[16] != ':' || !read_digits(s, 17, 2, second))
    return false;
  size_t pos = 19;
  if (s[pos] == '.') {
    const size_t first = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == first) return false;
  }
  if (pos >= s.size()) return false;  // the offset is not optional
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!read_digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !read_digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return false;
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60)
    return false;
  // A leap second is inserted at 23:59:60 UTC: in local time that minute moves with the offset.
  if (second == 60 && ((hour * 60 + minute - offset_minutes) % 1440 + 1440) % 1440 != 23 * 60 + 59) return false;
  return true;
}

}  // namespace tw::testing
