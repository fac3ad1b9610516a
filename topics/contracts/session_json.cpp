#include "topics/contracts/session_json.hpp"

#include <nlohmann/json.hpp>

#include "model/text.hpp"
#include "topics/contracts/json_writer.hpp"
#include "topics/contracts/middle_out.hpp"

#include <cmath>
#include <cstdint>

namespace tw {
namespace {

using json = nlohmann::ordered_json;

json_writer& latency(json_writer& w, const std::optional<duration>& d) {
  return d ? w.value(to_millis(*d)) : w.value(nullptr);
}
json_writer& origin(json_writer& w, const std::optional<cost_origin>& o) {
  return o ? w.value(to_string(*o)) : w.value(nullptr);
}

void write_entry(json_writer& w, const turn_summary& t) {
  w.begin_object();
  w.member("trace_id", t.trace_id);
  w.key("at").time(t.at);
  w.member("user", t.user_text);
  w.member("assistant", t.assistant_text);
  w.end_object();
}

void write_entry(json_writer& w, const tool_call_summary& t) {
  w.begin_object();
  w.member("observation_id", t.observation_id);
  w.member("trace_id", t.trace_id);
  w.member("name", t.name);
  w.member("ok", t.ok);
  w.member("result", t.result);
  w.key("error").text_or_null(t.error);
  w.key("at").time(t.at);
  latency(w.key("latency_ms"), t.latency);
  w.end_object();
}

void write_entry(json_writer& w, const llm_call_summary& c) {
  w.begin_object();
  w.member("observation_id", c.observation_id);
  w.member("trace_id", c.trace_id);
  w.member("name", c.name);
  w.key("model").text_or_null(c.model);
  w.key("at").time(c.at);
  latency(w.key("latency_ms"), c.latency);
  w.member("input_tokens", c.input_tokens);
  w.member("output_tokens", c.output_tokens);
  w.member("cost_usd", c.cost_usd);
  origin(w.key("cost_source"), c.cost_source);
  w.member("counted", c.counted);
  w.member("ok", c.ok);
  w.key("error").text_or_null(c.error);
  w.key("finish_reason").text_or_null(c.finish_reason);
  w.member("empty_output", c.empty_output);
  w.end_object();
}

void write_entry(json_writer& w, const error_summary& e) {
  w.begin_object();
  w.member("observation_id", e.observation_id);
  w.member("trace_id", e.trace_id);
  w.member("kind", to_string(e.kind));
  w.member("name", e.name);
  w.member("message", e.message);
  w.key("at").time(e.at);
  w.end_object();
}

void write_entry(json_writer& w, const score_summary& sc) {
  w.begin_object();
  w.member("name", sc.name);
  w.member("value", sc.value);
  w.key("label").text_or_null(sc.label);
  w.end_object();
}

template <class T>
void write_list(json_writer& w, std::string_view name, const std::vector<T>& v) {
  w.key(name).begin_array();
  for (const auto& e : v) write_entry(w, e);
  w.end_array();
}

// The metadata object. Keys are distinct as the importer builds them; should one repeat, its last
// value is written at its first place, as a JSON object assigned key by key holds it.
void write_metadata(json_writer& w, const metadata_entries& m) {
  w.key("metadata").begin_object();
  for (size_t i = 0; i < m.size(); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = m[j].first == m[i].first;
    if (seen) continue;
    const std::string* value = &m[i].second;
    for (size_t j = i + 1; j < m.size(); ++j)
      if (m[j].first == m[i].first) value = &m[j].second;
    w.member(m[i].first, *value);
  }
  w.end_object();
}

}  // namespace

std::string encode_session_json(const session_summary& s) {
  std::string out;
  out.reserve(2048);
  json_writer w(out);
  w.begin_object();
  w.member("schema", session_schema_v1);
  w.member("session_id", s.session_id);
  w.member("revision", s.revision);
  w.key("window").begin_object();
  w.key("first_event_at").time(s.first_event_at);
  w.key("last_event_at").time(s.last_event_at);
  w.key("closed_at").time(s.closed_at);
  w.member("reason", to_string(s.reason));
  w.member("abandoned", s.abandoned);
  w.end_object();

  w.key("stats").begin_object();
  w.member("traces", s.stats.traces);
  w.member("observations", s.stats.observations);
  w.member("generations", s.stats.generations);
  w.member("tool_calls", s.stats.tool_calls);
  w.member("tool_errors", s.stats.tool_errors);
  w.member("errors", s.stats.errors);
  w.member("input_tokens", s.stats.input_tokens);
  w.member("output_tokens", s.stats.output_tokens);
  w.member("cost_usd", s.stats.cost_usd);
  origin(w.key("cost_source"), s.stats.cost_source);
  w.member("duration_ms", to_millis(s.stats.session_duration));
  w.end_object();

  w.key("user_id").text_or_null(s.user_id);
  w.key("environment").text_or_null(s.environment);
  w.key("models").string_array(s.models);
  write_metadata(w, s.metadata);
  write_list(w, "turns", s.turns);
  write_list(w, "tool_calls", s.tool_calls);
  write_list(w, "llm_calls", s.llm_calls);
  write_list(w, "errors", s.errors);
  write_list(w, "scores", s.scores);
  w.key("truncated").begin_object();
  w.member("events_not_stored", s.truncated.events_not_stored);
  w.member("tool_calls", s.truncated.tool_calls);
  w.member("llm_calls", s.truncated.llm_calls);
  w.member("errors", s.truncated.errors);
  w.member("turns", s.truncated.turns);
  w.end_object();
  w.end_object();
  return out;
}

namespace {

template <class T>
contracts_detail::middle_out sizes_of(const std::vector<T>& v) {
  std::vector<size_t> sizes;
  std::string scratch;
  for (const auto& e : v) {
    scratch.clear();
    json_writer w(scratch);
    write_entry(w, e);
    sizes.push_back(scratch.size() + 1);
  }
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
