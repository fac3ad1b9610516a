// The alert stage: alert facts and the clock marks of its input in, alert events out
// (docs/alerts.md).
//
// It owns the alert queue (mailbox lane alerts, written by the judge stage in the same batch as
// each verdict) and the alert engine's state (column family alerts). For a run of queue items it
// writes, in ONE RocksDB batch: the engine state they changed, the alert events they caused
// (outbox lane alerts, and — with a notification target — mailbox lane notifications) and the
// deletion of the items. A crash anywhere replays what was not written onto the state as it was
// written: no transition is lost, none is emitted twice.
//
// The clock is the marks: facts carry their event time, marks the watermark of the state stage
// (state/queue_items.hpp). The engine evaluates fixed event-time instants, so the events do not
// depend on how the marks fall — live, replayed, or after a restart.
#include <time.h>

#include <memory>

#include "actors/stages.hpp"
#include "model/log.hpp"
#include "state/queue_items.hpp"
#include "topics/contracts/alert_json.hpp"

namespace tw::actors {

namespace {

// Queue items applied per write at most, so that control messages are not kept waiting.
constexpr size_t max_per_write = 4096;
// Every write carries the state of every group visited since the last one, so the stage gathers
// items for a moment before it writes rather than writing per hand-over (measured: a write per
// hand-over made the stage 38% of a replay's CPU). Alerts are late by at most this much.
constexpr size_t gather_items = 1024;
constexpr auto gather_wait = std::chrono::milliseconds(50);

struct alert_stage_state {
  std::unique_ptr<alerts::alert_engine> engine;
  std::unique_ptr<state::rate_limited_mailbox> queue;
  std::unique_ptr<state::outbox_writer> out;
  std::unique_ptr<state::mailbox_writer> notifications;  // with a notification target only
  bool pump_pending = false;
  control_ptr finishing;
};

// CPU time of the calling thread, in microseconds (the stage's share of the pipeline's CPU).
uint64_t thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// Loads the engine's state as the last write left it.
state::store_status restore_engine(state::store& store, alerts::alert_engine& engine) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(rocksdb::ReadOptions(), store.handle(state::cf::alerts)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) entries.emplace_back(it->key().ToString(), it->value().ToString());
  if (!it->status().ok()) return state::store_status::from(it->status(), "reading the alert state");
  if (auto problem = engine.restore(entries))
    // Entries of rules that were removed or changed since they were written: their alerts start
    // afresh, which is what a rules change asks for.
    log::warn("alert state entries were dropped", {{"why", *problem}});
  return {};
}

}  // namespace

