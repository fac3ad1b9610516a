#include "state/session_summary.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "topics/contracts/session_json.hpp"

namespace tw::state {
namespace {

// One observation after its events were merged.
struct merged {
  observation o;
  event_time first_seen;  // earliest activity among its events
  event_time last_seen;   // latest activity among its events
};

template <class T>
void take(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = from;
}

void merge_into(merged& m, const observation& e) {
  observation& o = m.o;
  if (!e.is_update) {
    o.kind = e.kind;  // a create says what the observation is; an update may not know
    o.source_type = e.source_type;
  }
  if (o.trace_id.empty()) o.trace_id = e.trace_id;
  take(o.start, e.start);
  take(o.end, e.end);
  take(o.parent_id, e.parent_id);
  take(o.name, e.name);
  take(o.level, e.level);
  take(o.status_message, e.status_message);
  take(o.model, e.model);
  take(o.input_tokens, e.input_tokens);
  take(o.output_tokens, e.output_tokens);
  take(o.cost_usd, e.cost_usd);
  take(o.finish_reason, e.finish_reason);
  take(o.tool_name, e.tool_name);
  take(o.tool_call_id, e.tool_call_id);
  take(o.tool_result, e.tool_result);
  take(o.user_text, e.user_text);
  take(o.assistant_text, e.assistant_text);
  take(o.user_id, e.user_id);
  take(o.environment, e.environment);
  take(o.score_value, e.score_value);
  take(o.score_label, e.score_label);
  if (e.metadata) {
    if (!o.metadata) o.metadata.emplace();
    for (const auto& [k, v] : *e.metadata) {
      auto it = std::find_if(o.metadata->begin(), o.metadata->end(), [&](const auto& kv) { return kv.first == k; });
      if (it != o.metadata->end()) it->second = v;
      else o.metadata->emplace_back(k, v);
    }
  }
  event_time t = e.activity_time();
  m.first_seen = std::min(m.first_seen, t);
  m.last_seen = std::max(m.last_seen, t);
}

std::string record_key(const observation& e) {
  switch (e.kind) {
    case obs_kind::trace: return "t" + e.trace_id;
    case obs_kind::score: return "s" + e.observation_id;
    default: return "o" + e.observation_id;
  }
}

bool is_error(const observation& o) { return o.level && *o.level == obs_level::error; }

event_time when(const merged& m) { return m.o.start ? *m.o.start : m.first_seen; }

std::optional<duration> latency(const observation& o) {
  if (o.start && o.end && *o.end >= *o.start) return *o.end - *o.start;
  return std::nullopt;
}

// Orders a list by time, then id, and keeps `max` entries: the first half and the last half of
// the list, counting those left out of the middle in `omitted`. The end matters as much as the
// start: whether a call was fulfilled is mostly decided by how it ended.
template <class T, class Key>
void sort_and_cap(std::vector<T>& v, size_t max, uint64_t& omitted, Key key) {
  std::sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  if (v.size() <= max) return;
  const size_t head = max / 2, tail = max - head;
  omitted += v.size() - max;
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(head), v.end() - static_cast<std::ptrdiff_t>(tail));
}

// An observation's cost: the reported one, else the one its tokens and its model's price give.
struct priced_cost {
  std::optional<double> usd;
  std::optional<cost_origin> origin;
};

priced_cost cost_of_observation(const observation& o, const price_table* prices) {
  if (o.cost_usd && std::isfinite(*o.cost_usd)) return {o.cost_usd, cost_origin::reported};
  if (!prices || !o.model || (!o.input_tokens && !o.output_tokens)) return {};
  const price_row* row = prices->find(*o.model);
  if (!row) return {};
  auto usd = cost_of(row->price, o.input_tokens, o.output_tokens);
  if (!usd) return {};
  return {usd, cost_origin::computed};
}

}  // namespace

