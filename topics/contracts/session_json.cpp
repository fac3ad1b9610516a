#include "topics/contracts/session_json.hpp"

#include <nlohmann/json.hpp>

#include "model/text.hpp"

#include <cmath>
#include <cstdint>

namespace tw {
namespace {

using json = nlohmann::ordered_json;

json opt_int(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json opt_double(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }
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

// Readers that check the type first: nlohmann's value() throws on a type mismatch, and a decoder
// must answer a malformed document with an error, never an exception.
std::optional<event_time> time_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return parse_iso8601(it->get_ref<const std::string&>());
}

std::string str_or_empty(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool bool_or(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::optional<uint64_t> count(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

std::optional<double> number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<int64_t> tokens(const json& j, const char* key) {
  auto c = count(j, key);
  if (!c || *c > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(*c);
}

std::optional<duration> millis_field(const json& j, const char* key) {
  auto v = number(j, key);
  if (!v || !(*v >= 0) || *v > 1e15) return std::nullopt;
  return duration{static_cast<int64_t>(*v * 1000.0 + 0.5)};
}

}  // namespace

uint64_t session_content_hash(std::string_view text) {
  // The encoder writes "revision" right after "session_id", a JSON string in which a quote is
  // always escaped: the first unescaped `"revision":` is the member.
  constexpr std::string_view member = "\"revision\":";
  size_t at = text.find(member);
  uint64_t h = stable_hash(text.substr(0, at));
  if (at != std::string_view::npos) {
    size_t end = at + member.size();
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    h = stable_hash_more(h, text.substr(end));
  }
  return h == 0 ? 1 : h;
}

namespace {

std::optional<completion_reason> reason_from(const std::string& s) {
  for (auto r : {completion_reason::gap, completion_reason::end_marker, completion_reason::max_duration,
                 completion_reason::flush, completion_reason::idle})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

std::optional<obs_kind> kind_from(const std::string& s) {
  for (auto k : {obs_kind::trace, obs_kind::span, obs_kind::generation, obs_kind::tool, obs_kind::event,
                 obs_kind::score})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

// Each element of the array `key` that is an object, passed to `f`.
template <class F>
void each_object(const json& j, const char* key, F f) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return;
  for (const auto& e : *it)
    if (e.is_object()) f(e);
}

}  // namespace

std::optional<session_summary> decode_session_json(std::string_view text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<session_summary> {
    if (error) *error = why;
    return std::nullopt;
  };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("not JSON");
  if (!j.is_object() || str_or_empty(j, "schema") != session_schema_v1) return fail("schema: not tracewatch.session.v1");
  session_summary s;
  s.session_id = str_or_empty(j, "session_id");
  if (s.session_id.empty()) return fail("session_id: missing");
  auto revision = count(j, "revision");
  if (!revision || *revision < 1 || *revision > UINT32_MAX) return fail("revision: not an integer >= 1");
  s.revision = static_cast<uint32_t>(*revision);
  auto w = j.find("window");
  if (w == j.end() || !w->is_object()) return fail("window: missing");
  auto first = time_field(*w, "first_event_at"), last = time_field(*w, "last_event_at"),
       closed = time_field(*w, "closed_at");
  if (!first || !last || !closed) return fail("window: times missing or malformed");
  s.first_event_at = *first;
  s.last_event_at = *last;
  s.closed_at = *closed;
  auto reason = reason_from(str_or_empty(*w, "reason"));
  if (!reason) return fail("window.reason: unknown");
  s.reason = *reason;
  auto abandoned = w->find("abandoned");
  if (abandoned == w->end() || !abandoned->is_boolean()) return fail("window.abandoned: not a boolean");
  s.abandoned = abandoned->get<bool>();
  auto st = j.find("stats");
  if (st == j.end() || !st->is_object()) return fail("stats: missing");
  auto c = [&](const char* k, uint64_t& out) {
    auto v = count(*st, k);
    if (!v) return false;
    out = *v;
    return true;
  };
  auto in_tok = tokens(*st, "input_tokens"), out_tok = tokens(*st, "output_tokens");
  auto dur = millis_field(*st, "duration_ms");
  if (!c("traces", s.stats.traces) || !c("observations", s.stats.observations) ||
      !c("generations", s.stats.generations) || !c("tool_calls", s.stats.tool_calls) ||
      !c("tool_errors", s.stats.tool_errors) || !c("errors", s.stats.errors) || !in_tok || !out_tok || !dur)
    return fail("stats: a count is missing or not a non-negative integer");
  s.stats.input_tokens = *in_tok;
  s.stats.output_tokens = *out_tok;
  s.stats.cost_usd = number(*st, "cost_usd");
  s.stats.session_duration = *dur;
  s.user_id = str_or_empty(j, "user_id");
  s.environment = str_or_empty(j, "environment");
  if (auto m = j.find("models"); m != j.end() && m->is_array())
    for (const auto& e : *m)
      if (e.is_string()) s.models.push_back(e.get<std::string>());
  if (auto m = j.find("metadata"); m != j.end() && m->is_object())
    for (const auto& [k, v] : m->items())
      if (v.is_string()) s.metadata.emplace_back(k, v.get<std::string>());
  each_object(j, "turns", [&](const json& t) {
    turn_summary ts;
    ts.trace_id = str_or_empty(t, "trace_id");
    ts.at = time_field(t, "at").value_or(event_time{});
    ts.user_text = str_or_empty(t, "user");
    ts.assistant_text = str_or_empty(t, "assistant");
    s.turns.push_back(std::move(ts));
  });
  each_object(j, "tool_calls", [&](const json& t) {
    tool_call_summary tc;
    tc.observation_id = str_or_empty(t, "observation_id");
    tc.trace_id = str_or_empty(t, "trace_id");
    tc.name = str_or_empty(t, "name");
    tc.ok = bool_or(t, "ok", true);
    tc.result = str_or_empty(t, "result");
    tc.error = str_or_empty(t, "error");
    tc.at = time_field(t, "at").value_or(event_time{});
    tc.latency = millis_field(t, "latency_ms");
    s.tool_calls.push_back(std::move(tc));
  });
  each_object(j, "llm_calls", [&](const json& e) {
    llm_call_summary lc;
    lc.observation_id = str_or_empty(e, "observation_id");
    lc.trace_id = str_or_empty(e, "trace_id");
    lc.name = str_or_empty(e, "name");
    lc.model = str_or_empty(e, "model");
    lc.at = time_field(e, "at").value_or(event_time{});
    lc.latency = millis_field(e, "latency_ms");
    lc.input_tokens = tokens(e, "input_tokens");
    lc.output_tokens = tokens(e, "output_tokens");
    lc.cost_usd = number(e, "cost_usd");
    lc.counted = bool_or(e, "counted", true);
    lc.ok = bool_or(e, "ok", true);
    lc.error = str_or_empty(e, "error");
    lc.finish_reason = str_or_empty(e, "finish_reason");
    lc.empty_output = bool_or(e, "empty_output", false);
    s.llm_calls.push_back(std::move(lc));
  });
  each_object(j, "errors", [&](const json& e) {
    error_summary es;
    es.observation_id = str_or_empty(e, "observation_id");
    es.trace_id = str_or_empty(e, "trace_id");
    es.kind = kind_from(str_or_empty(e, "kind")).value_or(obs_kind::span);
    es.name = str_or_empty(e, "name");
    es.message = str_or_empty(e, "message");
    es.at = time_field(e, "at").value_or(event_time{});
    s.errors.push_back(std::move(es));
  });
  each_object(j, "scores", [&](const json& e) {
    score_summary ss;
    ss.name = str_or_empty(e, "name");
    ss.value = number(e, "value");
    ss.label = str_or_empty(e, "label");
    s.scores.push_back(std::move(ss));
  });
  if (auto t = j.find("truncated"); t != j.end() && t->is_object()) {
    s.truncated.events_not_stored = count(*t, "events_not_stored").value_or(0);
    s.truncated.tool_calls = count(*t, "tool_calls").value_or(0);
    s.truncated.llm_calls = count(*t, "llm_calls").value_or(0);
    s.truncated.errors = count(*t, "errors").value_or(0);
    s.truncated.turns = count(*t, "turns").value_or(0);
  }
  return s;
}

}  // namespace tw
