#include "tools/fault/outputs.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "topics/contracts/session_json.hpp"

namespace tw::fault {

using json = nlohmann::json;

const char* to_string(output_kind k) {
  switch (k) {
    case output_kind::sessions: return "sessions";
    case output_kind::verdicts: return "verdicts";
    case output_kind::diagnostics: return "diagnostics";
    case output_kind::deadletter: return "deadletter";
    case output_kind::alerts: return "alerts";
  }
  return "?";
}

std::string truncated(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n) + "..."; }

namespace {

// The identity of a record of `kind` (see the header), or empty when the payload is not one.
std::string identity_of(output_kind kind, const json& j) {
  if (!j.is_object()) return {};
  if (kind == output_kind::alerts) {
    auto id = j.find("alert_id"), started = j.find("started_at"), state = j.find("state"), repeat = j.find("repeat");
    if (id == j.end() || started == j.end() || state == j.end() || repeat == j.end() || !id->is_string() ||
        !started->is_string() || !state->is_string() || !repeat->is_number_integer())
      return {};
    return id->get<std::string>() + " " + started->get<std::string>() + " " + state->get<std::string>() + " #" +
           std::to_string(repeat->get<long long>());
  }
  if (kind == output_kind::deadletter) {
    auto src = j.find("source");
    auto reason = j.find("reason");
    if (src == j.end() || !src->is_object() || reason == j.end() || !reason->is_string()) return {};
    auto topic = src->find("topic"), partition = src->find("partition"), offset = src->find("offset"),
         index = src->find("index");
    if (topic == src->end() || partition == src->end() || offset == src->end() || index == src->end()) return {};
    if (!topic->is_string() || !partition->is_number_integer() || !offset->is_number_integer()) return {};
    return topic->get<std::string>() + "/" + std::to_string(partition->get<long long>()) + "@" +
           std::to_string(offset->get<long long>()) + "#" +
           (index->is_number_integer() ? std::to_string(index->get<long long>()) : std::string("-")) + " " +
           reason->get<std::string>();
  }
  auto id = j.find("session_id");
  auto rev = j.find("revision");
  if (id == j.end() || !id->is_string() || rev == j.end() || !rev->is_number_integer()) return {};
  return id->get<std::string>() + " revision " + std::to_string(rev->get<long long>());
}

void walk_differences(const json& a, const json& b, const std::string& path, std::vector<std::string>& out,
                      size_t limit) {
  if (out.size() >= limit) return;
  if (a.type() != b.type()) {
    out.push_back(path.empty() ? "(document)" : path);
    return;
  }
  if (a.is_object()) {
    std::set<std::string> keys;
    for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
    for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
    for (const auto& k : keys) {
      const std::string sub = path.empty() ? k : path + "." + k;
      auto x = a.find(k), y = b.find(k);
      if (x == a.end() || y == b.end()) out.push_back(sub);
      else walk_differences(*x, *y, sub, out, limit);
      if (out.size() >= limit) return;
    }
    return;
  }
  if (a.is_array()) {
    // Arrays are reported as a whole: one path per differing array, not per element.
    if (a != b) out.push_back(path + "[]");
    return;
  }
  if (a != b) out.push_back(path.empty() ? "(document)" : path);
}

}  // namespace

std::vector<std::string> differing_members(const std::string& a, const std::string& b, size_t limit) {
  std::vector<std::string> out;
  auto x = json::parse(a, nullptr, false), y = json::parse(b, nullptr, false);
  if (x.is_discarded() || y.is_discarded()) {
    out.push_back("(not JSON)");
    return out;
  }
  walk_differences(x, y, "", out, limit);
  return out;
}

std::vector<std::string> differing_values(const std::string& a, const std::string& b, size_t limit) {
  std::vector<std::string> out;
  auto x = json::parse(a, nullptr, false), y = json::parse(b, nullptr, false);
  if (x.is_discarded() || y.is_discarded()) return out;
  for (const auto& path : differing_members(a, b, limit)) {
    std::string p = path;
    if (p.size() > 2 && p.compare(p.size() - 2, 2, "[]") == 0) p.resize(p.size() - 2);
    std::string pointer = "/";
    for (char c : p) pointer += c == '.' ? '/' : c;
    auto value = [&](const json& j) {
      json::json_pointer ptr(pointer == "/" ? "" : pointer);
      return j.contains(ptr) ? truncated(j.at(ptr).dump(), 120) : std::string("(absent)");
    };
    out.push_back(path + ": " + value(x) + " | " + value(y));
  }
  return out;
}

