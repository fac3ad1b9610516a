// The alert stage: alert facts and the clock marks of its input in, alert events out
// (docs/alerts.md).
//
// It owns the alert queue (mailbox lane alerts, written by the judge stage in the same batch as
// each verdict) and the alert engine's state (column family alerts). The engine's state is written
// as a checkpoint, not per item: rewriting every group a fact touched on every write cost more
// than the evaluation itself (measured: 290,000 group writes for 10,638 verdicts). So:
// - the items applied since the last checkpoint stay in the queue (their deletion waits for the
//   checkpoint), and a restart applies them again onto the checkpointed state;
// - every write that carries alert events also records how many events the stage has written in
//   all (`n`), and the checkpoint how many the engine had produced at it (`c`). The engine is
//   deterministic, so after a restart it produces the same events again from the checkpoint: the
//   first n - c of them are the ones already written, and are not written twice;
// - a checkpoint is the engine's changed state, `c`, and the deletion of the items it covers, in
//   ONE RocksDB batch, every checkpoint_every or checkpoint_items, at the end of a bounded input
//   and at shutdown.
// A crash anywhere thus loses no transition and writes none twice.
//
// key (column family alerts, beside the engine's own: alerts/alert_state_codec.hpp)
//   'c' := version:u8(=1) produced:varint settings:bytes   the last checkpoint
//   'n' := version:u8(=1) written:varint                     events written in all
// `settings` is the fingerprint of the rules and limits the events were produced under: after a
// change, the events since the checkpoint are not the same events, so none is held back (a change
// of rules together with a crash may repeat up to a checkpoint's worth of alert events).
//
// The clock is the marks: facts carry their event time, marks the watermark of the state stage
// (state/queue_items.hpp). The engine evaluates fixed event-time instants, so the events do not
// depend on how the marks fall — live, replayed, or after a restart.
#include <time.h>

#include <map>
#include <memory>

#include "actors/stages.hpp"
#include "alerts/alert_rules.hpp"
#include "model/log.hpp"
#include "state/queue_items.hpp"
#include "topics/contracts/alert_json.hpp"

