// The judge stage: completed sessions in, verdicts out.
//
//   judge actor ──judge_work──► intent actor ──delegate──► fulfillment actor ──reply──► judge actor
//
// The judge actor owns the judge queue (mailbox lane judge, written by the state stage in the
// same batch as each completed session) and writes, in ONE RocksDB batch per session: the verdict
// (outbox lane verdicts), the request for a diagnosis when the verdict is fail, partial or error
// (mailbox lane diagnostics), and the deletion of the queue item. A crash anywhere re-judges what
// was not written, with the same result: judgement is a pure function of the session and the rules.
#include <memory>

#include "actors/stages.hpp"
#include "model/log.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/verdict_json.hpp"

namespace tw::actors {

caf::behavior intent_actor(caf::event_based_actor* self, caf::actor fulfillment,
                           std::shared_ptr<const judge::rule_set> rules) {
  auto classifier = std::make_shared<judge::intent_classifier>(rules);
  return {
      [=](judge_work_ptr& w) {
        w->intent = classifier->classify(w->session);
        return self->delegate(fulfillment, std::move(w));
      },
  };
}

caf::behavior fulfillment_actor(caf::event_based_actor*, std::shared_ptr<const judge::rule_set> rules) {
  auto checker = std::make_shared<judge::fulfillment_checker>(rules);
  return {
      [=](judge_work_ptr& w) {
        w->fulfillment = checker->check(w->session, w->intent);
        return std::move(w);
      },
  };
}

namespace {

struct judge_state {
  std::unique_ptr<state::rate_limited_mailbox> queue;
  std::unique_ptr<state::outbox_writer> verdicts;
  std::unique_ptr<state::mailbox_writer> diagnoses;
  size_t in_flight = 0;
  bool pump_pending = false;
  control_ptr finishing;  // end of input or shutdown, waiting for the work in hand
};

}  // namespace

caf::behavior judge_actor(caf::event_based_actor* self, caf::actor intent, caf::actor diagnostic, caf::actor output,
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

  // The judged session: verdict, diagnosis request and queue deletion in one write.
  auto write_verdict = [=](const judge_work& w) -> bool {
    verdict v = judge::make_verdict(w.session, w.intent, w.fulfillment, *cfg.rules);
    std::string verdict_json = encode_verdict_json(v);
    rocksdb::WriteBatch batch;
    st->verdicts->put(batch, cfg.verdicts_topic, v.session_id, verdict_json);
    std::optional<state::mailbox_item> diagnosis;
    if (judge::needs_diagnosis(v.status))
      diagnosis = st->diagnoses->put(batch, encode_diagnosis_request(w.session_json, verdict_json), clk->now());
    state::mailbox_item done;
    done.seq = w.seq;
    st->queue->done(batch, done);
    st->verdicts->save(batch);
    st->diagnoses->save(batch);
    auto s = store->db()->Write(store->write_options(), &batch);
    if (!s.ok()) {
      fail(state::store_status::from(s, "writing a verdict").message);
      return false;
    }
    ++probe->judged;
    ++probe->by_verdict[static_cast<size_t>(v.status)];
    self->send(output, outbox_end{state::outbox_lane::verdicts, st->verdicts->next()});
    if (diagnosis) {
      ++probe->diagnoses_requested;
      auto items = std::make_shared<diagnosis_items>();
      items->items.push_back(std::move(*diagnosis));
      self->send(diagnostic, items);
    }
    return true;
  };

  // An item that is not a session (only from the judge command's input): logged, counted, dropped.
  auto drop = [=](const state::mailbox_item& item, const std::string& why) -> bool {
    log::warn("not a tracewatch.session.v1 document; skipped", {{"seq", item.seq}, {"error", why}});
    ++probe->invalid;
    rocksdb::WriteBatch batch;
    st->queue->done(batch, item);
    auto s = store->db()->Write(store->write_options(), &batch);
    if (!s.ok()) {
      fail(state::store_status::from(s, "dropping an invalid judge item").message);
      return false;
    }
    return true;
  };

  auto maybe_finish = [=] {
    if (!st->finishing || st->in_flight > 0) return;
    // At the end of a bounded input everything is judged first; at shutdown the queue stays
    // durable for the next start.
    bool drain = st->finishing->what == control::kind::end_of_input;
    if (drain && !st->queue->idle()) return;
    self->send(diagnostic, st->finishing);
    st->finishing.reset();
    self->quit();
  };

  auto pump = [=] {
    st->pump_pending = false;
    if (st->finishing && st->finishing->what == control::kind::shutdown) return maybe_finish();
    if (auto s = st->queue->refill(); !s.ok()) return fail(s.message);
    while (st->in_flight < cfg.max_in_flight) {
      wall_time retry_at;
      auto item = st->queue->take(clk->now(), retry_at);
      if (!item) break;
      auto w = std::make_shared<judge_work>();
      w->seq = item->seq;
      std::string why;
      auto session = decode_session_json(item->payload, &why);
      if (!session) {
        if (!drop(*item, why)) return;
        continue;
      }
      w->session = std::move(*session);
      w->session_json = std::move(item->payload);
      ++st->in_flight;
      self->request(intent, caf::infinite, w)
          .then(
              [=](judge_work_ptr& judged) {
                --st->in_flight;
                if (!write_verdict(*judged)) return;
                if (!st->pump_pending) {
                  st->pump_pending = true;
                  self->send(self, pump_atom::value);
                }
                maybe_finish();
              },
              [=](caf::error& e) { fail("judging a session: " + self->system().render(e)); });
      if (auto s = st->queue->refill(); !s.ok()) return fail(s.message);
    }
    maybe_finish();
  };

  // After a restart the durable queue may hold sessions no one handed over: start with it.
  st->pump_pending = true;
  self->send(self, pump_atom::value);
  return {
      [=](const judge_items_ptr& in) {
        for (auto item : in->items) st->queue->offer(std::move(item));
        if (!st->pump_pending) {
          st->pump_pending = true;
          self->send(self, pump_atom::value);
        }
      },
      [=](pump_atom) { pump(); },
      [=](const control_ptr& c) {
        st->finishing = c;
        if (!st->pump_pending) {
          st->pump_pending = true;
          self->send(self, pump_atom::value);
        }
      },
  };
}

}  // namespace tw::actors
