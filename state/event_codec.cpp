#include "state/event_codec.hpp"

#include "state/codec.hpp"

namespace tw::state {
namespace {

constexpr uint8_t version = 1;
constexpr int field_count = 21;

}  // namespace

void encode_event(const observation& o, std::string& out) {
  writer w(out);
  w.u8(version);
  w.bytes(o.event_id);
  w.bytes(o.session_id);
  w.bytes(o.trace_id);
  w.bytes(o.observation_id);
  w.u8(static_cast<uint8_t>(o.kind));
  w.u8(o.is_update ? 1 : 0);
  w.bytes(o.source_type);
  w.varint(o.source_index);
  w.svarint(o.timestamp.micros());
  uint64_t presence = 0;
  auto bit = [&](int i, bool present) {
    if (present) presence |= uint64_t{1} << i;
  };
  bit(0, o.start.has_value());
  bit(1, o.end.has_value());
  bit(2, o.parent_id.has_value());
  bit(3, o.name.has_value());
  bit(4, o.level.has_value());
  bit(5, o.status_message.has_value());
  bit(6, o.model.has_value());
  bit(7, o.input_tokens.has_value());
  bit(8, o.output_tokens.has_value());
  bit(9, o.cost_usd.has_value());
  bit(10, o.finish_reason.has_value());
  bit(11, o.tool_name.has_value());
  bit(12, o.tool_call_id.has_value());
  bit(13, o.tool_result.has_value());
  bit(14, o.user_text.has_value());
  bit(15, o.assistant_text.has_value());
  bit(16, o.user_id.has_value());
  bit(17, o.environment.has_value());
  bit(18, o.metadata.has_value());
  bit(19, o.score_value.has_value());
  bit(20, o.score_label.has_value());
  w.varint(presence);
  if (o.start) w.svarint(o.start->micros());
  if (o.end) w.svarint(o.end->micros());
  if (o.parent_id) w.bytes(*o.parent_id);
  if (o.name) w.bytes(*o.name);
  if (o.level) w.u8(static_cast<uint8_t>(*o.level));
  if (o.status_message) w.bytes(*o.status_message);
  if (o.model) w.bytes(*o.model);
  if (o.input_tokens) w.svarint(*o.input_tokens);
  if (o.output_tokens) w.svarint(*o.output_tokens);
  if (o.cost_usd) w.f64(*o.cost_usd);
  if (o.finish_reason) w.bytes(*o.finish_reason);
  if (o.tool_name) w.bytes(*o.tool_name);
  if (o.tool_call_id) w.bytes(*o.tool_call_id);
  if (o.tool_result) w.bytes(*o.tool_result);
  if (o.user_text) w.bytes(*o.user_text);
  if (o.assistant_text) w.bytes(*o.assistant_text);
  if (o.user_id) w.bytes(*o.user_id);
  if (o.environment) w.bytes(*o.environment);
  if (o.metadata) {
    w.varint(o.metadata->size());
    for (const auto& [k, v] : *o.metadata) {
      w.bytes(k);
      w.bytes(v);
    }
  }
  if (o.score_value) w.f64(*o.score_value);
  if (o.score_label) w.bytes(*o.score_label);
}

std::optional<observation> decode_event(std::string_view in) {
  reader r(in);
  if (r.u8() != version) return std::nullopt;
  observation o;
  o.event_id = std::string(r.bytes());
  o.session_id = std::string(r.bytes());
  o.trace_id = std::string(r.bytes());
  o.observation_id = std::string(r.bytes());
  uint8_t kind = r.u8();
  if (kind > static_cast<uint8_t>(obs_kind::score)) return std::nullopt;
  o.kind = static_cast<obs_kind>(kind);
  o.is_update = r.u8() != 0;
  o.source_type = std::string(r.bytes());
  o.source_index = static_cast<uint32_t>(r.varint());
  o.timestamp = event_time::from_micros(r.svarint());
  uint64_t presence = r.varint();
  if (presence >> field_count) return std::nullopt;  // a field this build does not know
  auto has = [&](int i) { return (presence >> i) & 1; };
  auto str = [&]() { return std::string(r.bytes()); };
  if (has(0)) o.start = event_time::from_micros(r.svarint());
  if (has(1)) o.end = event_time::from_micros(r.svarint());
  if (has(2)) o.parent_id = str();
  if (has(3)) o.name = str();
  if (has(4)) {
    uint8_t l = r.u8();
    if (l > static_cast<uint8_t>(obs_level::error)) return std::nullopt;
    o.level = static_cast<obs_level>(l);
  }
  if (has(5)) o.status_message = str();
  if (has(6)) o.model = str();
  if (has(7)) o.input_tokens = r.svarint();
  if (has(8)) o.output_tokens = r.svarint();
  if (has(9)) o.cost_usd = r.f64();
  if (has(10)) o.finish_reason = str();
  if (has(11)) o.tool_name = str();
  if (has(12)) o.tool_call_id = str();
  if (has(13)) o.tool_result = str();
  if (has(14)) o.user_text = str();
  if (has(15)) o.assistant_text = str();
  if (has(16)) o.user_id = str();
  if (has(17)) o.environment = str();
  if (has(18)) {
    uint64_t n = r.varint();
    if (n > r.remaining()) return std::nullopt;  // each entry takes at least two bytes
    metadata_entries m;
    m.reserve(n);
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
      std::string k = str();
      m.emplace_back(std::move(k), str());
    }
    o.metadata = std::move(m);
  }
  if (has(19)) o.score_value = r.f64();
  if (has(20)) o.score_label = str();
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return o;
}

}  // namespace tw::state