session_summary build_session_summary(const summary_request& req, std::vector<observation> events,
                                      const summary_limits& limits, summary_tally* tally) {
  session_summary s;
  s.session_id = req.session_id;
  s.revision = req.revision;
  s.reason = req.reason;
  s.closed_at = req.cutoff;
  s.truncated.events_not_stored = req.events_not_stored;

  events.erase(std::remove_if(events.begin(), events.end(),
                              [&](const observation& e) { return e.activity_time() > req.cutoff; }),
               events.end());
  std::sort(events.begin(), events.end(), [](const observation& a, const observation& b) {
    return std::make_tuple(a.timestamp, a.is_update, std::cref(a.event_id)) <
           std::make_tuple(b.timestamp, b.is_update, std::cref(b.event_id));
  });
  {
    // A repeated event id is a producer's retry: keep the first in the order above.
    std::unordered_set<std::string> seen;
    seen.reserve(events.size());
    size_t out = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      if (!seen.insert(events[i].event_id).second) continue;
      if (out != i) events[out] = std::move(events[i]);
      ++out;
    }
    if (tally) tally->duplicates += events.size() - out;
    events.resize(out);
  }

  std::vector<merged> records;
  std::unordered_map<std::string, size_t> index;
  event_time first = event_time::max(), last = event_time::min();
  for (auto& e : events) {
    event_time t = e.activity_time();
    first = std::min(first, t);
    last = std::max(last, t);
    auto key = record_key(e);
    auto it = index.find(key);
    if (it == index.end()) {
      // The record's first event, taken as it is (merge_into of an event into a copy of itself
      // changes nothing but its metadata, where a repeated key keeps its first place and its
      // last value).
      auto metadata = std::move(e.metadata);
      merged m{std::move(e), t, t};
      m.o.metadata.reset();
      if (metadata) {
        m.o.metadata.emplace();
        for (auto& [k, v] : *metadata) {
          auto at = std::find_if(m.o.metadata->begin(), m.o.metadata->end(), [&](const auto& kv) { return kv.first == k; });
          if (at != m.o.metadata->end()) at->second = std::move(v);
          else m.o.metadata->emplace_back(std::move(k), std::move(v));
        }
      }
      index.emplace(std::move(key), records.size());
      records.push_back(std::move(m));
    } else {
      merge_into(records[it->second], e);
    }
  }
  if (events.empty()) first = last = req.cutoff;
  s.first_event_at = first;
  s.last_event_at = last;
  s.stats.session_duration = last - first;

  // --- usage counted once: drop ancestors of other usage-bearing observations ---
  std::unordered_map<std::string, const merged*> by_obs_id;
  for (const auto& m : records)
    if (m.o.kind != obs_kind::trace && m.o.kind != obs_kind::score) by_obs_id.emplace(m.o.observation_id, &m);
  auto has_usage = [](const observation& o) { return o.input_tokens || o.output_tokens || o.cost_usd; };
  const price_table* prices = limits.prices.get();
  bool any_reported = false, any_computed = false;
  std::unordered_set<std::string> not_counted;
  for (const auto& m : records) {
    if (!has_usage(m.o) || m.o.kind == obs_kind::trace || m.o.kind == obs_kind::score) continue;
    const merged* cur = &m;
    for (int depth = 0; depth < 64 && cur->o.parent_id; ++depth) {
      auto it = by_obs_id.find(*cur->o.parent_id);
      if (it == by_obs_id.end() || it->second == cur) break;
      cur = it->second;
      if (has_usage(cur->o)) not_counted.insert(cur->o.observation_id);
    }
  }

  std::set<std::string> traces;
  std::vector<const merged*> trace_records;
  std::map<std::string, std::vector<const merged*>> by_trace;
  std::vector<std::pair<event_time, std::string>> models;
  std::vector<const merged*> sorted;
  for (const auto& m : records) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(), [](const merged* a, const merged* b) {
    return std::tie(a->first_seen, a->o.observation_id) < std::tie(b->first_seen, b->o.observation_id);
  });

  for (const merged* mp : sorted) {
    const observation& o = mp->o;
    if (!o.trace_id.empty()) {
      traces.insert(o.trace_id);
      by_trace[o.trace_id].push_back(mp);
    }
    if (o.kind == obs_kind::trace) {
      trace_records.push_back(mp);
      if (o.user_id && !o.user_id->empty() && s.user_id.empty()) s.user_id = *o.user_id;
      if (o.environment && !o.environment->empty() && s.environment.empty()) s.environment = *o.environment;
      if (o.metadata)
        for (const auto& [k, v] : *o.metadata) {
          auto it = std::find_if(s.metadata.begin(), s.metadata.end(), [&](const auto& kv) { return kv.first == k; });
          if (it != s.metadata.end()) it->second = v;  // later traces override earlier ones
          else if (s.metadata.size() < bounds::max_session_metadata) s.metadata.emplace_back(k, v);  // first keys win
        }
      continue;
    }
    if (o.kind == obs_kind::score) {
      s.scores.push_back(score_summary{o.name.value_or(""), o.score_value, o.score_label.value_or("")});
      continue;
    }
    ++s.stats.observations;
    if (is_error(o)) {
      ++s.stats.errors;
      s.errors.push_back(error_summary{o.observation_id, o.trace_id, o.kind, o.name.value_or(""),
                                       o.status_message.value_or(""), when(*mp)});
    }
    bool counted = !not_counted.count(o.observation_id);
    const priced_cost cost = has_usage(o) ? cost_of_observation(o, prices) : priced_cost{};
    if (counted && has_usage(o)) {
      s.stats.input_tokens += o.input_tokens.value_or(0);
      s.stats.output_tokens += o.output_tokens.value_or(0);
      if (cost.usd) {
        s.stats.cost_usd = s.stats.cost_usd.value_or(0.0) + *cost.usd;
        const bool reported = cost.origin == cost_origin::reported;
        (reported ? any_reported : any_computed) = true;
        if (tally) ++(reported ? tally->cost_reported : tally->cost_computed);
      } else if (tally && (o.input_tokens || o.output_tokens)) {
        ++tally->unpriced;
      }
    }
    if (o.kind == obs_kind::generation) {
      ++s.stats.generations;
      if (o.model && !o.model->empty() &&
          std::none_of(models.begin(), models.end(), [&](const auto& m) { return m.second == *o.model; }))
        models.emplace_back(when(*mp), *o.model);
      llm_call_summary c;
      c.observation_id = o.observation_id;
      c.trace_id = o.trace_id;
      c.name = o.name.value_or("");
      c.model = o.model.value_or("");
      c.at = when(*mp);
      c.latency = latency(o);
      c.input_tokens = o.input_tokens;
      c.output_tokens = o.output_tokens;
      c.cost_usd = cost.usd;
      c.cost_source = cost.origin;
      c.counted = counted;
      c.ok = !is_error(o);
      c.error = is_error(o) ? o.status_message.value_or("") : "";
      c.finish_reason = o.finish_reason.value_or("");
      c.empty_output = (!o.assistant_text || o.assistant_text->empty()) && o.output_tokens.value_or(0) == 0;
      s.llm_calls.push_back(std::move(c));
    } else if (o.kind == obs_kind::tool) {
      ++s.stats.tool_calls;
      if (is_error(o)) ++s.stats.tool_errors;
      tool_call_summary t;
      t.observation_id = o.observation_id;
      t.trace_id = o.trace_id;
      t.name = o.tool_name ? *o.tool_name : o.name.value_or("");
      t.ok = !is_error(o);
      t.result = o.tool_result.value_or("");
      t.error = is_error(o) ? o.status_message.value_or("") : "";
      t.at = when(*mp);
      t.latency = latency(o);
      s.tool_calls.push_back(std::move(t));
    }
  }
  if (any_reported || any_computed)
    s.stats.cost_source = any_reported && any_computed ? cost_origin::mixed
                          : any_reported                ? cost_origin::reported
                                                        : cost_origin::computed;
  s.stats.traces = traces.size();
  s.abandoned = static_cast<int64_t>(traces.size()) < limits.min_traces;
  std::sort(models.begin(), models.end());
  if (models.size() > bounds::max_session_models) models.resize(bounds::max_session_models);
  for (auto& m : models) s.models.push_back(std::move(m.second));

  // --- turns: one per trace, in time order; user and assistant text empty when none is known ---
  for (const auto& [trace_id, recs] : by_trace) {
    const merged* trace_rec = nullptr;
    for (const merged* r : recs)
      if (r->o.kind == obs_kind::trace) trace_rec = r;
    turn_summary turn;
    turn.trace_id = trace_id;
    turn.at = trace_rec ? when(*trace_rec) : when(*recs.front());
    for (const merged* r : recs) turn.at = std::min(turn.at, when(*r));
    if (trace_rec && trace_rec->o.user_text) turn.user_text = *trace_rec->o.user_text;
    if (trace_rec && trace_rec->o.assistant_text) turn.assistant_text = *trace_rec->o.assistant_text;
    // Without a trace record (OTLP), or when it holds no text: the first user text and the last
    // assistant text of the trace's observations (recs are in time order).
    for (const merged* r : recs)
      if (turn.user_text.empty() && r->o.user_text && !r->o.user_text->empty()) turn.user_text = *r->o.user_text;
    for (auto it = recs.rbegin(); it != recs.rend() && turn.assistant_text.empty(); ++it)
      if ((*it)->o.kind == obs_kind::generation && (*it)->o.assistant_text) turn.assistant_text = *(*it)->o.assistant_text;
    s.turns.push_back(std::move(turn));
  }

  sort_and_cap(s.turns, limits.max_turns, s.truncated.turns,
               [](const turn_summary& t) { return std::tie(t.at, t.trace_id); });
  sort_and_cap(s.tool_calls, limits.max_tool_calls, s.truncated.tool_calls,
               [](const tool_call_summary& t) { return std::tie(t.at, t.observation_id); });
  sort_and_cap(s.llm_calls, limits.max_llm_calls, s.truncated.llm_calls,
               [](const llm_call_summary& c) { return std::tie(c.at, c.observation_id); });
  sort_and_cap(s.errors, limits.max_errors, s.truncated.errors,
               [](const error_summary& e) { return std::tie(e.at, e.observation_id); });
  uint64_t scores_omitted = 0;
  sort_and_cap(s.scores, limits.max_scores, scores_omitted,
               [](const score_summary& sc) { return std::tie(sc.name, sc.label); });
  fit_session_json(s, limits.max_record_bytes);
  return s;
}

}  // namespace tw::state
