#include "topics/alertmanager/alertmanager_payload.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "model/text.hpp"
#include "model/time.hpp"

namespace tw::alertmanager {

namespace {

using ordered = nlohmann::ordered_json;

// Go's zero time.Time as encoding/json writes it: what Alertmanager puts in endsAt while firing.
constexpr std::string_view go_zero_time = "0001-01-01T00:00:00Z";

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

std::string label_name(std::string_view raw) {
  std::string name;
  if (raw.empty() || !is_name_start(raw.front())) name += '_';
  for (char c : raw) name += is_name_char(c) ? c : '_';
  return name;
}

std::string number_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // also -0
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  return ordered(v).dump();  // shortest text that reads back as the same double
}

std::string joined(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += to_valid_utf8(p);
  }
  return out;
}

// Go's %q for a label value, as Alertmanager prints label sets in a groupKey. Non-ASCII UTF-8
// passes through (Go escapes only non-printable code points, which label values do not carry in
// practice).
std::string go_quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string group_key(const label_set& labels) {
  std::string out = "{}:{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ", ";
    first = false;
    out += name + "=" + go_quoted(value);
  }
  return out + "}";
}

ordered object_of(const label_set& m) {
  ordered o = ordered::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// The strings are valid UTF-8 already; `replace` only makes the "nothing throws" promise hold
// without relying on that.
std::string dump(const ordered& j) { return j.dump(-1, ' ', false, ordered::error_handler_t::replace); }

}  // namespace

std::string_view status_text(alerts::alert_state s) {
  return s == alerts::alert_state::resolved ? "resolved" : "firing";
}

label_set alert_labels(const alerts::alert_event& e) {
  label_set out{{"alertname", to_valid_utf8(e.rule)}, {"severity", std::string(to_string(e.level))}};
  for (const auto& [raw, value] : e.labels) {
    if (value.empty()) continue;  // Alertmanager drops it too; keeping it would change the fingerprint
    std::string name = label_name(raw);
    while (out.count(name)) name = "exported_" + name;
    out.emplace(std::move(name), to_valid_utf8(value));
  }
  return out;
}

label_set alert_annotations(const alerts::alert_event& e) {
  return {{"summary", to_valid_utf8(e.summary)},
          {"value", number_text(e.value)},
          {"threshold", number_text(e.threshold)},
          {"samples", std::to_string(e.samples)},
          {"alert_id", to_valid_utf8(e.alert_id)},
          {"examples", joined(e.examples, ",")},
          {"repeat", std::to_string(e.repeat)}};
}

std::string fingerprint(const label_set& labels) {
  const std::string_view separator("\xff", 1);
  uint64_t h = stable_hash("");
  for (const auto& [name, value] : labels) {
    h = stable_hash_more(h, name);
    h = stable_hash_more(h, separator);
    h = stable_hash_more(h, value);
    h = stable_hash_more(h, separator);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string postable_alerts(const std::vector<alerts::alert_event>& events, const payload_settings& s) {
  ordered body = ordered::array();
  for (const auto& e : events) {
    ordered a;
    a["labels"] = object_of(alert_labels(e));
    a["annotations"] = object_of(alert_annotations(e));
    a["startsAt"] = format_iso8601(e.started_at);
    if (e.state == alerts::alert_state::resolved) a["endsAt"] = format_iso8601(e.at);
    if (!s.generator_url.empty()) a["generatorURL"] = to_valid_utf8(s.generator_url);
    body.push_back(std::move(a));
  }
  return dump(body);
}

std::string webhook_message(const alerts::alert_event& e, const payload_settings& s) {
  const label_set labels = alert_labels(e);
  const label_set annotations = alert_annotations(e);
  const bool resolved = e.state == alerts::alert_state::resolved;

  ordered alert;
  alert["status"] = std::string(status_text(e.state));
  alert["labels"] = object_of(labels);
  alert["annotations"] = object_of(annotations);
  alert["startsAt"] = format_iso8601(e.started_at);
  alert["endsAt"] = resolved ? format_iso8601(e.at) : std::string(go_zero_time);
  alert["generatorURL"] = to_valid_utf8(s.generator_url);
  alert["fingerprint"] = fingerprint(labels);

  ordered m;
  m["receiver"] = to_valid_utf8(s.receiver);
  m["status"] = std::string(status_text(e.state));
  m["alerts"] = ordered::array({std::move(alert)});
  m["groupLabels"] = object_of(labels);
  m["commonLabels"] = object_of(labels);
  m["commonAnnotations"] = object_of(annotations);
  m["externalURL"] = to_valid_utf8(s.external_url);
  m["version"] = "4";
  m["groupKey"] = group_key(labels);
  m["truncatedAlerts"] = 0;
  return dump(m);
}

}  // namespace tw::alertmanager
