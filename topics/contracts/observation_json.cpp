#include "topics/contracts/observation_json.hpp"

#include <nlohmann/json.hpp>

namespace tw {

std::string encode_observation_json(const observation& o) {
  nlohmann::ordered_json j;
  j["schema"] = "tracewatch.event.v1";
  j["event_id"] = o.event_id;
  if (!o.session_id.empty()) j["session_id"] = o.session_id;
  if (!o.trace_id.empty()) j["trace_id"] = o.trace_id;
  j["observation_id"] = o.observation_id;
  if (o.parent_id) j["parent_id"] = *o.parent_id;
  j["kind"] = to_string(o.kind);
  if (o.is_update) j["update"] = true;
  if (o.name) j["name"] = *o.name;
  j["timestamp"] = format_iso8601(o.timestamp);
  if (o.start) j["start"] = format_iso8601(*o.start);
  if (o.end) j["end"] = format_iso8601(*o.end);
  if (o.level) j["level"] = to_string(*o.level);
  if (o.status_message) j["status_message"] = *o.status_message;
  if (o.model) j["model"] = *o.model;
  if (o.input_tokens) j["input_tokens"] = *o.input_tokens;
  if (o.output_tokens) j["output_tokens"] = *o.output_tokens;
  if (o.cost_usd) j["cost_usd"] = *o.cost_usd;
  if (o.tool_name) j["tool_name"] = *o.tool_name;
  if (o.tool_result) j["tool_result"] = *o.tool_result;
  if (o.user_text) j["user_text"] = *o.user_text;
  if (o.assistant_text) j["assistant_text"] = *o.assistant_text;
  if (o.metadata) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : *o.metadata) m[k] = v;
    j["metadata"] = std::move(m);
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace tw
