#include "topics/contracts/watermark_json.hpp"

#include "model/text.hpp"
#include "topics/contracts/strict_json_reader.hpp"

namespace tw {
namespace {

using contracts_detail::json;

// event_time::min() is "no watermark yet" (nothing seen): null in the contract.
json watermark_value(event_time t) { return t == event_time::min() ? json(nullptr) : json(t.micros()); }

json partition_ref(const topic_partition& tp) {
  json j;
  j["topic"] = to_valid_utf8(tp.topic);
  j["partition"] = tp.partition.value;
  return j;
}

}  // namespace

std::string encode_watermark_json(const watermark_record& r) {
  json j;
  j["schema"] = watermark_schema_v1;
  j["group"] = to_valid_utf8(r.group);
  j["state_id"] = r.state_id;
  j["seq"] = r.seq;
  j["decision"] = to_string(r.decision);
  j["watermark_us"] = watermark_value(r.watermark);
  j["watermark"] = r.watermark == event_time::min() ? json(nullptr) : json(format_iso8601(r.watermark));
  j["alert_clock_us"] = watermark_value(r.alert_clock);
  json idle = json::array();
  for (const auto& tp : r.idle) idle.push_back(partition_ref(tp));
  j["idle"] = std::move(idle);
  json positions = json::array();
  for (const auto& [tp, off] : r.positions) {
    json p = partition_ref(tp);
    p["offset"] = off.value;
    positions.push_back(std::move(p));
  }
  j["positions"] = std::move(positions);
  j["recorded_at"] = format_iso8601(event_time::from_micros(r.recorded_at.micros()));
  return j.dump();
}

std::string watermark_record_key(const watermark_record& r) {
  return r.group + "/" + r.state_id + "/" + std::to_string(r.seq);
}

std::optional<watermark_record> decode_watermark_json(std::string_view text, std::string* error) {
  contracts_detail::reader rd;
  auto fail = [&](const std::string& why) -> std::optional<watermark_record> {
    if (error) *error = why;
    return std::nullopt;
  };
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("not JSON");
  // Records written before alerts existed have no alert clock.
  if (j.is_object() && !j.contains("alert_clock_us")) j["alert_clock_us"] = nullptr;
  watermark_record r;
  std::string schema, decision;
  uint64_t seq = 0;
  event_time recorded;
  if (!rd.object(j, "", {"schema", "group", "state_id", "seq", "decision", "watermark_us", "watermark",
                         "alert_clock_us", "idle", "positions", "recorded_at"}) ||
      !rd.text(j, "", "schema", schema))
    return fail(rd.error());
  if (schema != watermark_schema_v1) return fail("schema: not " + std::string(watermark_schema_v1));
  if (!rd.text(j, "", "group", r.group) || !rd.nonempty_text(j, "", "state_id", r.state_id) ||
      !rd.whole(j, "", "seq", 1, UINT64_MAX, seq) || !rd.text(j, "", "decision", decision) ||
      !rd.time(j, "", "recorded_at", recorded))
    return fail(rd.error());
  r.seq = seq;
  r.recorded_at = wall_time::from_micros(recorded.micros());
  bool known = false;
  for (auto d : {watermark_decision::assign, watermark_decision::idle, watermark_decision::wake})
    if (to_string(d) == decision) {
      r.decision = d;
      known = true;
    }
  if (!known) return fail("decision: not one of the contract's values");
  const json& wm = contracts_detail::reader::at(j, "watermark_us");
  if (wm.is_null()) {
    r.watermark = event_time::min();
  } else if (wm.is_number_integer()) {
    r.watermark = event_time::from_micros(wm.get<int64_t>());
  } else {
    return fail("watermark_us: neither null nor an integer");
  }
  const json& ac = contracts_detail::reader::at(j, "alert_clock_us");
  if (ac.is_null()) r.alert_clock = event_time::min();
  else if (ac.is_number_integer()) r.alert_clock = event_time::from_micros(ac.get<int64_t>());
  else return fail("alert_clock_us: neither null nor an integer");
  auto read_partition = [&](const json& e, const std::string& path, bool with_offset) -> bool {
    if (!rd.object(e, path, with_offset ? std::initializer_list<const char*>{"topic", "partition", "offset"}
                                        : std::initializer_list<const char*>{"topic", "partition"}))
      return false;
    topic_partition tp;
    uint64_t partition = 0, off = 0;
    if (!rd.nonempty_text(e, path, "topic", tp.topic) || !rd.whole(e, path, "partition", 0, INT32_MAX, partition))
      return false;
    tp.partition = partition_id{static_cast<int32_t>(partition)};
    if (!with_offset) {
      r.idle.push_back(std::move(tp));
      return true;
    }
    if (!rd.whole(e, path, "offset", 0, INT64_MAX, off)) return false;
    r.positions.emplace_back(std::move(tp), offset{static_cast<int64_t>(off)});
    return true;
  };
  if (!rd.each(j, "", "idle", [&](const json& e, const std::string& p) { return read_partition(e, p, false); }) ||
      !rd.each(j, "", "positions", [&](const json& e, const std::string& p) { return read_partition(e, p, true); }))
    return fail(rd.error());
  return r;
}

}  // namespace tw
