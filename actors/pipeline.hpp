// The running pipeline: source → importer → state stage → output stage, wired and supervised.
//
//   live:   a Kafka consumer group over the input topics; output to Kafka; idle partitions advance
//           with the wall clock; runs until stop() (SIGTERM/SIGINT), then drains and exits.
//   replay: a file, one message per line, through the very same stages; output to streams; at
//           the end reports the sessions still open (or completes them when asked to flush).
//
// This header keeps CAF out of its includers (the stages live in actors/*.cpp).
#pragma once

#include <atomic>
#include <iterator>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "actors/output_stage.hpp"
#include "config/settings.hpp"
#include "alerts/alerts.hpp"
#include "model/clock.hpp"
#include "model/kafka.hpp"
#include "model/probe.hpp"
#include "model/verdict.hpp"
#include "state/engine_probe.hpp"
#include "state/mailbox.hpp"
#include "state/results.hpp"
#include "state/store.hpp"
#include "topics/kafka/group_commit.hpp"

namespace tw::actors {

// Every probe below is written by its stage's thread and read by anyone (the HTTP server's
// /metrics and /healthz, the demo's summary, tests): relaxed atomics and the types of
// model/probe.hpp. Each stage's heartbeat (`alive`, or its queue's `consumer`) is beaten by its
// shell when it handles a message or a timer.

struct importer_probe {
  std::atomic<uint64_t> records{0};          // messages parsed
  std::atomic<uint64_t> observations{0};     // observations produced
  std::atomic<uint64_t> rejected{0};         // events rejected by the parsers
  std::atomic<uint64_t> rejected_by_reason[std::size(all_reject_codes)] = {};  // indexed by reject_code
  std::atomic<uint64_t> ignored{0};          // valid events without use for sessions
  std::atomic<uint64_t> bytes{0};
  heartbeat alive;
};

struct judge_probe {
  state::mailbox_probe queue;                     // sessions waiting for judgement
  std::atomic<uint64_t> judged{0};
  std::atomic<uint64_t> by_verdict[5] = {};       // indexed by verdict_status
  std::atomic<uint64_t> diagnoses_requested{0};
  std::atomic<uint64_t> invalid{0};               // items that were not sessions (logged, dropped)
  // Verdicts by status and intent. The intents are the rules' (at most intent_labels - 1 of them
  // by name, the rest as `other`): the label set stays bounded whatever the rules file holds.
  static constexpr size_t intent_labels = 50;
  bounded_labels<intent_labels> intents;
  std::atomic<uint64_t> by_status_intent[std::size(all_verdict_statuses)][intent_labels] = {};
  // From an end marker (its event time: the session's closed_at minus completion.settle_delay) to
  // its verdict's durable write (wall time), for sessions closed by an end marker. The two clocks
  // differ by the producers' clock skew; with synchronised clocks this is what a caller waits.
  duration_histogram<14> end_marker_to_verdict{
      {std::chrono::milliseconds(500), std::chrono::seconds(1), std::chrono::seconds(2), std::chrono::seconds(3),
       std::chrono::seconds(5), std::chrono::milliseconds(7500), std::chrono::seconds(10), std::chrono::seconds(15),
       std::chrono::seconds(20), std::chrono::seconds(30), std::chrono::seconds(60), std::chrono::seconds(120),
       std::chrono::seconds(300), std::chrono::seconds(600)}};

