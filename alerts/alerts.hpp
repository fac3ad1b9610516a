// Alerts: event-time rules over what judged sessions contribute (alert facts), firing and
// resolving alerts (docs/alerts.md). Plain logic, like judge/: no actors, no I/O, no clock but
// the event time the caller advances, so that the same facts and clock advances give
// byte-identical alert events in any run — live, replayed, or backtested from a file.
//
//   facts ──apply()──► per (rule, group) time buckets ──advance(W)──► alert_events
//
// The caller (actors/alert_actor.cpp, `tracewatch alerts backtest`) feeds facts in any order and
// advances the clock to the watermark W of its input. The engine evaluates every rule at fixed
// event-time instants: the multiples of the rule's `every` (aligned to the Unix epoch). An instant
// e is evaluated once W > e, over the facts with time < e, so how often the clock is advanced
// does not change the result — only that every fact with time < e was applied before the clock
// passed e. A fact older than the last evaluated instant of a rule is late for that rule: counted,
// not applied.
//
// State (buckets, pending/firing, last notification) is kept in memory and handed to the caller
// as changed entries (take_changes) to be written in the same RocksDB batch as the position of
// the input it came from; restore() loads it back. Memory is bounded: groups per rule are capped
// (excess label values fold into "other"), buckets per group by the window, examples by a count.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/time.hpp"
#include "model/verdict.hpp"

namespace tw {
struct session_summary;
}

namespace tw::alerts {

// --- what a judged session (or a dead letter) contributes ----------------------------------------

struct tool_sample {
  std::string name;
  bool ok = true;
  std::optional<duration> latency;
};

struct llm_sample {
  std::string model;
  bool ok = true;
  std::optional<duration> latency;
};

struct alert_fact {
  enum class kind : uint8_t { verdict = 0, deadletter = 1 };
  kind what = kind::verdict;
  event_time at;                  // verdict: the session's window.closed_at; dead letter: the
                                  // watermark when it was written
  std::string session_id;         // verdict only
  uint32_t revision = 1;          // verdict only; only revision 1 contributes (docs/alerts.md)
  verdict_status status = verdict_status::pass;
  std::string intent;
  std::string agent;              // from session metadata (agent_metadata_keys), "" when none
  std::vector<std::string> models;
  std::optional<double> cost_usd;
  duration session_duration{0};
  std::vector<tool_sample> tools;  // bounded like the session's tool_calls
  std::vector<llm_sample> llm_calls;
  std::string reason;              // dead letter only: its reason code
};

// Metadata keys that name the agent, first present wins.
inline constexpr std::string_view agent_metadata_keys[] = {"agent", "agent_name", "gen_ai.agent.name",
                                                           "service.name"};
// The agent a session's metadata names (agent_metadata_keys), "" when none: also what the verdict
// queries filter by (state/results.hpp).
std::string agent_of(const metadata_entries& metadata);

// The fact of a judged session. `verdict_only` builds it from a verdict alone (backtesting a
// verdicts file: no tool or LLM samples, agent and models unknown).
alert_fact make_fact(const session_summary& s, const verdict& v);
alert_fact fact_from_verdict(const verdict& v, event_time closed_at);

// Compact binary encoding (a version byte first), for the durable queue between the judge and
// the alert stage. decode returns nullopt for bytes it cannot read.
std::string encode_fact(const alert_fact& f);
std::optional<alert_fact> decode_fact(std::string_view bytes);

// --- rules -----------------------------------------------------------------------------------

class alert_rule_set;  // compiled rules; defined in alerts/alert_rules.hpp

struct alert_rules_error {
  std::string path;     // "alerts[2].condition.threshold"
  std::string message;
  std::string to_string() const { return path.empty() ? message : path + ": " + message; }
};

struct alert_rules_result {
  std::shared_ptr<const alert_rule_set> rules;
  std::optional<alert_rules_error> error;
  explicit operator bool() const { return rules != nullptr; }
};

// A YAML document whose top-level key `alerts` is a list of rules (a section of a judgement
// rules file, or a file of its own). Other top-level keys are ignored here (they belong to the
// judgement rules). A document without `alerts` gives an empty rule set.
alert_rules_result load_alert_rules_yaml(const std::string& yaml, const std::string& origin);
alert_rules_result load_alert_rules_file(const std::string& path);
// The demo domain's alert rules, compiled in (alerts/rules/scheduling_alerts.yaml).
alert_rules_result builtin_alert_rules();
std::string_view builtin_alert_rules_yaml();
size_t rule_count(const alert_rule_set& r);
std::vector<std::string> rule_names(const alert_rule_set& r);

// --- what the engine emits ---------------------------------------------------------------------

enum class alert_state : uint8_t { firing = 0, resolved = 1 };
std::string_view to_string(alert_state s);

// One state change: the content of tracewatch.alert.v1 (docs/topics.md).
struct alert_event {
  std::string alert_id;   // stable fingerprint of rule + labels (16 hex digits)
  std::string rule;
  alert_state state = alert_state::firing;
  severity level = severity::warning;
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by name
  double value = 0;
  double threshold = 0;
  event_time at;           // the evaluation instant of this change
  event_time started_at;   // when this firing began (the same in its repeats and its resolution)
  uint64_t samples = 0;    // facts in the window that decided
  uint32_t repeat = 0;     // 0 for the first firing, n for the n-th repeat; 0 when resolved
  std::vector<std::string> examples;  // up to examples_max session ids, as evidence
  std::string summary;     // the rule's summary template, filled in
  std::optional<double> baseline;  // rules with `change`: what the value was compared with
};

// --- the engine --------------------------------------------------------------------------------

struct engine_limits {
  size_t max_groups_per_rule = 1000;  // alerts.max_groups: more label sets fold into "other"
  size_t examples_max = 5;            // alerts.examples
  // A group whose window is starved (fewer samples than min_samples, nothing to enter) is not
  // visited until it can decide again or is dropped. Off only in tests, which compare the events
  // against visiting every instant where a window changes.
  bool skip_starved = true;
};

struct engine_counters {
  uint64_t facts = 0;
  uint64_t late = 0;                // facts older than a rule's last evaluated instant
  uint64_t revisions_ignored = 0;   // verdict facts with revision > 1
  uint64_t folded = 0;              // facts whose labels were folded into "other"
  uint64_t evaluations = 0;
  uint64_t inhibited = 0;           // transitions not emitted because an inhibiting alert fired
};

class alert_engine {
 public:
  alert_engine(std::shared_ptr<const alert_rule_set> rules, engine_limits limits);
  ~alert_engine();
  alert_engine(const alert_engine&) = delete;
  alert_engine& operator=(const alert_engine&) = delete;

