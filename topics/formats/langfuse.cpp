// Langfuse ingestion events (POST /api/public/ingestion): one event {id, type, timestamp, body}
// or a batch {"batch": [...], "metadata"?}. Sources: fern/apis/server/definition/ingestion.yml
// (tests/fixtures/real/langfuse__fern-ingestion.yml) and Langfuse's zod schemas, summarised in
// /work/shared/notes/trace-formats.md §a.
//
// Validation follows zod where it decides whether Langfuse would keep an event (envelope id
// rules, known type, ISO timestamp, trace name length, level enum); everything else is lenient,
// because a field we cannot read must not cost the whole event. Each bad event of a batch is
// rejected on its own.
//
// Update semantics: on *-update events a JSON null clears a field, so a cleared string arrives as
// an engaged empty value; absent fields stay disengaged.
#include <string>

#include "model/text.hpp"
#include "topics/formats/parsers.hpp"

namespace tw::formats {
namespace {

enum class family { trace, observation, score, sdk_log };

struct event_type {
  std::string_view name;
  family fam;
  obs_kind kind;
  bool is_update;
  bool kind_from_body;  // legacy observation-create/update: body.type decides the kind
};

constexpr event_type event_types[] = {
    {"trace-create", family::trace, obs_kind::trace, false, false},
    {"span-create", family::observation, obs_kind::span, false, false},
    {"span-update", family::observation, obs_kind::span, true, false},
    {"generation-create", family::observation, obs_kind::generation, false, false},
    {"generation-update", family::observation, obs_kind::generation, true, false},
    {"event-create", family::observation, obs_kind::event, false, false},
    {"score-create", family::score, obs_kind::score, false, false},
    {"sdk-log", family::sdk_log, obs_kind::event, false, false},
    {"observation-create", family::observation, obs_kind::span, false, true},
    {"observation-update", family::observation, obs_kind::span, true, true},
    // Server-only types (not in fern), all with a generation-shaped body.
    {"agent-create", family::observation, obs_kind::span, false, false},
    {"tool-create", family::observation, obs_kind::tool, false, false},
    {"chain-create", family::observation, obs_kind::span, false, false},
    {"retriever-create", family::observation, obs_kind::span, false, false},
    {"evaluator-create", family::observation, obs_kind::span, false, false},
    {"embedding-create", family::observation, obs_kind::generation, false, false},
    {"guardrail-create", family::observation, obs_kind::span, false, false},
};

const event_type* find_event_type(std::string_view name) {
  for (const auto& t : event_types)
    if (t.name == name) return &t;
  return nullptr;
}

std::string path_of(std::string_view key) { return "body." + std::string(key); }

// Reads the fields of one event body into an observation, remembering the first problem.
class body_reader {
 public:
  body_reader(const object_view& body, bool clears, parse_context& ctx) : body_(body), clears_(clears), ctx_(ctx) {}

  const std::optional<problem>& problem_found() const { return problem_; }

  // A required id: absent or null is missing_field; otherwise Langfuse's id rules.
  std::string required_id(std::string_view key) {
    auto e = body_.get_not_null(key);
    if (!e) {
      fail(missing(path_of(key)));
      return {};
    }
    return id_value(*e, key);
  }

  // An optional id; null clears it on updates.
  void optional_id(std::string_view key, std::optional<std::string>& field) {
    auto e = body_.get(key);
    if (!e) return;
    if (e->is_null()) {
      if (clears_) field.emplace();
      return;
    }
    field = id_value(*e, key);
  }

  // A string field bounded to max_bytes; null clears it on updates; a non-string is invalid.
  void string_field(std::string_view key, size_t max_bytes, std::optional<std::string>& field) {
    auto e = body_.get(key);
    if (!e) return;
    if (e->is_null()) {
      if (clears_) field.emplace();
      return;
    }
    auto s = as_string(*e);
    if (!s) return fail(invalid(path_of(key), "not a string"));
    field = excerpt(*s, max_bytes);
  }

