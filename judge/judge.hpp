// Judgement: what a completed session was about (intent), whether the agent did it (fulfillment),
// the verdict, and — for failures — what the experts find. Plain logic over a session_summary:
// no actors, no I/O, no clock, so that judgement can be re-run from completed sessions alone with
// other rules (backtesting) and every rule is unit-testable. The actors in actors/judge_*.cpp are
// thin shells around these classes.
//
// The rules come from a YAML rules file (docs/rules.md); the built-in one describes the demo's
// domain, a clinic's scheduling voice agent (judge/rules/scheduling.yaml).
//
// Thread-safety: a loaded rule_set is immutable and may be shared by threads; the classes hold
// only a pointer to it and are safe to use concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/session.hpp"
#include "model/verdict.hpp"

namespace tw::judge {

class rule_set;  // compiled rules; defined in judge/rules.hpp

struct rules_error {
  std::string path;     // where in the rules file: "intents[2].rules[0].user_text"
  std::string message;  // what is wrong: "invalid regular expression: missing )"
  std::string to_string() const { return path.empty() ? message : path + ": " + message; }
};

struct rules_result {
  std::shared_ptr<const rule_set> rules;
  std::optional<rules_error> error;
  explicit operator bool() const { return rules != nullptr; }
};

rules_result load_rules_yaml(const std::string& yaml, const std::string& origin);
rules_result load_rules_file(const std::string& path);
// The rules for the demo's domain, compiled into the binary.
rules_result builtin_rules();
std::string_view builtin_rules_yaml();
// A stable identifier of the rules' source text (a hash), carried by every verdict.
const std::string& rules_version(const rule_set& r);

class intent_classifier {
 public:
  explicit intent_classifier(std::shared_ptr<const rule_set> rules);
  intent_result classify(const session_summary& s) const;

 private:
  std::shared_ptr<const rule_set> rules_;
};

class fulfillment_checker {
 public:
  explicit fulfillment_checker(std::shared_ptr<const rule_set> rules);
  fulfillment_result check(const session_summary& s, const intent_result& intent) const;

 private:
  std::shared_ptr<const rule_set> rules_;
};

verdict make_verdict(const session_summary& s, const intent_result& intent, const fulfillment_result& fulfillment,
                     const rule_set& rules);

// Which verdicts are diagnosed: fail, partial and error.
bool needs_diagnosis(verdict_status v);

// Runs every expert (tool errors, LLM errors/refusals/empty output, latency, loops, cost).
class diagnostician {
 public:
  explicit diagnostician(std::shared_ptr<const rule_set> rules);
  std::vector<finding> examine(const session_summary& s, const verdict& v) const;

 private:
  std::shared_ptr<const rule_set> rules_;
};

// Recommendations are distinct in finding order: one per configuration key (the first finding's
// advice), and one per advice text for advice without a key.
diagnostic make_diagnostic(const verdict& v, std::vector<finding> findings, const rule_set& rules);

// Everything judgement does for one completed session, in order: intent, fulfillment, verdict,
// and — when needs_diagnosis(verdict) — the experts' diagnostic. A pure function of the session
// and the rules, so `tracewatch judge` can backtest a rules change on a sessions file.
struct judgement {
  verdict outcome;
  std::optional<diagnostic> diagnosis;  // only for fail, partial and error
};
judgement judge_session(const session_summary& s, const std::shared_ptr<const rule_set>& rules);

}  // namespace tw::judge