  // A verdict was written durably. Judge stage thread only (it owns `intents`).
  void record_verdict(verdict_status status, std::string_view intent) {
    ++judged;
    ++by_verdict[static_cast<size_t>(status)];
    ++by_status_intent[static_cast<size_t>(status)][intents.slot_of(intent)];
  }
};

struct diagnostic_probe {
  state::mailbox_probe queue;                     // failures waiting for diagnosis (rate-limited)
  std::atomic<uint64_t> diagnosed{0};
  std::atomic<uint64_t> findings{0};
  std::atomic<uint64_t> webhook_delivered{0};
  std::atomic<uint64_t> webhook_failed{0};
  std::atomic<uint64_t> webhook_circuit_open{0};
};

struct alert_probe {
  state::mailbox_probe queue;                     // facts and marks waiting for the alert stage
  std::atomic<uint64_t> facts{0};                 // facts applied
  std::atomic<uint64_t> marks{0};                 // clock marks applied
  std::atomic<uint64_t> late{0};                  // facts older than a rule's last evaluated instant
  std::atomic<uint64_t> revisions_ignored{0};     // verdicts of revision > 1 (a session counts once)
  std::atomic<uint64_t> folded{0};                // facts whose labels were folded into "other"
  std::atomic<uint64_t> inhibited{0};             // transitions not emitted (inhibition)
  std::atomic<uint64_t> fired{0};                 // firing events emitted (repeats included)
  std::atomic<uint64_t> resolved{0};              // resolved events emitted
  std::atomic<uint64_t> firing_now{0};
  std::atomic<uint64_t> groups{0};                // (rule, group) entries in memory
  std::atomic<int64_t> clock_us{0};               // the alert stage's event-time clock
  std::atomic<uint64_t> invalid{0};               // queue items that did not decode (logged, skipped)
  std::atomic<uint64_t> cpu_us{0};                // CPU time of the alert stage's thread at work
};

struct notifier_probe {
  state::mailbox_probe queue;                     // alert events waiting for delivery
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> retries{0};               // deliveries that failed and wait for a retry
  std::atomic<uint64_t> resent{0};                // firing alerts re-sent to Alertmanager
};

struct pipeline_probes {
  // The source thread (actors/pipeline.cpp): the consumer's poll loop.
  heartbeat source_alive;
  std::atomic<uint64_t> records_sent{0};      // handed to the importer
  // The input partitions' extents as the consumer last learned them (from its fetches, without
  // asking the brokers), republished by the source thread about once a second.
  published<std::vector<partition_extent>> input_extents;
  importer_probe importer;
  state::engine_probe engine;
  judge_probe judge;
  diagnostic_probe diagnostic;
  alert_probe alerts;
  notifier_probe notifier;
  output_probe output;
  kafka::group_commit_probe group_commits;    // input positions committed to the consumer group (live)
  std::atomic<int64_t> in_flight_records{0};  // consumed, not yet committed by the state stage
  std::atomic<uint64_t> pauses{0};            // times the consumer paused for backpressure
};

struct replay_options {
  std::string input_path;           // one message per line; "-" for stdin
  std::vector<std::string> topics;  // instead of a file: these topics, up to their current end
  std::ostream* sessions_out = nullptr;
  std::ostream* deadletter_out = nullptr;  // null: dead letters are counted, not kept
  std::ostream* verdicts_out = nullptr;    // null: verdicts are counted, not kept
  std::ostream* diagnostics_out = nullptr;
  std::ostream* alerts_out = nullptr;      // null: alert events are counted, not kept
  bool flush = false;               // complete the sessions still open at the end
  // A topic replay takes the watermark decisions the live run recorded (topics.watermarks) at the
  // positions it took them, so that it reproduces the live run. False: only the data decides.
  bool recorded_decisions = true;
};

// Judgement alone, from completed sessions (tracewatch.session.v1, one per line): backtesting a
// rules change without re-importing traces.
struct judge_options {
  std::string input_path;  // "-" for stdin
  std::ostream* verdicts_out = nullptr;
  std::ostream* diagnostics_out = nullptr;
};

struct run_result {
  bool ok = true;
  std::string error;
  uint64_t open_sessions = 0;                 // replay without flush: still open at the end
  std::vector<std::string> open_session_ids;  // the first few of them
};

// The alert rules `alerts.rules` names: `builtin:scheduling`, the `alerts` section of a YAML file,
// or `off` (no rules and no error).
alerts::alert_rules_result load_alert_rules(const std::string& setting);

// What the webhook.* and alerts.* notification options fail to say about a usable webhook or alert
// target (validated at start): a message
// beginning with the option's key, or nullopt.
std::optional<std::string> validate_webhook(const config::settings& s);

class pipeline {
 public:
  // `clk` must outlive the pipeline.
  pipeline(config::settings settings, const clock& clk);
  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  // Live mode. Returns once started (the stages run on their own threads) or failed to start.
  run_result start_live();
  // Replay mode: runs to the end of the input and returns.
  run_result run_replay(const replay_options& opts);
  // Judges a file of completed sessions and returns.
  run_result run_judge(const judge_options& opts);

  // Asks a live pipeline to stop: the consumer leaves the group, what was consumed is committed,
  // the outbox is drained (bounded wait). Safe from any thread, including a signal-watching one.
  void request_stop();
  // True once a stage failed; the pipeline then stops on its own (wait() reports the error).
  bool failed() const;
  // Blocks until a live pipeline stopped (after request_stop(), or on its own after a failure).
  run_result wait();

  const pipeline_probes& probes() const;
  // For the HTTP server's threads; each is thread-safe. The pipeline must outlive their callers.
  // RocksDB's size and compaction figures; nullopt until the state directory is open.
  std::optional<state::store_stats> store_stats() const;
  // Why a stage failed, once one did.
  std::optional<std::string> failure() const;
  // request_stop() was called (a signal, or the end of a demo).
  bool stopping() const;
  // The query results kept in state (state/results.hpp); null until the state directory is open.
  const state::results_reader* results() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tw::actors
