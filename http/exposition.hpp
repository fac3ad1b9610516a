// The Prometheus text exposition format, version 0.0.4 (what /metrics serves): families of
// samples, each family introduced by its # HELP and # TYPE lines.
//
//   # HELP tracewatch_verdicts_total Verdicts written, by status and intent.
//   # TYPE tracewatch_verdicts_total counter
//   tracewatch_verdicts_total{status="pass",intent="book"} 12
//
// Label values are escaped (backslash, double quote, newline); names are the caller's constants
// and must match [a-zA-Z_:][a-zA-Z0-9_:]* (label names without ':'), which the tests check of
// everything tracewatch exports (tests/unit/http_metrics_test.cpp, and promtool on a live scrape).
// A plain class: no I/O, no threads.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "model/probe.hpp"
#include "model/time.hpp"

namespace tw::http {

enum class metric_kind { counter, gauge, histogram };

struct label {
  std::string_view name;
  std::string_view value;
};
using labels = std::initializer_list<label>;

class exposition {
 public:
  // Starts a family; the samples that follow belong to it. A counter's name ends in _total.
  void family(std::string_view name, metric_kind kind, std::string_view help);

  // One sample of the current (counter or gauge) family.
  void sample(labels ls, double value);
  void sample(labels ls, uint64_t value);
  void sample(labels ls, int64_t value);
  void sample(double value) { sample({}, value); }
  void sample(uint64_t value) { sample({}, value); }
  void sample(int64_t value) { sample({}, value); }

  // The current (histogram) family's buckets, sum and count, in seconds.
  template <size_t N>
  void histogram(labels ls, const typename duration_histogram<N>::snapshot& s) {
    std::vector<std::pair<double, uint64_t>> buckets;
    for (size_t i = 0; i < N; ++i) buckets.emplace_back(seconds(s.upper_bounds[i]), s.cumulative[i]);
    histogram_samples(ls, buckets, s.cumulative[N], static_cast<double>(s.sum_us) / 1e6);
  }

  const std::string& text() const { return out_; }

  static double seconds(duration d) { return static_cast<double>(d.count()) / 1e6; }
  // The shortest text that reads back as the same double; NaN and the infinities as Prometheus
  // spells them.
  static std::string format_value(double v);
  static std::string escape_label_value(std::string_view v);

 private:
  void histogram_samples(labels ls, const std::vector<std::pair<double, uint64_t>>& buckets, uint64_t count,
                         double sum);
  void line(std::string_view name, labels ls, std::string_view extra_name, std::string_view extra_value,
            const std::string& value);

  std::string out_;
  std::string name_;  // the current family
};

}  // namespace tw::http
