// The diagnostic stage: failed, partial and error verdicts in, diagnostics out — at a limited
// rate, so that a storm of failures never floods what is behind it (the optional webhook, and
// whoever consumes the diagnostics topic).
//
// It owns the diagnostic mailbox (lane diagnostics, written by the judge stage in the same batch
// as each verdict). For each item, when the token bucket allows: the experts examine the session,
// the webhook (if configured) receives the session summary, and the diagnostic plus the deletion
// of the item are written in ONE RocksDB batch. The backlog waits durably; a restart continues it.
//
// Runs detached: the webhook call blocks (timeouts, backoff waits) on this actor's own thread.
#include <memory>
#include <unordered_map>

#include "actors/stages.hpp"
#include "model/log.hpp"
#include "topics/contracts/diagnostic_json.hpp"
#include "topics/contracts/session_json.hpp"
#include "topics/contracts/verdict_json.hpp"
#include "topics/webhook/httplib_transport.hpp"

namespace tw::actors {

namespace {

// At most this many diagnoses per message, so that control messages are not kept waiting.
constexpr int max_per_pump = 32;

struct diagnostic_state {
  std::unique_ptr<state::rate_limited_mailbox> queue;
  std::unique_ptr<state::outbox_writer> out;
  std::unique_ptr<judge::diagnostician> experts;
  std::unique_ptr<webhook::httplib_transport> transport;
  std::unique_ptr<webhook::thread_sleeper> sleeper;
  std::unique_ptr<webhook::webhook_client> hook;
  // What the judge handed over with the items it enqueued, by item sequence; items read back from
  // disk (after a restart, or past the bound) are decoded instead. At most the memory queue's size.
  std::unordered_map<uint64_t, std::shared_ptr<const diagnosis_items::judged_session>> handed;
  bool pump_pending = false;      // a pump message is on its way
  bool timer_pending = false;     // a delayed pump is scheduled (waiting for a token)
  control_ptr finishing;
};

}  // namespace

caf::behavior diagnostic_actor(caf::event_based_actor* self, caf::actor output, std::shared_ptr<state::store> store,
                               diagnostic_stage_config cfg, const clock* clk, shared_ptr_t shared) {
  auto st = std::make_shared<diagnostic_state>();
  auto* probe = &shared->probes.diagnostic;  // a pointer: [=] would copy a reference's object
  st->queue = std::make_unique<state::rate_limited_mailbox>(*store, state::mailbox_lane::diagnostics, cfg.mailbox,
                                                           clk->now(), probe->queue);
  st->out = std::make_unique<state::outbox_writer>(*store, state::outbox_lane::diagnostics);
  st->experts = std::make_unique<judge::diagnostician>(cfg.rules);
  if (cfg.webhook) {
    st->transport = std::make_unique<webhook::httplib_transport>();
    st->sleeper = std::make_unique<webhook::thread_sleeper>();
    st->hook = std::make_unique<webhook::webhook_client>(*cfg.webhook, *st->transport, *clk, *st->sleeper);
  }
  auto fail = [=](const std::string& why) {
    log::error("diagnostic stage failed; stopping (the backlog is kept for the next start)", {{"error", why}});
    shared->fail("diagnostic stage: " + why);
    self->quit(caf::exit_reason::user_shutdown);
  };
  if (auto s = st->out->open(); !s.ok()) {
    fail(s.message);
    return {};
  }

  // Adds the diagnosis of `item` (and the deletion of the item) to `batch`.
  auto diagnose = [=](const state::mailbox_item& item, rocksdb::WriteBatch& batch) {
    std::string session_json, verdict_json, why;
    std::shared_ptr<const diagnosis_items::judged_session> judged;
    if (auto it = st->handed.find(item.seq); it != st->handed.end()) {
      judged = std::move(it->second);
      st->handed.erase(it);
    }
    // The request's documents are split out only where they are read: to decode them, or for the
    // webhook (which receives the session as it was written).
    const bool request = (judged && !st->hook) || decode_diagnosis_request(item.payload, session_json, verdict_json);
    std::optional<session_summary> decoded_session;
    std::optional<verdict> decoded_verdict;
    if (!request) {
      why = "not a diagnosis request";
    } else if (!judged) {
      decoded_session = decode_session_json(session_json, &why);
      if (decoded_session) decoded_verdict = decode_verdict_json(verdict_json, &why);
    }
    const session_summary* session = judged ? judged->session.get() : decoded_session ? &*decoded_session : nullptr;
    const verdict* v = judged ? &judged->judged : decoded_verdict ? &*decoded_verdict : nullptr;
    if (request && session && v) {
      auto findings = st->experts->examine(*session, *v);
      probe->findings += findings.size();
      diagnostic d = judge::make_diagnostic(*v, std::move(findings), *cfg.rules);
      if (st->hook) {
        probe->queue.consumer.quiet_until(clk->now() + webhook::longest_call(*cfg.webhook));
        d.webhook = st->hook->post(session_json);
        probe->queue.consumer.resume(clk->now());
        if (d.webhook->status == webhook::outcome_delivered) ++probe->webhook_delivered;
        else if (d.webhook->status == webhook::outcome_circuit_open) ++probe->webhook_circuit_open;
        else ++probe->webhook_failed;
      }
      fit_diagnostic_json(d, cfg.max_record_bytes);
      std::string json = encode_diagnostic_json(d);
      if (cfg.keep_results) state::put_diagnostic_result(*store, batch, d.session_id, d.revision, v->closed_at, json);
      st->out->put(batch, cfg.diagnostics_topic, d.session_id, json);
    } else {
      // Written by the judge stage from documents it decoded: corrupt, not a user's mistake.
      log::error("a diagnosis request does not decode; skipped", {{"seq", item.seq}, {"error", why}});
    }
    st->queue->done(batch, item);
  };

  // Writes the diagnoses of one pump together.
  auto write = [=](rocksdb::WriteBatch& batch, int diagnosed) -> bool {
    if (diagnosed == 0) return true;
    st->out->save(batch);
    const auto s = store->write(batch, "writing diagnostics");
    if (!s.ok()) {
      fail(s.message);
      return false;
    }
    probe->diagnosed += diagnosed;
    self->send(output, outbox_end{state::outbox_lane::diagnostics, st->out->next()});
    return true;
  };

  auto schedule_pump = [=] {
    if (st->pump_pending) return;
    st->pump_pending = true;
    self->send(self, pump_atom::value);
  };

  auto finish = [=] {
    self->send(output, st->finishing);
    st->finishing.reset();
    self->quit();
  };

  auto pump = [=] {
    st->pump_pending = false;
    // At shutdown the backlog stays in RocksDB; at the end of a bounded input it is drained.
    if (st->finishing && st->finishing->what == control::kind::shutdown) return finish();
    rocksdb::WriteBatch batch;
    int diagnosed = 0;
    for (; diagnosed < max_per_pump; ++diagnosed) {
      if (auto s = st->queue->refill(); !s.ok()) return fail(s.message);
      wall_time now = clk->now(), retry_at;
      auto item = st->queue->take(now, retry_at);
      if (!item) {
        if (!write(batch, diagnosed)) return;
        if (retry_at == wall_time::max()) {
          if (st->finishing) finish();  // drained
          return;
        }
        if (!st->timer_pending) {  // wait for the next token, without blocking the thread
          st->timer_pending = true;
          probe->queue.consumer.quiet_until(retry_at);
          self->delayed_send(self, std::chrono::microseconds((retry_at - now).count()), caf::tick_atom::value);
        }
        return;
      }
      diagnose(*item, batch);
    }
    if (!write(batch, diagnosed)) return;
    schedule_pump();
  };

  schedule_pump();  // a backlog from before a restart starts at once
  return {
      [=](const diagnosis_items_ptr& in) {
        for (size_t i = 0; i < in->items.size(); ++i) {
          if (i < in->judged.size() && st->handed.size() < cfg.mailbox.memory_capacity)
            st->handed.emplace(in->items[i].seq, in->judged[i]);
          st->queue->offer(in->items[i]);
        }
        if (!st->timer_pending) schedule_pump();
      },
      [=](pump_atom) { pump(); },
      [=](caf::tick_atom) {
        st->timer_pending = false;
        pump();
      },
      [=](const control_ptr& c) {
        st->finishing = c;
        schedule_pump();
      },
  };
}

}  // namespace tw::actors