caf::behavior alert_actor(caf::event_based_actor* self, caf::actor next, caf::actor notifier, caf::actor output,
                          std::shared_ptr<state::store> store, alert_stage_config cfg, const clock* clk,
                          shared_ptr_t shared) {
  auto st = std::make_shared<alert_stage_state>();
  auto* probe = &shared->probes.alerts;  // a pointer: [=] would copy a reference's object
  state::mailbox_settings ms;            // no rate limit: evaluation is cheap and local
  ms.memory_capacity = cfg.memory_queue;
  st->engine = std::make_unique<alerts::alert_engine>(cfg.rules, cfg.limits);
  st->queue = std::make_unique<state::rate_limited_mailbox>(*store, state::mailbox_lane::alerts, ms, clk->now(),
                                                           probe->queue);
  st->out = std::make_unique<state::outbox_writer>(*store, state::outbox_lane::alerts);
  if (notifier) st->notifications = std::make_unique<state::mailbox_writer>(*store, state::mailbox_lane::notifications);
  auto fail = [=](const std::string& why) {
    log::error("alert stage failed; stopping (a restart continues from the last write)", {{"error", why}});
    shared->fail("alert stage: " + why);
    self->quit(caf::exit_reason::user_shutdown);
  };
  for (auto s : {st->out->open(), st->notifications ? st->notifications->open() : state::store_status{},
                 restore_engine(*store, *st->engine)})
    if (!s.ok()) {
      fail(s.message);
      return {};
    }
  auto firing = st->engine->firing();
  probe->firing_now = firing.size();
  if (notifier) {  // what fires now is re-sent to Alertmanager, which forgets it otherwise
    auto seed = std::make_shared<notification_items>();
    seed->firing = std::move(firing);
    self->send(notifier, seed);
  }

  auto publish = [=] {
    const auto& c = st->engine->counters();
    probe->facts = c.facts;
    probe->late = c.late;
    probe->revisions_ignored = c.revisions_ignored;
    probe->folded = c.folded;
    probe->inhibited = c.inhibited;
    probe->groups = st->engine->groups();
    probe->clock_us = st->engine->clock().micros();
  };

  // Writes the engine's changes, the events and the deletion of `done` items in one batch.
  auto write = [=](rocksdb::WriteBatch& batch, const std::vector<alerts::alert_event>& events) -> bool {
    st->engine->take_changes([&](std::string_view key, const std::optional<std::string>& value) {
      auto* cf = store->handle(state::cf::alerts);
      if (value) batch.Put(cf, rocksdb::Slice(key.data(), key.size()), *value);
      else batch.Delete(cf, rocksdb::Slice(key.data(), key.size()));
    });
    auto handed = std::make_shared<notification_items>();
    for (const auto& e : events) {
      std::string json = encode_alert_json(e);
      st->out->put(batch, cfg.alerts_topic, e.alert_id, json);
      if (st->notifications) handed->items.push_back(st->notifications->put(batch, std::move(json), clk->now()));
      ++(e.state == alerts::alert_state::firing ? probe->fired : probe->resolved);
      // Alerts firing now follow from the events: a first firing starts one, a resolution ends it.
      if (e.state == alerts::alert_state::resolved) --probe->firing_now;
      else if (e.repeat == 0) ++probe->firing_now;
    }
    if (batch.Count() == 0) return true;
    st->out->save(batch);
    if (st->notifications) st->notifications->save(batch);
    auto s = store->db()->Write(store->write_options(), &batch);
    if (!s.ok()) {
      fail(state::store_status::from(s, "writing alert state and events").message);
      return false;
    }
    publish();
    if (!events.empty()) self->send(output, outbox_end{state::outbox_lane::alerts, st->out->next()});
    if (!handed->items.empty()) self->send(notifier, handed);
    return true;
  };

  // Applies one queue item to the engine; its events join `events`.
  auto apply = [=](const state::mailbox_item& item, std::vector<alerts::alert_event>& events) {
    switch (state::kind_of(item.payload)) {
      case state::queue_item_kind::fact:
        if (auto f = alerts::decode_fact(state::unwrap_fact(item.payload))) {
          st->engine->apply(*f);
          return;
        }
        break;
      case state::queue_item_kind::mark:
        if (auto w = state::decode_mark(item.payload)) {
          ++probe->marks;
          // The state stage flushed (end of a bounded replay): every window drains.
          auto more = *w == event_time::max() ? st->engine->flush() : st->engine->advance(*w);
          events.insert(events.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
          return;
        }
        break;
      default:
        break;
    }
    // Written by the judge stage: corrupt, not a user's mistake.
    log::error("an alert queue item does not decode; skipped", {{"seq", item.seq}});
    ++probe->invalid;
  };

  auto schedule_pump = [=] {
    if (st->pump_pending) return;
    st->pump_pending = true;
    if (!st->finishing && probe->queue.depth() < gather_items) self->delayed_send(self, gather_wait, pump_atom::value);
    else self->send(self, pump_atom::value);
  };

  auto finish = [=] {
    self->send(next, st->finishing);
    st->finishing.reset();
    self->quit();
  };

  auto pump = [=] {
    st->pump_pending = false;
    // At shutdown the queue stays durable for the next start; at the end of a bounded input it is
    // drained first.
    if (st->finishing && st->finishing->what == control::kind::shutdown) return finish();
    const uint64_t cpu_at_start = thread_cpu_us();
    rocksdb::WriteBatch batch;
    std::vector<alerts::alert_event> events;
    size_t taken = 0;
    for (; taken < max_per_write; ++taken) {
      if (auto s = st->queue->refill(); !s.ok()) return fail(s.message);
      wall_time retry_at;
      auto item = st->queue->take(clk->now(), retry_at);
      if (!item) break;
      apply(*item, events);
      st->queue->done(batch, *item);
    }
    if (!write(batch, events)) return;
    probe->cpu_us += thread_cpu_us() - cpu_at_start;
    if (taken == max_per_write) return schedule_pump();
    if (st->finishing && st->queue->idle()) finish();
  };

  schedule_pump();  // a backlog from before a restart starts at once
  return {
      [=](const alert_items_ptr& in) {
        for (auto& item : in->items) st->queue->offer(std::move(item));
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
