// The importer: raw messages in, parsed records out, in the order received.
#include <memory>

#include "actors/stages.hpp"

namespace tw::actors {

namespace {
struct importer_state {
  std::unique_ptr<payload_parser> parser;
};
}  // namespace

caf::behavior importer_actor(caf::event_based_actor* self, caf::actor next, importer_config cfg, const clock* clk,
                             shared_ptr_t shared) {
  auto st = std::make_shared<importer_state>();
  st->parser = std::make_unique<payload_parser>(cfg.limits);
  return {
      [=](const input_batch_ptr& in) {
        auto& probe = shared->probes.importer;
        probe.alive.beat(clk->now());
        auto out = std::make_shared<parsed_batch>();
        out->records.reserve(in->records.size());
        for (auto& raw : in->records) {
          auto fmt = cfg.default_format;
          if (auto it = cfg.format_by_topic.find(raw.position.tp.topic); it != cfg.format_by_topic.end())
            fmt = it->second;
          parse_result parsed = st->parser->parse(raw.payload, fmt);
          state::consumed_record rec;
          rec.position = raw.position;
          rec.key = std::move(raw.key);
          rec.payload = std::move(raw.payload);
          rec.observations = std::move(parsed.observations);
          rec.rejected = std::move(parsed.rejected);
          probe.records++;
          probe.bytes += rec.payload.size();
          probe.observations += rec.observations.size();
          probe.rejected += rec.rejected.size();
          for (const auto& r : rec.rejected) ++probe.rejected_by_reason[static_cast<size_t>(r.code)];
          probe.ignored += parsed.ignored;
          out->records.push_back(std::move(rec));
        }
        out->reached_end = std::move(in->reached_end);
        self->send(next, out);
      },
      [=](const control_ptr& c) {
        shared->probes.importer.alive.beat(clk->now());
        self->send(next, c);
      },
  };
}

}  // namespace tw::actors