alert_horizon same_alert_horizon(run_outputs& reference, run_outputs& run) {
  auto latest = [](const output_set& s) {
    std::string at;
    for (const auto& [id, payloads] : s.by_identity)
      for (const auto& p : payloads) at = std::max(at, json::parse(p, nullptr, false).value("at", ""));
    return at;
  };
  alert_horizon h;
  const auto a = latest(reference.alerts), b = latest(run.alerts);
  // A run without any alert event where the other has some is compared whole: it lost them.
  if (a.empty() || b.empty()) return h;
  h.until = std::min(a, b);
  auto trim = [&](output_set& s) {
    size_t dropped = 0;
    for (auto it = s.by_identity.begin(); it != s.by_identity.end();) {
      auto at = json::parse(it->second.front(), nullptr, false).value("at", "");
      if (at > h.until) {
        ++dropped;
        it = s.by_identity.erase(it);
      } else {
        ++it;
      }
    }
    return dropped;
  };
  h.dropped_reference = trim(reference.alerts);
  h.dropped_run = trim(run.alerts);
  return h;
}

void print(const alert_horizon& h, const std::string& reference_label, const std::string& run_label, std::FILE* out) {
  std::fprintf(out, "alerts compared up to %s, the latest instant both runs passed (later events not compared: %s %zu, %s %zu)\n",
               h.until.empty() ? "(no alert event in one run)" : h.until.c_str(), reference_label.c_str(),
               h.dropped_reference, run_label.c_str(), h.dropped_run);
}

bool output_set::add(const std::string& payload) {
  ++records;
  auto j = json::parse(payload, nullptr, false);
  std::string id = j.is_discarded() ? std::string() : identity_of(kind, j);
  if (id.empty()) {
    if (unreadable++ == 0) first_unreadable = payload;
    return false;
  }
  auto& payloads = by_identity[id];
  const bool is_new = payloads.empty();
  if (std::find(payloads.begin(), payloads.end(), payload) != payloads.end()) {
    ++repeats;
    return false;
  }
  payloads.push_back(payload);
  if (kind == output_kind::verdicts) {
    auto v = j.find("verdict");
    if (v != j.end() && v->is_string() && (*v == "fail" || *v == "partial" || *v == "error")) needs_diagnosis.insert(id);
  }
  if (kind == output_kind::sessions) {
    auto sid = j["session_id"].get<std::string>();
    long long rev = j["revision"].get<long long>();
    auto& latest = latest_revision[sid];
    latest = std::max(latest, rev);
  }
  return is_new;
}

output_set& run_outputs::of(output_kind k) {
  switch (k) {
    case output_kind::sessions: return sessions;
    case output_kind::verdicts: return verdicts;
    case output_kind::diagnostics: return diagnostics;
    case output_kind::deadletter: return deadletter;
    case output_kind::alerts: return alerts;
  }
  return sessions;
}
const output_set& run_outputs::of(output_kind k) const { return const_cast<run_outputs*>(this)->of(k); }

bool comparison::clean() const {
  for (const auto& t : topics)
    if (!t.clean()) return false;
  return true;
}

namespace {
std::string members_key(const std::vector<std::string>& members) {
  std::string k;
  for (const auto& m : members) k += (k.empty() ? "" : ",") + m;
  return k;
}
std::string dead_letter_reason(const std::string& identity) { return identity.substr(identity.rfind(' ') + 1); }

// The one difference two live runs may show: a session one of them closed because its input was
// idle (window.reason "idle", wall-clock evidence that differs between runs) and the other closed
// by its data, with every other byte equal (docs/operations.md, "The fault suite").
bool closed_by_idle_in_one(const std::vector<std::string>& members, const std::string& a, const std::string& b) {
  if (members.size() != 1 || members.front() != "window.reason") return false;
  auto reason = [](const std::string& payload) {
    auto j = json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.contains("window") || !j["window"].contains("reason")) return std::string();
    return j["window"]["reason"].is_string() ? j["window"]["reason"].get<std::string>() : std::string();
  };
  return reason(a) == "idle" || reason(b) == "idle";
}
}  // namespace

