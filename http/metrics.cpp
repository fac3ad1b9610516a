#include "http/metrics.hpp"

#include "http/exposition.hpp"
#include "model/proc_stat.hpp"
#include "state/outbox.hpp"

#ifndef TW_VERSION
#define TW_VERSION "unknown"
#endif

namespace tw::http {

namespace {

double seconds(duration d) { return exposition::seconds(d); }

struct lane_probe {
  const char* lane;
  const state::mailbox_probe* probe;
};

}  // namespace

std::string render_metrics(const pipeline_view& v, const health_settings& s, const server_stats& self, wall_time now) {
  const auto& p = v.probes();
  const auto& eng = p.engine;
  exposition e;
  auto counter = [&](const char* name, const char* help, uint64_t value) {
    e.family(name, metric_kind::counter, help);
    e.sample(value);
  };
  auto gauge = [&](const char* name, const char* help, auto value) {
    e.family(name, metric_kind::gauge, help);
    e.sample(value);
  };

  // --- input ----------------------------------------------------------------------------------
  counter("tracewatch_input_records_total", "Input messages consumed and parsed.", p.importer.records);
  counter("tracewatch_input_bytes_total", "Bytes of the input messages consumed.", p.importer.bytes);
  counter("tracewatch_input_observations_total", "Observations the parsers produced from the input.",
          p.importer.observations);
  e.family("tracewatch_input_rejected_total", metric_kind::counter,
           "Input events the parsers rejected, by reason; each becomes a dead letter.");
  for (auto code : all_reject_codes)
    if (code != reject_code::late_event && code != reject_code::undeliverable)  // not the parsers' to give
      e.sample({{"reason", to_string(code)}}, p.importer.rejected_by_reason[static_cast<size_t>(code)].load());
  counter("tracewatch_input_ignored_total", "Valid input events without use for sessions.", p.importer.ignored);
  counter("tracewatch_input_records_skipped_total",
          "Records below the stored offset (redelivered after a rebalance): applied already, skipped.",
          eng.records_skipped);
  counter("tracewatch_events_duplicate_total", "Events dropped as producer retries of an event already stored.",
          eng.duplicates);
  gauge("tracewatch_in_flight_records", "Records consumed and not yet committed by the state stage.",
        static_cast<int64_t>(p.in_flight_records));
  counter("tracewatch_consumer_pauses_total", "Times the consumer paused its partitions for backpressure.", p.pauses);

  // --- partitions and watermarks ------------------------------------------------------------------
  const auto progress = input_progress(p, s.start_from_latest);
  gauge("tracewatch_partitions_assigned", "Input partitions assigned to this process.",
        static_cast<uint64_t>(progress.size()));
  e.family("tracewatch_consumer_lag_records", metric_kind::gauge,
           "Records between the committed position and the high watermark, per assigned input partition (as the "
           "consumer last fetched; absent until it has).");
  for (const auto& pp : progress)
    if (pp.lag) {
      const std::string part = std::to_string(pp.tp.partition.value);
      e.sample({{"topic", pp.tp.topic}, {"partition", part}}, *pp.lag);
    }
  e.family("tracewatch_partition_watermark_lag_seconds", metric_kind::gauge,
           "Wall clock minus the partition's watermark (its largest event time minus time.max_out_of_orderness), "
           "per assigned input partition.");
  for (const auto& pp : progress)
    if (pp.watermark) {
      const std::string part = std::to_string(pp.tp.partition.value);
      e.sample({{"topic", pp.tp.topic}, {"partition", part}}, seconds(duration{now.micros() - pp.watermark->micros()}));
    }
  const int64_t wm = eng.watermark_us;
  if (wm != INT64_MIN) {
    gauge("tracewatch_watermark_timestamp_seconds", "The processor watermark (event time), as Unix seconds.",
          static_cast<double>(wm) / 1e6);
    gauge("tracewatch_watermark_lag_seconds", "Wall clock minus the processor watermark.",
          seconds(duration{now.micros() - wm}));
  }

  // --- sessions -------------------------------------------------------------------------------
  counter("tracewatch_sessions_opened_total", "Sessions opened.", eng.sessions_opened);
  e.family("tracewatch_sessions_completed_total", metric_kind::counter,
           "Session revisions emitted, by completion reason (a reopened session completes again).");
  for (auto r : all_completion_reasons)
    e.sample({{"reason", to_string(r)}}, eng.completed_by_reason[static_cast<size_t>(r)].load());
  counter("tracewatch_sessions_reopened_total", "Emitted sessions reopened by late events within completion.grace.",
          eng.sessions_reopened);
  counter("tracewatch_sessions_sealed_total", "Sessions sealed after completion.grace (their events deleted).",
          eng.sessions_sealed);
  gauge("tracewatch_sessions_open", "Sessions with activity not yet emitted (or a revision to emit again).",
        eng.open_sessions.load());
  gauge("tracewatch_pending_observations", "Observations held until their trace's session id is known.",
        eng.pending_events.load());
  counter("tracewatch_pending_timeouts_total",
          "Traces whose session id never came within resolve.pending_timeout: they became sessions of their own.",
          eng.pending_timeouts);
  counter("tracewatch_state_batches_total", "Input batches the state stage applied and committed.", eng.batches);
  counter("tracewatch_state_batches_split_total", "Commits made early because a batch grew too large.",
          eng.batches_split);
  e.family("tracewatch_state_batch_duration_seconds", metric_kind::histogram,
           "Wall time the state stage took to apply and commit one input batch.");
  e.histogram<13>({}, eng.batch_duration.read());
  counter("tracewatch_results_expired_total",
          "Query results (summaries, verdicts, diagnoses) deleted after query.retention.", eng.results_expired);

  // --- judgement ------------------------------------------------------------------------------
  e.family("tracewatch_verdicts_total", metric_kind::counter,
           "Verdicts written, by status and intent (the rules' intents; more than the label budget fold into "
           "`other`).");
  const auto& jp = p.judge;
  const size_t intents = jp.intents.size();
  for (auto st : all_verdict_statuses) {
    const auto& row = jp.by_status_intent[static_cast<size_t>(st)];
    for (size_t i = 0; i < intents; ++i) e.sample({{"status", to_string(st)}, {"intent", jp.intents.name(i)}}, row[i].load());
    const size_t other = actors::judge_probe::intent_labels - 1;
    e.sample({{"status", to_string(st)}, {"intent", jp.intents.name(other)}}, row[other].load());
  }
  e.family("tracewatch_end_marker_to_verdict_seconds", metric_kind::histogram,
           "From a session's end marker (event time) to its verdict's durable write (wall time), for sessions "
           "closed by an end marker.");
  e.histogram<14>({}, jp.end_marker_to_verdict.read());
  counter("tracewatch_diagnoses_total", "Diagnostics written (fail, partial and error verdicts).", p.diagnostic.diagnosed);
  counter("tracewatch_diagnosis_findings_total", "Findings the experts made in those diagnostics.", p.diagnostic.findings);
  e.family("tracewatch_webhook_calls_total", metric_kind::counter, "Diagnostic webhook calls, by outcome.");
  e.sample({{"outcome", "delivered"}}, p.diagnostic.webhook_delivered.load());
  e.sample({{"outcome", "failed"}}, p.diagnostic.webhook_failed.load());
  e.sample({{"outcome", "circuit_open"}}, p.diagnostic.webhook_circuit_open.load());

  // --- dead letters ---------------------------------------------------------------------------
  e.family("tracewatch_dead_letters_total", metric_kind::counter,
           "Dead letters, by reason: input the parsers rejected, late events, and output records the brokers "
           "refused for good (undeliverable).");
  for (auto code : all_reject_codes) {
    uint64_t n = eng.dead_letters_by_reason[static_cast<size_t>(code)];
    if (code == reject_code::undeliverable) n += p.output.undeliverable;
    e.sample({{"reason", to_string(code)}}, n);
  }

  // --- alerts ---------------------------------------------------------------------------------
  e.family("tracewatch_alert_events_total", metric_kind::counter,
           "Alert events emitted, by state (firing counts repeats too).");
  e.sample({{"state", "firing"}}, p.alerts.fired.load());
  e.sample({{"state", "resolved"}}, p.alerts.resolved.load());
  gauge("tracewatch_alerts_firing", "Alerts firing now.", p.alerts.firing_now.load());
  counter("tracewatch_alerts_inhibited_total", "Alert transitions not emitted because another alert inhibits them.",
          p.alerts.inhibited);
  gauge("tracewatch_alert_groups", "Alert (rule, label set) groups held in memory.", p.alerts.groups.load());
  counter("tracewatch_alert_facts_total", "Facts (verdicts, dead letters) the alert stage applied.", p.alerts.facts);
  counter("tracewatch_alert_facts_late_total", "Facts older than a rule's last evaluated instant.", p.alerts.late);
  counter("tracewatch_notifications_delivered_total", "Alert notifications every target accepted.",
          p.notifier.delivered);
  counter("tracewatch_notification_retries_total", "Alert notification deliveries that failed and wait for a retry.",
          p.notifier.retries);

  // --- durable queues (mailboxes) -------------------------------------------------------------
  const lane_probe lanes[] = {{"judge", &p.judge.queue},
                              {"diagnostics", &p.diagnostic.queue},
                              {"alerts", &p.alerts.queue},
                              {"notifications", &p.notifier.queue}};
  e.family("tracewatch_mailbox_depth", metric_kind::gauge, "Items waiting in a durable work queue, by lane.");
  for (const auto& l : lanes) e.sample({{"lane", l.lane}}, l.probe->depth());
  e.family("tracewatch_mailbox_oldest_wait_seconds", metric_kind::gauge,
           "How long the oldest item not yet done has waited in its queue, by lane (0 when empty).");
  for (const auto& l : lanes) {
    const int64_t since = l.probe->head_enqueued_us;
    const double wait = l.probe->depth() > 0 && since > 0 ? seconds(duration{std::max<int64_t>(0, now.micros() - since)}) : 0.0;
    e.sample({{"lane", l.lane}}, wait);
  }
  e.family("tracewatch_mailbox_spilled_total", metric_kind::counter,
           "Items that found the in-memory queue full and wait in RocksDB only, by lane.");
  for (const auto& l : lanes) e.sample({{"lane", l.lane}}, l.probe->spilled.load());

  // --- output ---------------------------------------------------------------------------------
  const auto& out = p.output;
  gauge("tracewatch_outbox_depth", "Outbox entries (all lanes) not yet acknowledged by the brokers.",
        out.backlog.load());
  gauge("tracewatch_outbox_oldest_unacked_seconds", "The longest any outbox lane's oldest entry has waited.",
        seconds(duration{out.oldest_unacked_age_us.load()}));
  gauge("tracewatch_outbox_stalled_lanes", "Outbox lanes whose oldest entry waits longer than output.stall_timeout.",
        out.stalled_lanes.load());
  counter("tracewatch_output_records_written_total", "Records handed to the producer (retries included).", out.written);
  counter("tracewatch_output_records_acknowledged_total", "Records the brokers acknowledged.", out.acknowledged);
  counter("tracewatch_output_delivery_failures_total", "Failed deliveries (each retry counts).", out.failed);
  counter("tracewatch_output_dropped_total",
          "Undeliverable records whose dead letter could not be written either: logged and dropped.",
          out.dead_letters_dropped);

  // --- RocksDB --------------------------------------------------------------------------------
  if (auto st = v.store_stats()) {
    e.family("tracewatch_rocksdb_sst_bytes", metric_kind::gauge, "Size of the SST files, by column family.");
    for (size_t i = 0; i < st->sst_bytes.size(); ++i)
      e.sample({{"cf", state::cf_name(static_cast<state::cf>(i))}}, st->sst_bytes[i]);
    gauge("tracewatch_rocksdb_live_data_bytes", "RocksDB's estimate of the live data.", st->live_data_bytes);
    gauge("tracewatch_rocksdb_memtable_bytes", "Size of the memtables.", st->memtable_bytes);
    gauge("tracewatch_rocksdb_pending_compaction_bytes", "RocksDB's estimate of the bytes compaction must rewrite.",
          st->pending_compaction_bytes);
    gauge("tracewatch_rocksdb_running_compactions", "Compactions running now.", st->running_compactions);
  }

  // --- health ---------------------------------------------------------------------------------
  const bool stopping = v.stopping();
  const auto alive = check_liveness(p, v.failure(), stopping, s, now);
  const auto ready = check_readiness(p, alive, stopping, s);
  gauge("tracewatch_healthy", "1 while /healthz answers 200: no stage failed or is wedged.",
        static_cast<uint64_t>(alive.ok));
  gauge("tracewatch_ready", "1 while /readyz answers 200.", static_cast<uint64_t>(ready.ok));
  e.family("tracewatch_stage_wedged", metric_kind::gauge,
           "1 for a stage that has work and showed no sign of life for http.stall_timeout.");
  for (const auto& r : alive.stages) e.sample({{"stage", r.stage}}, static_cast<uint64_t>(r.wedged));
  e.family("tracewatch_stage_silent_seconds", metric_kind::gauge,
           "Since a stage last showed life, beyond the waits it announced (0 for a stage not running).");
  for (const auto& r : alive.stages) e.sample({{"stage", r.stage}}, seconds(r.silent_for));

  // --- the server itself and the process ------------------------------------------------------
  e.family("tracewatch_http_requests_total", metric_kind::counter, "HTTP requests served, by route and status code.");
  for (const auto& r : self.requests) {
    const std::string code = std::to_string(r.code);
    e.sample({{"path", r.path}, {"code", code}}, r.requests);
  }
  e.family("tracewatch_http_handler_cpu_seconds_total", metric_kind::counter,
           "CPU time the HTTP handlers took (their threads' clocks): what serving these endpoints costs.");
  e.sample(seconds(self.handler_cpu));
  e.family("tracewatch_build_info", metric_kind::gauge, "Always 1; the version in a label.");
  e.sample({{"version", TW_VERSION}}, uint64_t{1});
  if (const auto proc = read_proc_stat("self")) {
    e.family("process_cpu_seconds_total", metric_kind::counter, "User and system CPU time of the process.");
    e.sample(proc->cpu_seconds);
    gauge("process_resident_memory_bytes", "Resident memory of the process.", proc->resident_bytes);
    if (const auto boot = boot_time_seconds())
      gauge("process_start_time_seconds", "Start time of the process, as Unix seconds.", *boot + proc->start_after_boot_s);
  }
  return e.text();
}

}  // namespace tw::http
