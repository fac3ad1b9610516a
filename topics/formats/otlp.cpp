// OTLP/JSON: traces (resourceSpans → scopeSpans → spans; legacy batches →
// instrumentationLibrarySpans, instrumentationLibrary) and GenAI log events (resourceLogs →
// scopeLogs → logRecords). Reads the GenAI semantic conventions and the vendor spellings listed
// in /work/shared/notes/trace-formats.md §b–c.
//
// One span is one observation (event_id "otlp:<trace>:<span>"); its span events only contribute
// text and error messages. One log record is one `event` observation. OTLP has no trace-create:
// no trace observation is invented (the session stage counts distinct trace ids).
//
// Rules the real data forces:
//   - ids are hex in any case (normalised to lower case) or base64 (protobuf's JSON mapping);
//     an empty parentSpanId means none; any other malformed id rejects that span only;
//   - 64-bit nanosecond times arrive as strings or numbers and are read as integers;
//   - `kind` and `status.code` arrive as integers or enum names; status missing or {} is unset;
//   - a trace's session id is often only on some of its spans: within one message it is given to
//     every observation of that trace;
//   - usage is reported per span as the span says it (one spelling, never summed); an LLM call
//     recorded at several levels (call_llm › generate_content › openai.chat) is deduplicated by
//     the session stage through parent links, not here.
#include <bitset>
#include <string>
#include <unordered_map>

#include "model/text.hpp"
#include "topics/formats/parsers.hpp"

namespace tw::formats {
namespace {

// ---------------------------------------------------------------------------------------------
// Attributes: one pass over a key/value list files each key we read into a slot.

enum class attr : uint8_t {
  // classification
  lf_observation_type, openinference_kind, operation_name_genai, ai_operation_id, operation_name,
  // session, user, environment
  lf_session_id, session_id, conversation_id, vertex_session_id, ai_session_id,
  lf_user_id, user_id, enduser_id,
  lf_environment, deployment_environment_name, deployment_environment,
  // model
  lf_model_name, response_model, request_model, llm_model_name, ai_response_model, ai_model_id,
  // tokens and cost
  usage_input_tokens, usage_prompt_tokens, oi_prompt_tokens, ai_input_tokens, ai_prompt_tokens,
  usage_output_tokens, usage_completion_tokens, oi_completion_tokens, ai_output_tokens, ai_completion_tokens,
  lf_usage_details, usage_cost, oi_cost_total, lf_cost_details,
  finish_reasons,
  // tools
  tool_name_genai, tool_call_id, tool_call_result, vertex_tool_response, pydantic_tool_response,
  ai_tool_call_name, ai_tool_call_id, ai_tool_call_result, lk_tool_output, tool_name_plain,
  // what the user said
  input_messages, input_value, lf_observation_input, ai_prompt_messages, ai_prompt, vertex_llm_request,
  lk_user_transcript, lk_input_text, prompt_plain, lf_trace_input,
  // what the assistant answered
  output_messages, output_value, lf_observation_output, ai_response_text, vertex_llm_response, lk_response_text,
  completion_plain, lf_trace_output,
  // level and errors
  lf_level, lf_status_message, error_type,
  // metadata
  service_name, agent_name, provider_name, gen_ai_system, event_name,
  count
};

constexpr std::pair<std::string_view, attr> attr_keys[] = {
    {"langfuse.observation.type", attr::lf_observation_type},
    {"openinference.span.kind", attr::openinference_kind},
    {"gen_ai.operation.name", attr::operation_name_genai},
    {"ai.operationId", attr::ai_operation_id},
    {"operation.name", attr::operation_name},
    {"langfuse.session.id", attr::lf_session_id},
    {"session.id", attr::session_id},
    {"gen_ai.conversation.id", attr::conversation_id},
    {"gcp.vertex.agent.session_id", attr::vertex_session_id},
    {"ai.telemetry.metadata.sessionId", attr::ai_session_id},
    {"langfuse.user.id", attr::lf_user_id},
    {"user.id", attr::user_id},
    {"enduser.id", attr::enduser_id},
    {"langfuse.environment", attr::lf_environment},
    {"deployment.environment.name", attr::deployment_environment_name},
    {"deployment.environment", attr::deployment_environment},
    {"langfuse.observation.model.name", attr::lf_model_name},
    {"gen_ai.response.model", attr::response_model},
    {"gen_ai.request.model", attr::request_model},
    {"llm.model_name", attr::llm_model_name},
    {"ai.response.model", attr::ai_response_model},
    {"ai.model.id", attr::ai_model_id},
    {"gen_ai.usage.input_tokens", attr::usage_input_tokens},
    {"gen_ai.usage.prompt_tokens", attr::usage_prompt_tokens},
    {"llm.token_count.prompt", attr::oi_prompt_tokens},
    {"ai.usage.inputTokens", attr::ai_input_tokens},
    {"ai.usage.promptTokens", attr::ai_prompt_tokens},
    {"gen_ai.usage.output_tokens", attr::usage_output_tokens},
    {"gen_ai.usage.completion_tokens", attr::usage_completion_tokens},
    {"llm.token_count.completion", attr::oi_completion_tokens},
    {"ai.usage.outputTokens", attr::ai_output_tokens},
    {"ai.usage.completionTokens", attr::ai_completion_tokens},
    {"langfuse.observation.usage_details", attr::lf_usage_details},
    {"gen_ai.usage.cost", attr::usage_cost},
    {"llm.cost.total", attr::oi_cost_total},
    {"langfuse.observation.cost_details", attr::lf_cost_details},
    {"gen_ai.response.finish_reasons", attr::finish_reasons},
    {"gen_ai.tool.name", attr::tool_name_genai},
    {"gen_ai.tool.call.id", attr::tool_call_id},
    {"gen_ai.tool.call.result", attr::tool_call_result},
    {"gcp.vertex.agent.tool_response", attr::vertex_tool_response},
    {"tool_response", attr::pydantic_tool_response},
    {"ai.toolCall.name", attr::ai_tool_call_name},
    {"ai.toolCall.id", attr::ai_tool_call_id},
    {"ai.toolCall.result", attr::ai_tool_call_result},
    {"lk.function_tool.output", attr::lk_tool_output},
    {"tool.name", attr::tool_name_plain},
    {"gen_ai.input.messages", attr::input_messages},
    {"input.value", attr::input_value},
    {"langfuse.observation.input", attr::lf_observation_input},
    {"ai.prompt.messages", attr::ai_prompt_messages},
    {"ai.prompt", attr::ai_prompt},
    {"gcp.vertex.agent.llm_request", attr::vertex_llm_request},
    {"lk.user_transcript", attr::lk_user_transcript},
    {"lk.input_text", attr::lk_input_text},
    {"gen_ai.prompt", attr::prompt_plain},
    {"langfuse.trace.input", attr::lf_trace_input},
    {"gen_ai.output.messages", attr::output_messages},
    {"output.value", attr::output_value},
    {"langfuse.observation.output", attr::lf_observation_output},
    {"ai.response.text", attr::ai_response_text},
    {"gcp.vertex.agent.llm_response", attr::vertex_llm_response},
    {"lk.response.text", attr::lk_response_text},
    {"gen_ai.completion", attr::completion_plain},
    {"langfuse.trace.output", attr::lf_trace_output},
    {"langfuse.observation.level", attr::lf_level},
    {"langfuse.observation.status_message", attr::lf_status_message},
    {"error.type", attr::error_type},
    {"service.name", attr::service_name},
    {"gen_ai.agent.name", attr::agent_name},
    {"gen_ai.provider.name", attr::provider_name},
    {"gen_ai.system", attr::gen_ai_system},
    {"event.name", attr::event_name},
};

const std::unordered_map<std::string_view, attr>& attr_index() {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, attr>();
    for (const auto& [key, slot] : attr_keys) m->emplace(key, slot);
    return m;
  }();
  return *index;
}

// Flattened chat messages: gen_ai.prompt.N.role, llm.input_messages.N.message.content, ...
enum class msg_family : uint8_t { prompt, completion, oi_input, oi_output };
enum class msg_field : uint8_t { role, content, finish_reason };

// Indices above this are ignored: producers have been seen emitting gen_ai.prompt.10001.* and a
// conversation excerpt never needs that much history.
constexpr uint32_t max_message_index = 64;

struct indexed_attr {
  msg_family family;
  uint32_t index;
  msg_field field;
  dom::element value;
};

// Parses "gen_ai.prompt.3.content" and friends; anything else (including "__proto__" segments
// and out-of-range indices) is not a message attribute.
bool parse_indexed(std::string_view key, indexed_attr& out) {
  struct prefix {
    std::string_view text;
    msg_family family;
    bool openinference;  // fields are "message.role" / "message.content"
  };
  static constexpr prefix prefixes[] = {{"gen_ai.prompt.", msg_family::prompt, false},
                                        {"gen_ai.completion.", msg_family::completion, false},
                                        {"llm.input_messages.", msg_family::oi_input, true},
                                        {"llm.output_messages.", msg_family::oi_output, true}};
  for (const auto& p : prefixes) {
    if (key.size() <= p.text.size() || key.compare(0, p.text.size(), p.text) != 0) continue;
    std::string_view rest = key.substr(p.text.size());
    uint32_t index = 0;
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      index = index * 10 + static_cast<uint32_t>(rest[digits] - '0');
      if (++digits > 3) return false;
    }
    if (digits == 0 || index > max_message_index || digits >= rest.size() || rest[digits] != '.') return false;
    std::string_view field = rest.substr(digits + 1);
    if (p.openinference) {
      if (field.compare(0, 8, "message.") != 0) return false;
      field.remove_prefix(8);
    }
    if (field == "role")
      out.field = msg_field::role;
    else if (field == "content")
      out.field = msg_field::content;
    else if (field == "finish_reason" && !p.openinference)
      out.field = msg_field::finish_reason;
    else
      return false;
    out.family = p.family;
    out.index = index;
    return true;
  }
  return false;
}

