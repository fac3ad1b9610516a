// The state stage's shell: owns the session_engine (and so the RocksDB write path), applies
// batches, answers rebalances, ticks for idle partitions, hands completed sessions to the judge
// stage, and tells the output stage how far its outbox lane has grown.
#include <chrono>
#include <memory>
#include <set>

#include "actors/stages.hpp"
#include "model/log.hpp"

namespace tw::actors {

namespace {
struct state_stage_state {
  std::unique_ptr<state::session_engine> engine;
  bool stopping = false;
  std::set<topic_partition> reported_away;  // partitions whose long absence was logged
  uint64_t judge_end_sent = 0;              // the judge queue's end, as last told to the judge stage
};

// A partition revoked and not assigned back within this long is held by another consumer of the
// group (a rebalance returns partitions within seconds).
constexpr auto away_report_after = std::chrono::seconds(60);
}  // namespace

caf::behavior state_actor(caf::event_based_actor* self, caf::actor judge, caf::actor output,
                          std::shared_ptr<state::store> store, state_stage_config cfg, const clock* clk,
                          shared_ptr_t shared) {
  auto st = std::make_shared<state_stage_state>();
  auto* probe = &shared->probes.engine;  // a pointer: [=] would copy a reference's object
  st->engine = std::make_unique<state::session_engine>(*store, cfg.engine, *probe);
  auto fail = [=](const state::store_status& s) {
    log::error("state stage failed; stopping (a restart resumes from the last committed batch)",
               {{"error", s.message}});
    shared->fail("state stage: " + s.message);
    st->stopping = true;
    self->quit(caf::exit_reason::user_shutdown);
  };
  if (auto s = st->engine->open(clk->now()); !s.ok()) {
    fail(s);
    return {};
  }
  // After each commit: the judge stage gets the sessions the commit enqueued (they are durable
  // already; this only saves it reading them back), the output stage the outbox's new end.
  auto committed = [=] {
    auto items = st->engine->take_judge_items();
    const uint64_t end = st->engine->judge_queue_end();
    if (!items.empty() || end > st->judge_end_sent) {
      auto msg = std::make_shared<judge_items>();
      msg->items = std::move(items);
      msg->queue_end = end;
      st->judge_end_sent = end;
      self->send(judge, msg);
    }
    self->send(output, outbox_end{state::outbox_lane::sessions, st->engine->outbox_end()});
  };
  self->send(output, outbox_end{state::outbox_lane::sessions, st->engine->outbox_end()});
  probe->alive.beat(clk->now());
  if (cfg.live) self->delayed_send(self, cfg.tick_interval, caf::tick_atom::value);
  return {
      [=](const parsed_batch_ptr& b) {
        if (st->stopping) return;
        probe->alive.beat(clk->now());
        auto n = static_cast<int64_t>(b->records.size());
        const auto started = std::chrono::steady_clock::now();
        if (auto s = st->engine->apply(b->records, clk->now()); !s.ok()) return fail(s);
        probe->batch_duration.record(
            std::chrono::duration_cast<duration>(std::chrono::steady_clock::now() - started));
        for (const auto& tp : b->reached_end) {
          if (cfg.live) {
            st->engine->set_caught_up(tp, true);
          } else if (auto s = st->engine->finish_partition(tp, clk->now()); !s.ok()) {
            return fail(s);  // a finished range: nothing more will come from it
          }
        }
        shared->probes.in_flight_records -= n;
        shared->notify_progress();
        // Durable now: the source thread may commit these positions to the consumer group.
        if (cfg.live) shared->positions.publish(st->engine->committed_positions());
        committed();
      },
      [=](caf::tick_atom) {
        if (st->stopping) return;
        probe->alive.beat(clk->now());
        if (auto s = st->engine->tick(clk->now(), cfg.idle_timeout); !s.ok()) return fail(s);
        probe->partitions.publish(st->engine->partition_positions());
        for (const auto& [tp, since] : st->engine->away_since(clk->now() - away_report_after)) {
          if (!st->reported_away.insert(tp).second) continue;
          log::error("a partition was revoked and another consumer of the group holds it: tracewatch runs as one "
                     "instance per consumer group, and holds the watermark where that partition's progress was "
                     "(no session completes) until it is assigned back or this process restarts",
                     {{"partition", tp.to_string()}, {"away_for_s", std::chrono::duration_cast<std::chrono::seconds>(clk->now() - since).count()}});
        }
        committed();
        self->delayed_send(self, cfg.tick_interval, caf::tick_atom::value);
      },
      [=](const control_ptr& c) {
        probe->alive.beat(clk->now());
        switch (c->what) {
          case control::kind::assign: {
            std::vector<std::pair<topic_partition, std::optional<offset>>> resume_at;
            std::vector<std::optional<offset>> out;
            if (auto s = st->engine->assign(c->partitions, clk->now(), resume_at); !s.ok()) {
              c->offsets_reply->set_value(std::vector<std::optional<offset>>(c->partitions.size()));
              return fail(s);
            }
            for (auto& [tp, off] : resume_at) {
              out.push_back(off);
              st->reported_away.erase(tp);
            }
            c->offsets_reply->set_value(std::move(out));
            probe->partitions.publish(st->engine->partition_positions());
            committed();
            break;
          }
          case control::kind::watermark:
            if (st->stopping) return;
            if (auto s = st->engine->apply_watermark_record(*c->record, clk->now()); !s.ok()) return fail(s);
            committed();
            break;
          case control::kind::revoke: {
            // Everything consumed from these partitions before the revocation was applied (it
            // came first on this path) and committed with its offsets: those are their final
            // positions, which the consumer commits to the group before letting them go.
            st->engine->revoke(c->partitions, clk->now());
            probe->partitions.publish(st->engine->partition_positions());
            std::vector<std::optional<offset>> final_positions;
            for (const auto& tp : c->partitions) final_positions.push_back(st->engine->stored_offset(tp));
            c->offsets_reply->set_value(std::move(final_positions));
            break;
          }
          case control::kind::end_of_input: {
            auto& report = c->report;
            if (c->flush)
              if (auto s = st->engine->flush(clk->now()); !s.ok()) {
                report.ok = false;
                report.error = s.message;
                shared->fail("state stage: " + s.message);
              }
            if (auto s = st->engine->open_sessions(20, report.open_session_ids, report.open_sessions); !s.ok()) {
              report.ok = false;
              report.error = s.message;
            }
            // Judged, diagnosed and delivered, the output stage answers.
            committed();
            self->send(judge, c);
            st->stopping = true;
            self->quit();
            break;
          }
          case control::kind::shutdown:
            st->stopping = true;
            committed();
            self->send(judge, c);
            self->quit();
            break;
        }
      },
  };
}

}  // namespace tw::actors
