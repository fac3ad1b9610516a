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
#include "alerts/alerts.hpp"
#include "judge/judge.hpp"
#include "model/bounds.hpp"
#include "state/codec.hpp"
#include "state/results.hpp"
#include "state/session_engine.hpp"
#include "topics/alertmanager/notifier.hpp"
#include "topics/webhook/webhook_client.hpp"
#include "state/store.hpp"
#include "topics/formats/formats.hpp"

namespace tw::actors {

// The input positions the state stage last made durable (live runs), for the consumer-group
// commits: written by the state stage after each applied batch, read by the source thread, which
// owns the consumer (topics/kafka/group_commit.hpp).
class durable_positions {
 public:
  void publish(std::map<topic_partition, offset> p) {
    std::lock_guard<std::mutex> lock(mutex_);
    positions_ = std::move(p);
    ++version_;
  }
  // Copies the positions into `out` when they changed since version `seen` (updated).
  bool take_if_newer(uint64_t& seen, std::map<topic_partition, offset>& out) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (version_ == seen) return false;
    seen = version_;
    out = positions_;
    return true;
  }

 private:
  mutable std::mutex mutex_;
  std::map<topic_partition, offset> positions_;
  uint64_t version_ = 0;
};

// Shared by the threads of one pipeline. Fields are atomics or guarded by `mutex`.
struct pipeline_shared {
  pipeline_probes probes;
  durable_positions positions;
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

struct judge_stage_config {
  std::shared_ptr<const judge::rule_set> rules;
  std::string verdicts_topic;
  duration settle_delay{0};     // completion.settle_delay: an end marker is this long before closed_at
  size_t memory_queue = 1000;   // sessions held in memory while waiting for judgement
  size_t max_in_flight = 64;    // sessions between the judge actor and the rule actors
  size_t max_record_bytes = bounds::default_max_record_bytes;  // output.max_record_bytes
  bool keep_results = false;    // query.retention > 0: verdicts are kept for queries (state/results.hpp)
};

struct alert_stage_config {
  std::shared_ptr<const alerts::alert_rule_set> rules;
  alerts::engine_limits limits;
  std::string alerts_topic;
  size_t memory_queue = 1000;  // queue items held in memory; the rest are read back
  bool keep_results = false;   // query.retention > 0: the alerts firing now are kept for queries
};

std::optional<webhook::webhook_settings> webhook_settings_from(const config::settings& s);
// The alerts.* notification targets; nullopt when neither Alertmanager nor a webhook is set.
std::optional<alertmanager::notifier_settings> notifier_settings_from(const config::settings& s);

struct diagnostic_stage_config {
  std::shared_ptr<const judge::rule_set> rules;
  std::string diagnostics_topic;
  state::mailbox_settings mailbox;                // the rate limit lives here
  std::optional<webhook::webhook_settings> webhook;
  size_t max_record_bytes = bounds::default_max_record_bytes;  // output.max_record_bytes
  bool keep_results = false;  // query.retention > 0: diagnostics are kept for queries
};

// What the judge stage enqueues for diagnosis: the session and its verdict, as they were written.
// payload := u8(version = 1) bytes(session json) bytes(verdict json)
inline std::string encode_diagnosis_request(const std::string& session_json, const std::string& verdict_json) {
  std::string out;
  state::writer w(out);
  w.u8(1);
  w.bytes(session_json);
  w.bytes(verdict_json);
  return out;
}
inline bool decode_diagnosis_request(std::string_view payload, std::string& session_json, std::string& verdict_json) {
  state::reader r(payload);
  if (r.u8() != 1) return false;
  session_json = std::string(r.bytes());
  verdict_json = std::string(r.bytes());
  return r.ok() && r.at_end();
}

// Runs on the CAF scheduler: parsing is CPU work, never blocking.
caf::behavior importer_actor(caf::event_based_actor* self, caf::actor next, importer_config cfg, const clock* clk,
                             shared_ptr_t shared);
// Detached (own thread): RocksDB writes may stall.
caf::behavior state_actor(caf::event_based_actor* self, caf::actor judge, caf::actor output,
                          std::shared_ptr<state::store> store, state_stage_config cfg, const clock* clk,
                          shared_ptr_t shared);
// Rule actors: on the CAF scheduler (CPU work over one session).
caf::behavior intent_actor(caf::event_based_actor* self, caf::actor fulfillment,
                           std::shared_ptr<const judge::rule_set> rules);
caf::behavior fulfillment_actor(caf::event_based_actor* self, std::shared_ptr<const judge::rule_set> rules);
// Detached (own thread): owns the judge queue and writes verdicts to RocksDB.
// `alerts`: the alert stage, or none (no alert rules, or the judge command).
caf::behavior judge_actor(caf::event_based_actor* self, caf::actor intent, caf::actor diagnostic, caf::actor alerts,
                          caf::actor output,
                          std::shared_ptr<state::store> store, judge_stage_config cfg, const clock* clk,
                          shared_ptr_t shared);
// Detached (own thread): the rate-limited diagnoses; the webhook call blocks.
caf::behavior diagnostic_actor(caf::event_based_actor* self, caf::actor output, std::shared_ptr<state::store> store,
                               diagnostic_stage_config cfg, const clock* clk, shared_ptr_t shared);
// Detached (own thread): owns the alert queue and the alert engine's state; writes alert events.
// `next` receives the control once it is done (the notifier, or the diagnostic stage).
caf::behavior alert_actor(caf::event_based_actor* self, caf::actor next, caf::actor notifier, caf::actor output,
                          std::shared_ptr<state::store> store, alert_stage_config cfg, const clock* clk,
                          shared_ptr_t shared);
// Detached (own thread): owns the notification queue; the HTTP calls block.
caf::behavior notifier_actor(caf::event_based_actor* self, caf::actor next, std::shared_ptr<state::store> store,
                             alertmanager::notifier_settings settings, const clock* clk, shared_ptr_t shared);
// The output stage's settings from the configuration: the dead-letter topic for undeliverable
// records, output.max_record_bytes, output.stall_timeout.
output_stage_config output_stage_config_from(const config::settings& s);

// Detached (own thread): producer polls block.
caf::behavior output_actor(caf::event_based_actor* self, std::shared_ptr<state::store> store,
                           std::shared_ptr<record_writer> writer, const clock* clk, duration drain_timeout,
                           output_stage_config cfg, shared_ptr_t shared);

}  // namespace tw::actors
