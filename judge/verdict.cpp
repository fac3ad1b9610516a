// The verdict, and the diagnostic that gathers the experts' findings: plain assembly, no rules of
// its own beyond "abandoned wins" and "one recommendation per key".
#include "judge/judge.hpp"
#include "judge/rules.hpp"

namespace tw::judge {

verdict make_verdict(const session_summary& s, const intent_result& intent, const fulfillment_result& fulfillment,
                     const rule_set& rules) {
  verdict v;
  v.session_id = s.session_id;
  v.revision = s.revision;
  // An abandoned session is reported as such, but its fulfillment is still computed and carried:
  // it shows how far the caller got.
  v.status = s.abandoned ? verdict_status::abandoned : fulfillment.status;
  v.intent = intent;
  v.fulfillment = fulfillment;
  v.stats = s.stats;
  v.first_event_at = s.first_event_at;
  v.last_event_at = s.last_event_at;
  v.closed_at = s.closed_at;
  v.reason = s.reason;
  v.rules_version = rules.version();
  return v;
}

bool needs_diagnosis(verdict_status v) {
  return v == verdict_status::fail || v == verdict_status::partial || v == verdict_status::error;
}

diagnostic make_diagnostic(const verdict& v, std::vector<finding> findings, const rule_set& rules) {
  diagnostic d;
  d.session_id = v.session_id;
  d.revision = v.revision;
  d.verdict = v.status;
  d.intent = v.intent.name;
  d.rules_version = rules.version();
  // Distinct in finding order: one entry per configuration key (the first finding's advice), and
  // for advice without a key, one entry per advice text.
  for (const auto& f : findings) {
    if (!f.advice) continue;
    const recommendation& rec = *f.advice;
    bool seen = false;
    for (const auto& r : d.recommendations)
      seen = seen || (rec.key.empty() ? r.key.empty() && r.advice == rec.advice : r.key == rec.key);
    if (!seen) d.recommendations.push_back(rec);
  }
  d.findings = std::move(findings);
  return d;
}

judgement judge_session(const session_summary& s, const std::shared_ptr<const rule_set>& rules) {
  judgement j;
  const intent_result intent = intent_classifier(rules).classify(s);
  const fulfillment_result fulfillment = fulfillment_checker(rules).check(s, intent);
  j.outcome = make_verdict(s, intent, fulfillment, *rules);
  if (needs_diagnosis(j.outcome.status))
    j.diagnosis = make_diagnostic(j.outcome, diagnostician(rules).examine(s, j.outcome), *rules);
  return j;
}

}  // namespace tw::judge