  void apply(const alert_fact& f);
  // Evaluates every instant e with e < w not evaluated yet, in time order (all rules at one
  // instant, then the next), and returns the transitions in that order. `w` never recedes;
  // a smaller value is ignored.
  std::vector<alert_event> advance(event_time w);
  // At the end of a bounded input (replay --flush, backtest): evaluates the instants up to the
  // end of the windows holding facts, so that what is firing at the end of the data is reported
  // and then resolves once its windows have drained (docs/alerts.md).
  std::vector<alert_event> flush();

  event_time clock() const;  // the largest w advanced to (epoch when none)
  const engine_counters& counters() const { return counters_; }
  size_t groups() const;     // (rule, group) entries in memory
  std::vector<alert_event> firing() const;  // alerts firing now (their last firing event)

  // Durable state. Every entry is a (key, value) pair; nullopt value = delete the key. Keys are
  // short and self-contained (a version byte starts each value). take_changes hands over what
  // changed since the last call; restore() replaces the state with the entries given (in any
  // order), and fails with a message on an entry it cannot read or one the rules no longer
  // know (such entries are dropped, and counted in the message).
  using change_fn = std::function<void(std::string_view key, const std::optional<std::string>& value)>;
  void take_changes(const change_fn& out);
  std::optional<std::string> restore(const std::vector<std::pair<std::string, std::string>>& entries);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  engine_counters counters_;
};

}  // namespace tw::alerts
