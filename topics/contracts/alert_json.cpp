#include "topics/contracts/alert_json.hpp"

#include <cmath>

#include "model/text.hpp"
#include "topics/contracts/strict_json_reader.hpp"

namespace tw {
namespace {

using contracts_detail::json;

// JSON has no NaN or infinity: a value the engine could not compute is null.
json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

std::string encode_alert_json(const alerts::alert_event& e) {
  json j;
  j["schema"] = alert_schema_v1;
  j["alert_id"] = e.alert_id;
  j["rule"] = e.rule;
  j["state"] = alerts::to_string(e.state);
  j["severity"] = to_string(e.level);
  json labels = json::object();
  for (const auto& [k, v] : e.labels) labels[k] = to_valid_utf8(v);
  j["labels"] = std::move(labels);
  j["value"] = number_or_null(e.value);
  j["threshold"] = number_or_null(e.threshold);
  j["baseline"] = e.baseline ? number_or_null(*e.baseline) : json(nullptr);
  j["at"] = format_iso8601(e.at);
  j["started_at"] = format_iso8601(e.started_at);
  j["samples"] = e.samples;
  j["repeat"] = e.repeat;
  json examples = json::array();
  for (const auto& id : e.examples) examples.push_back(to_valid_utf8(id));
  j["examples"] = std::move(examples);
  j["summary"] = to_valid_utf8(e.summary);
  return j.dump();
}

std::optional<alerts::alert_event> decode_alert_json(std::string_view text, std::string* error) {
  contracts_detail::reader rd;
  auto fail = [&](const std::string& why) -> std::optional<alerts::alert_event> {
    if (error) *error = why;
    return std::nullopt;
  };
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("not JSON");
  alerts::alert_event e;
  std::string schema, state, level;
  uint64_t samples = 0, repeat = 0;
  if (!rd.object(j, "", {"schema", "alert_id", "rule", "state", "severity", "labels", "value", "threshold", "baseline", "at",
                         "started_at", "samples", "repeat", "examples", "summary"}) ||
      !rd.text(j, "", "schema", schema))
    return fail(rd.error());
  if (schema != alert_schema_v1) return fail("schema: not " + std::string(alert_schema_v1));
  if (!rd.nonempty_text(j, "", "alert_id", e.alert_id) || !rd.nonempty_text(j, "", "rule", e.rule) ||
      !rd.text(j, "", "state", state) || !rd.text(j, "", "severity", level) || !rd.time(j, "", "at", e.at) ||
      !rd.time(j, "", "started_at", e.started_at) || !rd.whole(j, "", "samples", 0, UINT64_MAX, samples) ||
      !rd.whole(j, "", "repeat", 0, UINT32_MAX, repeat) || !rd.id_list(j, "", "examples", e.examples) ||
      !rd.text(j, "", "summary", e.summary))
    return fail(rd.error());
  e.samples = samples;
  e.repeat = static_cast<uint32_t>(repeat);
  if (state == "firing") e.state = alerts::alert_state::firing;
  else if (state == "resolved") e.state = alerts::alert_state::resolved;
  else return fail("state: not firing or resolved");
  bool known = false;
  for (auto s : {severity::info, severity::warning, severity::critical})
    if (to_string(s) == level) {
      e.level = s;
      known = true;
    }
  if (!known) return fail("severity: not info, warning or critical");
  for (const char* key : {"value", "threshold"}) {
    const json& v = contracts_detail::reader::at(j, key);
    double& out = std::string_view(key) == "value" ? e.value : e.threshold;
    if (v.is_null()) out = std::nan("");
    else if (v.is_number()) out = v.get<double>();
    else return fail(std::string(key) + ": neither a number nor null");
  }
  if (!rd.optional_number(j, "", "baseline", e.baseline)) return fail(rd.error());
  const json& labels = contracts_detail::reader::at(j, "labels");
  if (!labels.is_object()) return fail("labels: not an object");
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (!it.value().is_string()) return fail("labels." + it.key() + ": not a string");
    e.labels.emplace_back(it.key(), it.value().get<std::string>());
  }
  return e;
}

}  // namespace tw
