#include "topics/contracts/diagnostic_json.hpp"

#include <nlohmann/json.hpp>

#include "model/bounds.hpp"
#include "model/text.hpp"
#include "topics/contracts/json_writer.hpp"
#include "topics/contracts/middle_out.hpp"
#include "topics/contracts/strict_json_reader.hpp"

#include <climits>
#include <cstdint>
#include <initializer_list>

namespace tw {
namespace {

using json = nlohmann::ordered_json;

void write_recommendation(json_writer& w, const recommendation& r) {
  w.begin_object();
  w.key("key").text_or_null(r.key);
  w.member("advice", r.advice);
  w.end_object();
}

void write_finding(json_writer& w, const finding& f) {
  w.begin_object();
  w.member("expert", f.expert);
  w.member("severity", to_string(f.level));
  w.member("code", f.code);
  w.member("message", f.message);
  w.key("observation_ids").string_array(f.observation_ids);
  w.key("recommendation");
  if (f.advice) write_recommendation(w, *f.advice);
  else w.value(nullptr);
  w.end_object();
}

void write_webhook(json_writer& w, const webhook_outcome& o) {
  w.begin_object();
  w.member("status", o.status);
  w.member("http_status", o.http_status);
  w.key("response").text_or_null(o.response);
  w.member("attempts", o.attempts);
  w.key("error").text_or_null(o.error);
  w.end_object();
}

}  // namespace

// The webhook's response is an excerpt of a foreign body and may not be valid UTF-8: the writer
// replaces what is not, as the contract always has.
std::string encode_diagnostic_json(const diagnostic& d) {
  std::string out;
  out.reserve(1024);
  json_writer w(out);
  w.begin_object();
  w.member("schema", diagnostic_schema_v1);
  w.member("session_id", d.session_id);
  w.member("revision", d.revision);
  w.member("verdict", to_string(d.verdict));
  w.member("intent", d.intent);
  w.key("findings").begin_array();
  for (const auto& f : d.findings) write_finding(w, f);
  w.end_array();
  w.key("recommendations").begin_array();
  for (const auto& r : d.recommendations) write_recommendation(w, r);
  w.end_array();
  w.key("webhook");
  if (d.webhook) write_webhook(w, *d.webhook);
  else w.value(nullptr);
  w.member("rules_version", d.rules_version);
  w.end_object();
  return out;
}

namespace {

// The same recommendation, by the rule that made recommendations distinct (judge/verdict.cpp): one
// per configuration key, and per advice text when there is no key.
bool same_recommendation(const recommendation& a, const recommendation& b) {
  return a.key.empty() ? b.key.empty() && a.advice == b.advice : a.key == b.key;
}

template <class T, class Write>
size_t encoded_size(const T& v, Write write) {
  std::string out;
  json_writer w(out);
  write(w, v);
  return out.size();
}

}  // namespace

void fit_diagnostic_json(diagnostic& d, size_t max_bytes) {
  auto bound = [](std::string& s) { s = excerpt_within(s, bounds::max_message_bytes); };
  for (auto& f : d.findings) {
    bound(f.message);
    if (f.advice) bound(f.advice->advice);
  }
  for (auto& r : d.recommendations) bound(r.advice);
  if (d.webhook) bound(d.webhook->error);

  // First the findings' observation ids.
  std::vector<size_t> listed;
  std::vector<std::string> messages;
  for (const auto& f : d.findings) {
    listed.push_back(f.observation_ids.size());
    messages.push_back(f.message);
  }
  while (true) {
    const size_t total = encode_diagnostic_json(d).size();
    if (total <= max_bytes) return;
    std::vector<contracts_detail::middle_out> lists;
    for (const auto& f : d.findings) {
      std::vector<size_t> sizes;
      for (const auto& id : f.observation_ids) sizes.push_back(json_writer::string_size(id) + 1);
      lists.emplace_back(std::move(sizes));
    }
    std::vector<contracts_detail::middle_out*> ptrs;
    for (auto& l : lists) ptrs.push_back(&l);
    // Each finding keeps its first and last observation id: past that, whole findings go.
    if (!contracts_detail::drop_largest_first(ptrs, total - max_bytes + 96 * lists.size(), 2)) break;
    for (size_t i = 0; i < lists.size(); ++i) {
      auto& f = d.findings[i];
      lists[i].apply(f.observation_ids);
      if (f.observation_ids.size() == listed[i]) continue;
      const std::string note = std::to_string(listed[i] - f.observation_ids.size()) + " of " +
                               std::to_string(listed[i]) + " observation ids left out to fit the record";
      f.message = messages[i].empty() ? note
                                      : excerpt_within(messages[i], bounds::max_message_bytes - note.size() - 2) + "; " + note;
    }
  }

  // Then whole findings, from the middle, with one more saying so.
  const size_t found = d.findings.size();
  std::vector<finding> kept = std::move(d.findings);
  while (true) {
    d.findings = kept;
    if (kept.size() < found) {
      finding note;
      note.expert = "tracewatch";
      note.level = severity::info;
      note.code = "FINDINGS_LEFT_OUT";
      note.message = std::to_string(found - kept.size()) + " of " + std::to_string(found) +
                     " findings left out to fit the record (output.max_record_bytes)";
      d.findings.push_back(std::move(note));
      // Recommendations of findings left out go too; the kept ones stay in their order.
      std::vector<recommendation> recs;
      for (const auto& r : d.recommendations)
        for (const auto& f : kept)
          if (f.advice && same_recommendation(*f.advice, r)) {
            recs.push_back(r);
            break;
          }
      d.recommendations = std::move(recs);
    }
    const size_t total = encode_diagnostic_json(d).size();
    if (total <= max_bytes || kept.empty()) return;
    std::vector<size_t> sizes;
    for (const auto& f : kept) {
      // As encode_diagnostic_json writes a finding, and its recommendation in the list.
      sizes.push_back(encoded_size(f, write_finding) + 1 +
                      (f.advice ? encoded_size(*f.advice, write_recommendation) + 1 : 0));
    }
    contracts_detail::middle_out findings(std::move(sizes));
    contracts_detail::drop_largest_first({&findings}, total - max_bytes + 160);
    findings.apply(kept);
  }
}

namespace {

using contracts_detail::member_path;
using contracts_detail::reader;

bool read_recommendation(reader& r, const json& j, const std::string& path, recommendation& out) {
  return r.object(j, path, {"key", "advice"}) && r.optional_text(j, path, "key", out.key) &&
         r.text(j, path, "advice", out.advice);
}

bool read_finding(reader& r, const json& j, const std::string& path, finding& out) {
  if (!(r.object(j, path, {"expert", "severity", "code", "message", "observation_ids", "recommendation"}) &&
        r.nonempty_text(j, path, "expert", out.expert) &&
        r.choice(j, path, "severity", {severity::info, severity::warning, severity::critical}, out.level) &&
        r.nonempty_text(j, path, "code", out.code) && r.text(j, path, "message", out.message) &&
        r.id_list(j, path, "observation_ids", out.observation_ids)))
    return false;
  const json& rec = reader::at(j, "recommendation");
  if (rec.is_null()) return true;
  out.advice.emplace();
  return read_recommendation(r, rec, member_path(path, "recommendation"), *out.advice);
}

bool read_webhook(reader& r, const json& j, const std::string& path, webhook_outcome& out) {
  if (!r.object(j, path, {"status", "http_status", "response", "attempts", "error"})) return false;
  // A string in the model; the webhook client (topics/webhook/webhook_client.hpp) writes only these.
  const json& status = reader::at(j, "status");
  if (status != "delivered" && status != "failed" && status != "circuit_open")
    return r.fail(member_path(path, "status"), "not one of the contract's values");
  out.status = status.get<std::string>();
  if (!reader::at(j, "http_status").is_null()) {
    uint64_t http_status = 0;
    // Any three-digit code: some servers answer outside 1xx-5xx, and the outcome reports it as is.
    if (!r.whole(j, path, "http_status", 100, 999, http_status)) return false;
    out.http_status = static_cast<int>(http_status);
  }
  uint64_t attempts = 0;
  if (!(r.optional_text(j, path, "response", out.response) && r.whole(j, path, "attempts", 0, INT_MAX, attempts) &&
        r.optional_text(j, path, "error", out.error)))
    return false;
  out.attempts = static_cast<int>(attempts);
  return true;
}

bool read_diagnostic(reader& r, std::string_view text, diagnostic& d) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return r.fail("", "not JSON");
  // The schema first, so that another contract's document is refused as such.
  const auto schema = j.is_object() ? j.find("schema") : j.end();
  if (schema == j.end() || !schema->is_string() || schema->get_ref<const std::string&>() != diagnostic_schema_v1)
    return r.fail("schema", "not tracewatch.diagnostic.v1");
  uint64_t revision = 0;
  if (!(r.object(j, "", {"schema", "session_id", "revision", "verdict", "intent", "findings", "recommendations",
                         "webhook", "rules_version"}) &&
        r.nonempty_text(j, "", "session_id", d.session_id) && r.whole(j, "", "revision", 1, UINT32_MAX, revision) &&
        // Only these verdicts are diagnosed (judge::needs_diagnosis).
        r.choice(j, "", "verdict", {verdict_status::fail, verdict_status::partial, verdict_status::error}, d.verdict) &&
        r.nonempty_text(j, "", "intent", d.intent) &&
        r.each(j, "", "findings", [&](const json& f, const std::string& p) {
          d.findings.emplace_back();
          return read_finding(r, f, p, d.findings.back());
        }) &&
        r.each(j, "", "recommendations", [&](const json& rec, const std::string& p) {
          d.recommendations.emplace_back();
          return read_recommendation(r, rec, p, d.recommendations.back());
        })))
    return false;
  d.revision = static_cast<uint32_t>(revision);
  if (const json& w = reader::at(j, "webhook"); !w.is_null()) {
    d.webhook.emplace();
    if (!read_webhook(r, w, "webhook", *d.webhook)) return false;
  }
  return r.nonempty_text(j, "", "rules_version", d.rules_version);
}

}  // namespace

std::optional<diagnostic> decode_diagnostic_json(std::string_view text, std::string* error) {
  reader r;
  diagnostic d;
  if (!read_diagnostic(r, text, d)) {
    if (error) *error = r.error();
    return std::nullopt;
  }
  return d;
}

}  // namespace tw
