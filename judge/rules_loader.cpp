// Reading a rules file (docs/rules.md) into a rule_set. Validation is strict: the first problem
// found stops the load with a rules_error whose path names the place in the file
// ("intents[1].fulfillment[0].implies"), so that a bad rules file fails at start, never half-works.
//
// The file is checked in a fixed order — fallback_intent, intent_labels, common_checks, intents,
// experts; inside a map, unknown keys first, then the fields in the order the format lists them —
// so the same file always reports the same first error.
#include <yaml-cpp/yaml.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>

#include "judge/builtin_rules_yaml.hpp"
#include "judge/judge.hpp"
#include "config/values.hpp"
#include "config/yaml_reader.hpp"
#include "judge/rules.hpp"
#include "model/text.hpp"

namespace tw::judge {

const std::string& tool_errors_options::key_for(std::string_view tool) const {
  for (const auto& [name, key] : keys)
    if (name == tool) return key;
  return default_key;
}

rule_set::rule_set(std::string version, std::vector<intent_spec> intents, intent_spec fallback,
                   std::vector<std::string> intent_labels, std::vector<check_spec> common_checks,
                   expert_options experts)
    : version_(std::move(version)),
      intents_(std::move(intents)),
      fallback_(std::move(fallback)),
      intent_labels_(std::move(intent_labels)),
      common_checks_(std::move(common_checks)),
      experts_(std::move(experts)) {}

const intent_spec* rule_set::find_intent(std::string_view name) const {
  for (const auto& i : intents_)
    if (i.name == name) return &i;
  return nullptr;
}

const std::string& rules_version(const rule_set& r) { return r.version(); }

namespace {

using namespace config::yaml;  // names, field, item, join, unknown, empty_text

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

const names check_conditions = {"tool_succeeded", "tool_not_called", "tool_called",
                                "no_tool_error_after_last_user_turn", "no_llm_error", "min_turns"};
const names rule_conditions = {"user_text", "tool_used", "metadata"};

// The strict YAML reads (config/yaml_reader.hpp), and the ones only the judgement rules have.
class reader : public config::yaml::reader {
 public:
  std::optional<rules_error> error() const {
    if (!first_error()) return std::nullopt;
    return rules_error{first_error()->path, first_error()->message};
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    if (*s == "true") return true;
    if (*s == "false") return false;
    fail(path, "must be true or false");
    return std::nullopt;
  }

  std::optional<pattern> regex(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    RE2::Options options;
    options.set_log_errors(false);  // the error is reported as a rules_error instead
    auto re = std::make_shared<RE2>(*s, options);
    if (!re->ok()) {
      fail(path, "invalid regular expression: " + re->error());
      return std::nullopt;
    }
    return pattern{*s, std::move(re)};
  }
};

bool tool_listed(const tool_errors_options& o, const std::string& tool) {
  return std::any_of(o.keys.begin(), o.keys.end(), [&](const auto& kv) { return kv.first == tool; });
}

// Which of `conditions` appear in `map`: exactly one, or an error.
std::optional<std::string> one_condition(reader& r, const YAML::Node& map, const std::string& path,
                                         const names& conditions, const char* what) {
  std::vector<std::string> present;
  for (auto c : conditions)
    if (map[std::string(c)].IsDefined()) present.emplace_back(c);
  if (present.size() == 1) return present.front();
  if (present.empty())
    r.fail(path, std::string("needs one condition; ") + what + " has exactly one of: " + join(conditions));
  else
    r.fail(path, "has both '" + present[0] + "' and '" + present[1] + "'; " + what + " has exactly one of: " +
                     join(conditions));
  return std::nullopt;
}

class compiler {
 public:
  explicit compiler(reader& r) : r_(r) {}

