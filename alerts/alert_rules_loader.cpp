// Reading the `alerts:` list of a rules file (docs/alerts.md) into an alert_rule_set. Validation is
// strict, as in judge/rules_loader.cpp: the first problem stops the load with an alert_rules_error
// whose path names the place in the file ("alerts[2].signal.latency.percentile"), so that a bad
// file fails at start, never half-works.
//
// The order of checks is fixed — rules in file order; inside a map, unknown keys first, then the
// fields in the order docs/alerts.md lists them; cross-references (inhibit targets, their labels)
// after every rule was read — so the same file always reports the same first error.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "alerts/alert_rules.hpp"
#include "alerts/alerts.hpp"
#include "alerts/builtin_alert_rules_yaml.hpp"
#include "config/values.hpp"
#include "config/yaml_reader.hpp"
#include "model/text.hpp"

namespace tw::alerts {

std::string_view to_string(signal_kind k) {
  switch (k) {
    case signal_kind::verdict_ratio: return "verdict_ratio";
    case signal_kind::verdict_count: return "verdict_count";
    case signal_kind::deadletter_count: return "deadletter_count";
    case signal_kind::tool_error_ratio: return "tool_error_ratio";
    case signal_kind::tool_call_ratio: return "tool_call_ratio";
    case signal_kind::llm_error_ratio: return "llm_error_ratio";
    case signal_kind::latency: return "latency";
    case signal_kind::cost_sum: return "cost_sum";
    case signal_kind::absence: return "absence";
  }
  return "?";
}

std::string_view to_string(label l) {
  switch (l) {
    case label::agent: return "agent";
    case label::intent: return "intent";
    case label::model: return "model";
    case label::status: return "status";
    case label::tool: return "tool";
  }
  return "?";
}

std::string_view to_string(compare_op op) {
  switch (op) {
    case compare_op::gt: return ">";
    case compare_op::ge: return ">=";
    case compare_op::lt: return "<";
    case compare_op::le: return "<=";
  }
  return "?";
}

bool alert_rule::groups_by(label l) const { return std::find(group_by.begin(), group_by.end(), l) != group_by.end(); }

bool alert_rule::names_abandoned() const {
  if (signal.numerator.has(verdict_status::abandoned) || signal.denominator.has(verdict_status::abandoned)) return true;
  for (const auto& [l, values] : filter)
    if (l == label::status && std::find(values.begin(), values.end(), "abandoned") != values.end()) return true;
  return false;
}

alert_rule_set::alert_rule_set(std::string version, std::vector<alert_rule> rules)
    : version_(std::move(version)), rules_(std::move(rules)) {}

size_t alert_rule_set::find(std::string_view name) const {
  for (size_t i = 0; i < rules_.size(); ++i)
    if (rules_[i].name == name) return i;
  return rules_.size();
}

size_t rule_count(const alert_rule_set& r) { return r.rules().size(); }

std::vector<std::string> rule_names(const alert_rule_set& r) {
  std::vector<std::string> out;
  for (const auto& rule : r.rules()) out.push_back(rule.name);
  return out;
}

namespace {

using namespace config::yaml;  // names, field, item, join, unknown

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

const names rule_keys = {"name",    "severity",        "signal",          "window",   "every",  "kind",
                         "condition", "change",        "min_samples",     "for",      "keep_firing_for",
                         "repeat_interval", "group_by", "filter",         "inhibits", "summary"};
const names signal_kinds = {"verdict_ratio", "verdict_count", "deadletter_count", "tool_error_ratio",
                            "tool_call_ratio", "llm_error_ratio", "latency", "cost_sum", "absence"};
const names label_names = {"agent", "intent", "model", "status", "tool"};
const names status_names = {"pass", "fail", "partial", "error", "abandoned"};

const char* default_summary = "{{rule}}: {{value}} over {{window}} (threshold {{threshold}})";

// The strict YAML reads (config/yaml_reader.hpp), and the ones only the alert rules have.
class reader : public config::yaml::reader {
 public:
  std::optional<alert_rules_error> error() const {
    if (!first_error()) return std::nullopt;
    return alert_rules_error{first_error()->path, first_error()->message};
  }

