// The judge stage: completed sessions in, verdicts out.
//
//   judge actor ──judge_work──► intent actor ──delegate──► fulfillment actor ──reply──► judge actor
//
// The judge actor owns the judge queue (mailbox lane judge, written by the state stage in the
// same batch as each completed session) and writes, in ONE RocksDB batch for a run of judged
// sessions: their verdicts (outbox lane verdicts), a request for a diagnosis for each fail,
// partial or error verdict (mailbox lane diagnostics), and the deletion of their queue items. A
// crash anywhere re-judges what was not written, with the same result: judgement is a pure
// function of the session and the rules.
//
// With alert rules, the same batch appends each verdict's alert fact to the alert queue (mailbox
// lane alerts), and the queue's marks (the state stage's watermark) and dead-letter notes are
// passed on there in queue order: a mark only once every session queued before it is judged, so
// the alert stage's clock never passes a session it has not seen (state/queue_items.hpp).
#include <deque>
#include <memory>
#include <set>
#include <unordered_map>

#include "actors/stages.hpp"
#include "alerts/alerts.hpp"
#include "judge/rules.hpp"
#include "model/log.hpp"
#include "state/queue_items.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/verdict_json.hpp"

namespace tw::actors {

caf::behavior intent_actor(caf::event_based_actor* self, caf::actor fulfillment,
                           std::shared_ptr<const judge::rule_set> rules) {
  auto classifier = std::make_shared<judge::intent_classifier>(rules);
  return {
      [=](judge_work_ptr& w) {
        w->intent = classifier->classify(*w->session);
        return self->delegate(fulfillment, std::move(w));
      },
  };
}

caf::behavior fulfillment_actor(caf::event_based_actor*, std::shared_ptr<const judge::rule_set> rules) {
  auto checker = std::make_shared<judge::fulfillment_checker>(rules);
  return {
      [=](judge_work_ptr& w) {
        w->fulfillment = checker->check(*w->session, w->intent);
        return std::move(w);
      },
  };
}

namespace {

// Verdicts written together at most; fewer when the rule actors have nothing more in hand.
constexpr size_t max_per_write = 256;

struct judge_state {
  std::unique_ptr<state::rate_limited_mailbox> queue;
  std::unique_ptr<state::outbox_writer> verdicts;
  std::unique_ptr<state::mailbox_writer> diagnoses;
  std::unique_ptr<state::mailbox_writer> alert_queue;  // with alert rules only
  std::unique_ptr<state::verdict_results_writer> results;  // with query.retention only
  std::set<uint64_t> in_flight_seqs;                   // sessions with the rule actors
  std::deque<state::mailbox_item> held_marks;          // marks and notes behind them, in order
  // Summaries of handed-over sessions kept in memory, by queue sequence (read-back ones are
  // decoded instead).
  std::unordered_map<uint64_t, std::shared_ptr<const session_summary>> handed;
  size_t in_flight = 0;
  bool pump_pending = false;
  control_ptr finishing;  // end of input or shutdown, waiting for the work in hand
  // Judged, not yet written.
  rocksdb::WriteBatch batch;
  size_t batched = 0;
  std::vector<state::mailbox_item> batched_diagnoses;
  std::vector<std::shared_ptr<const diagnosis_items::judged_session>> batched_judged;  // per diagnosis
  std::vector<state::mailbox_item> batched_alert_items;
  // What the probe learns of each batched verdict once it is written.
  struct judged_note {
    verdict_status status;
    std::string intent;
    std::optional<event_time> end_marker_at;  // sessions closed by an end marker
  };
  std::vector<judged_note> batched_verdicts;
};

}  // namespace

caf::behavior judge_actor(caf::event_based_actor* self, caf::actor intent, caf::actor diagnostic, caf::actor alerts,
                          caf::actor output,
                          std::shared_ptr<state::store> store, judge_stage_config cfg, const clock* clk,
                          shared_ptr_t shared) {
  auto st = std::make_shared<judge_state>();
  auto* probe = &shared->probes.judge;  // a pointer: [=] would copy a reference's object
  state::mailbox_settings ms;  // no rate limit: judging is cheap and local
  ms.memory_capacity = cfg.memory_queue;
  st->queue = std::make_unique<state::rate_limited_mailbox>(*store, state::mailbox_lane::judge, ms, clk->now(),
                                                           probe->queue);
  st->verdicts = std::make_unique<state::outbox_writer>(*store, state::outbox_lane::verdicts);
  st->diagnoses = std::make_unique<state::mailbox_writer>(*store, state::mailbox_lane::diagnostics);
  if (cfg.keep_results) st->results = std::make_unique<state::verdict_results_writer>(*store);
  // The rules' intents take the first label slots, in the rules' order, so that their series exist
  // (at zero) from the start.
  probe->intents.slot_of(cfg.rules->fallback().name);
  for (const auto& intent : cfg.rules->intents()) probe->intents.slot_of(intent.name);
  auto fail = [=](const std::string& why) {
    log::error("judge stage failed; stopping (a restart judges what was not written)", {{"error", why}});
    shared->fail("judge stage: " + why);
    self->quit(caf::exit_reason::user_shutdown);
  };
  if (auto s = st->verdicts->open(); !s.ok()) {
    fail(s.message);
    return {};
  }
  if (auto s = st->diagnoses->open(); !s.ok()) {
    fail(s.message);
    return {};
  }
  if (alerts) {
    st->alert_queue = std::make_unique<state::mailbox_writer>(*store, state::mailbox_lane::alerts);
    if (auto s = st->alert_queue->open(); !s.ok()) {
      fail(s.message);
      return {};
    }
  }
  // Where the control goes once the work in hand is done: the alert stage passes it on.
  caf::actor next = alerts ? alerts : diagnostic;

  // Writes what was judged since the last write, then tells the output and diagnostic stages.
  auto write = [=]() -> bool {
    if (st->batched == 0) return true;
    st->verdicts->save(st->batch);
    st->diagnoses->save(st->batch);
    if (st->alert_queue) st->alert_queue->save(st->batch);
    const auto s = store->write(st->batch, "writing verdicts");
    if (st->results) st->results->batch_done(s.ok());
    if (!s.ok()) {
      fail(s.message);
      return false;
    }
    // Marks and notes passed on are not judgements: only verdicts are recorded.
    const wall_time written_at = clk->now();
    for (const auto& n : st->batched_verdicts) {
      probe->record_verdict(n.status, n.intent);
      if (n.end_marker_at) probe->end_marker_to_verdict.record(duration{written_at.micros() - n.end_marker_at->micros()});
    }
    self->send(output, outbox_end{state::outbox_lane::verdicts, st->verdicts->next()});
    if (!st->batched_diagnoses.empty()) {
      probe->diagnoses_requested += st->batched_diagnoses.size();
      auto items = std::make_shared<diagnosis_items>();
      items->items = std::move(st->batched_diagnoses);
      items->judged = std::move(st->batched_judged);
      self->send(diagnostic, items);
    }
    if (!st->batched_alert_items.empty()) {
      auto items = std::make_shared<alert_items>();
      items->items = std::move(st->batched_alert_items);
      items->queue_end = st->alert_queue->next();
      self->send(alerts, items);
    }
    st->batch.Clear();
    st->batched_alert_items.clear();
    st->batched = 0;
    st->batched_diagnoses.clear();
    st->batched_judged.clear();
    st->batched_verdicts.clear();
    return true;
  };

  // The judged session joins the next write: its verdict (and the query results' copy), its
  // diagnosis request, its deletion. False when the stage failed.
  auto add_verdict = [=](const judge_work& w) -> bool {
    verdict v = judge::make_verdict(*w.session, w.intent, w.fulfillment, *cfg.rules);
    fit_verdict_json(v, cfg.max_record_bytes);
    std::string verdict_json = encode_verdict_json(v);
    st->verdicts->put(st->batch, cfg.verdicts_topic, v.session_id, verdict_json);
    if (st->results) {
      const state::verdict_fields f{v.closed_at, v.status, v.intent.name, alerts::agent_of(w.session->metadata)};
      if (auto s = st->results->put(st->batch, v.session_id, v.revision, f, verdict_json); !s.ok()) {
        fail(s.message);
        return false;
      }
    }
    if (judge::needs_diagnosis(v.status)) {
      st->batched_diagnoses.push_back(
          st->diagnoses->put(st->batch, encode_diagnosis_request(w.session_json, verdict_json), clk->now()));
      st->batched_judged.push_back(std::make_shared<const diagnosis_items::judged_session>(
          diagnosis_items::judged_session{w.session, v}));
    }
    if (st->alert_queue)
      st->batched_alert_items.push_back(st->alert_queue->put(
          st->batch, state::wrap_fact(alerts::encode_fact(alerts::make_fact(*w.session, v))), clk->now()));
    state::mailbox_item done;
    done.seq = w.seq;
    st->queue->done(st->batch, done);
    ++st->batched;
    std::optional<event_time> marker;
    if (w.session->reason == completion_reason::end_marker) marker = w.session->closed_at - cfg.settle_delay;
    st->batched_verdicts.push_back({v.status, v.intent.name, marker});
    return true;
  };

  // An item that is not a session (only from the judge command's input): logged, counted, dropped.
  auto drop = [=](const state::mailbox_item& item, const std::string& why) {
    log::warn("not a tracewatch.session.v1 document; skipped", {{"seq", item.seq}, {"error", why}});
    ++probe->invalid;
    st->queue->done(st->batch, item);
  };

  // A mark or a dead-letter note goes on to the alert queue (as a mark, or as a fact) in the next
  // write; without alert rules it is only deleted.
  auto pass_on = [=](const state::mailbox_item& item) {
    if (st->alert_queue) {
      std::string payload;
      if (state::kind_of(item.payload) == state::queue_item_kind::deadletter) {
        auto note = state::decode_deadletter_note(item.payload);
        if (!note) return drop(item, "an undecodable dead-letter note");
        alerts::alert_fact f;
        f.what = alerts::alert_fact::kind::deadletter;
        f.at = note->at;
        f.reason = note->reason;
        payload = state::wrap_fact(alerts::encode_fact(f));
      } else {
        payload = item.payload;
      }
      st->batched_alert_items.push_back(st->alert_queue->put(st->batch, std::move(payload), clk->now()));
    }
    st->queue->done(st->batch, item);
    ++st->batched;
  };
  // Marks and notes queued after every session still being judged are passed on in order.
  auto pass_on_held = [=] {
    while (!st->held_marks.empty() &&
           (st->in_flight_seqs.empty() || st->held_marks.front().seq < *st->in_flight_seqs.begin())) {
      pass_on(st->held_marks.front());
      st->held_marks.pop_front();
    }
  };

  auto maybe_finish = [=] {
    if (!st->finishing || st->in_flight > 0) return;
    // At the end of a bounded input everything is judged first; at shutdown the queue stays
    // durable for the next start.
    bool drain = st->finishing->what == control::kind::end_of_input;
    if (drain && !st->queue->idle()) return;
    if (!write()) return;
    self->send(next, st->finishing);
    st->finishing.reset();
    self->quit();
  };

  auto schedule_pump = [=] {
    if (st->pump_pending) return;
    st->pump_pending = true;
    self->send(self, pump_atom::value);
  };

  auto pump = [=] {
    st->pump_pending = false;
    if (st->finishing && st->finishing->what == control::kind::shutdown) return maybe_finish();
    if (auto s = st->queue->refill(); !s.ok()) return fail(s.message);
    while (st->in_flight < cfg.max_in_flight) {
      wall_time retry_at;
      auto item = st->queue->take(clk->now(), retry_at);
      if (!item) break;
      if (auto kind = state::kind_of(item->payload); kind == state::queue_item_kind::mark ||
                                                     kind == state::queue_item_kind::deadletter) {
        st->handed.erase(item->seq);
        st->held_marks.push_back(std::move(*item));
        pass_on_held();
        continue;
      }
      auto w = std::make_shared<judge_work>();
      w->seq = item->seq;
      if (auto it = st->handed.find(item->seq); it != st->handed.end()) {
        w->session = std::move(it->second);
        st->handed.erase(it);
      } else {  // read back from disk (after a restart, or spilled): decode it
        std::string why;
        auto session = decode_session_json(item->payload, &why);
        if (!session) {
          drop(*item, why);
          continue;
        }
        w->session = std::make_shared<const session_summary>(std::move(*session));
      }
      w->session_json = std::move(item->payload);
      ++st->in_flight;
      st->in_flight_seqs.insert(w->seq);
      self->request(intent, caf::infinite, w)
          .then(
              [=](judge_work_ptr& judged) {
                --st->in_flight;
                st->in_flight_seqs.erase(judged->seq);
                if (!add_verdict(*judged)) return;
                pass_on_held();
                // Write when a run ends (nothing more in hand) or is long enough.
                if ((st->in_flight == 0 || st->batched >= max_per_write) && !write()) return;
                schedule_pump();
                maybe_finish();
              },
              [=](caf::error& e) { fail("judging a session: " + self->system().render(e)); });
      if (auto s = st->queue->refill(); !s.ok()) return fail(s.message);
    }
    if (st->in_flight == 0 && !write()) return;  // only drops, marks or notes were batched
    maybe_finish();
  };

  // After a restart the durable queue may hold sessions no one handed over: start with it.
  schedule_pump();
  return {
      [=](const judge_items_ptr& in) {
        for (auto& h : in->items) {
          uint64_t seq = h.item.seq;
          if (st->queue->offer(h.item) && h.session) st->handed.emplace(seq, h.session);
        }
        st->queue->known_until(in->queue_end);
        schedule_pump();
      },
      [=](pump_atom) { pump(); },
      [=](const control_ptr& c) {
        st->finishing = c;
        schedule_pump();
      },
  };
}

}  // namespace tw::actors