comparison compare(const run_outputs& reference, const run_outputs& run) {
  comparison c;
  for (auto kind : all_output_kinds) {
    const auto& a = reference.of(kind);
    const auto& b = run.of(kind);
    topic_difference d;
    d.kind = kind;
    d.reference_identities = a.by_identity.size();
    d.run_identities = b.by_identity.size();
    d.reference_records = a.records;
    d.run_records = b.records;
    d.unreadable = a.unreadable + b.unreadable;
    for (const auto& [id, payloads] : a.by_identity) {
      if (payloads.size() > 1) ++d.conflicting_in_reference;
      auto it = b.by_identity.find(id);
      if (it == b.by_identity.end()) {
        if (d.lost++ == 0) {
          d.first_lost = id;
          d.lost_payload = payloads.front();
        }
        continue;
      }
      if (it->second.size() > 1) ++d.conflicting_in_run;
      if (payloads != it->second) {
        // Which of the run's payloads differs from the reference's first one (there may be two).
        const std::string& theirs =
            it->second.front() != payloads.front() ? it->second.front() : it->second.back();
        const std::string& ours = payloads.front() != theirs ? payloads.front() : payloads.back();
        auto members = differing_members(ours, theirs);
        if (payloads.size() == 1 && it->second.size() == 1 && closed_by_idle_in_one(members, ours, theirs)) {
          ++d.relabelled_idle;
          continue;
        }
        ++d.changed_members[members_key(members)];
        if (d.changed++ == 0) {
          d.first_changed = id;
          d.changed_reference = ours;
          d.changed_run = theirs;
        }
      }
    }
    for (const auto& [id, payloads] : b.by_identity) {
      if (a.by_identity.count(id)) continue;
      if (payloads.size() > 1) ++d.conflicting_in_run;
      if (kind == output_kind::deadletter) ++d.redundant_by_reason[dead_letter_reason(id)];
      if (d.redundant++ == 0) {
        d.first_redundant = id;
        d.redundant_payload = payloads.front();
      }
    }
    c.topics.push_back(std::move(d));
  }
  return c;
}

void print(const comparison& c, const std::string& reference_label, const std::string& run_label, std::FILE* out) {
  std::fprintf(out, "\n%s against %s, per output topic (identity: session_id+revision; dead letters: source+reason)\n",
               run_label.c_str(), reference_label.c_str());
  std::fprintf(out, "  %-12s %10s %10s %10s %10s %8s %10s %8s %11s\n", "topic", "ref ids", "run ids", "run recs",
               "lost", "redundant", "changed", "(in-run)", "unreadable");
  for (const auto& d : c.topics)
    std::fprintf(out, "  %-12s %10zu %10zu %10zu %10zu %8zu %10zu %8zu %11zu %s\n", to_string(d.kind),
                 d.reference_identities, d.run_identities, d.run_records, d.lost, d.redundant, d.changed,
                 d.conflicting_in_run, d.unreadable, d.clean() ? "ok" : "DIFFERS");
  for (const auto& d : c.topics)
    if (d.relabelled_idle)
      std::fprintf(out, "  %s: %zu closed because input was idle in one run and by their data in the other, otherwise "
                        "equal (allowed: idleness is wall-clock evidence)\n",
                   to_string(d.kind), d.relabelled_idle);
  for (const auto& d : c.topics) {
    if (d.clean()) continue;
    const char* t = to_string(d.kind);
    if (d.lost)
      std::fprintf(out, "  %s: first lost: %s\n    reference: %s\n    %s: (none)\n", t, d.first_lost.c_str(),
                   truncated(d.lost_payload, 400).c_str(), run_label.c_str());
    if (d.redundant) {
      std::fprintf(out, "  %s: first redundant: %s\n    reference: (none)\n    %s: %s\n", t, d.first_redundant.c_str(),
                   run_label.c_str(), truncated(d.redundant_payload, 400).c_str());
      for (const auto& [reason, n] : d.redundant_by_reason)
        std::fprintf(out, "    redundant dead letters with reason %s: %zu\n", reason.c_str(), n);
    }
    if (d.changed) {
      std::fprintf(out, "  %s: first changed: %s\n    reference: %s\n    %s: %s\n", t, d.first_changed.c_str(),
                   truncated(d.changed_reference, 400).c_str(), run_label.c_str(),
                   truncated(d.changed_run, 400).c_str());
      std::fprintf(out, "    differing members (reference | %s):\n", run_label.c_str());
      for (const auto& v : differing_values(d.changed_reference, d.changed_run))
        std::fprintf(out, "      %s\n", v.c_str());
      // The most frequent combinations of differing members, over all changed identities.
      std::vector<std::pair<size_t, std::string>> top;
      for (const auto& [members, n] : d.changed_members) top.emplace_back(n, members);
      std::sort(top.rbegin(), top.rend());
      for (size_t i = 0; i < top.size() && i < 5; ++i)
        std::fprintf(out, "    %zu changed in %s\n", top[i].first, top[i].second.c_str());
      if (top.size() > 5) std::fprintf(out, "    ... and %zu other combinations\n", top.size() - 5);
    }
    if (d.conflicting_in_reference)
      std::fprintf(out, "  %s: the REFERENCE itself carries %zu identities with two different payloads\n", t,
                   d.conflicting_in_reference);
    if (d.unreadable) std::fprintf(out, "  %s: %zu payloads are not documents of the contract\n", t, d.unreadable);
  }
}

