#include "http/health.hpp"

#include <map>

#include <nlohmann/json.hpp>

namespace tw::http {

namespace {

constexpr uint64_t always = 1;

stage_report report(std::string_view name, const heartbeat& hb, uint64_t work, const health_settings& s,
                    wall_time now, bool stopping) {
  stage_report r;
  r.stage = name;
  r.running = hb.started();
  r.work = work;
  r.silent_for = hb.silent_for(now);
  r.wedged = !stopping && r.running && work > 0 && r.silent_for > s.stall_timeout;
  return r;
}

double seconds(duration d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace

liveness check_liveness(const actors::pipeline_probes& p, const std::optional<std::string>& failure, bool stopping,
                        const health_settings& s, wall_time now) {
  liveness l;
  l.failure = failure;
  const uint64_t sent = p.records_sent, parsed = p.importer.records;
  l.stages = {
      report("source", p.source_alive, always, s, now, stopping),
      report("importer", p.importer.alive, sent > parsed ? sent - parsed : 0, s, now, stopping),
      report("state", p.engine.alive, always, s, now, stopping),
      report("judge", p.judge.queue.consumer, p.judge.queue.depth(), s, now, stopping),
      report("diagnostic", p.diagnostic.queue.consumer, p.diagnostic.queue.depth(), s, now, stopping),
      report("alerts", p.alerts.queue.consumer, p.alerts.queue.depth(), s, now, stopping),
      report("notifier", p.notifier.queue.consumer, p.notifier.queue.depth(), s, now, stopping),
      report("output", p.output.alive, p.output.backlog, s, now, stopping),
  };
  l.ok = !failure;
  for (const auto& r : l.stages) l.ok = l.ok && !r.wedged;
  return l;
}

std::vector<partition_progress> input_progress(const actors::pipeline_probes& p, bool start_from_latest) {
  std::vector<partition_progress> out;
  auto owned = p.engine.partitions.get();
  if (!owned) return out;
  std::map<topic_partition, partition_extent> extents;
  if (auto e = p.input_extents.get())
    for (const auto& x : *e) extents[x.tp] = x;
  for (const auto& o : *owned) {
    partition_progress pp;
    pp.tp = o.tp;
    pp.next = o.next;
    pp.watermark = o.watermark;
    pp.idle = o.idle;
    if (auto it = extents.find(o.tp); it != extents.end()) {
      pp.extent = it->second;
      const offset from = o.next ? *o.next : start_from_latest ? it->second.high : it->second.low;
      pp.lag = static_cast<uint64_t>(std::max<int64_t>(0, it->second.high.value - from.value));
    }
    out.push_back(std::move(pp));
  }
  return out;
}

readiness check_readiness(const actors::pipeline_probes& p, const liveness& alive, bool stopping,
                          const health_settings& s) {
  readiness r;
  r.state_opened = p.engine.opened;
  auto parts = input_progress(p, s.start_from_latest);
  r.partitions = parts.size();
  uint64_t lag = 0;
  std::string unknown;
  for (const auto& pp : parts) {
    if (pp.lag) lag += *pp.lag;
    else if (unknown.empty()) unknown = pp.tp.to_string();
  }
  if (!parts.empty() && unknown.empty()) r.lag = lag;
  if (stopping) r.reasons.push_back("stopping");
  if (alive.failure) r.reasons.push_back("a stage failed: " + *alive.failure);
  for (const auto& st : alive.stages)
    if (st.wedged) r.reasons.push_back("stage " + std::string(st.stage) + " is wedged");
  if (!r.state_opened) r.reasons.push_back("restoring: the state directory is being opened");
  if (r.state_opened && parts.empty()) r.reasons.push_back("no input partition assigned");
  if (!unknown.empty()) r.reasons.push_back("the lag of " + unknown + " is not known yet (nothing fetched from it)");
  if (r.lag && *r.lag > s.ready_max_lag)
    r.reasons.push_back("consumer lag " + std::to_string(*r.lag) + " is over http.ready_max_lag (" +
                        std::to_string(s.ready_max_lag) + ")");
  r.ok = r.reasons.empty();
  return r;
}

std::string to_json(const liveness& l, bool stopping) {
  nlohmann::json j;
  j["status"] = l.failure ? "failed" : !l.ok ? "wedged" : stopping ? "stopping" : "ok";
  if (l.failure) j["failure"] = *l.failure;
  auto& stages = j["stages"] = nlohmann::json::array();
  for (const auto& r : l.stages) {
    nlohmann::json s;
    s["stage"] = r.stage;
    s["state"] = !r.running ? "not_running" : r.wedged ? "wedged" : r.work > 0 ? "working" : "idle";
    s["silent_s"] = seconds(r.silent_for);
    s["work"] = r.work;
    stages.push_back(std::move(s));
  }
  return j.dump();
}

std::string to_json(const readiness& r, const health_settings& s) {
  nlohmann::json j;
  j["ready"] = r.ok;
  j["reasons"] = r.reasons;
  j["state_opened"] = r.state_opened;
  j["restoring"] = !r.state_opened;
  j["partitions"] = r.partitions;
  j["lag"] = r.lag ? nlohmann::json(*r.lag) : nlohmann::json();
  j["max_lag"] = s.ready_max_lag;
  return j.dump();
}

}  // namespace tw::http