namespace tw::actors {

namespace {

// Queue items applied per write at most, so that control messages are not kept waiting.
constexpr size_t max_per_write = 4096;
// The stage gathers items for a moment before it writes rather than writing per hand-over.
// Alerts are late by at most this much.
constexpr size_t gather_items = 1024;
constexpr auto gather_wait = std::chrono::milliseconds(50);
// A restart applies again at most this much of the queue.
constexpr auto checkpoint_every = std::chrono::seconds(5);
constexpr size_t checkpoint_items = 100000;

constexpr std::string_view checkpoint_key = "c";
constexpr std::string_view written_key = "n";

std::string encode_checkpoint(uint64_t produced, std::string_view settings) {
  std::string out;
  state::writer w(out);
  w.u8(1);
  w.varint(produced);
  w.bytes(settings);
  return out;
}

std::string encode_written(uint64_t written) {
  std::string out;
  state::writer w(out);
  w.u8(1);
  w.varint(written);
  return out;
}

// The rules and limits the engine's events depend on.
std::string settings_fingerprint(const alert_stage_config& cfg) {
  return cfg.rules->version() + "/" + std::to_string(cfg.limits.max_groups_per_rule) + "/" +
         std::to_string(cfg.limits.examples_max);
}

struct alert_stage_state {
  std::unique_ptr<alerts::alert_engine> engine;
  std::unique_ptr<state::rate_limited_mailbox> queue;
  std::unique_ptr<state::outbox_writer> out;
  std::unique_ptr<state::mailbox_writer> notifications;  // with a notification target only
  bool pump_pending = false;
  control_ptr finishing;
  // Events: produced by the engine in all (counted from the checkpoint), and written in all. While
  // produced < written, the engine is producing again what was written before a restart.
  uint64_t produced = 0;
  uint64_t written = 0;
  bool seed_pending = false;  // the notifier's seed waits until the engine has caught up
  bool checkpoint_timer = false;
  std::vector<uint64_t> applied;  // queue items applied since the checkpoint (deleted with the next)
  wall_time checkpointed_at;
};

// CPU time of the calling thread, in microseconds (the stage's share of the pipeline's CPU).
uint64_t thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// Loads the engine's state as the last checkpoint left it, and the event counts.
state::store_status restore(state::store& store, const alert_stage_config& cfg, alert_stage_state& st) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::optional<std::string> checkpoint, written;
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(rocksdb::ReadOptions(), store.handle(state::cf::alerts)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key() == rocksdb::Slice(checkpoint_key.data(), checkpoint_key.size())) checkpoint = it->value().ToString();
    else if (it->key() == rocksdb::Slice(written_key.data(), written_key.size())) written = it->value().ToString();
    else entries.emplace_back(it->key().ToString(), it->value().ToString());
  }
  if (!it->status().ok()) return state::store_status::from(it->status(), "reading the alert state");
  if (auto problem = st.engine->restore(entries))
    // Entries of rules that were removed or changed since they were written: their alerts start
    // afresh, which is what a rules change asks for.
    log::warn("alert state entries were dropped", {{"why", *problem}});
  std::string settings;
  if (checkpoint) {
    state::reader r(*checkpoint);
    const uint8_t version = r.u8();
    st.produced = r.varint();
    settings = std::string(r.bytes());
    if (!r.ok() || version != 1) return state::store_status::corrupt("alert stage checkpoint");
  }
  st.written = st.produced;
  if (written) {
    state::reader r(*written);
    const uint8_t version = r.u8();
    const uint64_t n = r.varint();
    if (!r.ok() || version != 1) return state::store_status::corrupt("alert stage event count");
    if (n > st.produced && settings != settings_fingerprint(cfg))
      log::warn("the alert rules changed after the last alert checkpoint and before a crash: alert events produced "
                "since that checkpoint may be written again",
                {{"events", n - st.produced}});
    else
      st.written = std::max(n, st.produced);
  }
  if (st.written > st.produced)
    log::info("the alert stage applies the queue since its checkpoint again; the events it wrote since are held back",
              {{"events", st.written - st.produced}});
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
                 restore(*store, cfg, *st)})
    if (!s.ok()) {
      fail(s.message);
      return {};
    }
  st->checkpointed_at = clk->now();
  probe->firing_now = st->engine->firing().size();
  // The stored firing alerts (state/results.hpp) follow the events written; they can disagree
  // with the engine only across a start — rules that changed dropped alerts without resolving
  // them, or the results were not kept before — so they are set to what the engine says fires.
  auto reconcile_firing = [=]() -> bool {
    if (!cfg.keep_results) return true;
    std::vector<std::pair<std::string, std::string>> stored;
    if (auto s = state::results_reader(*store).firing_alerts(stored); !s.ok()) {
      fail(s.message);
      return false;
    }
    std::map<std::string, const alerts::alert_event*> now;
    const auto firing = st->engine->firing();
    for (const auto& e : firing) now.emplace(e.alert_id, &e);
    rocksdb::WriteBatch batch;
    for (const auto& [id, json] : stored)
      if (!now.erase(id)) state::remove_firing_alert(*store, batch, id);
    for (const auto& [id, e] : now) state::put_firing_alert(*store, batch, id, encode_alert_json(*e));
    if (batch.Count() == 0) return true;
    if (auto s = store->db()->Write(store->write_options(), &batch); !s.ok()) {
      fail(state::store_status::from(s, "writing the alerts firing now").message);
      return false;
    }
    return true;
  };
  // What fires now is re-sent to Alertmanager, which forgets it otherwise; once the engine has
  // produced again what it wrote before a restart, so that it is what fired then.
  auto seed_notifier = [=] {
    st->seed_pending = false;
    if (!reconcile_firing()) return;
    if (!notifier) return;
    auto seed = std::make_shared<notification_items>();
    seed->firing = st->engine->firing();
    self->send(notifier, seed);
  };
  if (st->produced < st->written) {
    st->seed_pending = true;
  } else {
    seed_notifier();
    if (shared->failed) return {};
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

  // Writes the events not written before (with the count), and with `checkpoint` the engine's
  // changes and the deletion of the items applied since the last checkpoint, in one batch.
  auto write = [=](rocksdb::WriteBatch& batch, const std::vector<alerts::alert_event>& events, bool checkpoint) -> bool {
    auto* cf = store->handle(state::cf::alerts);
    auto handed = std::make_shared<notification_items>();
    bool wrote = false;
    for (const auto& e : events) {
      // Alerts firing now follow from the events: a first firing starts one, a resolution ends it.
      if (e.state == alerts::alert_state::resolved) --probe->firing_now;
      else if (e.repeat == 0) ++probe->firing_now;
      if (st->produced++ < st->written) continue;  // written before a restart
      std::string json = encode_alert_json(e);
      st->out->put(batch, cfg.alerts_topic, e.alert_id, json);
      if (cfg.keep_results) {
        // What fires now, for queries: written with the event, so the two never disagree.
        if (e.state == alerts::alert_state::resolved) state::remove_firing_alert(*store, batch, e.alert_id);
        else state::put_firing_alert(*store, batch, e.alert_id, json);
      }
      if (st->notifications) handed->items.push_back(st->notifications->put(batch, std::move(json), clk->now()));
      ++(e.state == alerts::alert_state::firing ? probe->fired : probe->resolved);
      wrote = true;
    }
    if (wrote) {
      st->written = st->produced;
      batch.Put(cf, rocksdb::Slice(written_key.data(), written_key.size()), encode_written(st->written));
    }
    if (checkpoint) {
      st->engine->take_changes([&](std::string_view key, const std::optional<std::string>& value) {
        if (value) batch.Put(cf, rocksdb::Slice(key.data(), key.size()), *value);
        else batch.Delete(cf, rocksdb::Slice(key.data(), key.size()));
      });
      batch.Put(cf, rocksdb::Slice(checkpoint_key.data(), checkpoint_key.size()),
                encode_checkpoint(st->produced, settings_fingerprint(cfg)));
      for (uint64_t seq : st->applied) st->queue->done(batch, seq);
    }
    if (batch.Count() == 0) return true;
    if (wrote) {
      st->out->save(batch);
      if (st->notifications) st->notifications->save(batch);
    }
    const auto s = store->write(batch, "writing alert state and events");
    if (!s.ok()) {
      fail(s.message);
      return false;
    }
    if (checkpoint) {
      st->applied.clear();
      st->checkpointed_at = clk->now();
    }
    publish();
    if (wrote) self->send(output, outbox_end{state::outbox_lane::alerts, st->out->next()});
    if (!handed->items.empty()) self->send(notifier, handed);
    if (st->seed_pending && st->produced >= st->written) seed_notifier();
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
    const uint64_t cpu_at_start = thread_cpu_us();
    // At shutdown the queue stays durable for the next start (a checkpoint first, so that the
    // next start need not apply again what was applied); at the end of a bounded input it is
    // drained first.
    if (st->finishing && st->finishing->what == control::kind::shutdown) {
      rocksdb::WriteBatch batch;
      if (!write(batch, {}, true)) return;
      probe->cpu_us += thread_cpu_us() - cpu_at_start;
      return finish();
    }
    rocksdb::WriteBatch batch;
    std::vector<alerts::alert_event> events;
    size_t taken = 0;
    for (; taken < max_per_write; ++taken) {
      if (auto s = st->queue->refill(); !s.ok()) return fail(s.message);
      wall_time retry_at;
      auto item = st->queue->take(clk->now(), retry_at);
      if (!item) break;
      apply(*item, events);
      st->applied.push_back(item->seq);
    }
    const bool drained = taken < max_per_write && st->finishing && st->queue->idle();
    const bool checkpoint = drained || st->applied.size() >= checkpoint_items ||
                            (!st->applied.empty() && clk->now() - st->checkpointed_at >= checkpoint_every);
    if (st->seed_pending && st->queue->idle() && st->produced < st->written) {
      // Cannot happen with the same rules and queue; should it, the count is not to be trusted.
      log::warn("after a restart the alert stage produced fewer events than it had written; writing new events again",
                {{"produced", st->produced}, {"written", st->written}});
      st->written = st->produced;
    }
    if (!write(batch, events, checkpoint)) return;
    probe->cpu_us += thread_cpu_us() - cpu_at_start;
    if (taken == max_per_write) return schedule_pump();
    if (!st->applied.empty() && !st->finishing && !st->checkpoint_timer) {
      // The checkpoint is written when it is due, even if no item comes by then.
      st->checkpoint_timer = true;
      self->delayed_send(self, checkpoint_every, checkpoint_atom::value);
    }
    if (drained) finish();
  };

  schedule_pump();  // a backlog from before a restart starts at once
  return {
      [=](const alert_items_ptr& in) {
        for (auto& item : in->items) st->queue->offer(std::move(item));
        st->queue->known_until(in->queue_end);
        schedule_pump();
      },
      [=](pump_atom) { pump(); },
      [=](checkpoint_atom) {
        st->checkpoint_timer = false;
        schedule_pump();
      },
      [=](const control_ptr& c) {
        st->finishing = c;
        schedule_pump();
      },
  };
}

}  // namespace tw::actors
