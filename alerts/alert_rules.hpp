// The compiled alert rules: what alerts/alert_rules_loader.cpp makes of the `alerts:` list of a
// rules file (docs/alerts.md, "Rule format"). Every default is resolved and every cross-reference
// (inhibit targets, summary placeholders) checked at load, so the engine never meets a rule it
// cannot evaluate.
//
// Thread-safety: an alert_rule_set is immutable once built and may be shared by threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alerts/alerts.hpp"

namespace tw::alerts {

// Loader limits, with the reason for each (docs/alerts.md repeats them).
inline constexpr duration max_window = std::chrono::hours(24 * 7);  // buckets are kept for a window
inline constexpr duration min_every = std::chrono::seconds(1);      // below, per-instant work dominates
inline constexpr int64_t max_buckets_per_window = 1440;             // a window's evaluation cost
inline constexpr uint32_t max_baseline_windows = 24;
inline constexpr size_t max_levels = 2;  // a budget's warning and critical; every other rule has one                // retention = (1 + windows) windows

enum class signal_kind : uint8_t {
  verdict_ratio,     // verdicts with a numerator status / verdicts with a denominator status
  verdict_count,     // verdicts with one of `statuses` (optionally per minute)
  deadletter_count,  // dead letters with one of `reasons` (all when empty)
  tool_error_ratio,  // failed calls / calls of `tools` (all when empty)
  tool_call_ratio,   // sessions that called one of `tools` / sessions
  llm_error_ratio,   // failed LLM calls / LLM calls of `models` (all when empty)
  latency,           // a percentile of call latencies, milliseconds
  cost_sum,          // USD summed over the window
  absence,           // verdicts with one of `statuses`; the condition is "there are none"
};
std::string_view to_string(signal_kind k);

// The labels a rule may group or filter by. Declared in name order, so that a group_by sorted by
// this enum lists its labels sorted by name (events carry labels sorted by name).
enum class label : uint8_t { agent, intent, model, status, tool };
std::string_view to_string(label l);

// A set of verdict statuses, one bit per status.
struct status_set {
  uint8_t bits = 0;
  bool has(verdict_status s) const { return bits & (1u << static_cast<unsigned>(s)); }
  void add(verdict_status s) { bits |= static_cast<uint8_t>(1u << static_cast<unsigned>(s)); }
  bool empty() const { return bits == 0; }
  bool subset_of(status_set o) const { return (bits & ~o.bits) == 0; }
};

enum class call_kind : uint8_t { llm, tool };
enum class compare_op : uint8_t { gt, ge, lt, le };
std::string_view to_string(compare_op op);
inline bool compare(compare_op op, double v, double threshold) {
  switch (op) {
    case compare_op::gt: return v > threshold;
    case compare_op::ge: return v >= threshold;
    case compare_op::lt: return v < threshold;
    case compare_op::le: return v <= threshold;
  }
  return false;
}

struct signal_spec {
  signal_kind kind = signal_kind::verdict_ratio;
  status_set numerator;    // verdict_ratio: what counts against; verdict_count, absence: what counts
  status_set denominator;  // verdict_ratio only
  bool per_minute = false;          // verdict_count: count / window minutes
  std::vector<std::string> names;   // deadletter_count: reasons; tool_*_ratio: tools; llm_error_ratio:
                                    // models (empty = all)
  call_kind of = call_kind::llm;    // latency
  double percentile = 95;           // latency, in [50, 99.9]
};

// One alert of a rule per group: a level names it (cost_sum with a budget has two, `warning` and
// `critical`, each its own alert, with the label `level`); every other rule has one unnamed level.
struct level_spec {
  std::string name;  // "" for the unnamed level; else the value of the label `level`
  severity level = severity::warning;
  compare_op op = compare_op::gt;
  double threshold = 0;
};

enum class window_kind : uint8_t { sliding, tumbling };
enum class baseline_kind : uint8_t { none, previous, mean };

struct change_spec {
  baseline_kind against = baseline_kind::none;
  uint32_t windows = 0;  // preceding windows compared against: 1 for previous
};

// A summary template, split at load into literal text and placeholders.
struct summary_part {
  enum class kind : uint8_t { text, rule, value, threshold, window, samples, baseline, label_value };
  kind what = kind::text;
  std::string text;  // the literal, or the label name for label_value ("level" included)
};

struct alert_rule {
  std::string name;
  signal_spec signal;
  std::vector<level_spec> levels;  // at least one
  duration window{0};
  duration every{0};
  window_kind kind = window_kind::sliding;
  change_spec change;
  uint64_t min_samples = 0;
  duration for_{0};
  duration keep_firing_for{0};
  duration repeat_interval{0};
  std::vector<label> group_by;  // sorted, distinct
  std::vector<std::pair<label, std::vector<std::string>>> filter;  // sorted by label
  std::vector<size_t> inhibits;   // indexes of the rules this one inhibits
  std::vector<label> inhibit_equal;
  std::vector<summary_part> summary;
  std::string summary_source;

  bool groups_by(label l) const;
  // Whether an abandoned verdict may contribute: only where the rule names the status.
  bool names_abandoned() const;
  // How far back the buckets of an instant reach: the window and the windows it is compared with.
  duration retention() const { return window * (1 + static_cast<int64_t>(change.windows)); }
};

class alert_rule_set {
 public:
  alert_rule_set(std::string version, std::vector<alert_rule> rules);
  const std::vector<alert_rule>& rules() const { return rules_; }
  // 16 hex digits: the FNV-1a hash (model/text.hpp stable_hash) of the rules' source text.
  const std::string& version() const { return version_; }
  // The rule's index, or rules().size() when there is none of that name.
  size_t find(std::string_view name) const;

 private:
  std::string version_;
  std::vector<alert_rule> rules_;
};

}  // namespace tw::alerts