  void time_field(std::string_view key, std::optional<event_time>& field) {
    auto e = body_.get_not_null(key);
    if (!e) return;
    auto t = read_time(*e);
    if (!t) return fail(invalid(path_of(key), "not an ISO-8601 date-time"));
    field = t;
  }

  void level_field(std::optional<obs_level>& field) {
    auto e = body_.get_not_null("level");
    if (!e) return;
    auto s = as_string(*e);
    auto l = s ? langfuse_level(*s) : std::nullopt;
    if (!l) return fail(invalid("body.level", "not one of DEBUG, DEFAULT, WARNING, ERROR"));
    field = l;
  }

  void environment_field(std::optional<std::string>& field) {
    auto e = body_.get_not_null("environment");
    if (!e) return;
    auto s = as_string(*e);
    // Langfuse falls back to "default" rather than rejecting (servertest: invalid environments).
    field = normalize_environment(s ? *s : std::string_view{});
  }

  // metadata (any JSON) plus tags[], release and version as entries. Null metadata clears on updates.
  void metadata_field(std::optional<metadata_entries>& field) {
    const parse_limits& limits = ctx_.limits;
    metadata_entries entries;
    bool present = false;
    if (auto e = body_.get("metadata")) {
      present = !e->is_null() || clears_;
      flatten_metadata(*e, limits, ctx_.nested, entries);
    }
    if (auto e = body_.get_not_null("tags")) {
      present = true;
      std::string joined;
      if (auto arr = as_array(*e)) {
        for (dom::element tag : *arr) {
          if (!joined.empty()) joined.push_back(',');
          if (auto s = as_string(tag))
            joined.append(*s);
          else
            joined += compact_json(tag, limits.metadata_value_bytes);
          if (joined.size() > limits.metadata_value_bytes) break;
        }
      } else if (auto s = as_string(*e)) {
        joined = *s;
      }
      add_metadata(entries, "tags", joined, limits);
    }
    for (std::string_view key : {"release", "version"}) {
      if (auto s = body_.get_string(key)) {
        present = true;
        add_metadata(entries, key, *s, limits);
      }
    }
    if (present) field = std::move(entries);
  }

  const object_view& body() const { return body_; }
  bool clears() const { return clears_; }

 private:
  std::string id_value(dom::element e, std::string_view key) {
    if (const char* why = id_problem(e)) {
      fail(invalid(path_of(key), why));
      return {};
    }
    return std::string(*as_string(e));
  }

  void fail(problem p) {
    if (!problem_) problem_ = std::move(p);
  }

