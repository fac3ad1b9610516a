#include "alerts/alert_window.hpp"

#include <algorithm>
#include <cmath>

namespace tw::alerts {

namespace {

constexpr int sub_bits = 6;  // 64 buckets per power of two
constexpr int64_t exact_below = int64_t{1} << sub_bits;

int highest_bit(uint64_t v) {
  int b = 0;
  while (v >>= 1) ++b;
  return b;
}

// Keeps the largest `max` of `v` (largest first), one per session.
void keep_largest(std::vector<example_key>& v, size_t max) {
  std::sort(v.begin(), v.end(), [](const example_key& a, const example_key& b) { return b < a; });
  std::vector<example_key> out;
  for (auto& e : v) {
    if (out.size() == max) break;
    if (std::none_of(out.begin(), out.end(), [&](const example_key& o) { return o.session_id == e.session_id; }))
      out.push_back(std::move(e));
  }
  v = std::move(out);
}

// Adds `e` to `v` (the largest `max`, largest first, one per session) as keep_largest would.
void insert_example(std::vector<example_key>& v, const example_ref& e, size_t max) {
  auto smaller = [&](const example_key& k) {  // k < e, in example_key's order
    if (k.score != e.score) return k.score < e.score;
    if (k.at != e.at) return k.at < e.at;
    return std::string_view(k.session_id) < e.session_id;
  };
  auto same = std::find_if(v.begin(), v.end(), [&](const example_key& k) { return k.session_id == e.session_id; });
  if (same != v.end()) {
    if (!smaller(*same)) return;  // the session's example there is as large
    v.erase(same);
  }
  const auto at = static_cast<size_t>(std::find_if(v.begin(), v.end(), smaller) - v.begin());
  if (at >= max) return;
  // The smallest leaves when the list is full; its string's buffer takes the new id (most facts
  // displace one: without this every example kept is an allocation).
  std::string id;
  if (v.size() >= max) {
    id = std::move(v.back().session_id);
    v.pop_back();
  } else if (v.capacity() < max) {
    v.reserve(max);
  }
  id.assign(e.session_id);
  v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), example_key{e.score, e.at, std::move(id)});
}

std::string_view label_value(const alert_fact& f, label l) {
  switch (l) {
    case label::agent: return f.agent;
    case label::intent: return f.intent;
    case label::status: return f.what == alert_fact::kind::verdict ? to_string(f.status) : std::string_view();
    case label::model:
    case label::tool: return {};  // split per value, below
  }
  return {};
}

const std::vector<std::string>* filter_of(const alert_rule& rule, label l) {
  for (const auto& [fl, values] : rule.filter)
    if (fl == l) return &values;
  return nullptr;
}

