// A Langfuse trace as Langfuse stores and exports it (GET /api/public/traces/{id}, the UI's
// export): {trace: {...}, observations: [...]}, as in
// tests/fixtures/real/langfuse__framework-trace-google-adk-2025-08-28.langfuse-export.json.
//
// This is Langfuse's data model, not its wire format: fields are present and often null, input and
// output are often JSON strings holding JSON (sometimes stringified twice), metadata of
// OTel-ingested observations is a JSON string {attributes, resourceAttributes, scope}.
//
// Mapping: the trace becomes a trace observation (with its sessionId), each observation one
// observation of its `type`, each of trace.scores[] a score. Event ids are "export:" + id, so a
// re-export of the same trace is deduplicated. The trace's session id is given to every
// observation of that trace in the message.
#include <string>

#include "model/text.hpp"
#include "topics/formats/parsers.hpp"

namespace tw::formats {
namespace {

std::string at(std::string_view base, std::string_view key) { return std::string(base) + "." + std::string(key); }

std::string indexed(std::string_view base, size_t i) { return std::string(base) + "[" + std::to_string(i) + "]"; }

// What an observation's metadata says about a tool, copied out of the decoded metadata document
// (which the next nested decode reuses).
struct tool_hints {
  std::optional<std::string> name;
  std::optional<std::string> call_id;
  std::optional<std::string> result;
};

// Flattens an export's metadata. OTel-ingested observations keep their span attributes under
// metadata.attributes: those are the entries worth keeping (plus the resource's service.name).
void read_metadata(dom::element meta, parse_context& ctx, std::optional<metadata_entries>& entries,
                   tool_hints* hints) {
  if (meta.is_null()) return;
  entries.emplace();
  std::optional<dom::element> doc = meta;
  size_t level = 0;
  if (auto s = as_string(meta)) {
    doc = ctx.nested.decode(*s, 0);  // the decoded document lives until the next level-0 decode
    level = 1;
    if (!doc) return flatten_metadata(meta, ctx.limits, ctx.nested, *entries);
  }
  auto obj = as_object(*doc);
  std::optional<dom::element> attrs_el = obj ? member_not_null(*obj, "attributes") : std::nullopt;
  auto attrs = attrs_el ? as_object(*attrs_el) : std::nullopt;
  if (!attrs) return flatten_metadata(*doc, ctx.limits, ctx.nested, *entries, "metadata", level);

  flatten_metadata(*attrs_el, ctx.limits, ctx.nested, *entries, "metadata", level);
  if (auto res = member_not_null(*obj, "resourceAttributes"); res && as_object(*res))
    if (auto svc = string_member(*as_object(*res), "service.name")) add_metadata(*entries, "service.name", *svc, ctx.limits);
  if (!hints) return;
  for (auto key : {"gen_ai.tool.name", "tool.name"})
    if (auto s = string_member(*attrs, key); s && !hints->name) hints->name = excerpt(*s, bounds::max_name_bytes);
  if (auto s = string_member(*attrs, "gen_ai.tool.call.id")) hints->call_id = excerpt(*s, bounds::max_id_bytes);
  for (auto key : {"gen_ai.tool.call.result", "gcp.vertex.agent.tool_response", "output.value"})
    if (auto s = string_member(*attrs, key); s && !hints->result && !is_placeholder_text(*s))
      hints->result = excerpt(*s, ctx.limits.result_excerpt_bytes);
}

// An output that says nothing: null, "", "{}", "null".
bool is_empty_output(dom::element v) {
  if (v.is_null()) return true;
  if (auto s = as_string(v)) return *s == "" || *s == "{}" || *s == "null" || *s == "[]";
  if (auto o = as_object(v)) return o->size() == 0;
  return false;
}

// Common fields of the trace, observations and scores. Returns the first problem.
class export_reader {
 public:
  export_reader(dom::object obj, std::string path, parse_context& ctx) : obj_(obj), path_(std::move(path)), ctx_(ctx) {}

  std::optional<std::string> id(std::string_view key, bool required) {
    auto e = member_not_null(obj_, key);
    if (!e) {
      if (required) fail(missing(at(path_, key)));
      return std::nullopt;
    }
    if (auto p = check_id(*e, at(path_, key))) {
      fail(std::move(*p));
      return std::nullopt;
    }
    return std::string(*as_string(*e));
  }

  void string_field(std::string_view key, size_t max_bytes, std::optional<std::string>& field) {
    if (auto s = string_member(obj_, key)) field = excerpt(*s, max_bytes);
  }

  std::optional<event_time> time(std::string_view key) {
    auto e = member_not_null(obj_, key);
    if (!e) return std::nullopt;
    auto t = read_time(*e);
    if (!t) fail(invalid(at(path_, key), "not an ISO-8601 date-time"));
    return t;
  }

  void level(std::optional<obs_level>& field) {
    auto s = string_member(obj_, "level");
    if (!s) return;
    field = langfuse_level(*s);
    if (!field) fail(invalid(at(path_, "level"), "not one of DEBUG, DEFAULT, WARNING, ERROR"));
  }

