#include "http/query_endpoints.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "config/values.hpp"
#include "http/payloads.hpp"

namespace tw::http {
namespace {

constexpr const char* json_type = "application/json";

response answer(int status, std::string body) {
  response r{status, json_type, std::move(body), {}};
  // Results may carry what callers said: no cache along the way may keep them.
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}
response fail(int status, std::string_view message) { return answer(status, payloads::error(message)); }

// The request's parameters, each at most once and each one the endpoint knows.
class params {
 public:
  params(const request& r, std::initializer_list<const char*> known) {
    std::set<std::string> allowed(known.begin(), known.end());
    for (const auto& [k, v] : r.params) {
      if (!allowed.count(k)) {
        error_ = "unknown parameter '" + k + "' (this endpoint takes: " + join(known) + ")";
        return;
      }
      if (!values_.emplace(k, v).second) {
        error_ = "parameter '" + k + "' given twice";
        return;
      }
    }
  }
  const std::optional<std::string>& error() const { return error_; }
  std::optional<std::string> get(const std::string& k) const {
    auto it = values_.find(k);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }

 private:
  static std::string join(std::initializer_list<const char*> xs) {
    std::string out;
    for (const char* x : xs) out += (out.empty() ? "" : ", ") + std::string(x);
    return out;
  }
  std::map<std::string, std::string> values_;
  std::optional<std::string> error_;
};

// A positive count no larger than `max`; `error` names the parameter otherwise.
std::optional<size_t> count_param(const params& p, const char* name, size_t def, size_t max, std::string& error) {
  auto text = p.get(name);
  if (!text) return def;
  auto v = config::parse_integer(*text);
  if (!v || *v < 1 || static_cast<uint64_t>(*v) > max) {
    error = std::string(name) + " must be an integer from 1 to " + std::to_string(max);
    return std::nullopt;
  }
  return static_cast<size_t>(*v);
}

// Wraps a query handler: the token, the state, a stored result that does not decode.
template <class F>
handler guarded(const pipeline_view& v, const query_endpoint_settings& s, F f) {
  return [&v, s, f](const request& r) -> response {
    if (!s.token)
      return fail(403, "the query endpoints are off: no query token is configured (set query.token, or the "
                       "environment variable named by query.token_env)");
    if (!authorized(r, *s.token)) {
      auto res = fail(401, "this endpoint needs the header Authorization: Bearer <query token>");
      res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tracewatch\"");
      return res;
    }
    if (s.retention.count() == 0) return fail(404, "no results are kept (query.retention is 0)");
    const state::results_reader* results = v.results();
    if (!results) return fail(503, "the state directory is not open yet");
    try {
      response res = f(r, *results, current_horizon(v, s.retention));
      // What the state kept is what came in; what leaves is redacted. Sessions are still looked
      // up by the id that came in (docs/privacy.md).
      if (s.redactor && res.status == 200) res.body = s.redactor->document(res.body);
      return res;
    } catch (const std::runtime_error& e) {
      // A stored result that does not decode: corruption, which the operator must hear of.
      return fail(500, std::string("a stored result could not be read: ") + e.what());
    }
  };
}

response store_error(const state::store_status& st) { return fail(500, "reading state failed: " + st.message); }

response session_query(const request& r, const state::results_reader& results, std::optional<event_time> horizon) {
  params p(r, {"id", "revision"});
  if (p.error()) return fail(400, *p.error());
  auto id = p.get("id");
  if (!id || id->empty()) return fail(400, "id (the session id) is required");
  std::optional<uint32_t> revision;
  if (auto text = p.get("revision")) {
    auto n = config::parse_integer(*text);
    if (!n || *n < 1 || *n > UINT32_MAX) return fail(400, "revision must be an integer from 1 to 4294967295");
    revision = static_cast<uint32_t>(*n);
  }
  std::vector<state::revision_results> revisions;
  if (auto st = results.session(*id, horizon, revisions); !st.ok()) return store_error(st);
  if (revisions.empty()) return fail(404, "no results are kept for this session (unknown, or past query.retention)");
  const state::revision_results* chosen = &revisions.back();
  if (revision) {
    auto it = std::find_if(revisions.begin(), revisions.end(), [&](const auto& x) { return x.revision == *revision; });
    if (it == revisions.end()) return fail(404, "no results are kept for revision " + std::to_string(*revision) + " of this session");
    chosen = &*it;
  }
  return answer(200, payloads::session(*id, revisions, *chosen));
}

response verdicts_query(const request& r, const state::results_reader& results, std::optional<event_time> horizon) {
  params p(r, {"status", "intent", "agent", "from", "to", "limit", "cursor"});
  if (p.error()) return fail(400, *p.error());
  state::verdict_query q;
  if (auto text = p.get("status")) {
    for (const auto& name : config::split_list(*text)) {
      auto s = parse_verdict_status(name);
      if (!s) return fail(400, "status: '" + name + "' is not one of pass, fail, partial, error, abandoned");
      q.statuses.push_back(*s);
    }
    if (q.statuses.empty()) return fail(400, "status: name at least one status, or leave it out");
  }
  for (const auto& [name, field] : {std::pair<const char*, std::optional<std::string>*>{"intent", &q.intent}, {"agent", &q.agent}}) {
    if (auto text = p.get(name)) {
      if (text->empty()) return fail(400, std::string(name) + " must not be empty");
      *field = *text;
    }
  }
  for (const auto& [name, field] : {std::pair<const char*, std::optional<event_time>*>{"from", &q.from}, {"to", &q.to}}) {
    if (auto text = p.get(name)) {
      *field = parse_iso8601(*text);
      if (!*field) return fail(400, std::string(name) + ": '" + *text + "' is not an RFC 3339 time (e.g. 2025-01-01T09:00:00Z)");
    }
  }
  if (q.from && q.to && !(*q.from < *q.to)) return fail(400, "from must be before to");
  std::string error;
  auto limit = count_param(p, "limit", verdicts_default_limit, verdicts_max_limit, error);
  if (!limit) return fail(400, error);
  q.limit = *limit;
  if (auto text = p.get("cursor")) {
    q.cursor = state::parse_cursor(*text);
    if (!q.cursor) return fail(400, "cursor: not a cursor this server gave (take next_cursor from the last page)");
  }
  state::verdict_page page;
  if (auto st = results.verdicts(q, horizon, page); !st.ok()) return store_error(st);
  return answer(200, payloads::verdicts(page, horizon));
}

response failures_query(const request& r, const state::results_reader& results, std::optional<event_time> horizon) {
  params p(r, {"limit"});
  if (p.error()) return fail(400, *p.error());
  std::string error;
  auto limit = count_param(p, "limit", failures_default_limit, failures_max_limit, error);
  if (!limit) return fail(400, error);
  state::verdict_query q;
  q.statuses = {verdict_status::fail, verdict_status::partial, verdict_status::error};
  q.limit = *limit;
  std::vector<payloads::failure> items;
  // A page can end early on the scan budget; go on until the limit or the end.
  for (;;) {
    state::verdict_page page;
    if (auto st = results.verdicts(q, horizon, page); !st.ok()) return store_error(st);
    for (auto& v : page.verdicts) {
      payloads::failure f;
      if (auto st = results.diagnostic(v.session_id, v.revision, f.diagnostic_json); !st.ok()) return store_error(st);
      f.verdict = std::move(v);
      items.push_back(std::move(f));
    }
    if (items.size() >= *limit || !page.next_cursor) break;
    q.cursor = state::parse_cursor(*page.next_cursor);
    q.limit = *limit - items.size();
  }
  return answer(200, payloads::failures(items, horizon));
}

response alerts_query(const request& r, const state::results_reader& results, std::optional<event_time>) {
  params p(r, {});
  if (p.error()) return fail(400, *p.error());
  std::vector<std::pair<std::string, std::string>> firing;
  if (auto st = results.firing_alerts(firing); !st.ok()) return store_error(st);
  return answer(200, payloads::alerts(firing));
}

}  // namespace

std::optional<event_time> current_horizon(const pipeline_view& v, duration retention) {
  return state::retention_horizon(event_time::from_micros(v.probes().engine.watermark_us.load()), retention);
}

void add_query_endpoints(server& srv, const pipeline_view& v, query_endpoint_settings s) {
  srv.get("/api/v1/session", guarded(v, s, session_query));
  srv.get("/api/v1/verdicts", guarded(v, s, verdicts_query));
  srv.get("/api/v1/failures", guarded(v, s, failures_query));
  srv.get("/api/v1/alerts", guarded(v, s, alerts_query));
}

}  // namespace tw::http
