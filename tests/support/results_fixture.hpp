// Writes query results (state/results.hpp) into a real store the way the stages do — the
// session's summary, its verdict through the judge stage's writer, a diagnosis — each as the
// contract's own encoder writes it, so that what the readers serve can be checked against the
// topic schemas.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "model/session.hpp"
#include "model/verdict.hpp"
#include "state/results.hpp"
#include "state/store.hpp"
#include "tests/support/temp_dir.hpp"
#include "topics/contracts/diagnostic_json.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/verdict_json.hpp"

namespace tw::test {

// 2025-01-01T09:00:00Z plus `seconds`.
inline event_time at_minute(double seconds) {
  return event_time::from_micros(1'735'722'000'000'000 + static_cast<int64_t>(seconds * 1e6));
}

struct result_spec {
  std::string session_id;
  uint32_t revision = 1;
  event_time closed_at;
  verdict_status status = verdict_status::pass;
  std::string intent = "book_appointment";
  std::string agent;           // "" : none
  bool diagnosed = false;      // a diagnosis is kept too (fail, partial, error only)
};

inline session_summary summary_of(const result_spec& r) {
  session_summary s;
  s.session_id = r.session_id;
  s.revision = r.revision;
  s.first_event_at = r.closed_at - std::chrono::minutes(3);
  s.last_event_at = r.closed_at - std::chrono::seconds(2);
  s.closed_at = r.closed_at;
  s.reason = completion_reason::end_marker;
  s.stats.traces = 4;
  if (!r.agent.empty()) s.metadata.emplace_back("agent", r.agent);
  return s;
}

inline verdict verdict_of(const result_spec& r) {
  verdict v;
  v.session_id = r.session_id;
  v.revision = r.revision;
  v.status = r.status;
  v.intent.name = r.intent;
  v.intent.confidence = 0.9;
  v.fulfillment.status = r.status == verdict_status::abandoned ? verdict_status::fail : r.status;
  v.first_event_at = r.closed_at - std::chrono::minutes(3);
  v.last_event_at = r.closed_at - std::chrono::seconds(2);
  v.closed_at = r.closed_at;
  v.reason = completion_reason::end_marker;
  v.rules_version = "test-rules";
  return v;
}

inline diagnostic diagnostic_of(const result_spec& r) {
  diagnostic d;
  d.session_id = r.session_id;
  d.revision = r.revision;
  d.verdict = r.status;
  d.intent = r.intent;
  finding f;
  f.expert = "tool_errors";
  f.level = severity::critical;
  f.code = "TOOL_ERROR";
  f.message = "schedule_appointment failed twice";
  f.observation_ids = {r.session_id + "-tool-1"};
  d.findings.push_back(f);
  d.rules_version = "test-rules";
  return d;
}

// A store in a temp directory, with the writers of the three stages.
class results_fixture {
 public:
  results_fixture() { reopen(); }

  void reopen() {
    verdicts_.reset();
    store_.reset();
    state::store_options so;
    so.dir = dir_.path();
    auto st = state::store::open(so, store_);
    if (!st.ok()) throw std::runtime_error(st.message);
    verdicts_ = std::make_unique<state::verdict_results_writer>(*store_);
  }

  // Every kept result of one session revision, in one batch per stage, as the stages write them.
  void add(const result_spec& r) {
    {
      rocksdb::WriteBatch b;
      state::put_session_result(*store_, b, r.session_id, r.revision, r.closed_at, encode_session_json(summary_of(r)));
      write(b);
    }
    {
      rocksdb::WriteBatch b;
      const state::verdict_fields f{r.closed_at, r.status, r.intent, r.agent};
      auto st = verdicts_->put(b, r.session_id, r.revision, f, encode_verdict_json(verdict_of(r)));
      if (!st.ok()) throw std::runtime_error(st.message);
      write(b);
      verdicts_->batch_done(true);
    }
    if (r.diagnosed) {
      rocksdb::WriteBatch b;
      state::put_diagnostic_result(*store_, b, r.session_id, r.revision, r.closed_at,
                                   encode_diagnostic_json(diagnostic_of(r)));
      write(b);
    }
  }

  void write(rocksdb::WriteBatch& b) {
    auto s = store_->db()->Write(store_->write_options(), &b);
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }

  // Keys of the results column family (for checks that something is gone from disk).
  size_t keys_in_results() {
    std::unique_ptr<rocksdb::Iterator> it(store_->db()->NewIterator(rocksdb::ReadOptions(), store_->handle(state::cf::results)));
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }

  state::store& store() { return *store_; }
  state::verdict_results_writer& verdict_writer() { return *verdicts_; }
  state::results_reader reader(uint64_t budget = state::results_reader::default_scan_budget) {
    return state::results_reader(*store_, budget);
  }

 private:
  temp_dir dir_;
  std::unique_ptr<state::store> store_;
  std::unique_ptr<state::verdict_results_writer> verdicts_;
};

}  // namespace tw::test