class attributes {
 public:
  // Reads a list of {key, value} pairs. Malformed entries are skipped: one unreadable attribute
  // must not cost the span.
  void read(std::optional<dom::element> list) {
    if (!list) return;
    auto arr = as_array(*list);
    if (!arr) return;
    const auto& index = attr_index();
    for (dom::element kv : *arr) {
      auto obj = as_object(kv);
      if (!obj) continue;
      std::optional<std::string_view> key;
      std::optional<dom::element> value;
      for (dom::key_value_pair field : *obj) {
        if (field.key == "key")
          key = as_string(field.value);
        else if (field.key == "value")
          value = field.value;
      }
      if (!key || key->empty() || !value) continue;
      if (auto it = index.find(*key); it != index.end()) {
        const auto slot = static_cast<size_t>(it->second);
        if (!present_[slot]) {
          present_[slot] = true;
          values_[slot] = *value;
        }
        continue;
      }
      if ((*key)[0] == 'g' || (*key)[0] == 'l') {
        indexed_attr ia{};
        if (parse_indexed(*key, ia)) {
          ia.value = *value;
          indexed_.push_back(ia);
        }
      }
    }
  }

  std::optional<dom::element> get(attr a) const {
    const auto slot = static_cast<size_t>(a);
    if (!present_[slot]) return std::nullopt;
    return values_[slot];
  }
  const std::vector<indexed_attr>& indexed() const { return indexed_; }

 private:
  std::bitset<static_cast<size_t>(attr::count)> present_;
  std::array<dom::element, static_cast<size_t>(attr::count)> values_;
  std::vector<indexed_attr> indexed_;
};

// ---------------------------------------------------------------------------------------------
// AnyValue

std::optional<dom::element> any_string_element(dom::element any) {
  auto obj = as_object(any);
  if (!obj) return std::nullopt;
  for (dom::key_value_pair kv : *obj)
    if (kv.key == "stringValue") return kv.value.is_string() ? std::optional<dom::element>(kv.value) : std::nullopt;
  return std::nullopt;
}

std::optional<std::string_view> any_string(dom::element any) {
  auto e = any_string_element(any);
  if (!e) return std::nullopt;
  return as_string(*e);
}

std::optional<int64_t> any_int(dom::element any) {
  auto obj = as_object(any);
  if (!obj) return std::nullopt;
  for (auto key : {"intValue", "doubleValue", "stringValue"})
    if (auto e = member_not_null(*obj, key)) return read_int64(*e);
  return std::nullopt;
}

