// The output stage's shell: runs output_stage in a loop while there is work, and answers the end
// of input or a shutdown once the outbox is delivered (or the drain timeout passed).
#include <memory>

#include "actors/stages.hpp"
#include "model/log.hpp"

namespace tw::actors {

namespace {
struct output_actor_state {
  std::unique_ptr<output_stage> stage;
  bool looping = false;      // a poll_atom is on its way
  control_ptr finishing;     // end_of_input / shutdown waiting for the drain
  wall_time drain_deadline;
};
}  // namespace

output_stage_config output_stage_config_from(const config::settings& s) {
  output_stage_config c;
  c.deadletter_topic = s.topics.deadletter;
  c.stall_after = s.output.stall_timeout;
  c.max_record_bytes = static_cast<size_t>(s.output.max_record_bytes);
  return c;
}

caf::behavior output_actor(caf::event_based_actor* self, std::shared_ptr<state::store> store,
                           std::shared_ptr<record_writer> writer, const clock* clk, duration drain_timeout,
                           output_stage_config cfg, shared_ptr_t shared) {
  auto st = std::make_shared<output_actor_state>();
  st->stage = std::make_unique<output_stage>(*store, *writer, *clk, shared->probes.output, std::move(cfg));
  auto finish = [=](bool drained) {
    auto c = st->finishing;
    st->finishing.reset();
    if (!drained) {
      log::warn("output not fully delivered before the drain timeout; it stays in the outbox for the next start",
                {{"backlog", shared->probes.output.backlog.load()}});
    }
    if (c && c->done_reply) c->done_reply->set_value(c->report);
    self->quit();
  };
  auto loop = [=] {
    if (!st->looping) {
      st->looping = true;
      self->send(self, poll_atom::value);
    }
  };
  return {
      [=](outbox_end e) {
        shared->probes.output.alive.beat(clk->now());
        st->stage->available(e.lane, e.seq);
        loop();
      },
      [=](poll_atom) {
        shared->probes.output.alive.beat(clk->now());
        st->looping = false;
        std::string error;
        if (!st->stage->step(std::chrono::milliseconds(10), error)) {
          log::error("output stage failed", {{"error", error}});
          shared->fail("output stage: " + error);
          if (st->finishing) {
            st->finishing->report.ok = false;
            st->finishing->report.error = error;
          }
          return finish(false);
        }
        if (st->finishing) {
          if (st->stage->idle()) return finish(true);
          if (clk->now() >= st->drain_deadline) return finish(false);
        }
        if (!st->stage->idle() || writer->in_flight() > 0 || st->finishing) loop();
      },
      [=](const control_ptr& c) {
        st->finishing = c;
        st->drain_deadline = clk->now() + drain_timeout;
        loop();
      },
  };
}

}  // namespace tw::actors
