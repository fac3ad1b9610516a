// A pipeline made of probes alone, for the HTTP endpoints' tests: each test sets the probes to the
// state it is about, and gives a results reader over a real store when it queries results.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http/pipeline_view.hpp"

namespace tw::test {

class fake_pipeline final : public http::pipeline_view {
 public:
  actors::pipeline_probes p;
  std::optional<state::store_stats> stats;
  std::optional<std::string> failed;
  bool stop = false;
  const actors::pipeline_probes& probes() const override { return p; }
  std::optional<state::store_stats> store_stats() const override { return stats; }
  std::optional<std::string> failure() const override { return failed; }
  bool stopping() const override { return stop; }
  const state::results_reader* reader = nullptr;  // the tests of queries give one over a real store
  const state::results_reader* results() const override { return reader; }

  // Every stage beat at `t`; the state is open; partitions 0..n-1 of traces.raw are assigned, with
  // `lag` records to go on each.
  void healthy(wall_time t, int partitions = 2, int64_t lag = 0) {
    for (heartbeat* hb : {&p.source_alive, &p.importer.alive, &p.engine.alive, &p.judge.queue.consumer,
                          &p.diagnostic.queue.consumer, &p.alerts.queue.consumer, &p.notifier.queue.consumer,
                          &p.output.alive})
      hb->beat(t);
    p.engine.opened = true;
    std::vector<state::partition_position> owned;
    std::vector<partition_extent> extents;
    for (int i = 0; i < partitions; ++i) {
      topic_partition tp{"traces.raw", partition_id{i}};
      owned.push_back({tp, offset{100}, event_time::from_micros(t.micros() - 2'000'000), false});
      extents.push_back({tp, offset{0}, offset{100 + lag}});
    }
    p.engine.partitions.publish(owned);
    p.input_extents.publish(extents);
  }
};

}  // namespace tw::test
