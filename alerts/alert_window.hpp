// The time buckets of one (rule, group) and the signal a window of them gives. Everything here is
// integer arithmetic until the final division, so that the order in which facts arrived never
// changes a value (floating-point sums would): costs are summed in nano-USD, latencies are counted
// in integer log buckets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
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

// Calls per latency bucket, by bucket index, in index order (flat: a bucket holds few).
class latency_histogram {
 public:
  using entry = std::pair<uint32_t, uint64_t>;
  uint64_t& operator[](uint32_t index) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), index, [](const entry& e, uint32_t i) { return e.first < i; });
    if (it == entries_.end() || it->first != index) it = entries_.emplace(it, index, 0);
    return it->second;
  }
  std::vector<entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<entry>::const_iterator end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }  // keeps the capacity
  // Adds every count of `o`.
  void add_all(const latency_histogram& o);

 private:
  void merge(const std::vector<entry>& sorted);
  std::vector<entry> entries_;
};

// What one bucket of `every` holds for a rule and group.
struct bucket {
  uint64_t hits = 0;      // what counts against: numerator, counted facts, failed calls, sessions calling
  uint64_t total = 0;     // the samples: denominator, counted facts, calls, facts with a cost
  int64_t cost_nano = 0;  // cost_sum, nano-USD
  latency_histogram latency;             // latency_bucket -> calls
  std::vector<example_key> examples;     // the largest examples_max, largest first
};

// An example as a fact offers it: the session id is the fact's (copied only when a bucket keeps it).
struct example_ref {
  int64_t score = 0;
  int64_t at = 0;
  std::string_view session_id;
};

// What one sample of a fact adds to its bucket.
struct contribution {
  uint64_t hits = 0;
  uint64_t total = 0;
  int64_t cost_nano = 0;
  std::vector<int64_t> latencies;  // microseconds
  std::optional<example_ref> example;
  bool empty() const { return hits == 0 && total == 0 && cost_nano == 0 && latencies.empty(); }
};

void add(bucket& b, const contribution& c, size_t examples_max);

// The buckets of a group, by index, in index order. A flat vector: a group holds a window's
// buckets at most (usually one or two), and facts come mostly in time order, so a new bucket is
// mostly appended and an old one dropped from the front.
class bucket_list {
 public:
  using entry = std::pair<int64_t, bucket>;
  using const_iterator = std::vector<entry>::const_iterator;

  // The bucket of `index`, empty when it was not there.
  bucket& operator[](int64_t index) {
    if (entries_.empty() || entries_.back().first < index) return fresh(entries_.end(), index);
    auto it = find(index);
    if (it != entries_.end() && it->first == index) return it->second;
    return fresh(it, index);
  }
  void emplace(int64_t index, bucket b) { (*this)[index] = std::move(b); }
  // The first bucket with index >= `index`.
  const_iterator lower_bound(int64_t index) const {
    return std::lower_bound(entries_.begin(), entries_.end(), index, [](const entry& e, int64_t i) { return e.first < i; });
  }
  // Drops the buckets before `index`; returns whether there were any.
  bool erase_before(int64_t index) {
    auto keep = find(index);
    if (keep == entries_.begin()) return false;
    if (!spare_) recycle(std::move(entries_.front().second));
    entries_.erase(entries_.begin(), keep);
    return true;
  }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  const entry& back() const { return entries_.back(); }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<entry>::iterator find(int64_t index) {
    return std::lower_bound(entries_.begin(), entries_.end(), index, [](const entry& e, int64_t i) { return e.first < i; });
  }
  // A group's buckets come and go one at a time as its window slides: the one that left lends its
  // allocations (histogram, examples) to the next, which would otherwise allocate them again.
  bucket& fresh(std::vector<entry>::iterator at, int64_t index) {
    bucket b;
    if (spare_) {
      b = std::move(*spare_);
      spare_.reset();
    }
    return entries_.emplace(at, index, std::move(b))->second;
  }
  void recycle(bucket&& b) {
    b.hits = b.total = 0;
    b.cost_nano = 0;
    b.latency.clear();
    b.examples.clear();
    spare_ = std::move(b);
  }
  std::vector<entry> entries_;
  std::optional<bucket> spare_;  // emptied, never read as a bucket
};

// A fact as a rule sees it: one sample per group it belongs to (model and tool labels split a
// fact), each with the label values in the order of the rule's group_by. Empty when the fact does
// not feed the rule (its kind, revision, status or filter).
struct fact_sample {
  std::vector<std::string> labels;
  contribution what;
};
//
// The splitting labels' values of a fact, sorted and distinct ({""} when it has none): the same
// for every rule, so the engine takes them once per fact.
struct fact_labels {
  std::vector<std::string_view> models;  // the fact's models and its LLM calls' models (views into it)
  std::vector<std::string_view> tools;
};
fact_labels labels_of(const alert_fact& f);
// The samples go to out[0, n) (its elements reused, so that their strings keep their capacity);
// returns n.
size_t samples_of(const alert_fact& f, const fact_labels& labels, const alert_rule& rule, std::vector<fact_sample>& out);

// The sums of the buckets with index in [from, to).
struct window_sum {
  uint64_t hits = 0;
  uint64_t total = 0;
  int64_t cost_nano = 0;
  latency_histogram latency;
  std::vector<example_key> examples;  // the largest examples_max, distinct sessions
};
window_sum sum_buckets(const bucket_list& buckets, int64_t from, int64_t to, size_t examples_max);

// The signal of a window. `defined` is false when there is nothing to compute it from (a ratio
// over no samples); absence is always defined (its value is the count).
struct signal_value {
  bool defined = false;
  double value = 0;
  uint64_t samples = 0;
};
signal_value value_of(const alert_rule& rule, const window_sum& w);

}  // namespace tw::alerts
