// The message catalogue: every message exchanged between the stages, with who sends it to whom.
//
//   source thread ──input_batch──► importer ──parsed_batch──► state stage ──judge_items──► judge actor
//                 ──control─────►          ──control────────►             ──control─────►
//   judge actor ──judge_work──► intent actor ──(delegated)──► fulfillment actor ──reply──► judge actor
//   judge actor ──diagnosis_items──► diagnostic actor ──control──► output stage
//   judge actor ──alert_items──► alert actor ──notification_items──► notifier actor
//   judge actor ──control──► alert actor ──control──► notifier actor ──control──► diagnostic actor
//     (the alert and notifier actors exist only with alert rules, and with a notification target)
//   state / judge / diagnostic / alert stage ──outbox_end──► output stage
//
// Data and control travel the same path, so a control message (a rebalance, the end of a replay,
// shutdown) is handled only after every batch sent before it. Batches are moved as shared
// pointers: local, zero-copy, never serialised (hence CAF_ALLOW_UNSAFE_MESSAGE_TYPE).
//
// Include only from actors/*.cpp: CAF headers are expensive to compile.
#pragma once

#include <caf/all.hpp>

#include <future>
#include <memory>
#include <optional>
#include <vector>

#include "alerts/alerts.hpp"
#include "model/kafka.hpp"
#include "model/verdict.hpp"
#include "model/watermark_record.hpp"
#include "state/mailbox.hpp"
#include "state/session_engine.hpp"
#include "topics/record.hpp"

namespace tw::actors {

// source thread → importer: records as consumed, and partitions that reached their end: in a live
// run the consumer caught up with them (more may come); in a bounded replay their range is
// finished (nothing more will come, so they stop holding the watermark back).
struct input_batch {
  std::vector<raw_record> records;
  std::vector<topic_partition> reached_end;
};
using input_batch_ptr = std::shared_ptr<input_batch>;

// importer → state stage: the same records, parsed.
struct parsed_batch {
  std::vector<state::consumed_record> records;
  std::vector<topic_partition> reached_end;
};
using parsed_batch_ptr = std::shared_ptr<parsed_batch>;

// state stage (or the judge command's reader) → judge actor: completed sessions it enqueued
// durably (mailbox lane judge), handed over in memory.
struct judge_items {
  std::vector<state::session_engine::judge_handover> items;
  // One past the last sequence the producer committed: items it did not hand over (a burst beyond
  // the hand-over bound) are read back from the queue. 0: only `items` are new.
  uint64_t queue_end = 0;
};
using judge_items_ptr = std::shared_ptr<judge_items>;

// judge actor → intent actor → fulfillment actor → back to the judge actor (a request the intent
// actor delegates): one session on its way through judgement. Each stage fills in its part; only
// the current holder touches it.
struct judge_work {
  uint64_t seq = 0;            // its item in the judge mailbox lane
  std::string session_json;    // as it came (the diagnostic stage needs it again)
  std::shared_ptr<const session_summary> session;
  intent_result intent;
  fulfillment_result fulfillment;
};
using judge_work_ptr = std::shared_ptr<judge_work>;

// judge actor → diagnostic actor: failures it enqueued durably (mailbox lane diagnostics).
struct diagnosis_items {
  std::vector<state::mailbox_item> items;
  // Per item, what the judge knew when it asked: the diagnostic stage examines these rather than
  // decoding the request's documents again (it decodes only what it reads back from disk).
  struct judged_session {
    std::shared_ptr<const session_summary> session;
    verdict judged;  // as written (fitted to the record budget)
  };
  std::vector<std::shared_ptr<const judged_session>> judged;
};
using diagnosis_items_ptr = std::shared_ptr<diagnosis_items>;

// judge actor → alert actor: facts and marks it enqueued durably (mailbox lane alerts,
// state/queue_items.hpp). Items between the last hand-over and queue_end come from disk.
struct alert_items {
  std::vector<state::mailbox_item> items;
  uint64_t queue_end = 0;
};
using alert_items_ptr = std::shared_ptr<alert_items>;

// alert actor → notifier actor: alert events (tracewatch.alert.v1 JSON) it enqueued durably
// (mailbox lane notifications), to send to Alertmanager and/or the alert webhook.
struct notification_items {
  std::vector<state::mailbox_item> items;
  std::vector<alerts::alert_event> firing;  // sent once at start: what fires now (to re-send)
};
using notification_items_ptr = std::shared_ptr<notification_items>;

// What the end of a bounded input reports back.
struct end_report {
  uint64_t open_sessions = 0;
  std::vector<std::string> open_session_ids;  // the first few
  bool ok = true;
  std::string error;
};

// source thread → importer → state stage (→ output stage): control, in order with the data.
struct control {
  enum class kind {
    assign,        // partitions assigned: reply with the stored offsets
    revoke,        // partitions revoked: reply once everything before has been applied
    end_of_input,  // a bounded input ended: flush if asked, report open sessions, judge and diagnose
                   // everything, drain output
    watermark,     // a replay reached the positions of a recorded watermark decision: take it (no reply)
    shutdown,      // live run stopping: commit, finish the work in hand (queues stay durable), drain
                   // output, stop
  };
  kind what = kind::shutdown;
  std::vector<topic_partition> partitions;
  bool flush = false;
  std::shared_ptr<const watermark_record> record;  // watermark: the decision to take
  end_report report;  // end_of_input: filled by the state stage on the way
  // Set by the state stage (offsets for assign/revoke) or the output stage once everything is
  // delivered (end_of_input, shutdown).
  std::shared_ptr<std::promise<std::vector<std::optional<offset>>>> offsets_reply;
  std::shared_ptr<std::promise<end_report>> done_reply;
};
using control_ptr = std::shared_ptr<control>;

// state/judge/diagnostic stage → output stage: the stage's outbox lane now holds entries up to
// (excluding) this sequence.
struct outbox_end {
  state::outbox_lane lane = state::outbox_lane::sessions;
  uint64_t seq = 0;
};

using drain_atom = caf::atom_constant<caf::atom("drain")>;  // output stage: deliver, self-sent
using pump_atom = caf::atom_constant<caf::atom("pump")>;    // judge/diagnostic stage: take work, self-sent
using poll_atom = caf::atom_constant<caf::atom("poll")>;    // output stage: serve deliveries
using checkpoint_atom = caf::atom_constant<caf::atom("ckpt")>;  // alert stage: a checkpoint is due, self-sent

}  // namespace tw::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tw::actors::input_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tw::actors::parsed_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tw::actors::control_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tw::actors::outbox_end)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tw::actors::judge_items_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tw::actors::judge_work_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tw::actors::diagnosis_items_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tw::actors::alert_items_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tw::actors::notification_items_ptr)