plan_check check_plans(const output_set& sessions, const std::vector<sim::call_plan>& plans) {
  plan_check c;
  c.plans = plans.size();
  std::set<std::string> planned;
  for (const auto& plan : plans) {
    planned.insert(plan.session_id);
    auto latest = sessions.latest_revision.find(plan.session_id);
    if (latest == sessions.latest_revision.end()) {
      if (c.missing++ == 0) c.first_missing = plan.session_id;
      continue;
    }
    auto it = sessions.by_identity.find(plan.session_id + " revision " + std::to_string(latest->second));
    auto s = it == sessions.by_identity.end() ? std::nullopt : decode_session_json(it->second.front());
    std::string why;
    if (!s) why = "not a tracewatch.session.v1 document";
    else if (s->stats.traces != static_cast<uint64_t>(plan.traces))
      why = "traces " + std::to_string(s->stats.traces) + ", planned " + std::to_string(plan.traces);
    else if (s->stats.tool_calls != static_cast<uint64_t>(plan.tool_calls))
      why = "tool_calls " + std::to_string(s->stats.tool_calls) + ", planned " + std::to_string(plan.tool_calls);
    else if (s->stats.tool_errors != static_cast<uint64_t>(plan.tool_errors))
      why = "tool_errors " + std::to_string(s->stats.tool_errors) + ", planned " + std::to_string(plan.tool_errors);
    else if (s->stats.input_tokens != plan.input_tokens || s->stats.output_tokens != plan.output_tokens)
      why = "tokens differ from the plan";
    else if (s->last_event_at != plan.last_event)
      why = "last_event_at " + format_iso8601(s->last_event_at) + ", planned " + format_iso8601(plan.last_event);
    if (!why.empty() && c.mismatched++ == 0) c.first_mismatch = plan.session_id + ": " + why;
  }
  for (const auto& [id, rev] : sessions.latest_revision)
    if (!planned.count(id) && c.unexpected++ == 0) c.first_unexpected = id;
  return c;
}

void print(const plan_check& c, const std::string& label, std::FILE* out) {
  std::fprintf(out, "  %s against the generator's %zu plans: missing %zu, disagreeing %zu, unexpected %zu %s\n",
               label.c_str(), c.plans, c.missing, c.mismatched, c.unexpected, c.clean() ? "ok" : "DIFFERS");
  if (c.missing) std::fprintf(out, "    first missing: %s\n", c.first_missing.c_str());
  if (c.mismatched) std::fprintf(out, "    first disagreeing: %s\n", c.first_mismatch.c_str());
  if (c.unexpected) std::fprintf(out, "    first unexpected: %s\n", c.first_unexpected.c_str());
}

}  // namespace tw::fault