  std::shared_ptr<const rule_set> compile(const YAML::Node& root, const std::string& source) {
    if (!root.IsMap()) {
      r_.fail("", root.IsNull() ? "the rules file is empty; it needs at least fallback_intent"
                                : "the top level must be a map (intents, fallback_intent, ...)");
      return nullptr;
    }
    if (!r_.only_keys(root, "", {"intents", "intent_labels", "fallback_intent", "common_checks", "experts", "alerts"}))
      return nullptr;

    intent_spec fallback;
    if (!root["fallback_intent"].IsDefined()) {
      r_.fail("fallback_intent", "is required: the intent a session gets when no rule matches, e.g. "
                                 "`fallback_intent: unknown`");
      return nullptr;
    }
    fallback = read_fallback(root["fallback_intent"]);
    if (!r_.ok()) return nullptr;

    std::vector<std::string> labels;
    if (root["intent_labels"].IsDefined()) labels = r_.text_list(root["intent_labels"], "intent_labels");
    if (!r_.ok()) return nullptr;

    std::vector<check_spec> common;
    if (root["common_checks"].IsDefined()) common = read_checks(root["common_checks"], "common_checks", {});
    if (!r_.ok()) return nullptr;
    for (size_t i = 0; i < common.size(); ++i) common_paths_[common[i].id] = item("common_checks", i);

    // The fallback's own checks against the common ones (read before common_paths_ was known).
    for (size_t i = 0; i < fallback.checks.size(); ++i)
      if (auto it = common_paths_.find(fallback.checks[i].id); it != common_paths_.end()) {
        r_.fail(field(item("fallback_intent.fulfillment", i), "id"),
                "'" + fallback.checks[i].id + "' is already used by " + it->second);
        return nullptr;
      }

    std::vector<intent_spec> intents;
    if (root["intents"].IsDefined()) {
      const YAML::Node list = root["intents"];
      if (!r_.is_list(list, "intents")) return nullptr;
      std::map<std::string, std::string> intent_paths;  // name -> path
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string path = item("intents", i);
        intent_spec in = read_intent(list[i], path);
        if (!r_.ok()) return nullptr;
        if (in.name == fallback.name) {
          r_.fail(field(path, "name"), "'" + in.name + "' is the fallback intent's name; intents and the "
                                       "fallback must differ");
          return nullptr;
        }
        if (auto [it, fresh] = intent_paths.emplace(in.name, path); !fresh) {
          r_.fail(field(path, "name"), "'" + in.name + "' is already the name of " + it->second);
          return nullptr;
        }
        intents.push_back(std::move(in));
      }
    }

    expert_options experts;
    if (root["experts"].IsDefined()) experts = read_experts(root["experts"], "experts");
    if (!r_.ok()) return nullptr;

    return std::make_shared<rule_set>(hex16(stable_hash(source)), std::move(intents), std::move(fallback),
                                      std::move(labels), std::move(common), std::move(experts));
  }

 private:
  intent_spec read_fallback(const YAML::Node& n) {
    intent_spec f;
    const std::string path = "fallback_intent";
    if (n.IsScalar() || n.IsNull()) {  // the short form: just the name
      if (auto name = r_.text(n, path)) f.name = *name;
      return f;
    }
    if (!r_.is_map(n, path) || !r_.only_keys(n, path, {"name", "description", "fulfillment"})) return f;
    if (!n["name"].IsDefined()) {
      r_.fail(field(path, "name"), "is required");
      return f;
    }
    if (auto name = r_.text(n["name"], field(path, "name"))) f.name = *name;
    if (r_.ok() && n["description"].IsDefined())
      if (auto d = r_.text(n["description"], field(path, "description"), empty_text::allowed)) f.description = *d;
    if (r_.ok() && n["fulfillment"].IsDefined())
      f.checks = read_checks(n["fulfillment"], field(path, "fulfillment"), {});
    return f;
  }