template <typename String>
bool listed(const std::vector<String>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

bool feeds(const alert_fact& f, const alert_rule& rule) {
  const bool deadletter_rule = rule.signal.kind == signal_kind::deadletter_count;
  if ((f.what == alert_fact::kind::deadletter) != deadletter_rule) return false;
  if (f.what == alert_fact::kind::verdict && f.status == verdict_status::abandoned && !rule.names_abandoned()) return false;
  for (auto l : {label::agent, label::intent, label::status})
    if (auto* values = filter_of(rule, l); values && !listed(*values, label_value(f, l))) return false;
  return true;
}

// The values of a splitting label (model or tool) a fact has: each its own sample when the rule
// groups by it; when the rule only filters by it, one sample of the values the filter admits.
struct split {
  const std::vector<std::string_view>* values = nullptr;  // sorted, distinct; {""} when the fact has none
  std::vector<std::string_view> admitted;                 // the values a filter admits, when there is one
  bool per_value = false;
};

split split_of(const std::vector<std::string_view>& present, const alert_rule& rule, label l) {
  split s;
  s.per_value = rule.groups_by(l);
  s.values = &present;
  if (auto* values = filter_of(rule, l)) {
    for (const auto& v : present)
      if (listed(*values, v)) s.admitted.push_back(v);
    s.values = &s.admitted;
  }
  return s;
}

void sort_distinct(std::vector<std::string_view>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  if (v.empty()) v.push_back("");
}

bool admits(const split& s, std::string_view sample_value, std::string_view call_value) {
  return s.per_value ? call_value == sample_value : listed(*s.values, call_value);
}

void contribute(const alert_fact& f, const alert_rule& rule, const split& models, std::string_view model,
                const split& tools, std::string_view tool, contribution& c) {
  c.hits = c.total = 0;
  c.cost_nano = 0;
  c.latencies.clear();
  c.example.reset();
  const signal_spec& sig = rule.signal;
  auto example = [&](int64_t score) { return example_ref{score, f.at.micros(), f.session_id}; };
  switch (sig.kind) {
    case signal_kind::verdict_ratio:
      c.total = sig.denominator.has(f.status) ? 1 : 0;
      c.hits = c.total && sig.numerator.has(f.status) ? 1 : 0;
      if (c.hits) c.example = example(0);
      break;
    case signal_kind::verdict_count:
    case signal_kind::absence:
      c.total = c.hits = sig.numerator.has(f.status) ? 1 : 0;
      if (c.hits && sig.kind == signal_kind::verdict_count) c.example = example(0);
      break;
    case signal_kind::deadletter_count:
      c.total = c.hits = sig.names.empty() || listed(sig.names, f.reason) ? 1 : 0;
      if (c.hits && !f.session_id.empty()) c.example = example(0);
      break;
    case signal_kind::tool_error_ratio:
      for (const auto& t : f.tools) {
        if (!admits(tools, tool, t.name) || (!sig.names.empty() && !listed(sig.names, t.name))) continue;
        c.total += 1;
        c.hits += t.ok ? 0 : 1;
      }
      if (c.hits) c.example = example(0);
      break;
    case signal_kind::llm_error_ratio:
      for (const auto& call : f.llm_calls) {
        if (!admits(models, model, call.model) || (!sig.names.empty() && !listed(sig.names, call.model))) continue;
        c.total += 1;
        c.hits += call.ok ? 0 : 1;
      }
      if (c.hits) c.example = example(0);
      break;
    case signal_kind::tool_call_ratio:
      c.total = 1;
      for (const auto& t : f.tools)
        if (admits(tools, tool, t.name) && listed(sig.names, t.name)) c.hits = 1;
      if (c.hits) c.example = example(0);
      break;
    case signal_kind::latency:
      if (sig.of == call_kind::llm) {
        for (const auto& call : f.llm_calls)
          if (call.latency && admits(models, model, call.model)) c.latencies.push_back(call.latency->count());
      } else {
        for (const auto& t : f.tools)
          if (t.latency && admits(tools, tool, t.name)) c.latencies.push_back(t.latency->count());
      }
      c.total = c.latencies.size();
      if (c.total) c.example = example(*std::max_element(c.latencies.begin(), c.latencies.end()));
      break;
    case signal_kind::cost_sum:
      if (f.cost_usd && std::isfinite(*f.cost_usd)) {
        c.total = 1;
        c.cost_nano = std::llround(*f.cost_usd * 1e9);
        c.example = example(c.cost_nano);
      }
      break;
  }
}

}  // namespace

uint32_t latency_bucket(int64_t micros) {
  if (micros < exact_below) return static_cast<uint32_t>(std::max<int64_t>(micros, 0));
  const int e = highest_bit(static_cast<uint64_t>(micros));
  const int64_t sub = (micros >> (e - sub_bits)) - exact_below;
  return static_cast<uint32_t>(exact_below + (e - sub_bits) * exact_below + sub);
}

int64_t latency_bucket_value(uint32_t index) {
  if (index < exact_below) return index;
  const int64_t shift = (index - exact_below) / exact_below;
  const int64_t sub = (index - exact_below) % exact_below;
  const int64_t lower = (exact_below + sub) << shift;
  return lower + ((int64_t{1} << shift) >> 1);
}

void latency_histogram::merge(const std::vector<entry>& sorted) {
  if (entries_.empty()) {
    entries_ = sorted;
    return;
  }
  std::vector<entry> out;
  out.reserve(entries_.size() + sorted.size());
  auto a = entries_.cbegin();
  auto b = sorted.cbegin();
  while (a != entries_.cend() || b != sorted.cend()) {
    if (b == sorted.cend() || (a != entries_.cend() && a->first < b->first)) out.push_back(*a++);
    else if (a == entries_.cend() || b->first < a->first) out.push_back(*b++);
    else {
      out.emplace_back(a->first, a->second + b->second);
      ++a;
      ++b;
    }
  }
  entries_ = std::move(out);
}

