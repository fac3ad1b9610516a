#include "topics/contracts/verdict_json.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace tw {
namespace {

using json = nlohmann::ordered_json;

json optional_text(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json opt_double(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }

json encode_intent(const intent_result& in) {
  json j;
  j["name"] = in.name;
  j["confidence"] = in.confidence;
  j["fallback"] = in.fallback;
  json evidence = json::array();
  for (const auto& e : in.evidence) {
    json ej;
    ej["rule"] = e.rule;
    ej["kind"] = e.kind;
    ej["observation_id"] = optional_text(e.observation_id);
    ej["detail"] = e.detail;
    evidence.push_back(std::move(ej));
  }
  j["evidence"] = std::move(evidence);
  return j;
}

json encode_fulfillment(const fulfillment_result& f) {
  json j;
  j["status"] = to_string(f.status);
  json checks = json::array();
  for (const auto& c : f.checks) {
    json cj;
    cj["id"] = c.id;
    cj["description"] = c.description;
    cj["outcome"] = to_string(c.outcome);
    cj["implies"] = to_string(c.implies);
    cj["observation_ids"] = c.observation_ids;
    cj["detail"] = optional_text(c.detail);
    checks.push_back(std::move(cj));
  }
  j["checks"] = std::move(checks);
  return j;
}

// The part of session_stats a verdict consumer needs (DESIGN.md §8); the session contract has all.
json encode_stats(const session_stats& s) {
  json j;
  j["traces"] = s.traces;
  j["observations"] = s.observations;
  j["tool_calls"] = s.tool_calls;
  j["tool_errors"] = s.tool_errors;
  j["input_tokens"] = s.input_tokens;
  j["output_tokens"] = s.output_tokens;
  j["cost_usd"] = opt_double(s.cost_usd);
  j["duration_ms"] = to_millis(s.session_duration);
  return j;
}

}  // namespace

std::string encode_verdict_json(const verdict& v) {
  json j;
  j["schema"] = verdict_schema_v1;
  j["session_id"] = v.session_id;
  j["revision"] = v.revision;
  j["verdict"] = to_string(v.status);
  j["intent"] = encode_intent(v.intent);
  j["fulfillment"] = encode_fulfillment(v.fulfillment);
  j["stats"] = encode_stats(v.stats);
  json window;
  window["first_event_at"] = format_iso8601(v.first_event_at);
  window["last_event_at"] = format_iso8601(v.last_event_at);
  window["reason"] = to_string(v.reason);
  j["window"] = std::move(window);
  j["rules_version"] = v.rules_version;
  // Text comes from the session (valid UTF-8, the importer guarantees it) and the rules file;
  // replace rather than throw should that ever break: an exception here would stop the judge.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

std::string member_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string element_path(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// Strict reading, as the schema validates: `object` first checks that an object has exactly the
// contract's members, so the member readers after it can rely on each being there; every value's
// type is checked before it is read, because nlohmann's get<> throws on a mismatch and a decoder
// must answer with an error instead. The first problem becomes the error, as "path: why".
// diagnostic_json.cpp has a copy of the part it needs; see the note there.
class reader {
 public:
  const std::string& error() const { return error_; }

  bool fail(const std::string& path, std::string_view why) {
    error_ = (path.empty() ? std::string("document") : path) + ": " + std::string(why);
    return false;
  }

  bool object(const json& j, const std::string& path, std::initializer_list<const char*> members) {
    if (!j.is_object()) return fail(path, "not an object");
    for (const char* m : members)
      if (!j.contains(m)) return fail(member_path(path, m), "missing");
    for (const auto& [key, value] : j.items()) {
      bool known = false;
      for (const char* m : members) known = known || key == m;
      if (!known) return fail(member_path(path, key), "not a member of the contract");
    }
    return true;
  }

  // The member readers: REQUIRES object() accepted `j` with `key` among its members.
  bool text(const json& j, const std::string& path, const char* key, std::string& out) {
    return string_value(at(j, key), member_path(path, key), out);
  }

  bool nonempty_text(const json& j, const std::string& path, const char* key, std::string& out) {
    if (!text(j, path, key, out)) return false;
    return !out.empty() || fail(member_path(path, key), "empty");
  }

  // Null or a non-empty string (the encoder writes an empty value as null); null reads as "".
  bool optional_text(const json& j, const std::string& path, const char* key, std::string& out) {
    const json& v = at(j, key);
    if (v.is_null()) {
      out.clear();
      return true;
    }
    if (!v.is_string() || v.get_ref<const std::string&>().empty())
      return fail(member_path(path, key), "neither null nor a non-empty string");
    out = v.get<std::string>();
    return true;
  }

  // An integer in [lo, hi]. Non-negative integers parse as unsigned, so a negative or fractional
  // number fails the type check like a string would.
  bool whole(const json& j, const std::string& path, const char* key, uint64_t lo, uint64_t hi, uint64_t& out) {
    const json& v = at(j, key);
    if (!v.is_number_unsigned()) return fail(member_path(path, key), "not a non-negative integer");
    out = v.get<uint64_t>();
    return (out >= lo && out <= hi) || fail(member_path(path, key), "out of range");
  }

  bool number(const json& j, const std::string& path, const char* key, double lo, double hi, double& out) {
    const json& v = at(j, key);
    if (!v.is_number()) return fail(member_path(path, key), "not a number");
    out = v.get<double>();
    return (out >= lo && out <= hi) || fail(member_path(path, key), "out of range");
  }

  bool optional_number(const json& j, const std::string& path, const char* key, std::optional<double>& out) {
    const json& v = at(j, key);
    if (v.is_null()) {
      out.reset();
      return true;
    }
    if (!v.is_number()) return fail(member_path(path, key), "neither null nor a number");
    out = v.get<double>();
    return true;
  }

  bool boolean(const json& j, const std::string& path, const char* key, bool& out) {
    const json& v = at(j, key);
    if (!v.is_boolean()) return fail(member_path(path, key), "not a boolean");
    out = v.get<bool>();
    return true;
  }

  // Only the encoder's own form, as the schema's pattern says: UTC with three fraction digits.
  bool time(const json& j, const std::string& path, const char* key, event_time& out) {
    const json& v = at(j, key);
    const auto t = v.is_string() ? parse_iso8601(v.get_ref<const std::string&>()) : std::nullopt;
    if (!t || format_iso8601(*t) != v.get_ref<const std::string&>())
      return fail(member_path(path, key), "not a time like 2025-01-01T00:00:00.000Z");
    out = *t;
    return true;
  }

  bool millis(const json& j, const std::string& path, const char* key, duration& out) {
    double ms = 0;
    if (!number(j, path, key, 0, 1e15, ms)) return false;
    out = duration{static_cast<int64_t>(ms * 1000.0 + 0.5)};
    return true;
  }

  // One of `allowed`, by its contract name (to_string).
  template <class E>
  bool choice(const json& j, const std::string& path, const char* key, std::initializer_list<E> allowed, E& out) {
    const json& v = at(j, key);
    if (v.is_string())
      for (E e : allowed)
        if (to_string(e) == v.get_ref<const std::string&>()) {
          out = e;
          return true;
        }
    return fail(member_path(path, key), "not one of the contract's values");
  }

  // An array of non-empty strings (ids).
  bool id_list(const json& j, const std::string& path, const char* key, std::vector<std::string>& out) {
    return each(j, path, key, [&](const json& e, const std::string& ep) {
      std::string id;
      if (!string_value(e, ep, id)) return false;
      if (id.empty()) return fail(ep, "empty");
      out.push_back(std::move(id));
      return true;
    });
  }

  // Calls read(element, its path) for each element of the array member; stops at the first false.
  template <class F>
  bool each(const json& j, const std::string& path, const char* key, F read) {
    const json& v = at(j, key);
    const std::string p = member_path(path, key);
    if (!v.is_array()) return fail(p, "not an array");
    for (size_t i = 0; i < v.size(); ++i)
      if (!read(v[i], element_path(p, i))) return false;
    return true;
  }

  static const json& at(const json& j, const char* key) { return *j.find(key); }

 private:
  bool string_value(const json& v, const std::string& path, std::string& out) {
    if (!v.is_string()) return fail(path, "not a string");
    out = v.get<std::string>();
    return true;
  }

  std::string error_;
};

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
  return r.object(w, "window", {"first_event_at", "last_event_at", "reason"}) &&
         r.time(w, "window", "first_event_at", v.first_event_at) &&
         r.time(w, "window", "last_event_at", v.last_event_at) &&
         r.choice(w, "window", "reason",
                  {completion_reason::gap, completion_reason::end_marker, completion_reason::max_duration,
                   completion_reason::flush},
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
