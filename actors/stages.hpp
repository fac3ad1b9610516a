// The stage actors' behaviours and what they share. Internal to actors/ (it brings in CAF).
#pragma once

#include <caf/all.hpp>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/messages.hpp"
#include "actors/output_stage.hpp"
#include "actors/pipeline.hpp"
#include "state/session_engine.hpp"
#include "state/store.hpp"
#include "topics/formats/formats.hpp"

namespace tw::actors {

// Shared by the threads of one pipeline. Fields are atomics or guarded by `mutex`.
struct pipeline_shared {
  pipeline_probes probes;
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::string error;  // guarded by mutex

  // Wakes a bounded input waiting for in-flight records to drain (replay backpressure).
  std::mutex progress_mutex;
  std::condition_variable progress;
  void notify_progress() {
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress.notify_all();
  }

  void fail(const std::string& why) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!failed.exchange(true)) error = why;
  }
  std::string failure() {
    std::lock_guard<std::mutex> lock(mutex);
    return error;
  }
};
using shared_ptr_t = std::shared_ptr<pipeline_shared>;

struct importer_config {
  parse_limits limits;
  input_format default_format = input_format::auto_detect;
  std::map<std::string, input_format> format_by_topic;
};

struct state_stage_config {
  state::engine_config engine;
  bool live = true;              // idle partitions advance with the wall clock
  duration tick_interval{std::chrono::milliseconds(500)};
  duration idle_timeout{std::chrono::seconds(30)};
};

// Runs on the CAF scheduler: parsing is CPU work, never blocking.
caf::behavior importer_actor(caf::event_based_actor* self, caf::actor next, importer_config cfg, shared_ptr_t shared);
// Detached (own thread): RocksDB writes may stall.
caf::behavior state_actor(caf::event_based_actor* self, caf::actor output, std::shared_ptr<state::store> store,
                          state_stage_config cfg, const clock* clk, shared_ptr_t shared);
// Detached (own thread): producer polls block.
caf::behavior output_actor(caf::event_based_actor* self, std::shared_ptr<state::store> store,
                           std::shared_ptr<record_writer> writer, const clock* clk, duration drain_timeout,
                           shared_ptr_t shared);

}  // namespace tw::actors