  // A map, or no value at all (`deadletter_count:`), read as an empty map.
  bool is_map_or_empty(const YAML::Node& n, const std::string& path) { return n.IsNull() || is_map(n, path); }

  std::optional<duration> span(const YAML::Node& n, const std::string& path) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    auto d = config::parse_duration(*s);
    if (!d) {
      fail(path, "'" + *s + "' is not a duration; write e.g. 30s, 5m, 1h, 1d");
      return std::nullopt;
    }
    if (*d > max_window) {
      fail(path, "'" + *s + "' is longer than the limit of 7d");
      return std::nullopt;
    }
    return *d;
  }

  // One of `choices`, as its index.
  std::optional<size_t> choice(const YAML::Node& n, const std::string& path, const names& choices) {
    auto s = text(n, path);
    if (!s) return std::nullopt;
    for (size_t i = 0; i < choices.size(); ++i)
      if (choices[i] == *s) return i;
    fail(path, "'" + *s + "' is not one of: " + join(choices));
    return std::nullopt;
  }

  // A list of choices, as indexes in list order.
  std::vector<size_t> choice_list(const YAML::Node& n, const std::string& path, const names& choices) {
    std::vector<size_t> out;
    const auto list = text_list(n, path);
    for (size_t i = 0; i < list.size() && ok(); ++i) {
      auto at = std::find(choices.begin(), choices.end(), list[i]);
      if (at == choices.end())
        fail(item(path, i), unknown("value '" + list[i] + "'", list[i], choices));
      else
        out.push_back(static_cast<size_t>(at - choices.begin()));
    }
    return out;
  }

  status_set statuses(const YAML::Node& n, const std::string& path) {
    status_set s;
    for (size_t i : choice_list(n, path, status_names)) s.add(static_cast<verdict_status>(i));
    if (ok() && s.empty()) fail(path, "must list at least one status");
    return s;
  }
};

// Every judged status but abandoned: what "all verdicts" means unless a rule names abandoned.
status_set judged_statuses() {
  status_set s;
  for (auto v : {verdict_status::pass, verdict_status::fail, verdict_status::partial, verdict_status::error}) s.add(v);
  return s;
}

bool has_budget(const alert_rule& r) { return r.signal.kind == signal_kind::cost_sum && r.levels.size() > 0 && !r.levels[0].name.empty(); }

class compiler {
 public:
  explicit compiler(reader& r) : r_(r) {}

  std::shared_ptr<const alert_rule_set> compile(const YAML::Node& root, const std::string& source) {
    std::vector<alert_rule> rules;
    if (root.IsNull() || (root.IsMap() && !root["alerts"].IsDefined()))
      return std::make_shared<alert_rule_set>(hex16(stable_hash(source)), std::move(rules));
    if (!root.IsMap()) {
      r_.fail("", "the top level must be a map with the key `alerts`");
      return nullptr;
    }
    const YAML::Node list = root["alerts"];
    if (!list.IsSequence()) {
      r_.fail("alerts", list.IsNull() ? "has no value; expected a list of rules" : "expected a list of rules");
      return nullptr;
    }
    std::vector<YAML::Node> inhibit_nodes;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = item("alerts", i);
      alert_rule rule = read_rule(list[i], path);
      if (!r_.ok()) return nullptr;
      for (size_t j = 0; j < rules.size(); ++j)
        if (rules[j].name == rule.name) {
          r_.fail(field(path, "name"), "'" + rule.name + "' is already the name of " + item("alerts", j));
          return nullptr;
        }
      rules.push_back(std::move(rule));
      inhibit_nodes.push_back(list[i]["inhibits"]);
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      read_inhibits(inhibit_nodes[i], field(item("alerts", i), "inhibits"), i, rules);
      if (!r_.ok()) return nullptr;
    }
    return std::make_shared<alert_rule_set>(hex16(stable_hash(source)), std::move(rules));
  }

