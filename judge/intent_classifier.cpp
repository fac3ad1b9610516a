// Intent: an upstream label when the session carries one, else the rules' noisy-or vote.
//
// Confidence of an intent = 1 - Π(1 - w) over its rules that match (each rule counts once, however
// many turns or calls it matches). The highest confidence wins; a tie goes to the intent listed
// first. Nothing matching gives the fallback intent with confidence 0.
#include <re2/re2.h>

#include "judge/evidence_text.hpp"
#include "judge/judge.hpp"
#include "judge/rules.hpp"

namespace tw::judge {
namespace {

const std::string* metadata_value(const session_summary& s, const std::string& key) {
  for (const auto& [k, v] : s.metadata)
    if (k == key) return &v;
  return nullptr;
}

// The evidence for `rule` if it matches `s`: the first turn, call or entry it matches.
std::optional<evidence_item> match(const match_rule& rule, const session_summary& s) {
  switch (rule.kind) {
    case match_kind::user_text:
      for (const auto& t : s.turns) {
        re2::StringPiece found;
        if (!t.user_text.empty() &&
            rule.regex->re->Match(t.user_text, 0, t.user_text.size(), RE2::UNANCHORED, &found, 1))
          return evidence_item{rule.id, "user_text", t.trace_id,
                               excerpt_around(t.user_text, static_cast<size_t>(found.data() - t.user_text.data()),
                                              found.size())};
      }
      return std::nullopt;
    case match_kind::tool_used:
      for (const auto& c : s.tool_calls)
        if (c.name == rule.tool)
          return evidence_item{rule.id, "tool_used", c.observation_id,
                               c.name + (c.ok ? " (succeeded)" : " (failed: " + short_text(c.error) + ")")};
      return std::nullopt;
    case match_kind::metadata: {
      const std::string* v = metadata_value(s, rule.metadata_key);
      if (!v) return std::nullopt;
      const bool hit = rule.equals ? *v == *rule.equals : RE2::PartialMatch(*v, *rule.regex->re);
      if (!hit) return std::nullopt;
      return evidence_item{rule.id, "metadata", "", rule.metadata_key + "=" + short_text(*v)};
    }
  }
  return std::nullopt;
}

}  // namespace

intent_classifier::intent_classifier(std::shared_ptr<const rule_set> rules) : rules_(std::move(rules)) {}

intent_result intent_classifier::classify(const session_summary& s) const {
  const rule_set& r = *rules_;
  for (const auto& key : r.intent_labels()) {
    const std::string* v = metadata_value(s, key);
    if (v && r.find_intent(*v)) {
      intent_result out;
      out.name = *v;
      out.confidence = 1.0;
      out.evidence.push_back(evidence_item{"intent_labels:" + key, "metadata", "", key + "=" + *v});
      return out;
    }
  }

  intent_result best;
  for (const auto& intent : r.intents()) {
    double miss = 1.0;  // Π(1 - w) over the matching rules
    std::vector<evidence_item> evidence;
    for (const auto& rule : intent.rules) {
      if (auto e = match(rule, s)) {
        miss *= 1.0 - rule.weight;
        evidence.push_back(std::move(*e));
      }
    }
    const double confidence = 1.0 - miss;
    if (!evidence.empty() && confidence > best.confidence) {  // strictly: a tie keeps the earlier
      best.name = intent.name;
      best.confidence = confidence;
      best.evidence = std::move(evidence);
    }
  }
  if (best.name.empty()) {
    best.name = r.fallback().name;
    best.confidence = 0;
    best.fallback = true;
  }
  return best;
}

}  // namespace tw::judge
