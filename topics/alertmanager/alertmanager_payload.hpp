// The JSON bodies tracewatch sends about an alert_event (docs/notifications.md):
//
//   postable_alerts   Alertmanager API v2, POST /api/v2/alerts: a JSON array of postable alerts
//                     {labels, annotations, startsAt, [endsAt], [generatorURL]}.
//   webhook_message   the body Alertmanager's own webhook receiver POSTs (version "4"), holding
//                     one alert, for receivers written against Alertmanager.
//
// Both are built from the same label set and annotations, so an alert has one identity on both
// paths: its labels (and their Prometheus fingerprint). Keys are written in the order the Go
// structs of Alertmanager 0.25 marshal them, maps sorted by key, so that the output is
// byte-identical for the same event and settings.
//
// Every string is made valid UTF-8 (invalid bytes become U+FFFD) before it is used, so that the
// fingerprint and the JSON agree and no body is refused for its encoding. Nothing here throws.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alerts.hpp"

namespace tw::alertmanager {

// What the events do not carry. All optional: empty strings are valid.
struct payload_settings {
  // Link back to the source of the alert (generatorURL). Empty: omitted from postable alerts and
  // sent as "" in webhook messages (Alertmanager's own behaviour for an alert without one).
  std::string generator_url;
  // webhook_message: the "receiver" and "externalURL" fields.
  std::string receiver = "tracewatch";
  std::string external_url;
};

// "firing" | "resolved": Alertmanager's status words. Never rename: receivers match on them.
std::string_view status_text(alerts::alert_state s);

// Sorted by name (Alertmanager label sets are maps).
using label_set = std::map<std::string, std::string>;

// alertname = rule, severity = to_string(level), then the event's labels. Alertmanager 0.25
// refuses names outside [a-zA-Z_][a-zA-Z0-9_]* with a 400, so other characters become '_' and a
// leading digit gets a '_' in front ("gen_ai.agent" -> "gen_ai_agent"). An event label whose name
// (after that) is already taken — alertname, severity, or another label — is kept as
// "exported_<name>", as Prometheus does with conflicting target labels. A label with an empty
// value is left out: to Prometheus and Alertmanager it does not exist (Alertmanager drops it).
label_set alert_labels(const alerts::alert_event& e);

// summary, value, threshold, samples, alert_id, examples (session ids, comma-separated), repeat.
// Numbers as text: integers without a fraction, others in the shortest form that reads back
// exactly, NaN and infinities as Prometheus writes them ("NaN", "+Inf", "-Inf").
label_set alert_annotations(const alerts::alert_event& e);

// Prometheus' fingerprint of a label set (FNV-1a 64 over sorted name, 0xff, value, 0xff), as 16
// lower-case hex digits: what Alertmanager reports as an alert's "fingerprint".
std::string fingerprint(const label_set& labels);

// The body of POST /api/v2/alerts for these events, in their order. startsAt = started_at;
// endsAt = at for a resolved event and absent for a firing one (Alertmanager then keeps it
// active for its resolve_timeout, which is why firing alerts are re-sent: see notifier.hpp).
std::string postable_alerts(const std::vector<alerts::alert_event>& events, const payload_settings& s);

// Alertmanager's webhook message for one event: status and the alert's status from the event,
// groupLabels = commonLabels = the alert's labels and commonAnnotations = its annotations (a
// group of one), groupKey = "{}:" + the labels as Alertmanager prints a label set, truncatedAlerts
// 0, endsAt "0001-01-01T00:00:00Z" (Go's zero time) while firing, as Alertmanager sends it.
std::string webhook_message(const alerts::alert_event& e, const payload_settings& s);

}  // namespace tw::alertmanager