 private:
  alert_rule read_rule(const YAML::Node& n, const std::string& path) {
    alert_rule rule;
    if (!r_.is_map(n, path) || !r_.only_keys(n, path, rule_keys)) return rule;
    severity_ = severity::warning;
    read_name(n, path, rule);
    if (r_.ok()) read_signal(n, path, rule);
    if (r_.ok()) read_timing(n, path, rule);
    if (r_.ok()) read_condition(n, path, rule);
    if (r_.ok()) read_change(n, path, rule);
    if (r_.ok()) read_state_machine(n, path, rule);
    if (r_.ok()) read_labels(n, path, rule);
    if (r_.ok()) read_summary(n, path, rule);
    return rule;
  }

  void read_name(const YAML::Node& n, const std::string& path, alert_rule& rule) {
    if (!n["name"].IsDefined()) return r_.fail(field(path, "name"), "is required");
    auto name = r_.text(n["name"], field(path, "name"));
    if (!name) return;
    if (!std::all_of(name->begin(), name->end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }))
      return r_.fail(field(path, "name"), "'" + *name + "' may only use a-z, 0-9 and _ (it names the alert)");
    rule.name = *name;
  }

  void read_signal(const YAML::Node& n, const std::string& path, alert_rule& rule) {
    const std::string sp = field(path, "signal");
    if (!n["signal"].IsDefined()) return r_.fail(sp, "is required: exactly one of " + join(signal_kinds));
    const YAML::Node s = n["signal"];
    if (!r_.is_map(s, sp) || !r_.only_keys(s, sp, signal_kinds, "signal")) return;
    if (s.size() != 1) return r_.fail(sp, "needs exactly one of: " + join(signal_kinds));
    const std::string kind = s.begin()->first.Scalar();
    const YAML::Node v = s.begin()->second;
    const std::string p = field(sp, kind);
    signal_spec& sig = rule.signal;
    sig.kind = static_cast<signal_kind>(std::find(signal_kinds.begin(), signal_kinds.end(), kind) - signal_kinds.begin());
    if (!r_.is_map_or_empty(v, p)) return;
    auto statuses_or_judged = [&](const char* key) {
      return v[key].IsDefined() ? r_.statuses(v[key], field(p, key)) : judged_statuses();
    };
    switch (sig.kind) {
      case signal_kind::verdict_ratio:
        if (!r_.only_keys(v, p, {"numerator", "denominator"})) return;
        if (!v["numerator"].IsDefined()) return r_.fail(field(p, "numerator"), "is required: the statuses that count against");
        sig.numerator = r_.statuses(v["numerator"], field(p, "numerator"));
        if (r_.ok()) sig.denominator = statuses_or_judged("denominator");
        if (r_.ok() && !sig.numerator.subset_of(sig.denominator))
          r_.fail(field(p, "numerator"), "lists a status the denominator does not; a ratio's numerator is part of it");
        break;
      case signal_kind::verdict_count:
        if (!r_.only_keys(v, p, {"statuses", "rate"})) return;
        sig.numerator = statuses_or_judged("statuses");
        if (r_.ok() && v["rate"].IsDefined()) {
          if (!r_.choice(v["rate"], field(p, "rate"), {"per_minute"})) return;
          sig.per_minute = true;
        }
        break;
      case signal_kind::absence:
        if (!r_.only_keys(v, p, {"statuses"})) return;
        sig.numerator = statuses_or_judged("statuses");
        break;
      case signal_kind::deadletter_count:
        if (!r_.only_keys(v, p, {"reasons"})) return;
        if (v["reasons"].IsDefined()) sig.names = r_.text_list(v["reasons"], field(p, "reasons"));
        break;
      case signal_kind::tool_error_ratio:
      case signal_kind::tool_call_ratio:
        if (!r_.only_keys(v, p, {"tools"})) return;
        if (v["tools"].IsDefined()) sig.names = r_.text_list(v["tools"], field(p, "tools"));
        if (r_.ok() && sig.kind == signal_kind::tool_call_ratio && sig.names.empty())
          r_.fail(field(p, "tools"), "is required: the tools whose use is counted (e.g. [transfer_to_human])");
        break;
      case signal_kind::llm_error_ratio:
        if (!r_.only_keys(v, p, {"models"})) return;
        if (v["models"].IsDefined()) sig.names = r_.text_list(v["models"], field(p, "models"));
        break;
      case signal_kind::latency: {
        if (!r_.only_keys(v, p, {"of", "percentile"})) return;
        if (!v["of"].IsDefined()) return r_.fail(field(p, "of"), "is required: llm or tool");
        auto of = r_.choice(v["of"], field(p, "of"), {"llm", "tool"});
        if (!of) return;
        sig.of = static_cast<call_kind>(*of);
        if (v["percentile"].IsDefined()) {
          auto pct = r_.number(v["percentile"], field(p, "percentile"), "a percentile from 50 to 99.9");
          if (!pct) return;
          if (!(*pct >= 50 && *pct <= 99.9))
            return r_.fail(field(p, "percentile"), "must be from 50 to 99.9 (the histogram cannot say more)");
          sig.percentile = *pct;
        }
        break;
      }
      case signal_kind::cost_sum: {
        if (!r_.only_keys(v, p, {"budget", "warn_at"})) return;
        if (!v["budget"].IsDefined()) {
          if (v["warn_at"].IsDefined()) r_.fail(field(p, "warn_at"), "needs a budget");
          break;  // a plain signal: the condition (or change) decides
        }
        auto budget = r_.number(v["budget"], field(p, "budget"), "US dollars, more than 0");
        if (!budget) return;
        if (!(*budget > 0)) return r_.fail(field(p, "budget"), "must be more than 0");
        rule.levels.push_back({"critical", severity::critical, compare_op::ge, *budget});
        if (v["warn_at"].IsDefined()) {
          auto warn = r_.number(v["warn_at"], field(p, "warn_at"), "a fraction of the budget, in (0, 1)");
          if (!warn) return;
          if (!(*warn > 0 && *warn < 1)) return r_.fail(field(p, "warn_at"), "must be in (0, 1): a fraction of the budget");
          rule.levels.insert(rule.levels.begin(), {"warning", severity::warning, compare_op::ge, *warn * *budget});
        }
        break;
      }
    }
    if (r_.ok() && n["severity"].IsDefined()) {
      if (has_budget(rule))
        return r_.fail(field(path, "severity"), "does not apply to a cost budget: its levels are warning and critical");
      auto sev = r_.choice(n["severity"], field(path, "severity"), {"info", "warning", "critical"});
      if (sev) severity_ = static_cast<severity>(*sev);
    }
  }

  void read_timing(const YAML::Node& n, const std::string& path, alert_rule& rule) {
    if (!n["window"].IsDefined()) return r_.fail(field(path, "window"), "is required: e.g. 5m");
    auto window = r_.span(n["window"], field(path, "window"));
    if (!window) return;
    if (window->count() <= 0) return r_.fail(field(path, "window"), "must be more than 0");
    rule.window = *window;
    if (n["kind"].IsDefined()) {
      auto k = r_.choice(n["kind"], field(path, "kind"), {"sliding", "tumbling"});
      if (!k) return;
      rule.kind = static_cast<window_kind>(*k);
    }
    const duration day = std::chrono::hours(24);
    if (rule.kind == window_kind::tumbling && day % rule.window != duration(0) && rule.window % day != duration(0))
      return r_.fail(field(path, "window"), "a tumbling window must divide a day or be whole days, so that windows "
                                            "start at the same times each day");
    const bool given = n["every"].IsDefined();
    if (given) {
      auto every = r_.span(n["every"], field(path, "every"));
      if (!every) return;
      rule.every = *every;
    } else if (rule.kind == window_kind::tumbling) {
      rule.every = rule.window;
    } else {
      rule.every = std::max<duration>(min_every, std::chrono::duration_cast<std::chrono::seconds>(rule.window / 5));
    }
    const std::string ep = field(path, "every");
    const std::string hint = given ? "" : " (the default, window/5 in whole seconds; set every)";
    if (rule.every < min_every) return r_.fail(ep, "must be at least 1s");
    if (rule.every > rule.window) return r_.fail(ep, "must not be longer than the window" + hint);
    if (rule.window % rule.every != duration(0)) return r_.fail(ep, "must divide the window" + hint);
    if (rule.window / rule.every > max_buckets_per_window)
      return r_.fail(ep, "makes " + std::to_string(rule.window / rule.every) +
                             " buckets per window; at most 1440 are allowed (make every longer)");
  }

  void read_condition(const YAML::Node& n, const std::string& path, alert_rule& rule) {
    const std::string p = field(path, "condition");
    const bool implied = rule.signal.kind == signal_kind::absence || has_budget(rule);
    if (implied) {
      if (n["condition"].IsDefined())
        r_.fail(p, rule.signal.kind == signal_kind::absence ? "does not apply to absence: it fires when the count is 0"
                                                            : "does not apply to a cost budget: it fires at warn_at and at the budget");
      if (rule.signal.kind == signal_kind::absence)
        rule.levels.push_back({"", severity_, compare_op::le, 0});
      return;
    }
    if (!n["condition"].IsDefined()) return r_.fail(p, "is required: e.g. {op: \">\", threshold: 0.2}");
    const YAML::Node c = n["condition"];
    if (!r_.is_map(c, p) || !r_.only_keys(c, p, {"op", "threshold"})) return;
    if (!c["op"].IsDefined()) return r_.fail(field(p, "op"), "is required: one of >, >=, <, <=");
    auto op = r_.choice(c["op"], field(p, "op"), {">", ">=", "<", "<="});
    if (!op) return;
    if (!c["threshold"].IsDefined()) return r_.fail(field(p, "threshold"), "is required: a number");
    auto t = r_.number(c["threshold"], field(p, "threshold"), "the value the signal is compared with");
    if (!t) return;
    const bool ratio = rule.signal.kind == signal_kind::verdict_ratio || rule.signal.kind == signal_kind::tool_error_ratio ||
                       rule.signal.kind == signal_kind::tool_call_ratio || rule.signal.kind == signal_kind::llm_error_ratio;
    if (ratio && !n["change"].IsDefined() && !(*t >= 0 && *t <= 1))
      return r_.fail(field(p, "threshold"), "must be in [0, 1]: the signal is a ratio");
    rule.levels.push_back({"", severity_, static_cast<compare_op>(*op), *t});
  }

  void read_change(const YAML::Node& n, const std::string& path, alert_rule& rule) {
    if (!n["change"].IsDefined()) return;
    const std::string p = field(path, "change");
    if (rule.signal.kind == signal_kind::absence || has_budget(rule))
      return r_.fail(p, "does not apply to absence or a cost budget");
    const YAML::Node c = n["change"];
    if (!r_.is_map(c, p) || !r_.only_keys(c, p, {"against", "windows"})) return;
    if (!c["against"].IsDefined()) return r_.fail(field(p, "against"), "is required: previous or baseline");
    auto against = r_.choice(c["against"], field(p, "against"), {"previous", "baseline"});
    if (!against) return;
    if (*against == 0) {
      if (c["windows"].IsDefined()) return r_.fail(field(p, "windows"), "does not apply to previous (one window)");
      rule.change = {baseline_kind::previous, 1};
      return;
    }
    if (!c["windows"].IsDefined()) return r_.fail(field(p, "windows"), "is required: how many preceding windows to average");
    auto w = r_.count(c["windows"], field(p, "windows"), 1, max_baseline_windows);
    if (w) rule.change = {baseline_kind::mean, static_cast<uint32_t>(*w)};
  }

  void read_state_machine(const YAML::Node& n, const std::string& path, alert_rule& rule) {
    if (n["min_samples"].IsDefined()) {
      if (rule.signal.kind == signal_kind::absence)
        return r_.fail(field(path, "min_samples"), "does not apply to absence (no samples is what it looks for)");
      auto m = r_.count(n["min_samples"], field(path, "min_samples"), 0, 1'000'000'000);
      if (!m) return;
      rule.min_samples = *m;
    }
    auto span = [&](const char* key, duration& out) {
      if (r_.ok() && n[key].IsDefined())
        if (auto d = r_.span(n[key], field(path, key))) out = *d;
    };
    span("for", rule.for_);
    span("keep_firing_for", rule.keep_firing_for);
    span("repeat_interval", rule.repeat_interval);
  }

  void read_labels(const YAML::Node& n, const std::string& path, alert_rule& rule) {
    if (n["group_by"].IsDefined()) {
      const std::string p = field(path, "group_by");
      const auto picked = r_.choice_list(n["group_by"], p, label_names);
      for (size_t i = 0; i < picked.size() && r_.ok(); ++i) {
        const auto l = static_cast<label>(picked[i]);
        if (l == label::tool && rule.signal.kind == signal_kind::tool_call_ratio)
          return r_.fail(item(p, i), "tool_call_ratio counts sessions, which a tool label would split");
        if (l == label::status && rule.signal.kind == signal_kind::verdict_ratio)
          return r_.fail(item(p, i), "a ratio of statuses cannot be grouped by status");
        rule.group_by.push_back(l);
      }
      std::sort(rule.group_by.begin(), rule.group_by.end());
    }
    if (r_.ok() && n["filter"].IsDefined()) {
      const std::string p = field(path, "filter");
      const YAML::Node f = n["filter"];
      if (!r_.is_map(f, p) || !r_.only_keys(f, p, label_names, "label")) return;
      for (const auto& kv : f) {
        const std::string key = kv.first.Scalar();
        auto values = r_.text_list(kv.second, field(p, key));
        if (!r_.ok()) return;
        if (values.empty()) return r_.fail(field(p, key), "must list at least one value");
        const auto l = static_cast<label>(std::find(label_names.begin(), label_names.end(), key) - label_names.begin());
        if (l == label::status)
          for (size_t i = 0; i < values.size(); ++i)
            if (!parse_verdict_status(values[i]))
              return r_.fail(item(field(p, key), i), unknown("status '" + values[i] + "'", values[i], status_names));
        rule.filter.emplace_back(l, std::move(values));
      }
      std::sort(rule.filter.begin(), rule.filter.end());
    }
  }

  void read_summary(const YAML::Node& n, const std::string& path, alert_rule& rule) {
    const std::string p = field(path, "summary");
    std::string text = default_summary;
    if (n["summary"].IsDefined()) {
      auto s = r_.text(n["summary"], p);
      if (!s) return;
      text = *s;
    }
    rule.summary_source = text;
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t open = text.find("{{", pos);
      if (open == std::string::npos) {
        rule.summary.push_back({summary_part::kind::text, text.substr(pos)});
        break;
      }
      if (open > pos) rule.summary.push_back({summary_part::kind::text, text.substr(pos, open - pos)});
      const size_t close = text.find("}}", open);
      if (close == std::string::npos) return r_.fail(p, "has '{{' without a closing '}}'");
      const std::string name = text.substr(open + 2, close - open - 2);
      auto part = placeholder(name, rule);
      if (!part) return r_.fail(p, "unknown placeholder {{" + name + "}}; known: {{rule}}, {{value}}, {{threshold}}, "
                                   "{{window}}, {{samples}}, {{baseline}} (with change), {{labels.X}} for X in group_by");
      rule.summary.push_back(*part);
      pos = close + 2;
    }
  }

  static std::optional<summary_part> placeholder(const std::string& name, const alert_rule& rule) {
    using k = summary_part::kind;
    if (name == "rule") return summary_part{k::rule, {}};
    if (name == "value") return summary_part{k::value, {}};
    if (name == "threshold") return summary_part{k::threshold, {}};
    if (name == "window") return summary_part{k::window, {}};
    if (name == "samples") return summary_part{k::samples, {}};
    if (name == "baseline" && rule.change.against != baseline_kind::none) return summary_part{k::baseline, {}};
    const std::string prefix = "labels.";
    if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    const std::string l = name.substr(prefix.size());
    if (l == "level" && has_budget(rule)) return summary_part{k::label_value, l};
    for (auto g : rule.group_by)
      if (to_string(g) == l) return summary_part{k::label_value, l};
    return std::nullopt;
  }

  void read_inhibits(const YAML::Node& n, const std::string& p, size_t self, std::vector<alert_rule>& rules) {
    if (!n.IsDefined()) return;
    if (!r_.is_map(n, p) || !r_.only_keys(n, p, {"rules", "equal"})) return;
    if (!n["rules"].IsDefined()) return r_.fail(field(p, "rules"), "is required: the names of the rules inhibited");
    const auto targets = r_.text_list(n["rules"], field(p, "rules"));
    if (!r_.ok()) return;
    if (targets.empty()) return r_.fail(field(p, "rules"), "must name at least one rule");
    alert_rule& rule = rules[self];
    if (n["equal"].IsDefined())
      for (size_t i : r_.choice_list(n["equal"], field(p, "equal"), label_names)) rule.inhibit_equal.push_back(static_cast<label>(i));
    if (!r_.ok()) return;
    for (size_t i = 0; i < rule.inhibit_equal.size(); ++i)
      if (!rule.groups_by(rule.inhibit_equal[i]))
        return r_.fail(item(field(p, "equal"), i), "'" + std::string(to_string(rule.inhibit_equal[i])) +
                                                       "' is not in this rule's group_by");
    for (size_t i = 0; i < targets.size(); ++i) {
      const std::string tp = item(field(p, "rules"), i);
      auto at = std::find_if(rules.begin(), rules.end(), [&](const alert_rule& r) { return r.name == targets[i]; });
      if (at == rules.end()) {
        names known;
        for (const auto& r : rules) known.push_back(r.name);
        return r_.fail(tp, unknown("rule '" + targets[i] + "'", targets[i], known));
      }
      const size_t target = static_cast<size_t>(at - rules.begin());
      if (target == self) return r_.fail(tp, "a rule cannot inhibit itself");
      for (auto l : rule.inhibit_equal)
        if (!at->groups_by(l))
          return r_.fail(tp, "'" + targets[i] + "' does not group by '" + std::string(to_string(l)) +
                                 "', which equal compares");
      rule.inhibits.push_back(target);
    }
  }

  reader& r_;
  severity severity_ = severity::warning;  // of the rule being read (read with its signal)
};

}  // namespace

