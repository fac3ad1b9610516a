// `tracewatch alerts backtest`: what the alert rules would have fired and resolved on a history of
// completed sessions or verdicts, and — with --against — how a rules change alters that.
//
// Input lines are tracewatch.session.v1 (judged here with judge.rules, exactly as a live run
// judges them, so every signal is available) or tracewatch.verdict.v1 (no per-call samples: tool
// and latency rules see nothing; agent and model labels are unknown). Facts are applied in event
// time order, the clock advanced to each fact's time before it, and flushed at the end — which
// is what a live run with the same facts evaluates, whatever order they came in (docs/alerts.md).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "actors/pipeline.hpp"
#include "alerts/alerts.hpp"
#include "app/commands.hpp"
#include "app/config_support.hpp"
#include "app/io_support.hpp"
#include "config/values.hpp"
#include "judge/judge.hpp"
#include "model/log.hpp"
#include "topics/contracts/alert_json.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/verdict_json.hpp"

namespace tw::app {

namespace {

struct history {
  std::vector<alerts::alert_fact> facts;
  uint64_t sessions = 0, verdicts = 0, unreadable = 0, lines = 0;
};

// Reads the input into facts. False (after a message) when the file cannot be read.
bool read_history(const std::string& path, const std::shared_ptr<const judge::rule_set>& judge_rules, history& h) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) {
      std::cerr << "tracewatch: cannot read " << path << "\n";
      return false;
    }
    in = &file;
  }
  std::string line;
  while (std::getline(*in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++h.lines;
    std::string why;
    if (line.find("\"tracewatch.session.v1\"") != std::string::npos) {
      if (auto s = decode_session_json(line, &why)) {
        auto j = judge::judge_session(*s, judge_rules);
        h.facts.push_back(alerts::make_fact(*s, j.outcome));
        ++h.sessions;
        continue;
      }
    } else if (auto v = decode_verdict_json(line, &why)) {
      h.facts.push_back(alerts::fact_from_verdict(*v, v->closed_at));
      ++h.verdicts;
      continue;
    }
    if (h.unreadable == 0) log::warn("a line is neither a session nor a verdict; skipped", {{"line", h.lines}, {"error", why}});
    ++h.unreadable;
  }
  // Event-time order; ties in a fixed order, so that the result never depends on the file's.
  std::stable_sort(h.facts.begin(), h.facts.end(), [](const alerts::alert_fact& a, const alerts::alert_fact& b) {
    return std::tie(a.at, a.session_id, a.revision) < std::tie(b.at, b.session_id, b.revision);
  });
  return true;
}

std::vector<alerts::alert_event> evaluate(const std::shared_ptr<const alerts::alert_rule_set>& rules,
                                          const alerts::engine_limits& limits, const history& h) {
  alerts::alert_engine engine(rules, limits);
  std::vector<alerts::alert_event> out;
  auto take = [&](std::vector<alerts::alert_event> more) {
    out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  };
  for (const auto& f : h.facts) {
    take(engine.advance(f.at));
    engine.apply(f);
  }
  take(engine.flush());
  return out;
}

// One line per rule: how often it fired, for how long in all, and its extreme value.
void print_summary(const char* title, const alerts::alert_rule_set& rules, const std::vector<alerts::alert_event>& events) {
  struct tally {
    uint64_t fired = 0, repeats = 0, resolved = 0;
    duration firing{0};
    double peak = 0;
  };
  std::map<std::string, tally> by_rule;
  for (const auto& name : alerts::rule_names(rules)) by_rule[name];
  for (const auto& e : events) {
    auto& t = by_rule[e.rule];
    if (e.state == alerts::alert_state::firing) {
      e.repeat == 0 ? ++t.fired : ++t.repeats;
      t.peak = std::max(t.peak, e.value);
    } else {
      ++t.resolved;
      t.firing += e.at - e.started_at;
    }
  }
  std::cerr << title << "\n";
  for (const auto& [name, t] : by_rule)
    std::cerr << "  " << name << ": fired " << t.fired << " times, resolved " << t.resolved << ", repeats " << t.repeats
              << ", firing for " << config::format_duration(t.firing) << " in all"
              << (t.fired > 0 ? ", largest value " + std::to_string(t.peak) : std::string()) << "\n";
}

std::optional<std::shared_ptr<const alerts::alert_rule_set>> rules_from(const std::string& where) {
  auto r = actors::load_alert_rules(where);
  if (!r) {
    std::cerr << "tracewatch: alert rules error: " << where << ": " << r.error->to_string() << "\n";
    return std::nullopt;
  }
  if (!r.rules) {
    std::cerr << "tracewatch: " << where << ": alerts are off; give --rules\n";
    return std::nullopt;
  }
  return r.rules;
}

}  // namespace

int alerts_backtest_command(const alerts_backtest_args& a) {
  config_source src = a.cfg;
  if (a.rules) src.overrides.push_back("alerts.rules=" + *a.rules);
  auto s = load_settings(src);
  if (!s) return exit_usage;
  configure_logging(*s);

  auto current = rules_from(s->alerts.rules);
  if (!current) return exit_usage;
  std::optional<std::shared_ptr<const alerts::alert_rule_set>> previous;
  if (a.against && !(previous = rules_from(*a.against))) return exit_usage;
  auto judged = s->judge.rules.rfind("builtin:", 0) == 0 ? judge::builtin_rules() : judge::load_rules_file(s->judge.rules);
  if (!judged) {
    std::cerr << "tracewatch: rules error: judge.rules: " << judged.error->to_string() << "\n";
    return exit_usage;
  }
  output_file out(a.out, &std::cout);
  if (!out.ok()) return exit_usage;

  history h;
  if (!read_history(a.input, judged.rules, h)) return exit_failure;
  alerts::engine_limits limits;
  limits.max_groups_per_rule = static_cast<size_t>(s->alerts.max_groups);
  limits.examples_max = static_cast<size_t>(s->alerts.examples);
  auto events = evaluate(*current, limits, h);
  log::info("backtest read its input", {{"sessions", h.sessions}, {"verdicts", h.verdicts}, {"unreadable", h.unreadable}});
  if (h.facts.empty()) log::warn("the input holds no session and no verdict: nothing to evaluate", {{"input", a.input}});

  if (!previous) {
    for (const auto& e : events) *out.stream() << encode_alert_json(e) << "\n";
    print_summary("alert rules:", **current, events);
    return exit_ok;
  }
  // The diff of the two rule sets' events: "-" only under --against, "+" only under --rules.
  auto before = evaluate(*previous, limits, h);
  std::multiset<std::string> old_lines, new_lines;
  for (const auto& e : before) old_lines.insert(encode_alert_json(e));
  for (const auto& e : events) new_lines.insert(encode_alert_json(e));
  uint64_t removed = 0, added = 0;
  for (const auto& e : before)
    if (auto line = encode_alert_json(e); !new_lines.count(line)) {
      *out.stream() << "- " << line << "\n";
      ++removed;
    }
  for (const auto& e : events)
    if (auto line = encode_alert_json(e); !old_lines.count(line)) {
      *out.stream() << "+ " << line << "\n";
      ++added;
    }
  print_summary("previous rules (--against):", **previous, before);
  print_summary("rules:", **current, events);
  std::cerr << "difference: " << removed << " events only under the previous rules, " << added
            << " only under the new ones\n";
  return exit_ok;
}

}  // namespace tw::app
