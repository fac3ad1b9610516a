#include "topics/contracts/session_json.hpp"

#include <nlohmann/json.hpp>

#include "model/text.hpp"
#include "topics/contracts/middle_out.hpp"

#include <cmath>
#include <cstdint>

namespace tw {
namespace {

using json = nlohmann::ordered_json;

json opt_int(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json opt_double(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }
json opt_latency(const std::optional<duration>& d) { return d ? json(to_millis(*d)) : json(nullptr); }
json opt_origin(const std::optional<cost_origin>& o) { return o ? json(std::string(to_string(*o))) : json(nullptr); }

json encode_truncated(const truncation_counts& t) {
  json j;
  j["events_not_stored"] = t.events_not_stored;
  j["tool_calls"] = t.tool_calls;
  j["llm_calls"] = t.llm_calls;
  j["errors"] = t.errors;
  j["turns"] = t.turns;
  return j;
}

json encode_entry(const turn_summary& t) {
  json tj;
  tj["trace_id"] = t.trace_id;
  tj["at"] = format_iso8601(t.at);
  tj["user"] = t.user_text;
  tj["assistant"] = t.assistant_text;
  return tj;
}

json encode_entry(const tool_call_summary& t) {
  json tj;
  tj["observation_id"] = t.observation_id;
  tj["trace_id"] = t.trace_id;
  tj["name"] = t.name;
  tj["ok"] = t.ok;
  tj["result"] = t.result;
  tj["error"] = t.error.empty() ? json(nullptr) : json(t.error);
  tj["at"] = format_iso8601(t.at);
  tj["latency_ms"] = opt_latency(t.latency);
  return tj;
}

json encode_entry(const llm_call_summary& c) {
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
  cj["cost_source"] = opt_origin(c.cost_source);
  cj["counted"] = c.counted;
  cj["ok"] = c.ok;
  cj["error"] = c.error.empty() ? json(nullptr) : json(c.error);
  cj["finish_reason"] = c.finish_reason.empty() ? json(nullptr) : json(c.finish_reason);
  cj["empty_output"] = c.empty_output;
  return cj;
}

json encode_entry(const error_summary& e) {
  json ej;
  ej["observation_id"] = e.observation_id;
  ej["trace_id"] = e.trace_id;
  ej["kind"] = to_string(e.kind);
  ej["name"] = e.name;
  ej["message"] = e.message;
  ej["at"] = format_iso8601(e.at);
  return ej;
}

json encode_entry(const score_summary& sc) {
  json sj;
  sj["name"] = sc.name;
  sj["value"] = opt_double(sc.value);
  sj["label"] = sc.label.empty() ? json(nullptr) : json(sc.label);
  return sj;
}

template <class T>
json encode_list(const std::vector<T>& v) {
  json out = json::array();
  for (const auto& e : v) out.push_back(encode_entry(e));
  return out;
}

// Invalid UTF-8 cannot reach here (the importer guarantees it), but replace rather than throw
// should that invariant ever break: an exception here would stop the state stage.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

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
  stats["cost_source"] = opt_origin(s.stats.cost_source);
  stats["duration_ms"] = to_millis(s.stats.session_duration);
  j["stats"] = std::move(stats);

  j["user_id"] = s.user_id.empty() ? json(nullptr) : json(s.user_id);
  j["environment"] = s.environment.empty() ? json(nullptr) : json(s.environment);
  j["models"] = s.models;
  json meta = json::object();
  for (const auto& [k, v] : s.metadata) meta[k] = v;
  j["metadata"] = std::move(meta);
  j["turns"] = encode_list(s.turns);
  j["tool_calls"] = encode_list(s.tool_calls);
  j["llm_calls"] = encode_list(s.llm_calls);
  j["errors"] = encode_list(s.errors);
  j["scores"] = encode_list(s.scores);
  j["truncated"] = encode_truncated(s.truncated);
  return dump(j);
}

namespace {

template <class T>
contracts_detail::middle_out sizes_of(const std::vector<T>& v) {
  std::vector<size_t> sizes;
  for (const auto& e : v) sizes.push_back(dump(encode_entry(e)).size() + 1);
  return contracts_detail::middle_out(std::move(sizes));
}

// A quick upper bound of the encoded size: every byte of text escaped to six, and generous room
// for the members, numbers and punctuation of each entry. Most sessions are far under the budget
// and need no trial encoding.
size_t worst_case_bytes(const session_summary& s) {
  constexpr size_t per_entry = 400, fixed = 2048;
  size_t text = s.session_id.size() + s.user_id.size() + s.environment.size();
  size_t entries = s.models.size() + s.metadata.size();
  for (const auto& m : s.models) text += m.size();
  for (const auto& [k, v] : s.metadata) text += k.size() + v.size();
  for (const auto& t : s.turns) text += t.trace_id.size() + t.user_text.size() + t.assistant_text.size();
  for (const auto& t : s.tool_calls) text += t.observation_id.size() + t.trace_id.size() + t.name.size() + t.result.size() + t.error.size();
  for (const auto& c : s.llm_calls)
    text += c.observation_id.size() + c.trace_id.size() + c.name.size() + c.model.size() + c.error.size() + c.finish_reason.size();
  for (const auto& e : s.errors) text += e.observation_id.size() + e.trace_id.size() + e.name.size() + e.message.size();
  for (const auto& sc : s.scores) text += sc.name.size() + sc.label.size();
  entries += s.turns.size() + s.tool_calls.size() + s.llm_calls.size() + s.errors.size() + s.scores.size();
  return fixed + 6 * text + per_entry * entries;
}

}  // namespace

void fit_session_json(session_summary& s, size_t max_bytes) {
  if (worst_case_bytes(s) <= max_bytes) return;
  while (true) {
    const size_t total = encode_session_json(s).size();
    if (total <= max_bytes) return;
    // The counted lists first, always the one that takes the most bytes (ties: in this order);
    // only when they are empty, what has no counter: scores, then metadata, then models.
    auto turns = sizes_of(s.turns), tools = sizes_of(s.tool_calls), llm = sizes_of(s.llm_calls),
         errors = sizes_of(s.errors);
    // The counters grow by a few digits: leave room for them.
    const bool dropped = contracts_detail::drop_largest_first({&turns, &tools, &llm, &errors}, total - max_bytes + 64);
    s.truncated.turns += turns.dropped();
    s.truncated.tool_calls += tools.dropped();
    s.truncated.llm_calls += llm.dropped();
    s.truncated.errors += errors.dropped();
    turns.apply(s.turns);
    tools.apply(s.tool_calls);
    llm.apply(s.llm_calls);
    errors.apply(s.errors);
    if (dropped) continue;  // encode again: the sizes are exact, the counters' digits are not
    if (!s.scores.empty()) {
      s.scores.pop_back();
    } else if (!s.metadata.empty()) {
      s.metadata.pop_back();
    } else if (!s.models.empty()) {
      s.models.pop_back();
    } else {
      return;  // ids and the window alone: nothing is left to leave out (cannot happen above 64 KiB)
    }
  }
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

// Records written before cost_source existed have none: absent, like an unknown value.
std::optional<cost_origin> origin_from(const json& j, const char* key) {
  const std::string s = str_or_empty(j, key);
  for (auto o : {cost_origin::reported, cost_origin::computed, cost_origin::mixed})
    if (to_string(o) == s) return o;
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
  s.stats.cost_source = origin_from(*st, "cost_source");
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
    lc.cost_source = origin_from(e, "cost_source");
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