void latency_histogram::add_all(const latency_histogram& o) { merge(o.entries_); }

void add(bucket& b, const contribution& c, size_t examples_max) {
  b.hits += c.hits;
  b.total += c.total;
  b.cost_nano += c.cost_nano;
  // In place: a session adds a handful of calls to a bucket holding a few dozen at most.
  for (int64_t l : c.latencies) b.latency[latency_bucket(l)] += 1;
  if (c.example && examples_max > 0) insert_example(b.examples, *c.example, examples_max);
}

fact_labels labels_of(const alert_fact& f) {
  fact_labels out;
  out.models.assign(f.models.begin(), f.models.end());
  for (const auto& c : f.llm_calls) out.models.push_back(c.model);
  for (const auto& t : f.tools) out.tools.push_back(t.name);
  sort_distinct(out.models);
  sort_distinct(out.tools);
  return out;
}

size_t samples_of(const alert_fact& f, const fact_labels& labels, const alert_rule& rule, std::vector<fact_sample>& out) {
  if (!feeds(f, rule)) return 0;
  const split models = split_of(labels.models, rule, label::model);
  const split tools = split_of(labels.tools, rule, label::tool);
  if (models.values->empty() || tools.values->empty()) return 0;  // the filter admits none

  static const std::vector<std::string_view> whole{""};
  size_t n = 0;
  for (const auto& model : models.per_value ? *models.values : whole)
    for (const auto& tool : tools.per_value ? *tools.values : whole) {
      if (n == out.size()) out.emplace_back();
      fact_sample& s = out[n++];
      s.labels.resize(rule.group_by.size());
      for (size_t i = 0; i < rule.group_by.size(); ++i) {
        const label l = rule.group_by[i];
        s.labels[i].assign(l == label::model ? model : l == label::tool ? tool : label_value(f, l));
      }
      contribute(f, rule, models, model, tools, tool, s.what);
    }
  return n;
}

window_sum sum_buckets(const bucket_list& buckets, int64_t from, int64_t to, size_t examples_max) {
  window_sum w;
  for (auto it = buckets.lower_bound(from); it != buckets.end() && it->first < to; ++it) {
    const bucket& b = it->second;
    w.hits += b.hits;
    w.total += b.total;
    w.cost_nano += b.cost_nano;
    if (!b.latency.empty()) w.latency.add_all(b.latency);
    if (examples_max > 0) w.examples.insert(w.examples.end(), b.examples.begin(), b.examples.end());
  }
  if (examples_max > 0) keep_largest(w.examples, examples_max);
  return w;
}

signal_value value_of(const alert_rule& rule, const window_sum& w) {
  signal_value v;
  v.samples = w.total;
  switch (rule.signal.kind) {
    case signal_kind::verdict_ratio:
    case signal_kind::tool_error_ratio:
    case signal_kind::tool_call_ratio:
    case signal_kind::llm_error_ratio:
      v.defined = w.total > 0;
      if (v.defined) v.value = static_cast<double>(w.hits) / static_cast<double>(w.total);
      break;
    case signal_kind::verdict_count:
    case signal_kind::deadletter_count:
      v.defined = w.total > 0;
      v.value = static_cast<double>(w.hits);
      if (rule.signal.per_minute) v.value /= std::chrono::duration<double, std::ratio<60>>(rule.window).count();
      break;
    case signal_kind::absence:
      v.defined = true;
      v.value = static_cast<double>(w.hits);
      break;
    case signal_kind::latency: {
      v.defined = w.total > 0;
      if (!v.defined) break;
      // Nearest rank: the smallest latency with at least p% of the calls at or below it.
      // In integers (percentile in tenths), so that 95% of 20 calls is rank 19, never 20.
      const auto tenths = static_cast<uint64_t>(std::llround(rule.signal.percentile * 10));
      const uint64_t rank = (tenths * w.total + 999) / 1000;
      uint64_t seen = 0;
      for (const auto& [index, n] : w.latency) {
        seen += n;
        if (seen >= std::max<uint64_t>(rank, 1)) {
          v.value = static_cast<double>(latency_bucket_value(index)) / 1000.0;
          break;
        }
      }
      break;
    }
    case signal_kind::cost_sum:
      v.defined = w.total > 0;
      v.value = static_cast<double>(w.cost_nano) / 1e9;
      break;
  }
  return v;
}

}  // namespace tw::alerts