  const object_view& body_;
  bool clears_;
  parse_context& ctx_;
  std::optional<problem> problem_;
};

std::optional<problem> read_trace(body_reader& r, observation& obs, parse_context& ctx) {
  const object_view& body = r.body();
  obs.trace_id = r.required_id("id");
  obs.observation_id = obs.trace_id;
  std::optional<std::string> session;
  r.optional_id("sessionId", session);
  if (session) obs.session_id = std::move(*session);
  if (auto name = body.get_string("name"); name && utf16_length(*name) > 1000)
    return invalid("body.name", "longer than 1000 characters");
  r.string_field("name", bounds::max_name_bytes, obs.name);
  r.time_field("timestamp", obs.start);
  r.string_field("userId", bounds::max_id_bytes, obs.user_id);
  r.environment_field(obs.environment);
  r.metadata_field(obs.metadata);
  if (auto in = body.get("input")) obs.user_text = text_or_json(*in, speaker::user, ctx.nested, ctx.limits.text_excerpt_bytes);
  if (auto out = body.get("output"))
    obs.assistant_text = text_or_json(*out, speaker::assistant, ctx.nested, ctx.limits.text_excerpt_bytes);
  return r.problem_found();
}

// Text of an observation's input or output: excerpted; null clears on updates.
void message_field(body_reader& r, std::string_view key, speaker who, parse_context& ctx,
                   std::optional<std::string>& field) {
  auto e = r.body().get(key);
  if (!e) return;
  if (e->is_null()) {
    if (r.clears()) field.emplace();
    return;
  }
  if (auto t = find_text(*e, who, ctx.nested)) field = excerpt(*t, ctx.limits.text_excerpt_bytes);
}

std::optional<problem> read_observation(const event_type& type, body_reader& r, observation& obs,
                                        parse_context& ctx) {
  const object_view& body = r.body();
  if (auto t = body.get_not_null("type")) {
    auto s = as_string(*t);
    auto kind = s ? langfuse_observation_kind(*s) : std::nullopt;
    if (kind)
      obs.kind = *kind;
    else if (type.kind_from_body)
      return invalid("body.type", "not a Langfuse observation type (SPAN, GENERATION, EVENT, AGENT, TOOL, ...)");
  } else if (type.kind_from_body) {
    return missing("body.type");
  }
  obs.observation_id = r.required_id("id");
  if (auto p = r.problem_found()) return p;
  obs.trace_id = r.required_id("traceId");
  if (auto p = r.problem_found()) return p;
  r.optional_id("parentObservationId", obs.parent_id);
  r.string_field("name", bounds::max_name_bytes, obs.name);
  r.time_field("startTime", obs.start);
  r.time_field("endTime", obs.end);
  r.level_field(obs.level);
  r.string_field("statusMessage", ctx.limits.result_excerpt_bytes, obs.status_message);
  r.string_field("model", bounds::max_name_bytes, obs.model);
  r.environment_field(obs.environment);
  r.metadata_field(obs.metadata);

  const usage_totals usage = read_langfuse_usage(body);
  obs.input_tokens = usage.input_tokens;
  obs.output_tokens = usage.output_tokens;
  obs.cost_usd = usage.cost_usd;

  switch (obs.kind) {
    case obs_kind::generation:
    case obs_kind::event:
      message_field(r, "input", speaker::user, ctx, obs.user_text);
      message_field(r, "output", speaker::assistant, ctx, obs.assistant_text);
      if (auto out = body.get_not_null("output")) obs.finish_reason = find_finish_reason(*out, ctx.nested);
      break;
    case obs_kind::tool:
      if (obs.name) obs.tool_name = obs.name;
      if (auto out = body.get("output")) {
        if (!out->is_null())
          obs.tool_result = result_excerpt(*out, ctx.limits.result_excerpt_bytes);
        else if (r.clears())
          obs.tool_result.emplace();
      }
      break;
    default:
      break;
  }
  return r.problem_found();
}

std::optional<problem> read_score(body_reader& r, observation& obs, const std::string& envelope_id,
                                  parse_context& ctx) {
  const object_view& body = r.body();
  std::optional<std::string> id, trace, session;
  r.optional_id("id", id);
  obs.observation_id = id && !id->empty() ? *id : envelope_id;
  r.optional_id("traceId", trace);
  r.optional_id("sessionId", session);
  r.optional_id("observationId", obs.parent_id);
  if (auto p = r.problem_found()) return p;
  if (trace) obs.trace_id = std::move(*trace);
  if (session) obs.session_id = std::move(*session);
  if (obs.trace_id.empty() && obs.session_id.empty())
    return problem{reject_code::unsupported_type,
                   "body: a score without traceId or sessionId (e.g. on a dataset run) belongs to no session"};

  auto name = body.get_not_null("name");
  if (!name) return missing("body.name");
  r.string_field("name", bounds::max_name_bytes, obs.name);

  auto value = body.get_not_null("value");
  if (!value) return missing("body.value");
  if (auto s = as_string(*value)) {
    obs.score_label = excerpt(*s, ctx.limits.metadata_value_bytes);
  } else if (auto d = read_double(*value)) {
    obs.score_value = d;
  } else if (bool b; !value->get_bool().get(b)) {
    obs.score_value = b ? 1.0 : 0.0;
  } else {
    return invalid("body.value", "not a number or string");
  }

  r.time_field("timestamp", obs.start);
  r.environment_field(obs.environment);
  r.metadata_field(obs.metadata);
  // A score's comment has no field of its own; it travels as metadata. Null clears it (#4900).
  if (auto c = body.get("comment")) {
    if (!obs.metadata) obs.metadata.emplace();
    if (auto s = as_string(*c))
      add_metadata(*obs.metadata, "comment", *s, ctx.limits);
    else if (c->is_null())
      add_metadata(*obs.metadata, "comment", "", ctx.limits);
  }
  return r.problem_found();
}

// One event; appends its observation (or counts it ignored) and returns nullopt, or returns why
// it cannot be used.
std::optional<problem> read_event(dom::element ev, parse_context& ctx) {
  auto envelope_obj = as_object(ev);
  if (!envelope_obj) return invalid("event", "not an object");
  const object_view envelope(*envelope_obj);

  auto id = envelope.get_not_null("id");
  if (!id) return missing("id");
  if (auto p = check_id(*id, "id")) return p;

  auto type_e = envelope.get_not_null("type");
  if (!type_e) return missing("type");
  auto type_name = as_string(*type_e);
  if (!type_name) return invalid("type", "not a string");
  const event_type* type = find_event_type(*type_name);
  if (!type)
    return problem{reject_code::unsupported_type, "type: unknown event type \"" + excerpt(*type_name, 100) + "\""};

  auto ts_e = envelope.get_not_null("timestamp");
  if (!ts_e) return missing("timestamp");
  auto ts = read_time(*ts_e);
  if (!ts) return invalid("timestamp", "not an ISO-8601 date-time");

  auto body_e = envelope.get_not_null("body");
  if (!body_e) return missing("body");
  auto body_obj = as_object(*body_e);
  if (!body_obj) return invalid("body", "not an object");
  const object_view body(*body_obj);

  if (type->fam == family::sdk_log) {
    // SDK debug logs: valid, and nothing a session can use.
    ++ctx.result.ignored;
    return std::nullopt;
  }

  observation obs;
  obs.event_id = std::string(*as_string(*id));
  obs.kind = type->kind;
  obs.is_update = type->is_update;
  obs.source_type = std::string(*type_name);
  obs.timestamp = *ts;

  body_reader reader(body, type->is_update, ctx);
  std::optional<problem> p;
  switch (type->fam) {
    case family::trace: p = read_trace(reader, obs, ctx); break;
    case family::observation: p = read_observation(*type, reader, obs, ctx); break;
    case family::score: p = read_score(reader, obs, obs.event_id, ctx); break;
    case family::sdk_log: break;
  }
  if (p) return p;
  ctx.result.observations.push_back(std::move(obs));
  return std::nullopt;
}

}  // namespace

void parse_langfuse(dom::element root, parse_context& ctx) {
  auto obj = as_object(root);
  if (obj) {
    if (auto batch = member(*obj, "batch")) {
      auto arr = as_array(*batch);
      if (!arr) return ctx.reject_message(invalid("batch", "not an array"));
      uint32_t index = 0;
      for (dom::element ev : *arr) {
        const size_t before = ctx.result.observations.size();
        if (auto p = read_event(ev, ctx)) ctx.reject_item(std::move(*p), index, ev);
        for (size_t k = before; k < ctx.result.observations.size(); ++k) ctx.result.observations[k].source_index = index;
        ++index;
      }
      return;
    }
    if (member(*obj, "type") || member(*obj, "body")) {
      if (auto p = read_event(root, ctx)) ctx.reject_message(std::move(*p));
      return;
    }
  }
  ctx.reject_message(problem{reject_code::unknown_format,
                             "not a Langfuse ingestion message: expected {\"batch\":[...]} or an event "
                             "{id, type, timestamp, body}"});
}

}  // namespace tw::formats
