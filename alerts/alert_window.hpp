// The time buckets of one (rule, group) and the signal a window of them gives. Everything here is
// integer arithmetic until the final division, so that the order in which facts arrived never
// changes a value (floating-point sums would): costs are summed in nano-USD, latencies are counted
// in integer log buckets.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "alerts/alert_rules.hpp"
#include "alerts/alerts.hpp"

namespace tw::alerts {

// Latency histogram buckets: exact below 64 us, then 64 buckets per power of two, so a bucket is
// at most 1/64 of its lower bound wide and its representative (the midpoint) is within 0.8% of
// every latency in it. Indexes are stable: they are stored.
uint32_t latency_bucket(int64_t micros);
int64_t latency_bucket_value(uint32_t index);  // the representative, microseconds

// Evidence for an alert, ordered so that the largest is the strongest: a score (latency or cost
// where the signal has one, else 0), then the latest time, then the session id.
struct example_key {
  int64_t score = 0;
  int64_t at = 0;
  std::string session_id;
  bool operator<(const example_key& o) const {
    if (score != o.score) return score < o.score;
    if (at != o.at) return at < o.at;
    return session_id < o.session_id;
  }
  bool operator==(const example_key& o) const { return score == o.score && at == o.at && session_id == o.session_id; }
};

// What one bucket of `every` holds for a rule and group.
struct bucket {
  uint64_t hits = 0;      // what counts against: numerator, counted facts, failed calls, sessions calling
  uint64_t total = 0;     // the samples: denominator, counted facts, calls, facts with a cost
  int64_t cost_nano = 0;  // cost_sum, nano-USD
  std::map<uint32_t, uint64_t> latency;  // latency_bucket -> calls
  std::vector<example_key> examples;     // the largest examples_max, largest first
};

// What one sample of a fact adds to its bucket.
struct contribution {
  uint64_t hits = 0;
  uint64_t total = 0;
  int64_t cost_nano = 0;
  std::vector<int64_t> latencies;  // microseconds
  std::optional<example_key> example;
  bool empty() const { return hits == 0 && total == 0 && cost_nano == 0 && latencies.empty(); }
};

void add(bucket& b, const contribution& c, size_t examples_max);

// A fact as a rule sees it: one sample per group it belongs to (model and tool labels split a
// fact), each with the label values in the order of the rule's group_by. Empty when the fact does
// not feed the rule (its kind, revision, status or filter).
struct fact_sample {
  std::vector<std::string> labels;
  contribution what;
};
std::vector<fact_sample> samples_of(const alert_fact& f, const alert_rule& rule);

// The sums of the buckets with index in [from, to).
struct window_sum {
  uint64_t hits = 0;
  uint64_t total = 0;
  int64_t cost_nano = 0;
  std::map<uint32_t, uint64_t> latency;
  std::vector<example_key> examples;  // the largest examples_max, distinct sessions
};
window_sum sum_buckets(const std::map<int64_t, bucket>& buckets, int64_t from, int64_t to, size_t examples_max);

// The signal of a window. `defined` is false when there is nothing to compute it from (a ratio
// over no samples); absence is always defined (its value is the count).
struct signal_value {
  bool defined = false;
  double value = 0;
  uint64_t samples = 0;
};
signal_value value_of(const alert_rule& rule, const window_sum& w);

}  // namespace tw::alerts