std::optional<double> any_double(dom::element any) {
  auto obj = as_object(any);
  if (!obj) return std::nullopt;
  for (auto key : {"doubleValue", "intValue", "stringValue"})
    if (auto e = member_not_null(*obj, key)) return read_double(*e);
  return std::nullopt;
}

// An AnyValue as plain JSON: kvlist → object, array → array, scalars as themselves.
void append_any_json(std::string& out, dom::element any, size_t limit, size_t depth) {
  if (out.size() > limit) return;
  auto obj = as_object(any);
  if (!obj || depth > 32) {
    out += "null";
    return;
  }
  for (dom::key_value_pair kv : *obj) {
    if (kv.key == "stringValue" || kv.key == "boolValue" || kv.key == "doubleValue" || kv.key == "bytesValue") {
      append_compact_json(out, kv.value, limit);
      return;
    }
    if (kv.key == "intValue") {
      if (auto v = read_int64(kv.value))
        out += std::to_string(*v);
      else
        append_compact_json(out, kv.value, limit);
      return;
    }
    if (kv.key == "arrayValue" || kv.key == "kvlistValue") {
      const bool is_list = kv.key == "kvlistValue";
      out.push_back(is_list ? '{' : '[');
      std::optional<dom::array> values;
      if (auto inner = as_object(kv.value))
        if (auto v = member_not_null(*inner, "values")) values = as_array(*v);
      bool first = true;
      if (values) {
        for (dom::element item : *values) {
          if (out.size() > limit) return;
          if (!first) out.push_back(',');
          first = false;
          if (is_list) {
            auto pair = as_object(item);
            auto key = pair ? string_member(*pair, "key") : std::nullopt;
            append_json_string(out, key ? *key : std::string_view{});
            out.push_back(':');
            auto value = pair ? member(*pair, "value") : std::nullopt;
            if (value)
              append_any_json(out, *value, limit, depth + 1);
            else
              out += "null";
          } else {
            append_any_json(out, item, limit, depth + 1);
          }
        }
      }
      out.push_back(is_list ? '}' : ']');
      return;
    }
  }
  out += "null";  // {} is an empty AnyValue
}

// A value as evidence: a string as it is, anything else as plain JSON; bounded.
std::optional<std::string> any_excerpt(dom::element any, size_t max_bytes) {
  if (auto s = any_string(any)) {
    if (is_placeholder_text(*s)) return std::nullopt;
    return excerpt(*s, max_bytes);
  }
  std::string out;
  append_any_json(out, any, max_bytes, 0);
  if (out == "null") return std::nullopt;
  return out.size() > max_bytes ? excerpt(out, max_bytes) : out;
}

