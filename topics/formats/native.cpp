// tracewatch.event.v1: our own format, one JSON object per observation, named exactly like the
// fields of tw::observation (docs/input-formats.md). A message is one event, an array of events,
// or {"events": [...]}.
//
// Validation is strict, because producers write this format for us: unknown fields, wrong types
// and missing required fields are rejected with the field's name. Each event of a list is judged
// on its own.
#include <string>

#include "model/text.hpp"
#include "topics/formats/parsers.hpp"

namespace tw::formats {
namespace {

constexpr std::string_view schema_name = "tracewatch.event.v1";

constexpr std::string_view known_fields[] = {
    "schema",     "event_id",       "session_id", "trace_id",      "observation_id", "parent_id",
    "kind",       "name",           "start",      "end",           "timestamp",      "level",
    "status_message", "model",      "input_tokens", "output_tokens", "cost_usd",     "finish_reason",
    "tool_name",  "tool_call_id",   "tool_result", "user_text",    "assistant_text", "user_id",
    "environment", "metadata",      "score_value", "score_label",  "update",
};

std::optional<obs_kind> kind_of(std::string_view s) {
  for (auto k : {obs_kind::trace, obs_kind::span, obs_kind::generation, obs_kind::tool, obs_kind::event, obs_kind::score})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

std::optional<obs_level> level_of(std::string_view s) {
  for (auto l : {obs_level::debug, obs_level::normal, obs_level::warning, obs_level::error})
    if (to_string(l) == s) return l;
  return std::nullopt;
}

class event_reader {
 public:
  event_reader(dom::object ev, parse_context& ctx) : ev_(ev), ctx_(ctx) {}

  std::optional<problem> read(observation& obs) {
    for (dom::key_value_pair kv : ev_) {
      bool known = false;
      for (auto f : known_fields) known = known || f == kv.key;
      if (!known) return invalid(excerpt(kv.key, 100), "unknown field (tracewatch.event.v1)");
    }
    auto schema = member_not_null(ev_, "schema");
    if (!schema) return missing("schema");
    if (auto s = as_string(*schema); !s || *s != schema_name) return invalid("schema", "not \"tracewatch.event.v1\"");

    if (auto b = member_not_null(ev_, "update")) {
      if (b->get_bool().get(obs.is_update)) return invalid("update", "not a boolean");
    }
    clears_ = obs.is_update;

    auto kind_e = member_not_null(ev_, "kind");
    if (!kind_e) return missing("kind");
    auto kind_s = as_string(*kind_e);
    auto kind = kind_s ? kind_of(*kind_s) : std::nullopt;
    if (!kind) return invalid("kind", "not one of trace, span, generation, tool, event, score");
    obs.kind = *kind;
    obs.source_type = std::string(schema_name);

    if (!required_id("event_id", obs.event_id)) return problem_;
    std::optional<std::string> id;
    if (!optional_id("session_id", id)) return problem_;
    if (id) obs.session_id = std::move(*id);
    id.reset();
    if (!optional_id("trace_id", id)) return problem_;
    if (id) obs.trace_id = std::move(*id);
    if (obs.trace_id.empty() && !(obs.kind == obs_kind::score && !obs.session_id.empty()))
      return missing("trace_id");
    id.reset();
    if (!optional_id("observation_id", id)) return problem_;
    if (obs.kind == obs_kind::trace) {
      if (id && !id->empty() && *id != obs.trace_id) return invalid("observation_id", "must equal trace_id for kind trace");
      obs.observation_id = obs.trace_id;
    } else {
      obs.observation_id = id && !id->empty() ? *id : obs.event_id;
    }
    if (!optional_id("parent_id", obs.parent_id)) return problem_;

    std::optional<event_time> ts;
    if (!time("start", obs.start) || !time("end", obs.end) || !time("timestamp", ts)) return problem_;
    if (!ts) ts = obs.end ? obs.end : obs.start;
    if (!ts) return missing("timestamp");
    obs.timestamp = *ts;

    const parse_limits& limits = ctx_.limits;
    if (!text("name", bounds::max_name_bytes, obs.name) || !text("status_message", limits.result_excerpt_bytes, obs.status_message) ||
        !text("model", bounds::max_name_bytes, obs.model) || !text("finish_reason", bounds::max_finish_reason_bytes, obs.finish_reason) ||
        !text("tool_name", bounds::max_name_bytes, obs.tool_name) || !text("tool_call_id", bounds::max_id_bytes, obs.tool_call_id) ||
        !text("user_text", limits.text_excerpt_bytes, obs.user_text) ||
        !text("assistant_text", limits.text_excerpt_bytes, obs.assistant_text) ||
        !text("user_id", bounds::max_id_bytes, obs.user_id) || !text("score_label", limits.metadata_value_bytes, obs.score_label))
      return problem_;

    if (auto l = member_not_null(ev_, "level")) {
      auto s = as_string(*l);
      obs.level = s ? level_of(*s) : std::nullopt;
      if (!obs.level) return invalid("level", "not one of debug, default, warning, error");
    }
    if (auto e = member_not_null(ev_, "environment")) {
      auto s = as_string(*e);
      if (!s) return invalid("environment", "not a string");
      obs.environment = normalize_environment(*s);
    }
    if (!count("input_tokens", obs.input_tokens) || !count("output_tokens", obs.output_tokens)) return problem_;
    if (auto c = member_not_null(ev_, "cost_usd")) {
      auto d = c->type() == dom::element_type::STRING ? std::nullopt : read_double(*c);
      if (!d || *d < 0) return invalid("cost_usd", "not a non-negative number");
      obs.cost_usd = d;
    }
    if (auto v = member_not_null(ev_, "score_value")) {
      auto d = v->type() == dom::element_type::STRING ? std::nullopt : read_double(*v);
      if (!d) return invalid("score_value", "not a number");
      obs.score_value = d;
    }
    if (auto r = member(ev_, "tool_result")) {
      if (!r->is_null())
        obs.tool_result = result_excerpt(*r, limits.result_excerpt_bytes);
      else if (clears_)
        obs.tool_result.emplace();
    }
    if (auto m = member(ev_, "metadata")) {
      if (m->is_null()) {
        if (clears_) obs.metadata.emplace();
      } else if (!as_object(*m)) {
        return invalid("metadata", "not an object");
      } else {
        obs.metadata.emplace();
        flatten_metadata(*m, limits, ctx_.nested, *obs.metadata);
      }
    }
    return std::nullopt;
  }

 private:
  bool fail(problem p) {
    problem_ = std::move(p);
    return false;
  }

  bool required_id(std::string_view key, std::string& out) {
    auto e = member_not_null(ev_, key);
    if (!e) return fail(missing(key));
    if (auto p = check_id(*e, key)) return fail(std::move(*p));
    out = std::string(*as_string(*e));
    return true;
  }

  bool optional_id(std::string_view key, std::optional<std::string>& out) {
    auto e = member(ev_, key);
    if (!e) return true;
    if (e->is_null()) {
      if (clears_) out.emplace();
      return true;
    }
    if (auto p = check_id(*e, key)) return fail(std::move(*p));
    out = std::string(*as_string(*e));
    return true;
  }

  bool text(std::string_view key, size_t max_bytes, std::optional<std::string>& out) {
    auto e = member(ev_, key);
    if (!e) return true;
    if (e->is_null()) {
      if (clears_) out.emplace();
      return true;
    }
    auto s = as_string(*e);
    if (!s) return fail(invalid(key, "not a string"));
    out = excerpt(*s, max_bytes);
    return true;
  }

  bool time(std::string_view key, std::optional<event_time>& out) {
    auto e = member_not_null(ev_, key);
    if (!e) return true;
    out = read_time(*e, true);
    if (!out) return fail(invalid(key, "not an ISO-8601 date-time or integer epoch milliseconds"));
    return true;
  }

  bool count(std::string_view key, std::optional<int64_t>& out) {
    auto e = member_not_null(ev_, key);
    if (!e) return true;
    const auto t = e->type();
    if (t != dom::element_type::INT64 && t != dom::element_type::UINT64) return fail(invalid(key, "not an integer"));
    out = read_int64(*e);
    if (!out || *out < 0) return fail(invalid(key, "not a non-negative integer"));
    return true;
  }

  dom::object ev_;
  parse_context& ctx_;
  bool clears_ = false;
  std::optional<problem> problem_;
};

std::optional<problem> read_event(dom::element e, parse_context& ctx) {
  auto ev = as_object(e);
  if (!ev) return invalid("event", "not an object");
  observation obs;
  if (auto p = event_reader(*ev, ctx).read(obs)) return p;
  ctx.result.observations.push_back(std::move(obs));
  return std::nullopt;
}

void read_list(dom::array events, parse_context& ctx) {
  uint32_t index = 0;
  for (dom::element e : events) {
    const size_t before = ctx.result.observations.size();
    if (auto p = read_event(e, ctx)) ctx.reject_item(std::move(*p), index, e);
    for (size_t k = before; k < ctx.result.observations.size(); ++k) ctx.result.observations[k].source_index = index;
    ++index;
  }
}

}  // namespace

void parse_native(dom::element root, parse_context& ctx) {
  if (auto arr = as_array(root)) return read_list(*arr, ctx);
  if (auto obj = as_object(root)) {
    if (member(*obj, "schema")) {
      if (auto p = read_event(root, ctx)) ctx.reject_message(std::move(*p));
      return;
    }
    if (auto events = member(*obj, "events")) {
      if (obj->size() != 1) return ctx.reject_message(invalid("events", "the list wrapper takes no other fields"));
      auto arr = as_array(*events);
      if (!arr) return ctx.reject_message(invalid("events", "not an array"));
      return read_list(*arr, ctx);
    }
  }
  ctx.reject_message(problem{reject_code::unknown_format,
                             "not tracewatch.event.v1: expected an event {\"schema\":\"tracewatch.event.v1\", ...}, "
                             "an array of events or {\"events\":[...]}"});
}

}  // namespace tw::formats
