// The query endpoints (docs/queries.md), served from the results kept in state (state/results.hpp):
//   GET /api/v1/session?id=ID[&revision=N]    one session: its summary, verdict, diagnosis, revisions
//   GET /api/v1/verdicts?status=&intent=&agent=&from=&to=&limit=&cursor=
//                                             the latest verdict of each session, filtered, newest
//                                             first, a page at a time
//   GET /api/v1/failures?limit=               the latest fail/partial/error verdicts with their
//                                             diagnoses (what the status page lists)
//   GET /api/v1/alerts                        the alerts firing now
// Every one requires `Authorization: Bearer <token>` (http/query_auth.hpp): 401 without it or with
// another token; 403 on every request while no token is configured (the endpoints are off, not
// open). Bodies are JSON (http/payloads.hpp); errors are {"error": ...} with 400 (a bad
// parameter, named), 404 (nothing kept), 500 (a stored result does not decode) or 503 (the state
// is not open yet).
//
// Thread: the handlers run on the server's threads. Each request reads one RocksDB snapshot; no
// stage waits for a request, and a request waits for no stage (RocksDB's reads do not block its
// writers). The retention horizon comes from the state stage's watermark (its probe), so a
// result past query.retention is never served even before the sweep deleted it.
#pragma once

#include <optional>

#include "http/pipeline_view.hpp"
#include "http/query_auth.hpp"
#include "http/server.hpp"
#include "privacy/redactor.hpp"
#include "model/time.hpp"

namespace tw::http {

struct query_endpoint_settings {
  std::optional<query_token> token;  // none: the endpoints answer 403
  duration retention{0};             // query.retention; 0: nothing is kept
  // PII redaction of every answer (privacy.redact, docs/privacy.md); nullptr: answers as kept.
  std::shared_ptr<const privacy::redactor> redactor;
};

inline constexpr size_t verdicts_default_limit = 50;
inline constexpr size_t verdicts_max_limit = 500;
inline constexpr size_t failures_default_limit = 10;
inline constexpr size_t failures_max_limit = 50;

// Registers the four routes. `v` must outlive the server's threads.
void add_query_endpoints(server& srv, const pipeline_view& v, query_endpoint_settings s);

// The retention horizon of a running pipeline, as the query endpoints and the status page apply it.
std::optional<event_time> current_horizon(const pipeline_view& v, duration retention);

}  // namespace tw::http
