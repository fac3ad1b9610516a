// The compiled rules: what a rules file (docs/rules.md) becomes once it has been validated.
//
// A rule_set is built only by load_rules_yaml() (judge/rules_loader.cpp), which refuses anything
// it cannot compile, so the invariants below hold for every rule_set that exists:
//   - every intent name is unique and differs from the fallback's;
//   - every match rule id is unique in the file; check ids are unique within an intent's own
//     checks together with the common checks;
//   - every weight is in (0, 1]; every pattern compiled;
//   - every check has exactly one condition (`kind`), with the fields that condition needs.
//
// Immutable once built: share it (std::shared_ptr<const rule_set>) between threads freely. The
// regular expressions are RE2 objects, whose matching is const and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/time.hpp"
#include "model/verdict.hpp"

namespace re2 {
class RE2;
}

namespace tw::judge {

// A compiled regular expression and the text it came from (for messages and evidence).
struct pattern {
  std::string source;
  std::shared_ptr<const re2::RE2> re;  // never null in a loaded rule_set
};

// --- intents ---------------------------------------------------------------------------------

enum class match_kind : uint8_t {
  user_text,  // `pattern` finds a match in some turn's user_text
  tool_used,  // a tool call named `tool` appears (whatever its outcome)
  metadata,   // session metadata `metadata_key` equals `equals`, or matches `pattern`
};

struct match_rule {
  std::string id;
  double weight = 1;  // in (0, 1]
  match_kind kind = match_kind::user_text;
  std::string tool;                   // tool_used
  std::string metadata_key;           // metadata
  std::optional<std::string> equals;  // metadata: exact value; otherwise `pattern` applies
  std::optional<pattern> regex;       // user_text; metadata `matches`
};

// --- fulfillment -----------------------------------------------------------------------------

enum class check_kind : uint8_t {
  tool_succeeded,                      // a call of `tool` succeeded (and its result has `result_has`)
  tool_not_called,                     // no call of `tool`
  tool_called,                         // at least one call of `tool`
  no_tool_error_after_last_user_turn,  // no failed tool call at or after the last turn with user text
  no_llm_error,                        // no LLM call failed
  min_turns,                           // at least `min_turns` turns
};

struct check_spec {
  std::string id;
  std::string description;  // from the file, or generated from the condition
  verdict_status implies = verdict_status::fail;  // fail | partial | error
  check_kind kind = check_kind::tool_succeeded;
  std::string tool;        // tool_succeeded, tool_not_called, tool_called
  std::string result_has;  // tool_succeeded: a field (dotted path) the result must have; empty: any
  bool if_called = false;  // tool_succeeded: skipped when `tool` was never called
  uint64_t min_turns = 0;  // min_turns
  // Any check: skipped when a call of this tool succeeded (a hand-over to a person makes the
  // agent's own completion moot). Empty: never skipped for this reason.
  std::string skip_if_tool_succeeded;
};

struct intent_spec {
  std::string name;
  std::string description;
  std::vector<match_rule> rules;    // empty for the fallback
  std::vector<check_spec> checks;   // the intent's own; common checks are held by the rule_set
};

// --- experts ---------------------------------------------------------------------------------
// Each expert's recommendation keys name a configuration key of the monitored agent; empty: the
// finding's recommendation carries advice only.

struct tool_errors_options {
  std::vector<std::pair<std::string, std::string>> keys;  // tool name -> key, in file order
  std::string default_key;                                 // tools not in `keys`
  const std::string& key_for(std::string_view tool) const;
};

struct llm_options {
  std::vector<pattern> refusal_patterns;  // over turns' assistant_text
  std::vector<std::string> failure_finish_reasons{"length", "content_filter"};
  std::string error_key, refusal_key, empty_output_key, truncated_key;
};

struct latency_options {
  duration max_llm_call = std::chrono::milliseconds(10'000);
  duration max_tool_call = std::chrono::milliseconds(5'000);
  std::string slow_llm_key, slow_tool_key;
};

struct loop_options {
  uint64_t consecutive_calls = 3;  // >= 2
  std::string key;
};

struct cost_options {
  std::optional<double> max_cost_usd;        // absent: not checked
  std::optional<int64_t> max_total_tokens;   // input + output; absent: not checked
  std::string cost_key, tokens_key;
};

struct expert_options {
  tool_errors_options tool_errors;
  llm_options llm;
  latency_options latency;
  loop_options loops;
  cost_options cost;
};

// --- the whole file --------------------------------------------------------------------------

class rule_set {
 public:
  rule_set(std::string version, std::vector<intent_spec> intents, intent_spec fallback,
           std::vector<std::string> intent_labels, std::vector<check_spec> common_checks, expert_options experts);

  // 16 hex digits: the FNV-1a hash (model/text.hpp stable_hash) of the rules' source text.
  const std::string& version() const { return version_; }
  // In file order: the order breaks confidence ties.
  const std::vector<intent_spec>& intents() const { return intents_; }
  const intent_spec& fallback() const { return fallback_; }
  // Metadata keys whose value, when it names an intent in intents(), is taken as the intent.
  const std::vector<std::string>& intent_labels() const { return intent_labels_; }
  // Checks applied to every intent (the fallback included), after the intent's own.
  const std::vector<check_spec>& common_checks() const { return common_checks_; }
  const expert_options& experts() const { return experts_; }

  // The intent named `name` among intents(), or nullptr (the fallback is not found here).
  const intent_spec* find_intent(std::string_view name) const;

 private:
  std::string version_;
  std::vector<intent_spec> intents_;
  intent_spec fallback_;
  std::vector<std::string> intent_labels_;
  std::vector<check_spec> common_checks_;
  expert_options experts_;
};

}  // namespace tw::judge