// The member `key` of a kvlistValue AnyValue.
std::optional<dom::element> kvlist_get(dom::element any, std::string_view key) {
  auto obj = as_object(any);
  if (!obj) return std::nullopt;
  auto list = member_not_null(*obj, "kvlistValue");
  auto inner = list ? as_object(*list) : std::nullopt;
  auto values = inner ? member_not_null(*inner, "values") : std::nullopt;
  auto arr = values ? as_array(*values) : std::nullopt;
  if (!arr) return std::nullopt;
  for (dom::element kv : *arr) {
    auto pair = as_object(kv);
    if (!pair) continue;
    if (auto k = string_member(*pair, "key"); k && *k == key) return member(*pair, "value");
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Paths (built only when something is rejected)

struct record_path {
  std::string_view resource_key;  // "resourceSpans", "batches", "resourceLogs"
  size_t resource = 0;
  std::string_view scope_key;  // "scopeSpans", "instrumentationLibrarySpans", "scopeLogs", ...
  size_t scope = 0;
  std::string_view records_key;  // "spans", "logRecords"
  size_t record = 0;

  std::string to_string() const {
    return std::string(resource_key) + "[" + std::to_string(resource) + "]." + std::string(scope_key) + "[" +
           std::to_string(scope) + "]." + std::string(records_key) + "[" + std::to_string(record) + "]";
  }
  std::string field(std::string_view key) const { return to_string() + "." + std::string(key); }
};

// ---------------------------------------------------------------------------------------------
// Shared span and log helpers

struct scope_info {
  const attributes* resource = nullptr;
  std::string_view scope_name;
};

std::optional<std::string_view> first_string(const attributes& a, std::initializer_list<attr> keys) {
  for (attr k : keys)
    if (auto v = a.get(k))
      if (auto s = any_string(*v); s && !s->empty()) return s;
  return std::nullopt;
}

std::string_view attr_name(attr a) {
  for (const auto& [key, slot] : attr_keys)
    if (slot == a) return key;
  return {};
}

// A session id and where it was found (for the path of a rejection).
struct session_attr {
  std::string_view id;
  attr key;
  bool on_resource = false;
};

// Session id keys in Langfuse's order of preference, then vendor keys; the span's own attributes
// before its resource's.
std::optional<session_attr> session_of(const attributes& own, const attributes* resource) {
  static constexpr std::initializer_list<attr> keys = {attr::lf_session_id, attr::session_id, attr::conversation_id,
                                                       attr::vertex_session_id, attr::ai_session_id};
  for (const auto* from : {&own, resource}) {
    if (!from) continue;
    for (attr k : keys)
      if (auto v = from->get(k))
        if (auto s = any_string(*v); s && !s->empty()) return session_attr{*s, k, from == resource};
  }
  return std::nullopt;
}

// The session id as kept, or the problem with it: an id over the bound rejects the record (cutting
// it could merge two sessions).
std::optional<problem> read_session_id(const attributes& own, const scope_info& scope, const record_path& path,
                                       std::string& out) {
  auto s = session_of(own, scope.resource);
  if (!s) return std::nullopt;
  if (const char* why = id_text_problem(s->id)) {
    const std::string where =
        s->on_resource ? std::string(path.resource_key) + "[" + std::to_string(path.resource) + "].resource.attributes"
                       : path.field("attributes");
    return invalid(where + "[\"" + std::string(attr_name(s->key)) + "\"]", why);
  }
  out = std::string(s->id);
  return std::nullopt;
}

std::optional<std::string_view> from_span_or_resource(const attributes& own, const attributes* resource,
                                                      std::initializer_list<attr> keys) {
  if (auto s = first_string(own, keys)) return s;
  if (resource) return first_string(*resource, keys);
  return std::nullopt;
}

// An id field: nullopt when absent or empty (allowed for parents), a problem when malformed.
struct id_read {
  std::optional<std::string> id;
  std::optional<problem> bad;
};

id_read read_otlp_id(const object_view& obj, std::string_view key, size_t bytes, const record_path& path) {
  auto e = obj.get_not_null(key);
  if (!e) return {};
  auto s = as_string(*e);
  if (!s) return {std::nullopt, invalid(path.field(key), "not a string")};
  if (s->empty()) return {};
  auto id = normalize_otlp_id(*s, bytes);
  if (!id)
    return {std::nullopt,
            invalid(path.field(key), bytes == 16 ? "not a 16-byte id (32 hex digits or 24 base64 characters)"
                                                 : "not an 8-byte id (16 hex digits or 12 base64 characters)")};
  return {std::move(id), std::nullopt};
}

// A nanosecond time field; 0 and absent mean "not set".
std::optional<problem> read_nanos(const object_view& obj, std::string_view key, const record_path& path,
                                  std::optional<uint64_t>& out) {
  auto e = obj.get_not_null(key);
  if (!e) return std::nullopt;
  auto ns = read_uint64(*e);
  if (!ns) return invalid(path.field(key), "not a non-negative integer of nanoseconds");
  if (*ns != 0) out = ns;
  return std::nullopt;
}

// An enum given as an integer or as its proto name ("SPAN_KIND_SERVER", "STATUS_CODE_ERROR").
std::optional<int64_t> read_enum(const object_view& obj, std::string_view key, std::string_view name_prefix,
                                 std::initializer_list<std::string_view> names) {
  auto e = obj.get_not_null(key);
  if (!e) return std::nullopt;
  if (auto s = as_string(*e)) {
    if (s->compare(0, name_prefix.size(), name_prefix) == 0) {
      auto suffix = s->substr(name_prefix.size());
      int64_t i = 0;
      for (auto n : names) {
        if (n == suffix) return i;
        ++i;
      }
    }
  }
  return read_int64(*e);
}

std::string hex64(uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = digits[v & 0xF];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Spans

bool starts_with(std::string_view s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool has_model(const attributes& a) {
  return first_string(a, {attr::lf_model_name, attr::response_model, attr::request_model, attr::llm_model_name,
                          attr::ai_response_model, attr::ai_model_id})
      .has_value();
}

bool has_usage(const attributes& a) {
  for (attr k : {attr::usage_input_tokens, attr::usage_output_tokens, attr::usage_prompt_tokens,
                 attr::usage_completion_tokens, attr::oi_prompt_tokens, attr::oi_completion_tokens})
    if (a.get(k)) return true;
  return false;
}

struct classification {
  obs_kind kind = obs_kind::span;
  std::string source;  // the producer's label: operation name, span kind, observation type
};

// Which kind of observation a span is. The producer's most explicit statement wins: Langfuse's
// own type, then OpenInference's span kind, then the GenAI operation name, then framework
// conventions (AI SDK operation ids, tool attributes, LiveKit span names), and only then the
// presence of a model or token usage (ADK's call_llm carries both but no operation name).
classification classify(const attributes& a, std::string_view span_name, std::string_view scope_name) {
  const bool model = has_model(a);
  if (auto t = first_string(a, {attr::lf_observation_type})) {
    const std::string type = lower(*t);
    if (type == "generation" || type == "embedding") return {obs_kind::generation, type};
    if (type == "tool") return {obs_kind::tool, type};
    if (type == "event") return {obs_kind::event, type};
    if (type == "span" && model) return {obs_kind::generation, type};  // declared span, holds a model call
    if (type == "span" || type == "agent" || type == "chain" || type == "retriever" || type == "evaluator" ||
        type == "guardrail")
      return {obs_kind::span, type};
  }
  if (auto k = first_string(a, {attr::openinference_kind})) {
    const std::string kind = lower(*k);
    if (kind == "llm" || kind == "embedding") return {obs_kind::generation, kind};
    if (kind == "tool") return {obs_kind::tool, kind};
    if (kind == "chain" || kind == "agent" || kind == "retriever" || kind == "reranker" || kind == "guardrail" ||
        kind == "evaluator")
      return {obs_kind::span, kind};
  }
  if (auto op = first_string(a, {attr::operation_name_genai})) {
    const std::string_view o = *op;
    if (o == "chat" || o == "generate_content" || o == "text_completion" || o == "completion" || o == "generate" ||
        o == "embeddings")
      return {obs_kind::generation, std::string(o)};
    if (o == "execute_tool") return {obs_kind::tool, std::string(o)};
    if (o == "invoke_agent" || o == "create_agent" || o == "invoke_workflow") return {obs_kind::span, std::string(o)};
  }
  if (auto op = first_string(a, {attr::ai_operation_id, attr::operation_name})) {
    const std::string_view o = *op;
    if (starts_with(o, "ai.toolCall")) return {obs_kind::tool, "ai.toolCall"};
    for (std::string_view gen : {"ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject", "ai.embed"})
      if (starts_with(o, gen)) return {model ? obs_kind::generation : obs_kind::span, std::string(gen)};
  }
  if (first_string(a, {attr::tool_name_genai})) return {obs_kind::tool, "gen_ai.tool"};
  if (scope_name == "livekit-agents") {
    if (span_name == "function_tool") return {obs_kind::tool, "livekit"};
    if (span_name == "llm_request" || span_name == "llm_node") return {obs_kind::generation, "livekit"};
  }
  if (model || has_usage(a)) return {obs_kind::generation, "model"};
  return {obs_kind::span, "span"};
}

std::optional<int64_t> first_tokens(const attributes& a, std::initializer_list<attr> keys) {
  for (attr k : keys)
    if (auto v = a.get(k))
      if (auto n = any_int(*v); n && *n >= 0) return n;
  return std::nullopt;
}

// Text of a string attribute for `who`: message structure if there is one, else the plain string.
std::optional<std::string> attr_text(std::optional<dom::element> any, speaker who, nested_json& nested) {
  if (!any) return std::nullopt;
  auto s = any_string_element(*any);
  if (!s) return std::nullopt;
  return find_text(*s, who, nested);
}

// The text of flattened messages (gen_ai.prompt.N.*): the last message of `who` (messages without
// a role count, for producers that only write content).
std::optional<std::string> indexed_text(const attributes& a, msg_family family, speaker who, nested_json& nested) {
  std::optional<uint32_t> best;
  std::optional<dom::element> best_content;
  for (const auto& ia : a.indexed()) {
    if (ia.family != family || ia.field != msg_field::content) continue;
    std::optional<std::string_view> role;
    for (const auto& r : a.indexed())
      if (r.family == family && r.index == ia.index && r.field == msg_field::role) role = any_string(r.value);
    if (role) {
      const bool user = *role == "user" || *role == "human";
      if (user != (who == speaker::user)) continue;
      if (who == speaker::assistant && *role != "assistant" && *role != "model" && *role != "ai") continue;
    }
    if (!best || ia.index >= *best) {
      best = ia.index;
      best_content = ia.value;
    }
  }
  if (!best_content) return std::nullopt;
  return attr_text(best_content, who, nested);
}

// What span events contribute: conversation text and the exception message.
struct span_event_facts {
  std::optional<std::string> user_text;
  std::optional<std::string> assistant_text;
  std::optional<std::string> finish_reason;
  std::optional<std::string> exception_message;
};

std::optional<dom::element> event_attr(dom::object ev, std::string_view key) {
  auto list = member_not_null(ev, "attributes");
  auto arr = list ? as_array(*list) : std::nullopt;
  if (!arr) return std::nullopt;
  for (dom::element kv : *arr) {
    auto obj = as_object(kv);
    if (!obj) continue;
    if (auto k = string_member(*obj, "key"); k && *k == key) return member(*obj, "value");
  }
  return std::nullopt;
}

span_event_facts read_span_events(const object_view& span, nested_json& nested) {
  span_event_facts facts;
  auto list = span.get_not_null("events");
  auto arr = list ? as_array(*list) : std::nullopt;
  if (!arr) return facts;
  for (dom::element e : *arr) {
    auto ev = as_object(e);
    if (!ev) continue;
    const std::string_view name = string_member(*ev, "name").value_or("");
    // Tempo drops the name of exception events; their attributes still say what they are.
    if (!facts.exception_message) {
      if (auto m = event_attr(*ev, "exception.message")) {
        if (auto s = any_string(*m); s && !s->empty()) facts.exception_message = std::string(*s);
      } else if (name == "exception") {
        if (auto t = event_attr(*ev, "exception.type"))
          if (auto s = any_string(*t); s && !s->empty()) facts.exception_message = std::string(*s);
      }
    }
    if (name == "gen_ai.user.message") {
      if (auto t = attr_text(event_attr(*ev, "content"), speaker::user, nested)) facts.user_text = std::move(t);
    } else if (name == "gen_ai.content.prompt") {
      if (auto t = attr_text(event_attr(*ev, "gen_ai.prompt"), speaker::user, nested)) facts.user_text = std::move(t);
    } else if (name == "gen_ai.choice") {
      auto t = attr_text(event_attr(*ev, "message"), speaker::assistant, nested);
      if (!t) t = attr_text(event_attr(*ev, "content"), speaker::assistant, nested);
      if (t && !facts.assistant_text) facts.assistant_text = std::move(t);
      if (auto f = event_attr(*ev, "finish_reason"))
        if (auto s = any_string(*f); s && !facts.finish_reason) facts.finish_reason = finish_reason_text(*s);
    } else if (name == "gen_ai.content.completion") {
      if (auto t = attr_text(event_attr(*ev, "gen_ai.completion"), speaker::assistant, nested))
        if (!facts.assistant_text) facts.assistant_text = std::move(t);
    } else if (name == "gen_ai.client.inference.operation.details") {
      if (auto t = attr_text(event_attr(*ev, "gen_ai.input.messages"), speaker::user, nested)) facts.user_text = std::move(t);
      if (auto t = attr_text(event_attr(*ev, "gen_ai.output.messages"), speaker::assistant, nested))
        if (!facts.assistant_text) facts.assistant_text = std::move(t);
    }
  }
  return facts;
}

std::optional<std::string> finish_reason_of(const attributes& a, nested_json& nested) {
  if (auto v = a.get(attr::finish_reasons)) {
    if (auto s = any_string_element(*v)) {
      // Some producers write the array as a JSON string: ["stop"].
      auto decoded = nested.decode(*as_string(*s), 0);
      if (auto arr = decoded ? as_array(*decoded) : std::nullopt) {
        for (dom::element first : *arr)
          if (auto f = as_string(first)) return finish_reason_text(*f);
      } else if (!as_string(*s)->empty()) {
        return finish_reason_text(*as_string(*s));
      }
    } else if (auto obj = as_object(*v)) {
      auto arr_v = member_not_null(*obj, "arrayValue");
      auto inner = arr_v ? as_object(*arr_v) : std::nullopt;
      auto values_e = inner ? member_not_null(*inner, "values") : std::nullopt;
      if (auto values = values_e ? as_array(*values_e) : std::nullopt)
        for (dom::element first : *values)
          if (auto f = any_string(first)) return finish_reason_text(*f);
    }
  }
  for (const auto& ia : a.indexed())
    if (ia.family == msg_family::completion && ia.field == msg_field::finish_reason)
      if (auto s = any_string(ia.value)) return finish_reason_text(*s);
  return std::nullopt;
}

// Tokens or cost from a Langfuse SDK JSON attribute ({"input": 1, ...} or OpenAI spellings).
void read_json_usage(std::optional<dom::element> any, nested_json& nested, bool want_cost, usage_totals& out) {
  if (!any) return;
  auto s = any_string(*any);
  if (!s) return;
  auto doc = nested.decode(*s, 0);
  auto obj = doc ? as_object(*doc) : std::nullopt;
  if (!obj) return;
  if (want_cost) {
    if (auto t = member_not_null(*obj, "total")) {
      out.cost_usd = read_double(*t);
      return;
    }
    double sum = 0;
    bool any_value = false;
    for (dom::key_value_pair kv : *obj)
      if (auto d = read_double(kv.value)) sum += *d, any_value = true;
    if (any_value) out.cost_usd = sum;
    return;
  }
  for (auto key : {"input", "input_tokens", "prompt_tokens"})
    if (auto e = member_not_null(*obj, key); e && !out.input_tokens) out.input_tokens = read_int64(*e);
  for (auto key : {"output", "output_tokens", "completion_tokens"})
    if (auto e = member_not_null(*obj, key); e && !out.output_tokens) out.output_tokens = read_int64(*e);
}

std::string_view span_kind_name(int64_t k) {
  switch (k) {
    case 2: return "server";
    case 3: return "client";
    case 4: return "producer";
    case 5: return "consumer";
    default: return {};
  }
}

std::optional<problem> read_span(const object_view& span, const record_path& path, const scope_info& scope,
                                 parse_context& ctx, observation& obs) {
  auto trace = read_otlp_id(span, "traceId", 16, path);
  if (trace.bad) return trace.bad;
  if (!trace.id) return missing(path.field("traceId"));
  auto span_id = read_otlp_id(span, "spanId", 8, path);
  if (span_id.bad) return span_id.bad;
  if (!span_id.id) return missing(path.field("spanId"));
  auto parent = read_otlp_id(span, "parentSpanId", 8, path);
  if (parent.bad) return parent.bad;

  std::optional<uint64_t> start_ns, end_ns;
  if (auto p = read_nanos(span, "startTimeUnixNano", path, start_ns)) return p;
  if (auto p = read_nanos(span, "endTimeUnixNano", path, end_ns)) return p;
  // Event time is the contract: a span that says neither when it started nor when it ended
  // cannot be placed in a session's timeline.
  if (!start_ns && !end_ns) return problem{reject_code::missing_field, path.field("startTimeUnixNano") + ": missing (and no endTimeUnixNano)"};

  attributes a;
  a.read(span.get_not_null("attributes"));
  const std::string_view name = span.get_string("name").value_or("");
  classification cls = classify(a, name, scope.scope_name);
  nested_json& nested = ctx.nested;
  const parse_limits& limits = ctx.limits;

  obs.event_id = "otlp:" + *trace.id + ":" + *span_id.id;
  obs.trace_id = std::move(*trace.id);
  obs.observation_id = std::move(*span_id.id);
  obs.parent_id = std::move(parent.id);
  obs.kind = cls.kind;
  obs.source_type = std::move(cls.source);
  if (start_ns) obs.start = from_unix_nanos(*start_ns);
  if (end_ns) obs.end = from_unix_nanos(*end_ns);
  obs.timestamp = obs.end ? *obs.end : *obs.start;
  if (!name.empty()) obs.name = excerpt(name, bounds::max_name_bytes);
  if (auto p = read_session_id(a, scope, path, obs.session_id)) return p;
  if (auto u = from_span_or_resource(a, scope.resource, {attr::lf_user_id, attr::user_id, attr::enduser_id}))
    obs.user_id = excerpt(*u, bounds::max_id_bytes);
  if (auto env = from_span_or_resource(a, scope.resource,
                                       {attr::lf_environment, attr::deployment_environment_name, attr::deployment_environment}))
    obs.environment = normalize_environment(*env);
  if (auto m = first_string(a, {attr::lf_model_name, attr::response_model, attr::request_model, attr::llm_model_name,
                                attr::ai_response_model, attr::ai_model_id}))
    obs.model = excerpt(*m, bounds::max_name_bytes);

  usage_totals usage;
  usage.input_tokens = first_tokens(a, {attr::usage_input_tokens, attr::usage_prompt_tokens, attr::oi_prompt_tokens,
                                        attr::ai_input_tokens, attr::ai_prompt_tokens});
  usage.output_tokens = first_tokens(a, {attr::usage_output_tokens, attr::usage_completion_tokens,
                                         attr::oi_completion_tokens, attr::ai_output_tokens, attr::ai_completion_tokens});
  if (!usage.input_tokens && !usage.output_tokens) read_json_usage(a.get(attr::lf_usage_details), nested, false, usage);
  for (attr k : {attr::usage_cost, attr::oi_cost_total})
    if (auto v = a.get(k); v && !usage.cost_usd) usage.cost_usd = any_double(*v);
  if (!usage.cost_usd) read_json_usage(a.get(attr::lf_cost_details), nested, true, usage);
  obs.input_tokens = usage.input_tokens;
  obs.output_tokens = usage.output_tokens;
  obs.cost_usd = usage.cost_usd;

  const span_event_facts facts = read_span_events(span, nested);

  // Level and status. status.code 2 is an error whatever else the span says.
  std::optional<int64_t> status_code;
  std::optional<std::string_view> status_message;
  if (auto st = span.get_not_null("status"); st && as_object(*st)) {
    const object_view status(*as_object(*st));
    status_code = read_enum(status, "code", "STATUS_CODE_", {"UNSET", "OK", "ERROR"});
    status_message = status.get_string("message");
  }
  if (status_code == 2) {
    obs.level = obs_level::error;
    std::optional<std::string> msg;
    if (status_message && !status_message->empty())
      msg = std::string(*status_message);
    else if (facts.exception_message)
      msg = facts.exception_message;
    else if (auto t = first_string(a, {attr::error_type}))
      msg = std::string(*t);
    if (msg) obs.status_message = excerpt(*msg, limits.result_excerpt_bytes);
  } else {
    obs.level = obs_level::normal;
    if (auto l = first_string(a, {attr::lf_level}))
      if (auto lv = langfuse_level(*l)) obs.level = lv;
    if (auto m = first_string(a, {attr::lf_status_message})) obs.status_message = excerpt(*m, limits.result_excerpt_bytes);
  }

  if (obs.kind == obs_kind::tool) {
    if (auto t = first_string(a, {attr::tool_name_genai, attr::ai_tool_call_name, attr::tool_name_plain})) {
      obs.tool_name = excerpt(*t, bounds::max_name_bytes);
    } else if (!name.empty()) {
      std::string_view n = name;
      if (starts_with(n, "execute_tool ")) n.remove_prefix(13);
      obs.tool_name = excerpt(n, bounds::max_name_bytes);
    }
    if (auto id = first_string(a, {attr::tool_call_id, attr::ai_tool_call_id})) obs.tool_call_id = excerpt(*id, bounds::max_id_bytes);
    for (attr k : {attr::tool_call_result, attr::vertex_tool_response, attr::pydantic_tool_response,
                   attr::ai_tool_call_result, attr::lk_tool_output, attr::output_value}) {
      if (auto v = a.get(k))
        if (auto r = any_excerpt(*v, limits.result_excerpt_bytes)) {
          obs.tool_result = std::move(r);
          break;
        }
    }
  } else {
    std::optional<std::string> user = attr_text(a.get(attr::input_messages), speaker::user, nested);
    if (!user) user = indexed_text(a, msg_family::prompt, speaker::user, nested);
    if (!user) user = indexed_text(a, msg_family::oi_input, speaker::user, nested);
    if (!user) user = facts.user_text;
    for (attr k : {attr::input_value, attr::lf_observation_input, attr::ai_prompt_messages, attr::ai_prompt,
                   attr::vertex_llm_request, attr::lk_user_transcript, attr::lk_input_text, attr::prompt_plain,
                   attr::lf_trace_input}) {
      if (user) break;
      user = attr_text(a.get(k), speaker::user, nested);
    }
    if (user) obs.user_text = excerpt(*user, limits.text_excerpt_bytes);

    // gen_ai.output.messages is decoded once for both the answer and its finish_reason.
    std::optional<std::string> answer;
    std::optional<std::string> output_finish;
    if (auto v = a.get(attr::output_messages))
      if (auto s = any_string(*v)) {
        if (auto doc = nested.decode(*s, 0)) {
          answer = find_text(*doc, speaker::assistant, nested, 1);
          output_finish = find_finish_reason(*doc, nested, 1);
        } else if (!is_placeholder_text(*s)) {
          answer = std::string(*s);
        }
      }
    if (!answer) answer = indexed_text(a, msg_family::completion, speaker::assistant, nested);
    if (!answer) answer = indexed_text(a, msg_family::oi_output, speaker::assistant, nested);
    if (!answer) answer = facts.assistant_text;
    for (attr k : {attr::output_value, attr::lf_observation_output, attr::ai_response_text, attr::vertex_llm_response,
                   attr::lk_response_text, attr::completion_plain, attr::lf_trace_output}) {
      if (answer) break;
      answer = attr_text(a.get(k), speaker::assistant, nested);
    }
    if (answer) obs.assistant_text = excerpt(*answer, limits.text_excerpt_bytes);

    obs.finish_reason = finish_reason_of(a, nested);
    if (!obs.finish_reason) obs.finish_reason = facts.finish_reason;
    if (!obs.finish_reason) obs.finish_reason = std::move(output_finish);
  }

  metadata_entries meta;
  if (scope.resource)
    if (auto s = first_string(*scope.resource, {attr::service_name})) add_metadata(meta, "service.name", *s, limits);
  if (auto s = first_string(a, {attr::agent_name})) add_metadata(meta, "gen_ai.agent.name", *s, limits);
  if (auto s = first_string(a, {attr::provider_name, attr::gen_ai_system})) add_metadata(meta, "gen_ai.provider.name", *s, limits);
  if (auto s = first_string(a, {attr::operation_name_genai})) add_metadata(meta, "gen_ai.operation.name", *s, limits);
  if (!scope.scope_name.empty()) add_metadata(meta, "otel.scope.name", scope.scope_name, limits);
  if (auto k = read_enum(span, "kind", "SPAN_KIND_", {"UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"}))
    if (auto n = span_kind_name(*k); !n.empty()) add_metadata(meta, "otel.span.kind", n, limits);
  if (!meta.empty()) obs.metadata = std::move(meta);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Log records (GenAI events: gen_ai.user.message, gen_ai.choice, ...)

std::optional<problem> read_log(const object_view& rec, dom::element rec_element, const record_path& path,
                                const scope_info& scope, parse_context& ctx, observation& obs) {
  auto trace = read_otlp_id(rec, "traceId", 16, path);
  if (trace.bad) return trace.bad;
  if (!trace.id)
    return problem{reject_code::unsupported_type,
                   path.field("traceId") + ": missing (a log record without a trace belongs to no session)"};
  auto span_id = read_otlp_id(rec, "spanId", 8, path);
  if (span_id.bad) return span_id.bad;

  std::optional<uint64_t> time_ns, observed_ns;
  if (auto p = read_nanos(rec, "timeUnixNano", path, time_ns)) return p;
  if (auto p = read_nanos(rec, "observedTimeUnixNano", path, observed_ns)) return p;
  if (!time_ns) time_ns = observed_ns;
  if (!time_ns)
    return problem{reject_code::missing_field, path.field("timeUnixNano") + ": missing (and no observedTimeUnixNano)"};

  attributes a;
  a.read(rec.get_not_null("attributes"));
  std::optional<std::string_view> name = rec.get_string("eventName");
  if (!name || name->empty()) name = first_string(a, {attr::event_name});

  const std::string span_text = span_id.id.value_or("");
  obs.event_id = "otlp-log:" + *trace.id + ":" + span_text + ":" + std::to_string(*time_ns) + ":" +
                 hex64(stable_hash(simdjson::minify(rec_element)));
  obs.observation_id = obs.event_id;
  obs.trace_id = std::move(*trace.id);
  obs.parent_id = span_id.id;
  obs.kind = obs_kind::event;
  obs.source_type = "log";
  obs.timestamp = from_unix_nanos(*time_ns);
  obs.start = obs.timestamp;
  if (name && !name->empty()) obs.name = excerpt(*name, bounds::max_name_bytes);
  if (auto p = read_session_id(a, scope, path, obs.session_id)) return p;

  // OTLP severity numbers: 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-24 error and fatal.
  if (auto n = read_enum(rec, "severityNumber", "SEVERITY_NUMBER_", {}); n && *n > 0)
    obs.level = *n >= 17 ? obs_level::error : *n >= 13 ? obs_level::warning : *n >= 9 ? obs_level::normal : obs_level::debug;

  // The body: a kvlist {content, message: {role, content}, finish_reason, ...} or a plain string.
  auto body = rec.get_not_null("body");
  const std::string_view event = name.value_or("");
  if (body) {
    auto content = kvlist_get(*body, "content");
    if (!content && any_string(*body)) content = body;
    if (event == "gen_ai.user.message") {
      if (auto t = attr_text(content, speaker::user, ctx.nested)) obs.user_text = excerpt(*t, ctx.limits.text_excerpt_bytes);
    } else if (event == "gen_ai.choice") {
      std::optional<std::string> t;
      if (auto msg = kvlist_get(*body, "message")) t = attr_text(kvlist_get(*msg, "content"), speaker::assistant, ctx.nested);
      if (!t) t = attr_text(content, speaker::assistant, ctx.nested);
      if (t) obs.assistant_text = excerpt(*t, ctx.limits.text_excerpt_bytes);
      if (auto f = kvlist_get(*body, "finish_reason"))
        if (auto s = any_string(*f); s && !s->empty()) obs.finish_reason = finish_reason_text(*s);
    }
  }

  metadata_entries meta;
  if (scope.resource)
    if (auto s = first_string(*scope.resource, {attr::service_name})) add_metadata(meta, "service.name", *s, ctx.limits);
  if (auto s = first_string(a, {attr::provider_name, attr::gen_ai_system})) add_metadata(meta, "gen_ai.provider.name", *s, ctx.limits);
  if (!meta.empty()) obs.metadata = std::move(meta);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// The document walk

// Calls `fn(record, path, scope)` for every record under `resources_key` (spans or log records),
// reporting structural problems (a list that is not a list) as whole-message rejections.
template <class Fn>
void walk(dom::object root, std::string_view resources_key, std::initializer_list<std::string_view> scope_keys,
          std::initializer_list<std::string_view> scope_info_keys, std::string_view records_key, parse_context& ctx,
          Fn&& fn) {
  auto resources_e = member_not_null(root, resources_key);
  if (!resources_e) return;
  auto resources = as_array(*resources_e);
  if (!resources) return ctx.reject_message(invalid(resources_key, "not an array"));
  record_path path;
  path.resource_key = resources_key;
  path.records_key = records_key;
  for (dom::element rs_e : *resources) {
    auto rs = as_object(rs_e);
    attributes resource;
    if (rs)
      if (auto res = member_not_null(*rs, "resource"); res && as_object(*res))
        resource.read(member_not_null(*as_object(*res), "attributes"));
    for (std::string_view scope_key : scope_keys) {
      auto scopes_e = rs ? member_not_null(*rs, scope_key) : std::nullopt;
      if (!scopes_e) continue;
      auto scopes = as_array(*scopes_e);
      path.scope_key = scope_key;
      path.scope = 0;
      if (!scopes) {
        ctx.reject_message(invalid(std::string(resources_key) + "[" + std::to_string(path.resource) + "]." +
                                       std::string(scope_key),
                                   "not an array"));
        continue;
      }
      for (dom::element ss_e : *scopes) {
        auto ss = as_object(ss_e);
        scope_info scope{&resource, {}};
        if (ss)
          for (std::string_view info_key : scope_info_keys)
            if (auto sc = member_not_null(*ss, info_key); sc && as_object(*sc))
              scope.scope_name = string_member(*as_object(*sc), "name").value_or("");
        auto records_e = ss ? member_not_null(*ss, records_key) : std::nullopt;
        auto records = records_e ? as_array(*records_e) : std::nullopt;
        path.record = 0;
        if (records_e && !records) {
          ctx.reject_message(invalid(path.to_string().substr(0, path.to_string().rfind('[')), "not an array"));
          ++path.scope;
          continue;
        }
        if (records)
          for (dom::element rec : *records) {
            fn(rec, path, scope);
            ++path.record;
          }
        ++path.scope;
      }
    }
    ++path.resource;
  }
}

}  // namespace

void parse_otlp(dom::element root, parse_context& ctx) {
  auto obj = as_object(root);
  if (!obj || !(member(*obj, "resourceSpans") || member(*obj, "batches") || member(*obj, "resourceLogs")))
    return ctx.reject_message(
        problem{reject_code::unknown_format, "not OTLP/JSON: expected resourceSpans, batches or resourceLogs"});

  const size_t first = ctx.result.observations.size();
  uint32_t ordinal = 0;  // a record's position among all spans and log records of the message
  auto on_span = [&](dom::element rec, const record_path& path, const scope_info& scope) {
    auto span = as_object(rec);
    observation obs;
    std::optional<problem> p =
        span ? read_span(object_view(*span), path, scope, ctx, obs) : invalid(path.to_string(), "not an object");
    if (p)
      ctx.reject_item(std::move(*p), ordinal, rec);
    else {
      obs.source_index = ordinal;
      ctx.result.observations.push_back(std::move(obs));
    }
    ++ordinal;
  };
  auto on_log = [&](dom::element rec, const record_path& path, const scope_info& scope) {
    auto log = as_object(rec);
    observation obs;
    std::optional<problem> p =
        log ? read_log(object_view(*log), rec, path, scope, ctx, obs) : invalid(path.to_string(), "not an object");
    if (p)
      ctx.reject_item(std::move(*p), ordinal, rec);
    else {
      obs.source_index = ordinal;
      ctx.result.observations.push_back(std::move(obs));
    }
    ++ordinal;
  };
  walk(*obj, "resourceSpans", {"scopeSpans", "instrumentationLibrarySpans"}, {"scope", "instrumentationLibrary"},
       "spans", ctx, on_span);
  walk(*obj, "batches", {"scopeSpans", "instrumentationLibrarySpans"}, {"scope", "instrumentationLibrary"}, "spans",
       ctx, on_span);
  walk(*obj, "resourceLogs", {"scopeLogs", "instrumentationLibraryLogs"}, {"scope", "instrumentationLibrary"},
       "logRecords", ctx, on_log);

  // A root span often lacks the session id its children carry: within this message, every
  // observation of a trace gets the session id that any of them has (the first one seen).
  auto& all = ctx.result.observations;
  std::unordered_map<std::string_view, std::string_view> session_of_trace;
  for (size_t i = first; i < all.size(); ++i)
    if (!all[i].session_id.empty()) session_of_trace.emplace(all[i].trace_id, all[i].session_id);
  if (session_of_trace.empty()) return;
  for (size_t i = first; i < all.size(); ++i) {
    if (!all[i].session_id.empty()) continue;
    if (auto it = session_of_trace.find(all[i].trace_id); it != session_of_trace.end())
      all[i].session_id = std::string(it->second);
  }
}

}  // namespace tw::formats
