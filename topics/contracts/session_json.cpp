#include "topics/contracts/session_json.hpp"

#include <nlohmann/json.hpp>

namespace tw {
namespace {

using json = nlohmann::ordered_json;

json opt_int(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json opt_double(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json opt_latency(const std::optional<duration>& d) { return d ? json(to_millis(*d)) : json(nullptr); }

json encode_truncated(const truncation_counts& t) {
  json j;
  j["events_not_stored"] = t.events_not_stored;
  j["tool_calls"] = t.tool_calls;
  j["llm_calls"] = t.llm_calls;
  j["errors"] = t.errors;
  j["turns"] = t.turns;
  return j;
}

}  // namespace

std::string encode_session_json(const session_summary& s) {
  json j;
  j["schema"] = session_schema_v1;
  j["session_id"] = s.session_id;
  j["revision"] = s.revision;
  json window;
  window["first_event_at"] = format_iso8601(s.first_event_at);
  window["last_event_at"] = format_iso8601(s.last_event_at);
  window["closed_at"] = format_iso8601(s.closed_at);
  window["reason"] = to_string(s.reason);
  window["abandoned"] = s.abandoned;
  j["window"] = std::move(window);

  json stats;
  stats["traces"] = s.stats.traces;
  stats["observations"] = s.stats.observations;
  stats["generations"] = s.stats.generations;
  stats["tool_calls"] = s.stats.tool_calls;
  stats["tool_errors"] = s.stats.tool_errors;
  stats["errors"] = s.stats.errors;
  stats["input_tokens"] = s.stats.input_tokens;
  stats["output_tokens"] = s.stats.output_tokens;
  stats["cost_usd"] = opt_double(s.stats.cost_usd);
  stats["duration_ms"] = to_millis(s.stats.session_duration);
  j["stats"] = std::move(stats);

  j["user_id"] = s.user_id.empty() ? json(nullptr) : json(s.user_id);
  j["environment"] = s.environment.empty() ? json(nullptr) : json(s.environment);
  j["models"] = s.models;
  json meta = json::object();
  for (const auto& [k, v] : s.metadata) meta[k] = v;
  j["metadata"] = std::move(meta);

  json turns = json::array();
  for (const auto& t : s.turns) {
    json tj;
    tj["trace_id"] = t.trace_id;
    tj["at"] = format_iso8601(t.at);
    tj["user"] = t.user_text;
    tj["assistant"] = t.assistant_text;
    turns.push_back(std::move(tj));
  }
  j["turns"] = std::move(turns);

  json tools = json::array();
  for (const auto& t : s.tool_calls) {
    json tj;
    tj["observation_id"] = t.observation_id;
    tj["trace_id"] = t.trace_id;
    tj["name"] = t.name;
    tj["ok"] = t.ok;
    tj["result"] = t.result;
    tj["error"] = t.error.empty() ? json(nullptr) : json(t.error);
    tj["at"] = format_iso8601(t.at);
    tj["latency_ms"] = opt_latency(t.latency);
    tools.push_back(std::move(tj));
  }
  j["tool_calls"] = std::move(tools);

  json llm = json::array();
  for (const auto& c : s.llm_calls) {
    json cj;
    cj["observation_id"] = c.observation_id;
    cj["trace_id"] = c.trace_id;
    cj["name"] = c.name;
    cj["model"] = c.model.empty() ? json(nullptr) : json(c.model);
    cj["at"] = format_iso8601(c.at);
    cj["latency_ms"] = opt_latency(c.latency);
    cj["input_tokens"] = opt_int(c.input_tokens);
    cj["output_tokens"] = opt_int(c.output_tokens);
    cj["cost_usd"] = opt_double(c.cost_usd);
    cj["counted"] = c.counted;
    cj["ok"] = c.ok;
    cj["error"] = c.error.empty() ? json(nullptr) : json(c.error);
    cj["finish_reason"] = c.finish_reason.empty() ? json(nullptr) : json(c.finish_reason);
    cj["empty_output"] = c.empty_output;
    llm.push_back(std::move(cj));
  }
  j["llm_calls"] = std::move(llm);

  json errors = json::array();
  for (const auto& e : s.errors) {
    json ej;
    ej["observation_id"] = e.observation_id;
    ej["trace_id"] = e.trace_id;
    ej["kind"] = to_string(e.kind);
    ej["name"] = e.name;
    ej["message"] = e.message;
    ej["at"] = format_iso8601(e.at);
    errors.push_back(std::move(ej));
  }
  j["errors"] = std::move(errors);

  json scores = json::array();
  for (const auto& sc : s.scores) {
    json sj;
    sj["name"] = sc.name;
    sj["value"] = opt_double(sc.value);
    sj["label"] = sc.label.empty() ? json(nullptr) : json(sc.label);
    scores.push_back(std::move(sj));
  }
  j["scores"] = std::move(scores);
  j["truncated"] = encode_truncated(s.truncated);
  // Invalid UTF-8 cannot reach here (the importer guarantees it), but replace rather than throw
  // should that invariant ever break: an exception here would stop the state stage.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

std::optional<event_time> time_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return parse_iso8601(it->get<std::string>());
}

std::string str_or_empty(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<duration> latency_field(const json& j) {
  auto it = j.find("latency_ms");
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return duration{static_cast<int64_t>(it->get<double>() * 1000.0 + (it->get<double>() >= 0 ? 0.5 : -0.5))};
}

template <class T>
std::optional<T> opt_number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<T>();
}

std::optional<completion_reason> reason_from(const std::string& s) {
  for (auto r : {completion_reason::gap, completion_reason::end_marker, completion_reason::max_duration,
                 completion_reason::flush})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

std::optional<obs_kind> kind_from(const std::string& s) {
  for (auto k : {obs_kind::trace, obs_kind::span, obs_kind::generation, obs_kind::tool, obs_kind::event,
                 obs_kind::score})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

}  // namespace

std::optional<session_summary> decode_session_json(std::string_view text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<session_summary> {
    if (error) *error = why;
    return std::nullopt;
  };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("not JSON");
  if (!j.is_object() || j.value("schema", "") != session_schema_v1) return fail("schema: not tracewatch.session.v1");
  session_summary s;
  s.session_id = str_or_empty(j, "session_id");
  if (s.session_id.empty()) return fail("session_id: missing");
  if (!j.contains("revision") || !j["revision"].is_number_unsigned()) return fail("revision: missing");
  s.revision = j["revision"].get<uint32_t>();
  if (!j.contains("window") || !j["window"].is_object()) return fail("window: missing");
  const json& w = j["window"];
  auto first = time_field(w, "first_event_at"), last = time_field(w, "last_event_at"), closed = time_field(w, "closed_at");
  if (!first || !last || !closed) return fail("window: times missing or malformed");
  s.first_event_at = *first;
  s.last_event_at = *last;
  s.closed_at = *closed;
  auto reason = reason_from(str_or_empty(w, "reason"));
  if (!reason) return fail("window.reason: unknown");
  s.reason = *reason;
  s.abandoned = w.value("abandoned", false);
  if (!j.contains("stats") || !j["stats"].is_object()) return fail("stats: missing");
  const json& st = j["stats"];
  s.stats.traces = st.value("traces", uint64_t{0});
  s.stats.observations = st.value("observations", uint64_t{0});
  s.stats.generations = st.value("generations", uint64_t{0});
  s.stats.tool_calls = st.value("tool_calls", uint64_t{0});
  s.stats.tool_errors = st.value("tool_errors", uint64_t{0});
  s.stats.errors = st.value("errors", uint64_t{0});
  s.stats.input_tokens = st.value("input_tokens", int64_t{0});
  s.stats.output_tokens = st.value("output_tokens", int64_t{0});
  s.stats.cost_usd = opt_number<double>(st, "cost_usd");
  s.stats.session_duration = duration{static_cast<int64_t>(st.value("duration_ms", 0.0) * 1000.0 + 0.5)};
  s.user_id = str_or_empty(j, "user_id");
  s.environment = str_or_empty(j, "environment");
  if (j.contains("models") && j["models"].is_array())
    for (const auto& m : j["models"])
      if (m.is_string()) s.models.push_back(m.get<std::string>());
  if (j.contains("metadata") && j["metadata"].is_object())
    for (const auto& [k, v] : j["metadata"].items())
      if (v.is_string()) s.metadata.emplace_back(k, v.get<std::string>());
  if (j.contains("turns") && j["turns"].is_array())
    for (const auto& t : j["turns"]) {
      turn_summary ts;
      ts.trace_id = str_or_empty(t, "trace_id");
      ts.at = time_field(t, "at").value_or(event_time{});
      ts.user_text = str_or_empty(t, "user");
      ts.assistant_text = str_or_empty(t, "assistant");
      s.turns.push_back(std::move(ts));
    }
  if (j.contains("tool_calls") && j["tool_calls"].is_array())
    for (const auto& t : j["tool_calls"]) {
      tool_call_summary tc;
      tc.observation_id = str_or_empty(t, "observation_id");
      tc.trace_id = str_or_empty(t, "trace_id");
      tc.name = str_or_empty(t, "name");
      tc.ok = t.value("ok", true);
      tc.result = str_or_empty(t, "result");
      tc.error = str_or_empty(t, "error");
      tc.at = time_field(t, "at").value_or(event_time{});
      tc.latency = latency_field(t);
      s.tool_calls.push_back(std::move(tc));
    }
  if (j.contains("llm_calls") && j["llm_calls"].is_array())
    for (const auto& c : j["llm_calls"]) {
      llm_call_summary lc;
      lc.observation_id = str_or_empty(c, "observation_id");
      lc.trace_id = str_or_empty(c, "trace_id");
      lc.name = str_or_empty(c, "name");
      lc.model = str_or_empty(c, "model");
      lc.at = time_field(c, "at").value_or(event_time{});
      lc.latency = latency_field(c);
      lc.input_tokens = opt_number<int64_t>(c, "input_tokens");
      lc.output_tokens = opt_number<int64_t>(c, "output_tokens");
      lc.cost_usd = opt_number<double>(c, "cost_usd");
      lc.counted = c.value("counted", true);
      lc.ok = c.value("ok", true);
      lc.error = str_or_empty(c, "error");
      lc.finish_reason = str_or_empty(c, "finish_reason");
      lc.empty_output = c.value("empty_output", false);
      s.llm_calls.push_back(std::move(lc));
    }
  if (j.contains("errors") && j["errors"].is_array())
    for (const auto& e : j["errors"]) {
      error_summary es;
      es.observation_id = str_or_empty(e, "observation_id");
      es.trace_id = str_or_empty(e, "trace_id");
      es.kind = kind_from(str_or_empty(e, "kind")).value_or(obs_kind::span);
      es.name = str_or_empty(e, "name");
      es.message = str_or_empty(e, "message");
      es.at = time_field(e, "at").value_or(event_time{});
      s.errors.push_back(std::move(es));
    }
  if (j.contains("scores") && j["scores"].is_array())
    for (const auto& sc : j["scores"]) {
      score_summary ss;
      ss.name = str_or_empty(sc, "name");
      ss.value = opt_number<double>(sc, "value");
      ss.label = str_or_empty(sc, "label");
      s.scores.push_back(std::move(ss));
    }
  if (j.contains("truncated") && j["truncated"].is_object()) {
    const json& t = j["truncated"];
    s.truncated.events_not_stored = t.value("events_not_stored", uint64_t{0});
    s.truncated.tool_calls = t.value("tool_calls", uint64_t{0});
    s.truncated.llm_calls = t.value("llm_calls", uint64_t{0});
    s.truncated.errors = t.value("errors", uint64_t{0});
    s.truncated.turns = t.value("turns", uint64_t{0});
  }
  return s;
}

}  // namespace tw
