// What the HTTP endpoints read of a running pipeline: its probes, RocksDB's figures, whether a
// stage failed, whether it is stopping, and the query results kept in state. An interface so that the endpoints' tests can serve a
// pipeline made of probes alone.
//
// Thread-safety: every member is called on the HTTP server's threads while the stages run; an
// implementation must be thread-safe and must never block a stage (the probes are atomics and
// published snapshots, model/probe.hpp).
#pragma once

#include <optional>
#include <string>

#include "actors/pipeline.hpp"
#include "state/store.hpp"

namespace tw::http {

class pipeline_view {
 public:
  virtual ~pipeline_view() = default;
  virtual const actors::pipeline_probes& probes() const = 0;
  virtual std::optional<state::store_stats> store_stats() const = 0;
  virtual std::optional<std::string> failure() const = 0;
  virtual bool stopping() const = 0;
  // The query results in state; null until the state directory is open.
  virtual const state::results_reader* results() const = 0;
};

// The view of an actors::pipeline, which must outlive it.
class live_pipeline_view final : public pipeline_view {
 public:
  explicit live_pipeline_view(const actors::pipeline& p) : p_(p) {}
  const actors::pipeline_probes& probes() const override { return p_.probes(); }
  std::optional<state::store_stats> store_stats() const override { return p_.store_stats(); }
  std::optional<std::string> failure() const override { return p_.failure(); }
  bool stopping() const override { return p_.stopping(); }
  const state::results_reader* results() const override { return p_.results(); }

 private:
  const actors::pipeline& p_;
};

}  // namespace tw::http