  void environment(std::optional<std::string>& field) {
    if (auto s = string_member(obj_, "environment")) field = normalize_environment(*s);
  }

  dom::object obj() const { return obj_; }
  const std::string& path() const { return path_; }
  const std::optional<problem>& problem_found() const { return problem_; }
  void fail(problem p) {
    if (!problem_) problem_ = std::move(p);
  }

 private:
  dom::object obj_;
  std::string path_;
  parse_context& ctx_;
  std::optional<problem> problem_;
};

std::optional<problem> read_trace(dom::object t, parse_context& ctx, observation& obs) {
  export_reader r(t, "trace", ctx);
  auto id = r.id("id", true);
  auto session = r.id("sessionId", false);
  auto ts = r.time("timestamp");
  if (auto p = r.problem_found()) return p;
  if (!ts) return missing("trace.timestamp");
  obs.event_id = "export:" + *id;
  obs.trace_id = *id;
  obs.observation_id = *id;
  obs.kind = obs_kind::trace;
  obs.source_type = "trace";
  obs.timestamp = *ts;
  obs.start = ts;
  if (session) obs.session_id = *session;
  r.string_field("name", bounds::max_name_bytes, obs.name);
  r.string_field("userId", bounds::max_id_bytes, obs.user_id);
  r.environment(obs.environment);
  if (auto m = member(t, "metadata")) read_metadata(*m, ctx, obs.metadata, nullptr);
  auto tags_e = member_not_null(t, "tags");
  if (auto tags = tags_e ? as_array(*tags_e) : std::nullopt; tags && tags->size() > 0) {
    std::string joined;
    for (dom::element tag : *tags) {
      if (!joined.empty()) joined.push_back(',');
      if (auto s = as_string(tag)) joined.append(*s);
    }
    if (!obs.metadata) obs.metadata.emplace();
    add_metadata(*obs.metadata, "tags", joined, ctx.limits);
  }
  if (auto in = member(t, "input")) obs.user_text = text_or_json(*in, speaker::user, ctx.nested, ctx.limits.text_excerpt_bytes);
  if (auto out = member(t, "output"))
    obs.assistant_text = text_or_json(*out, speaker::assistant, ctx.nested, ctx.limits.text_excerpt_bytes);
  return std::nullopt;
}

std::optional<problem> read_observation(dom::object o, std::string path, const observation& trace,
                                        parse_context& ctx, observation& obs) {
  export_reader r(o, std::move(path), ctx);
  auto id = r.id("id", true);
  auto trace_id = r.id("traceId", false);
  r.id("parentObservationId", false).swap(obs.parent_id);
  auto start = r.time("startTime");
  auto end = r.time("endTime");
  r.level(obs.level);
  if (auto p = r.problem_found()) return p;

  obs.event_id = "export:" + *id;
  obs.observation_id = *id;
  obs.trace_id = trace_id ? *trace_id : trace.trace_id;
  if (obs.trace_id == trace.trace_id) obs.session_id = trace.session_id;
  obs.kind = obs_kind::span;
  if (auto type = string_member(o, "type")) {
    obs.source_type = excerpt(*type, bounds::max_name_bytes);
    if (auto k = langfuse_observation_kind(*type)) obs.kind = *k;
  }
  obs.start = start;
  obs.end = end;
  obs.timestamp = start ? *start : end ? *end : trace.timestamp;
  r.string_field("name", bounds::max_name_bytes, obs.name);
  r.string_field("statusMessage", ctx.limits.result_excerpt_bytes, obs.status_message);
  r.string_field("model", bounds::max_name_bytes, obs.model);
  r.environment(obs.environment);

  const usage_totals usage = read_langfuse_usage(object_view(o));
  obs.input_tokens = usage.input_tokens;
  obs.output_tokens = usage.output_tokens;
  obs.cost_usd = usage.cost_usd;
  // Exports also flatten usage into inputUsage/outputUsage/totalCost; read those only when the
  // detailed maps are absent, so that an empty usageDetails ({}) does not become 0 tokens.
  if (!member_not_null(o, "usageDetails")) {
    // Token counts are never negative; a negative one is not a count (as token_count decides).
    auto non_negative = [](std::optional<int64_t> v) { return v && *v >= 0 ? v : std::nullopt; };
    if (auto e = member_not_null(o, "inputUsage")) obs.input_tokens = non_negative(read_int64(*e));
    if (auto e = member_not_null(o, "outputUsage")) obs.output_tokens = non_negative(read_int64(*e));
  }
  if (!member_not_null(o, "costDetails") && !obs.cost_usd)
    if (auto e = member_not_null(o, "totalCost")) obs.cost_usd = read_double(*e);

  tool_hints hints;
  if (auto m = member(o, "metadata")) read_metadata(*m, ctx, obs.metadata, &hints);

  switch (obs.kind) {
    case obs_kind::generation:
    case obs_kind::event:
      if (auto in = member_not_null(o, "input"))
        if (auto t = find_text(*in, speaker::user, ctx.nested)) obs.user_text = excerpt(*t, ctx.limits.text_excerpt_bytes);
      if (auto out = member_not_null(o, "output")) {
        if (auto t = find_text(*out, speaker::assistant, ctx.nested))
          obs.assistant_text = excerpt(*t, ctx.limits.text_excerpt_bytes);
        obs.finish_reason = find_finish_reason(*out, ctx.nested);
      }
      break;
    case obs_kind::tool: {
      obs.tool_name = hints.name;
      if (!obs.tool_name && obs.name) {
        std::string_view n = *obs.name;
        constexpr std::string_view prefix = "execute_tool ";
        if (n.substr(0, prefix.size()) == prefix) n.remove_prefix(prefix.size());
        obs.tool_name = std::string(n);
      }
      obs.tool_call_id = hints.call_id;
      // ADK exports keep the tool's output "{}" and its real response in the span attributes.
      auto out = member(o, "output");
      if (out && !is_empty_output(*out))
        obs.tool_result = result_excerpt(*out, ctx.limits.result_excerpt_bytes);
      else
        obs.tool_result = hints.result;
      break;
    }
    default:
      break;
  }
  return std::nullopt;
}

std::optional<problem> read_score(dom::object s, std::string path, const observation& trace, parse_context& ctx,
                                  observation& obs) {
  export_reader r(s, std::move(path), ctx);
  auto id = r.id("id", true);
  auto trace_id = r.id("traceId", false);
  auto session = r.id("sessionId", false);
  r.id("observationId", false).swap(obs.parent_id);
  auto ts = r.time("timestamp");
  if (auto p = r.problem_found()) return p;
  obs.event_id = "export:" + *id;
  obs.observation_id = *id;
  obs.kind = obs_kind::score;
  obs.source_type = "score";
  obs.trace_id = trace_id ? *trace_id : trace.trace_id;
  obs.session_id = session ? *session : obs.trace_id == trace.trace_id ? trace.session_id : std::string();
  obs.timestamp = ts ? *ts : trace.timestamp;
  obs.start = ts;
  r.string_field("name", bounds::max_name_bytes, obs.name);
  r.environment(obs.environment);
  if (auto label = string_member(s, "stringValue"))
    obs.score_label = excerpt(*label, ctx.limits.metadata_value_bytes);
  else if (auto v = member_not_null(s, "value"))
    obs.score_value = read_double(*v);
  if (auto c = string_member(s, "comment")) {
    obs.metadata.emplace();
    add_metadata(*obs.metadata, "comment", *c, ctx.limits);
  }
  return std::nullopt;
}

}  // namespace

void parse_langfuse_export(dom::element root, parse_context& ctx) {
  auto obj = as_object(root);
  std::optional<dom::object> trace_obj;
  if (obj)
    if (auto t = member(*obj, "trace")) trace_obj = as_object(*t);
  if (!trace_obj)
    return ctx.reject_message(
        problem{reject_code::unknown_format, "not a Langfuse export: expected {\"trace\":{...}, \"observations\":[...]}"});

  observation trace;
  if (auto p = read_trace(*trace_obj, ctx, trace)) {
    // Without its trace the observations cannot be placed either.
    return ctx.reject_message(std::move(*p));
  }
  ctx.result.observations.push_back(trace);

  // The top-level list; some exports nest it in the trace instead (and this one has both).
  std::optional<dom::element> list = member_not_null(*obj, "observations");
  std::string list_path = "observations";
  if (!list) {
    list = member_not_null(*trace_obj, "observations");
    list_path = "trace.observations";
  }
  if (list) {
    auto arr = as_array(*list);
    if (!arr) {
      ctx.reject_message(invalid(list_path, "not an array"));
    } else {
      uint32_t i = 0;
      for (dom::element e : *arr) {
        std::string path = indexed(list_path, i);
        auto o = as_object(e);
        observation obs;
        std::optional<problem> p = o ? read_observation(*o, path, trace, ctx, obs) : invalid(path, "not an object");
        if (p) {
          ctx.reject_item(std::move(*p), i, e);
        } else {
          obs.source_index = i;
          ctx.result.observations.push_back(std::move(obs));
        }
        ++i;
      }
    }
  }

  auto scores_e = member_not_null(*trace_obj, "scores");
  if (auto scores = scores_e ? as_array(*scores_e) : std::nullopt) {
    size_t i = 0;
    for (dom::element e : *scores) {
      std::string path = indexed("trace.scores", i++);
      auto s = as_object(e);
      observation obs;
      std::optional<problem> p = s ? read_score(*s, path, trace, ctx, obs) : invalid(path, "not an object");
      if (p)
        ctx.reject_item(std::move(*p), std::nullopt, e);
      else
        ctx.result.observations.push_back(std::move(obs));
    }
  }
}

}  // namespace tw::formats
