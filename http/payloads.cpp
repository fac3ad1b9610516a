#include "http/payloads.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace tw::http::payloads {
namespace {

using json = nlohmann::ordered_json;  // member order as written: equal content, equal bytes

// THE last step of every body built here. A redaction pass over query and status payloads
// (masking PII and secrets before they leave the process) belongs in this function, and only
// here: every endpoint of docs/queries.md, the status JSON included, is built through it.
std::string finish(const json& doc) { return doc.dump(); }

// A stored document (written by tracewatch's own encoders) embedded as it is. One that does not
// parse is corruption: the caller answers 500 rather than serve half an answer.
json embed(std::string_view stored) {
  auto doc = json::parse(stored.begin(), stored.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw std::runtime_error("a stored result is not JSON");
  return doc;
}

json time_or_null(const std::optional<event_time>& t) { return t ? json(format_iso8601(*t)) : json(nullptr); }

json mix_object(const std::array<uint64_t, 5>& by_status) {
  json out = json::object();
  uint64_t total = 0;
  for (auto s : all_verdict_statuses) {
    out[std::string(to_string(s))] = by_status[static_cast<size_t>(s)];
    total += by_status[static_cast<size_t>(s)];
  }
  out["total"] = total;
  return out;
}

}  // namespace

std::string error(std::string_view message) {
  json doc;
  doc["error"] = std::string(message);
  return finish(doc);
}

std::string session(std::string_view session_id, const std::vector<state::revision_results>& revisions,
                    const state::revision_results& chosen) {
  json doc;
  doc["schema"] = "tracewatch.query.session.v1";
  doc["session_id"] = std::string(session_id);
  doc["revision"] = chosen.revision;
  doc["session"] = chosen.session_json ? embed(*chosen.session_json) : json(nullptr);
  doc["verdict"] = chosen.verdict_json ? embed(*chosen.verdict_json) : json(nullptr);
  doc["diagnostic"] = chosen.diagnostic_json ? embed(*chosen.diagnostic_json) : json(nullptr);
  json list = json::array();
  for (const auto& r : revisions) {
    json e;
    e["revision"] = r.revision;
    e["closed_at"] = format_iso8601(r.closed_at);
    e["summary"] = r.session_json.has_value();
    e["verdict"] = r.status ? json(std::string(to_string(*r.status))) : json(nullptr);
    e["diagnosed"] = r.diagnostic_json.has_value();
    list.push_back(std::move(e));
  }
  doc["revisions"] = std::move(list);
  return finish(doc);
}

std::string verdicts(const state::verdict_page& page, std::optional<event_time> horizon) {
  json doc;
  doc["schema"] = "tracewatch.query.verdicts.v1";
  json list = json::array();
  for (const auto& v : page.verdicts) list.push_back(embed(v.json));
  doc["verdicts"] = std::move(list);
  doc["next_cursor"] = page.next_cursor ? json(*page.next_cursor) : json(nullptr);
  doc["kept_since"] = time_or_null(horizon);
  return finish(doc);
}

std::string failures(const std::vector<failure>& items, std::optional<event_time> horizon) {
  json doc;
  doc["schema"] = "tracewatch.query.failures.v1";
  json list = json::array();
  for (const auto& f : items) {
    json e;
    e["verdict"] = embed(f.verdict.json);
    e["diagnostic"] = f.diagnostic_json ? embed(*f.diagnostic_json) : json(nullptr);
    list.push_back(std::move(e));
  }
  doc["failures"] = std::move(list);
  doc["kept_since"] = time_or_null(horizon);
  return finish(doc);
}

std::string alerts(const std::vector<std::pair<std::string, std::string>>& firing) {
  json doc;
  doc["schema"] = "tracewatch.query.alerts.v1";
  json list = json::array();
  for (const auto& [id, alert_json] : firing) list.push_back(embed(alert_json));
  doc["alerts"] = std::move(list);
  return finish(doc);
}

std::string status(const status_report& r) {
  json doc;
  doc["schema"] = "tracewatch.status.v1";
  doc["at"] = format_iso8601(event_time::from_micros(r.at.micros()));
  doc["version"] = r.version;
  doc["uptime_s"] = r.uptime_s;
  doc["health"] = {{"alive", r.alive}, {"ready", r.ready}, {"not_ready", r.not_ready}, {"stopping", r.stopping}};
  doc["watermark"] = time_or_null(r.watermark);
  doc["totals"] = {{"records", r.records},
                   {"observations", r.observations},
                   {"sessions_completed", r.sessions_completed},
                   {"verdicts", r.verdicts},
                   {"diagnoses", r.diagnoses},
                   {"dead_letters", r.dead_letters}};
  doc["verdicts_by_status"] = mix_object(r.verdicts_by_status);
  if (r.per_second)
    doc["per_second"] = {{"window_s", r.per_second->window_s},
                         {"records", r.per_second->records},
                         {"sessions", r.per_second->sessions},
                         {"verdicts", r.per_second->verdicts}};
  else
    doc["per_second"] = nullptr;
  doc["open_sessions"] = r.open_sessions;
  doc["pending_observations"] = r.pending_observations;
  if (r.last_hour) {
    json h;
    h["from"] = format_iso8601(r.last_hour->from);
    h["to"] = format_iso8601(r.last_hour->to);
    h["verdicts"] = mix_object(r.last_hour->mix.by_status);
    doc["last_hour"] = std::move(h);
  } else {
    doc["last_hour"] = nullptr;
  }
  json alerts_doc;
  alerts_doc["count"] = r.alerts_firing;
  if (r.firing) {
    // What an alert is about, without its examples (session ids belong to the token-guarded
    // queries, /api/v1/alerts).
    json list = json::array();
    for (const auto& a : *r.firing) {
      json e = embed(a);
      json out;
      for (const char* k : {"alert_id", "rule", "severity", "labels", "value", "threshold", "started_at", "at", "summary"})
        if (e.contains(k)) out[k] = e[k];
      list.push_back(std::move(out));
    }
    alerts_doc["firing"] = std::move(list);
  } else {
    alerts_doc["firing"] = nullptr;
  }
  doc["alerts"] = std::move(alerts_doc);
  json lanes = json::array();
  for (const auto& l : r.mailboxes) lanes.push_back({{"lane", l.name}, {"depth", l.depth}, {"oldest_wait_s", l.oldest_wait_s}});
  doc["mailboxes"] = std::move(lanes);
  doc["outbox"] = {{"depth", r.outbox_depth}, {"stalled_lanes", r.outbox_stalled_lanes}};
  json parts = json::array();
  for (const auto& p : r.partitions) {
    json e;
    e["topic"] = p.tp.topic;
    e["partition"] = p.tp.partition.value;
    e["next_offset"] = p.next_offset ? json(*p.next_offset) : json(nullptr);
    e["lag"] = p.lag ? json(*p.lag) : json(nullptr);
    e["watermark"] = time_or_null(p.watermark);
    e["idle"] = p.idle;
    parts.push_back(std::move(e));
  }
  doc["partitions"] = std::move(parts);
  doc["queries"] = {{"enabled", r.queries_enabled}, {"retention_s", static_cast<double>(r.retention.count()) / 1e6}};
  return finish(doc);
}

}  // namespace tw::http::payloads