  intent_spec read_intent(const YAML::Node& n, const std::string& path) {
    intent_spec in;
    if (!r_.is_map(n, path) || !r_.only_keys(n, path, {"name", "description", "match", "fulfillment"})) return in;
    if (!n["name"].IsDefined()) {
      r_.fail(field(path, "name"), "is required");
      return in;
    }
    if (auto name = r_.text(n["name"], field(path, "name"))) in.name = *name;
    if (r_.ok() && n["description"].IsDefined())
      if (auto d = r_.text(n["description"], field(path, "description"), empty_text::allowed)) in.description = *d;
    if (r_.ok() && n["match"].IsDefined()) {
      const std::string mpath = field(path, "match");
      const YAML::Node list = n["match"];
      if (!r_.is_list(list, mpath)) return in;
      for (size_t j = 0; j < list.size() && r_.ok(); ++j) {
        match_rule rule = read_rule(list[j], item(mpath, j));
        if (r_.ok()) in.rules.push_back(std::move(rule));
      }
    }
    if (r_.ok() && n["fulfillment"].IsDefined()) in.checks = read_checks(n["fulfillment"], field(path, "fulfillment"),
                                                                          common_paths_);
    return in;
  }

  match_rule read_rule(const YAML::Node& n, const std::string& path) {
    match_rule rule;
    if (!r_.is_map(n, path) || !r_.only_keys(n, path, {"id", "weight", "user_text", "tool_used", "metadata"}))
      return rule;
    if (!read_id(n, path, rule.id)) return rule;
    if (auto [it, fresh] = rule_paths_.emplace(rule.id, path); !fresh) {
      r_.fail(field(path, "id"), "'" + rule.id + "' is already used by " + it->second + "; rule ids are unique "
                                 "in the file (evidence names them)");
      return rule;
    }
    if (!n["weight"].IsDefined()) {
      r_.fail(field(path, "weight"), "is required: a number in (0, 1]");
      return rule;
    }
    auto w = r_.number(n["weight"], field(path, "weight"), "a weight is a number in (0, 1]");
    if (!w) return rule;
    if (!(*w > 0 && *w <= 1)) {
      r_.fail(field(path, "weight"), "must be in (0, 1]; 1 means the rule alone is certain");
      return rule;
    }
    rule.weight = *w;
    auto kind = one_condition(r_, n, path, rule_conditions, "a match rule");
    if (!kind) return rule;
    if (*kind == "user_text") {
      rule.kind = match_kind::user_text;
      rule.regex = r_.regex(n["user_text"], field(path, "user_text"));
    } else if (*kind == "tool_used") {
      rule.kind = match_kind::tool_used;
      if (auto t = r_.text(n["tool_used"], field(path, "tool_used"))) rule.tool = *t;
    } else {
      rule.kind = match_kind::metadata;
      const std::string mpath = field(path, "metadata");
      const YAML::Node m = n["metadata"];
      if (!r_.is_map(m, mpath) || !r_.only_keys(m, mpath, {"key", "equals", "matches"})) return rule;
      if (!m["key"].IsDefined()) {
        r_.fail(field(mpath, "key"), "is required: the metadata key to look at");
        return rule;
      }
      if (auto k = r_.text(m["key"], field(mpath, "key"))) rule.metadata_key = *k;
      if (!r_.ok()) return rule;
      auto how = one_condition(r_, m, mpath, {"equals", "matches"}, "a metadata rule");
      if (!how) return rule;
      if (*how == "equals") {
        rule.equals = r_.text(m["equals"], field(mpath, "equals"), empty_text::allowed);
      } else {
        rule.regex = r_.regex(m["matches"], field(mpath, "matches"));
      }
    }
    return rule;
  }