alert_rules_result load_alert_rules_yaml(const std::string& yaml, const std::string& origin) {
  alert_rules_result out;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports syntax errors only by exception; converted here, at the boundary.
    out.error = alert_rules_error{origin, std::string("not valid YAML: ") + e.what()};
    return out;
  }
  reader r;
  try {
    out.rules = compiler(r).compile(root, yaml);
  } catch (const YAML::Exception& e) {
    // Reads are type-checked before conversion, so this is a yaml-cpp surprise; still a value.
    out.error = alert_rules_error{origin, std::string("unreadable alert rules: ") + e.what()};
    out.rules = nullptr;
    return out;
  }
  if (!r.ok()) {
    out.rules = nullptr;
    out.error = r.error();
  }
  return out;
}

alert_rules_result load_alert_rules_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    alert_rules_result r;
    r.error = alert_rules_error{path, "cannot read the alert rules file"};
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return load_alert_rules_yaml(ss.str(), path);
}

std::string_view builtin_alert_rules_yaml() { return builtin_scheduling_alerts_yaml; }

alert_rules_result builtin_alert_rules() {
  // Compiled once; an alert_rule_set is immutable, so every caller may share it.
  static const alert_rules_result compiled =
      load_alert_rules_yaml(std::string(builtin_alert_rules_yaml()), "builtin:scheduling_alerts.yaml");
  return compiled;
}

}  // namespace tw::alerts
