// The notifier stage: alert events in, Alertmanager and/or the alert webhook out
// (docs/notifications.md).
//
// It owns the notification queue (mailbox lane notifications, written by the alert stage in the
// same batch as each alert event). Events go out in queue order, one at a time: an event is
// deleted from the queue (one small write) only once every target accepted it; until then it is
// tried again when the notifier says (growing waits, never dropped), and the events behind it
// wait — an alert's resolution must not overtake its firing. Evaluation never waits for this
// stage: the queue is durable and unbounded on disk. Firing alerts are re-sent to Alertmanager
// every alerts.alertmanager.resend_interval, as Prometheus does, so that it does not time them
// out.
//
// Runs detached: the HTTP calls block on this actor's own thread.
#include <memory>

#include "actors/stages.hpp"
#include "model/log.hpp"
#include "topics/contracts/alert_json.hpp"
#include "topics/webhook/httplib_transport.hpp"

namespace tw::actors {

namespace {

struct notifier_state {
  std::unique_ptr<state::rate_limited_mailbox> queue;
  std::unique_ptr<webhook::httplib_transport> transport;
  std::unique_ptr<webhook::thread_sleeper> sleeper;
  std::unique_ptr<alertmanager::notifier> out;
  std::optional<state::mailbox_item> head;  // taken, not yet delivered
  bool pump_pending = false;
  bool timer_pending = false;
  bool failing = false;  // the head's last delivery failed (logged once until it succeeds)
  control_ptr finishing;
};

}  // namespace

caf::behavior notifier_actor(caf::event_based_actor* self, caf::actor next, std::shared_ptr<state::store> store,
                             alertmanager::notifier_settings settings, const clock* clk, shared_ptr_t shared) {
  auto st = std::make_shared<notifier_state>();
  auto* probe = &shared->probes.notifier;  // a pointer: [=] would copy a reference's object
  state::mailbox_settings ms;
  ms.memory_capacity = 1000;
  st->queue = std::make_unique<state::rate_limited_mailbox>(*store, state::mailbox_lane::notifications, ms, clk->now(),
                                                           probe->queue);
  st->transport = std::make_unique<webhook::httplib_transport>();
  st->sleeper = std::make_unique<webhook::thread_sleeper>();
  // The longest one deliver() or re-send blocks: a call to each target.
  const duration longest_delivery = webhook::longest_call(settings.delivery) * 2;
  st->out = std::make_unique<alertmanager::notifier>(std::move(settings), *st->transport, *clk, *st->sleeper);

  auto fail = [=](const std::string& why) {
    log::error("notifier stage failed; stopping (the queue is kept for the next start)", {{"error", why}});
    shared->fail("notifier stage: " + why);
    self->quit(caf::exit_reason::user_shutdown);
  };

  auto schedule_pump = [=] {
    if (st->pump_pending) return;
    st->pump_pending = true;
    self->send(self, pump_atom::value);
  };
  auto wake_at = [=](wall_time at) {
    if (st->timer_pending) return;
    st->timer_pending = true;
    probe->queue.consumer.quiet_until(at);  // the head waits for its retry: not a wedge
    auto wait = std::max<int64_t>(0, (at - clk->now()).count());
    self->delayed_send(self, std::chrono::microseconds(wait), caf::tick_atom::value);
  };
  auto finish = [=] {
    // The queue stays durable: what is not delivered goes out after the next start (a replay
    // has no notifier).
    if (auto depth = probe->queue.depth(); depth > 0)
      log::warn("alert notifications not yet delivered are kept for the next start", {{"count", depth}});
    self->send(next, st->finishing);
    st->finishing.reset();
    self->quit();
  };

  auto pump = [=] {
    st->pump_pending = false;
    if (st->finishing) return finish();
    wall_time next_at = wall_time::max();
    probe->queue.consumer.quiet_until(clk->now() + longest_delivery);
    auto resent = st->out->resend_due(clk->now());
    probe->queue.consumer.resume(clk->now());
    probe->resent += resent.resent;
    next_at = std::min(next_at, resent.next_at);
    for (int sent = 0; sent < 64; ++sent) {
      if (!st->head) {
        if (auto s = st->queue->refill(); !s.ok()) return fail(s.message);
        wall_time retry_at;
        st->head = st->queue->take(clk->now(), retry_at);
        if (!st->head) break;
      }
      std::string why;
      auto e = decode_alert_json(st->head->payload, &why);
      if (e) {
        probe->queue.consumer.quiet_until(clk->now() + longest_delivery);
        auto outcome = st->out->deliver(*e);
        probe->queue.consumer.resume(clk->now());
        if (!outcome.delivered) {
          ++probe->retries;
          if (!st->failing)
            log::warn("an alert notification was not delivered; retrying until it is",
                      {{"alert_id", e->alert_id}, {"state", alerts::to_string(e->state)}, {"error", outcome.error}});
          st->failing = true;
          next_at = std::min(next_at, outcome.retry_at);
          break;
        }
        if (st->failing) log::info("alert notifications are delivered again", {{"alert_id", e->alert_id}});
        st->failing = false;
        ++probe->delivered;
      } else {  // written by the alert stage: corrupt, not a user's mistake
        log::error("a queued alert notification does not decode; skipped", {{"seq", st->head->seq}, {"error", why}});
      }
      rocksdb::WriteBatch batch;
      st->queue->done(batch, *st->head);
      if (auto s = store->db()->Write(store->write_options(), &batch); !s.ok())
        return fail(state::store_status::from(s, "deleting a delivered notification").message);
      st->head.reset();
    }
    if (st->head || !st->queue->idle()) {
      if (!st->failing) return schedule_pump();  // more to send now
    }
    if (next_at != wall_time::max()) wake_at(next_at);
  };

  schedule_pump();  // a backlog from before a restart starts at once
  return {
      [=](const notification_items_ptr& in) {
        if (!in->firing.empty()) st->out->remember_firing(in->firing);
        for (auto& item : in->items) st->queue->offer(std::move(item));
        if (!st->failing) schedule_pump();
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