  // `taken`: check ids the list must not reuse (the common checks), id -> path.
  std::vector<check_spec> read_checks(const YAML::Node& list, const std::string& path,
                                      const std::map<std::string, std::string>& taken) {
    std::vector<check_spec> out;
    if (!r_.is_list(list, path)) return out;
    std::map<std::string, std::string> own;
    for (size_t i = 0; i < list.size() && r_.ok(); ++i) {
      const std::string cpath = item(path, i);
      check_spec c = read_check(list[i], cpath);
      if (!r_.ok()) break;
      if (auto it = taken.find(c.id); it != taken.end()) {
        r_.fail(field(cpath, "id"), "'" + c.id + "' is already used by " + it->second);
        break;
      }
      if (auto [it, fresh] = own.emplace(c.id, cpath); !fresh) {
        r_.fail(field(cpath, "id"), "'" + c.id + "' is already used by " + it->second);
        break;
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  check_spec read_check(const YAML::Node& n, const std::string& path) {
    check_spec c;
    if (!r_.is_map(n, path) ||
        !r_.only_keys(n, path, {"id", "description", "implies", "tool_succeeded", "result_has", "if_called",
                                "tool_not_called", "tool_called", "no_tool_error_after_last_user_turn",
                                "no_llm_error", "min_turns", "skip_if_tool_succeeded"}))
      return c;
    if (!read_id(n, path, c.id)) return c;
    if (n["description"].IsDefined())
      if (auto d = r_.text(n["description"], field(path, "description"))) c.description = *d;
    if (!r_.ok()) return c;
    if (!n["implies"].IsDefined()) {
      r_.fail(field(path, "implies"), "is required: what the session becomes when the check fails (fail, partial "
                                      "or error)");
      return c;
    }
    auto implies = r_.text(n["implies"], field(path, "implies"));
    if (!implies) return c;
    if (*implies == "fail") c.implies = verdict_status::fail;
    else if (*implies == "partial") c.implies = verdict_status::partial;
    else if (*implies == "error") c.implies = verdict_status::error;
    else {
      r_.fail(field(path, "implies"), "must be one of fail, partial, error (was '" + *implies + "')");
      return c;
    }

    auto kind = one_condition(r_, n, path, check_conditions, "a check");
    if (!kind) return c;
    const std::string cond_path = field(path, *kind);
    const YAML::Node cond = n[*kind];
    auto tool_name = [&] {
      if (auto t = r_.text(cond, cond_path)) c.tool = *t;
    };
    auto must_be_true = [&] {
      auto b = r_.boolean(cond, cond_path);
      if (b && !*b) r_.fail(cond_path, "must be true (to drop the check, remove it)");
    };
    if (*kind == "tool_succeeded") {
      c.kind = check_kind::tool_succeeded;
      tool_name();
    } else if (*kind == "tool_not_called") {
      c.kind = check_kind::tool_not_called;
      tool_name();
    } else if (*kind == "tool_called") {
      c.kind = check_kind::tool_called;
      tool_name();
    } else if (*kind == "no_tool_error_after_last_user_turn") {
      c.kind = check_kind::no_tool_error_after_last_user_turn;
      must_be_true();
    } else if (*kind == "no_llm_error") {
      c.kind = check_kind::no_llm_error;
      must_be_true();
    } else {
      c.kind = check_kind::min_turns;
      if (auto v = r_.count(cond, cond_path, 1)) c.min_turns = *v;
    }
    if (!r_.ok()) return c;

    for (const char* only_for_succeeded : {"result_has", "if_called"}) {
      if (n[only_for_succeeded].IsDefined() && c.kind != check_kind::tool_succeeded) {
        r_.fail(field(path, only_for_succeeded), "applies only to a tool_succeeded check");
        return c;
      }
    }
    if (n["result_has"].IsDefined())
      if (auto f = r_.text(n["result_has"], field(path, "result_has"))) c.result_has = *f;
    if (r_.ok() && n["if_called"].IsDefined())
      if (auto b = r_.boolean(n["if_called"], field(path, "if_called"))) c.if_called = *b;
    if (r_.ok() && n["skip_if_tool_succeeded"].IsDefined())
      if (auto t = r_.text(n["skip_if_tool_succeeded"], field(path, "skip_if_tool_succeeded")))
        c.skip_if_tool_succeeded = *t;
    if (c.description.empty()) c.description = describe(c);
    return c;
  }

  static std::string describe(const check_spec& c) {
    switch (c.kind) {
      case check_kind::tool_succeeded:
        return c.tool + " succeeded" + (c.result_has.empty() ? "" : " and returned " + c.result_has) +
               (c.if_called ? ", when it was called" : "");
      case check_kind::tool_not_called: return c.tool + " was not called";
      case check_kind::tool_called: return c.tool + " was called";
      case check_kind::no_tool_error_after_last_user_turn: return "no tool failed at or after the last user turn";
      case check_kind::no_llm_error: return "no LLM call failed";
      case check_kind::min_turns: return "at least " + std::to_string(c.min_turns) + " turns";
    }
    return "";
  }

  bool read_id(const YAML::Node& n, const std::string& path, std::string& id) {
    if (!n["id"].IsDefined()) {
      r_.fail(field(path, "id"), "is required");
      return false;
    }
    auto v = r_.text(n["id"], field(path, "id"));
    if (v) id = *v;
    return r_.ok();
  }

  // `codes`: finding code -> where its key goes.
  void read_keys(const YAML::Node& n, const std::string& path,
                 std::initializer_list<std::pair<std::string_view, std::string*>> codes) {
    names allowed;
    for (const auto& c : codes) allowed.push_back(c.first);
    if (!r_.is_map(n, path) || !r_.only_keys(n, path, allowed, "finding code")) return;
    for (const auto& [code, out] : codes)
      if (n[std::string(code)].IsDefined())
        if (auto v = r_.text(n[std::string(code)], field(path, code))) *out = *v;
  }

  expert_options read_experts(const YAML::Node& n, const std::string& path) {
    expert_options e;
    if (!r_.is_map(n, path) || !r_.only_keys(n, path, {"tool_errors", "llm", "latency", "loops", "cost"})) return e;

    if (const YAML::Node t = n["tool_errors"]; t.IsDefined()) {
      const std::string p = field(path, "tool_errors");
      if (!r_.is_map(t, p) || !r_.only_keys(t, p, {"keys", "default_key"})) return e;
      if (const YAML::Node k = t["keys"]; k.IsDefined()) {
        if (!r_.is_map(k, field(p, "keys"))) return e;
        for (const auto& kv : k) {
          if (!r_.plain_key(kv.first, field(p, "keys"))) return e;
          const std::string tool = kv.first.Scalar();
          if (tool_listed(e.tool_errors, tool)) {
            r_.fail(field(field(p, "keys"), tool), "is given twice");
            return e;
          }
          auto key = r_.text(kv.second, field(field(p, "keys"), tool));
          if (!key) return e;
          e.tool_errors.keys.emplace_back(tool, *key);
        }
      }
      if (t["default_key"].IsDefined())
        if (auto v = r_.text(t["default_key"], field(p, "default_key"))) e.tool_errors.default_key = *v;
      if (!r_.ok()) return e;
    }

    if (const YAML::Node l = n["llm"]; l.IsDefined()) {
      const std::string p = field(path, "llm");
      if (!r_.is_map(l, p) || !r_.only_keys(l, p, {"refusal_patterns", "failure_finish_reasons", "keys"})) return e;
      if (const YAML::Node list = l["refusal_patterns"]; list.IsDefined()) {
        const std::string lp = field(p, "refusal_patterns");
        if (!r_.is_list(list, lp)) return e;
        for (size_t i = 0; i < list.size(); ++i) {
          auto re = r_.regex(list[i], item(lp, i));
          if (!re) return e;
          e.llm.refusal_patterns.push_back(std::move(*re));
        }
      }
      if (l["failure_finish_reasons"].IsDefined())
        e.llm.failure_finish_reasons = r_.text_list(l["failure_finish_reasons"], field(p, "failure_finish_reasons"));
      if (r_.ok() && l["keys"].IsDefined())
        read_keys(l["keys"], field(p, "keys"),
                  {{"LLM_ERROR", &e.llm.error_key},
                   {"LLM_REFUSAL", &e.llm.refusal_key},
                   {"LLM_EMPTY_OUTPUT", &e.llm.empty_output_key},
                   {"LLM_TRUNCATED", &e.llm.truncated_key}});
      if (!r_.ok()) return e;
    }

    if (const YAML::Node l = n["latency"]; l.IsDefined()) {
      const std::string p = field(path, "latency");
      if (!r_.is_map(l, p) || !r_.only_keys(l, p, {"max_llm_call_ms", "max_tool_call_ms", "keys"})) return e;
      auto millis = [&](const char* key, duration& out) {
        if (!r_.ok() || !l[key].IsDefined()) return;
        auto v = r_.number(l[key], field(p, key), "milliseconds, more than 0");
        if (!v) return;
        if (!(*v > 0 && *v < 86'400'000)) {
          r_.fail(field(p, key), "must be more than 0 and less than a day (86400000)");
          return;
        }
        out = duration(static_cast<int64_t>(std::llround(*v * 1000)));
      };
      millis("max_llm_call_ms", e.latency.max_llm_call);
      millis("max_tool_call_ms", e.latency.max_tool_call);
      if (r_.ok() && l["keys"].IsDefined())
        read_keys(l["keys"], field(p, "keys"),
                  {{"SLOW_LLM_CALL", &e.latency.slow_llm_key}, {"SLOW_TOOL_CALL", &e.latency.slow_tool_key}});
      if (!r_.ok()) return e;
    }

    if (const YAML::Node l = n["loops"]; l.IsDefined()) {
      const std::string p = field(path, "loops");
      if (!r_.is_map(l, p) || !r_.only_keys(l, p, {"consecutive_calls", "keys"})) return e;
      if (l["consecutive_calls"].IsDefined())
        if (auto v = r_.count(l["consecutive_calls"], field(p, "consecutive_calls"), 2)) e.loops.consecutive_calls = *v;
      if (r_.ok() && l["keys"].IsDefined()) read_keys(l["keys"], field(p, "keys"), {{"TOOL_LOOP", &e.loops.key}});
      if (!r_.ok()) return e;
    }

    if (const YAML::Node l = n["cost"]; l.IsDefined()) {
      const std::string p = field(path, "cost");
      if (!r_.is_map(l, p) || !r_.only_keys(l, p, {"max_cost_usd", "max_total_tokens", "keys"})) return e;
      if (l["max_cost_usd"].IsDefined()) {
        auto v = r_.number(l["max_cost_usd"], field(p, "max_cost_usd"), "US dollars, more than 0");
        if (v && !(*v > 0)) r_.fail(field(p, "max_cost_usd"), "must be more than 0");
        if (r_.ok()) e.cost.max_cost_usd = v;
      }
      if (r_.ok() && l["max_total_tokens"].IsDefined())
        if (auto v = r_.count(l["max_total_tokens"], field(p, "max_total_tokens"), 1))
          e.cost.max_total_tokens = static_cast<int64_t>(std::min<uint64_t>(*v, INT64_MAX));
      if (r_.ok() && l["keys"].IsDefined())
        read_keys(l["keys"], field(p, "keys"),
                  {{"COST_OVER_BUDGET", &e.cost.cost_key}, {"TOKENS_OVER_BUDGET", &e.cost.tokens_key}});
    }
    return e;
  }

  reader& r_;
  std::map<std::string, std::string> rule_paths_;    // match rule id -> path, file-wide
  std::map<std::string, std::string> common_paths_;  // common check id -> path
};

}  // namespace

rules_result load_rules_yaml(const std::string& yaml, const std::string& origin) {
  rules_result out;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports syntax errors only by exception; converted here, at the boundary.
    out.error = rules_error{origin, std::string("not valid YAML: ") + e.what()};
    return out;
  }
  reader r;
  try {
    out.rules = compiler(r).compile(root, yaml);
  } catch (const YAML::Exception& e) {
    // Reads are type-checked before conversion, so this is a yaml-cpp surprise; still a value.
    out.error = rules_error{origin, std::string("unreadable rules: ") + e.what()};
    out.rules = nullptr;
    return out;
  }
  if (!r.ok()) {
    out.rules = nullptr;
    out.error = r.error();
  }
  return out;
}

rules_result load_rules_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    rules_result r;
    r.error = rules_error{path, "cannot read the rules file"};
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return load_rules_yaml(ss.str(), path);
}

std::string_view builtin_rules_yaml() { return builtin_scheduling_rules_yaml; }

rules_result builtin_rules() {
  // Compiled once; a rule_set is immutable, so every caller may share it. Static-local
  // initialisation is thread-safe.
  static const rules_result compiled = load_rules_yaml(std::string(builtin_rules_yaml()), "builtin:scheduling.yaml");
  return compiled;
}

}  // namespace tw::judge
