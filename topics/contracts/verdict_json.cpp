#include "topics/contracts/verdict_json.hpp"

#include <nlohmann/json.hpp>

#include "model/bounds.hpp"
#include "model/text.hpp"
#include "topics/contracts/json_writer.hpp"
#include "topics/contracts/middle_out.hpp"
#include "topics/contracts/strict_json_reader.hpp"

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace tw {
namespace {

using json = nlohmann::ordered_json;

void write_intent(json_writer& w, const intent_result& in) {
  w.begin_object();
  w.member("name", in.name);
  w.member("confidence", in.confidence);
  w.member("fallback", in.fallback);
  w.key("evidence").begin_array();
  for (const auto& e : in.evidence) {
    w.begin_object();
    w.member("rule", e.rule);
    w.member("kind", e.kind);
    w.key("observation_id").text_or_null(e.observation_id);
    w.member("detail", e.detail);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_fulfillment(json_writer& w, const fulfillment_result& f) {
  w.begin_object();
  w.member("status", to_string(f.status));
  w.key("checks").begin_array();
  for (const auto& c : f.checks) {
    w.begin_object();
    w.member("id", c.id);
    w.member("description", c.description);
    w.member("outcome", to_string(c.outcome));
    w.member("implies", to_string(c.implies));
    w.key("observation_ids").string_array(c.observation_ids);
    w.key("detail").text_or_null(c.detail);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

// The part of session_stats a verdict consumer needs (DESIGN.md §8); the session contract has all.
void write_stats(json_writer& w, const session_stats& s) {
  w.begin_object();
  w.member("traces", s.traces);
  w.member("observations", s.observations);
  w.member("tool_calls", s.tool_calls);
  w.member("tool_errors", s.tool_errors);
  w.member("input_tokens", s.input_tokens);
  w.member("output_tokens", s.output_tokens);
  w.member("cost_usd", s.cost_usd);
  w.member("duration_ms", to_millis(s.session_duration));
  w.end_object();
}

}  // namespace

std::string encode_verdict_json(const verdict& v) {
  std::string out;
  out.reserve(1024);
  json_writer w(out);
  w.begin_object();
  w.member("schema", verdict_schema_v1);
  w.member("session_id", v.session_id);
  w.member("revision", v.revision);
  w.member("verdict", to_string(v.status));
  write_intent(w.key("intent"), v.intent);
  write_fulfillment(w.key("fulfillment"), v.fulfillment);
  write_stats(w.key("stats"), v.stats);
  w.key("window").begin_object();
  w.key("first_event_at").time(v.first_event_at);
  w.key("last_event_at").time(v.last_event_at);
  w.key("closed_at").time(v.closed_at);
  w.member("reason", to_string(v.reason));
  w.end_object();
  w.member("rules_version", v.rules_version);
  w.end_object();
  return out;
}

namespace {

std::string ids_note(size_t left_out, size_t of) {
  return std::to_string(left_out) + " of " + std::to_string(of) + " observation ids left out to fit the record";
}

}  // namespace

void fit_verdict_json(verdict& v, size_t max_bytes) {
  for (auto& e : v.intent.evidence) e.detail = excerpt_within(e.detail, bounds::max_message_bytes);
  for (auto& c : v.fulfillment.checks) {
    c.description = excerpt_within(c.description, bounds::max_message_bytes);
    c.detail = excerpt_within(c.detail, bounds::max_message_bytes);
  }
  std::vector<size_t> listed;        // each check's ids before fitting
  std::vector<std::string> details;  // and its detail
  for (const auto& c : v.fulfillment.checks) {
    listed.push_back(c.observation_ids.size());
    details.push_back(c.detail);
  }
  while (true) {
    const size_t total = encode_verdict_json(v).size();
    if (total <= max_bytes) return;
    std::vector<contracts_detail::middle_out> lists;
    for (const auto& c : v.fulfillment.checks) {
      std::vector<size_t> sizes;
      for (const auto& id : c.observation_ids) sizes.push_back(json_writer::string_size(id) + 1);
      lists.emplace_back(std::move(sizes));
    }
    std::vector<contracts_detail::middle_out*> ptrs;
    for (auto& l : lists) ptrs.push_back(&l);
    // Room for the notes each trimmed check gets. Each list keeps its first and last id while any
    // is longer; only then do they go too.
    const size_t need = total - max_bytes + 96 * lists.size();
    if (!contracts_detail::drop_largest_first(ptrs, need, 2) && !contracts_detail::drop_largest_first(ptrs, need))
      return;  // nothing left to leave out: the rules file made it this large (the output stage dead-letters it)
    for (size_t i = 0; i < lists.size(); ++i) {
      auto& c = v.fulfillment.checks[i];
      lists[i].apply(c.observation_ids);
      if (c.observation_ids.size() == listed[i]) continue;
      const std::string note = ids_note(listed[i] - c.observation_ids.size(), listed[i]);
      c.detail = details[i].empty() ? note : excerpt_within(details[i], bounds::max_message_bytes - note.size() - 2) + "; " + note;
    }
  }
}

namespace {

using contracts_detail::member_path;
using contracts_detail::reader;

constexpr std::initializer_list<verdict_status> verdicts = {
    verdict_status::pass, verdict_status::fail, verdict_status::partial, verdict_status::error,
    verdict_status::abandoned};
// A fulfillment is pass, fail, partial or error (model/verdict.hpp, DESIGN.md §5): only a verdict is abandoned.
constexpr std::initializer_list<verdict_status> fulfillment_statuses = {
    verdict_status::pass, verdict_status::fail, verdict_status::partial, verdict_status::error};
// What a failed check can make a session: the rules file allows only these.
constexpr std::initializer_list<verdict_status> implied_statuses = {verdict_status::fail, verdict_status::partial,
                                                                    verdict_status::error};

bool read_intent(reader& r, const json& j, const std::string& path, intent_result& out) {
  return r.object(j, path, {"name", "confidence", "fallback", "evidence"}) &&
         r.nonempty_text(j, path, "name", out.name) && r.number(j, path, "confidence", 0, 1, out.confidence) &&
         r.boolean(j, path, "fallback", out.fallback) &&
         r.each(j, path, "evidence", [&](const json& e, const std::string& p) {
           evidence_item ev;
           if (!(r.object(e, p, {"rule", "kind", "observation_id", "detail"}) &&
                 r.nonempty_text(e, p, "rule", ev.rule) && r.nonempty_text(e, p, "kind", ev.kind) &&
                 r.optional_text(e, p, "observation_id", ev.observation_id) && r.text(e, p, "detail", ev.detail)))
             return false;
           out.evidence.push_back(std::move(ev));
           return true;
         });
}

bool read_fulfillment(reader& r, const json& j, const std::string& path, fulfillment_result& out) {
  return r.object(j, path, {"status", "checks"}) && r.choice(j, path, "status", fulfillment_statuses, out.status) &&
         r.each(j, path, "checks", [&](const json& c, const std::string& p) {
           check_result cr;
           if (!(r.object(c, p, {"id", "description", "outcome", "implies", "observation_ids", "detail"}) &&
                 r.nonempty_text(c, p, "id", cr.id) && r.text(c, p, "description", cr.description) &&
                 r.choice(c, p, "outcome", {check_outcome::passed, check_outcome::failed, check_outcome::skipped},
                          cr.outcome) &&
                 r.choice(c, p, "implies", implied_statuses, cr.implies) &&
                 r.id_list(c, p, "observation_ids", cr.observation_ids) && r.optional_text(c, p, "detail", cr.detail)))
             return false;
           out.checks.push_back(std::move(cr));
           return true;
         });
}

bool read_stats(reader& r, const json& j, const std::string& path, session_stats& out) {
  constexpr uint64_t any = UINT64_MAX, tokens = INT64_MAX;
  uint64_t in_tok = 0, out_tok = 0;
  if (!(r.object(j, path, {"traces", "observations", "tool_calls", "tool_errors", "input_tokens", "output_tokens",
                           "cost_usd", "duration_ms"}) &&
        r.whole(j, path, "traces", 0, any, out.traces) && r.whole(j, path, "observations", 0, any, out.observations) &&
        r.whole(j, path, "tool_calls", 0, any, out.tool_calls) &&
        r.whole(j, path, "tool_errors", 0, any, out.tool_errors) &&
        r.whole(j, path, "input_tokens", 0, tokens, in_tok) && r.whole(j, path, "output_tokens", 0, tokens, out_tok) &&
        r.optional_number(j, path, "cost_usd", out.cost_usd) && r.millis(j, path, "duration_ms", out.session_duration)))
    return false;
  out.input_tokens = static_cast<int64_t>(in_tok);
  out.output_tokens = static_cast<int64_t>(out_tok);
  return true;
}

bool read_verdict(reader& r, std::string_view text, verdict& v) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return r.fail("", "not JSON");
  // The schema first, so that another contract's document is refused as such.
  const auto schema = j.is_object() ? j.find("schema") : j.end();
  if (schema == j.end() || !schema->is_string() || schema->get_ref<const std::string&>() != verdict_schema_v1)
    return r.fail("schema", "not tracewatch.verdict.v1");
  if (!r.object(j, "", {"schema", "session_id", "revision", "verdict", "intent", "fulfillment", "stats", "window",
                        "rules_version"}))
    return false;
  uint64_t revision = 0;
  if (!(r.nonempty_text(j, "", "session_id", v.session_id) && r.whole(j, "", "revision", 1, UINT32_MAX, revision) &&
        r.choice(j, "", "verdict", verdicts, v.status) &&
        read_intent(r, reader::at(j, "intent"), "intent", v.intent) &&
        read_fulfillment(r, reader::at(j, "fulfillment"), "fulfillment", v.fulfillment) &&
        read_stats(r, reader::at(j, "stats"), "stats", v.stats)))
    return false;
  v.revision = static_cast<uint32_t>(revision);
  const json& w = reader::at(j, "window");
  return r.object(w, "window", {"first_event_at", "last_event_at", "closed_at", "reason"}) &&
         r.time(w, "window", "first_event_at", v.first_event_at) &&
         r.time(w, "window", "last_event_at", v.last_event_at) && r.time(w, "window", "closed_at", v.closed_at) &&
         r.choice(w, "window", "reason",
                  {completion_reason::gap, completion_reason::end_marker, completion_reason::max_duration,
                   completion_reason::flush, completion_reason::idle},
                  v.reason) &&
         r.nonempty_text(j, "", "rules_version", v.rules_version);
}

}  // namespace

std::optional<verdict> decode_verdict_json(std::string_view text, std::string* error) {
  reader r;
  verdict v;
  if (!read_verdict(r, text, v)) {
    if (error) *error = r.error();
    return std::nullopt;
  }
  return v;
}

}  // namespace tw
