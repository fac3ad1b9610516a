#include "topics/kafka/connectivity.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace tw::kafka {

std::optional<std::vector<broker_stats>> parse_broker_stats(std::string_view stats) {
  // librdkafka writes "brokers":{...} before "topics"; cut out that object by counting braces
  // (broker names and states hold no braces or quotes worth escaping) and parse it alone.
  auto at = stats.find("\"brokers\":");
  if (at == std::string_view::npos) return std::nullopt;
  auto open = stats.find('{', at);
  if (open == std::string_view::npos) return std::nullopt;
  int depth = 0;
  bool in_string = false;
  size_t end = open;
  for (; end < stats.size(); ++end) {
    char c = stats[end];
    if (in_string) {
      if (c == '\\') ++end;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{') ++depth;
    else if (c == '}' && --depth == 0) break;
  }
  if (end >= stats.size()) return std::nullopt;
  auto j = nlohmann::json::parse(stats.substr(open, end - open + 1), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  std::vector<broker_stats> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& b = it.value();
    if (!b.is_object()) continue;
    broker_stats s;
    s.name = it.key();
    s.source = b.value("source", std::string());
    s.state = b.value("state", std::string());
    s.waiting = b.value("waitresp_cnt", int64_t{0});
    s.rx_idle_us = b.value("rxidle", int64_t{-1});
    out.push_back(std::move(s));
  }
  return out;
}

bool connectivity_monitor::reachable(wall_time now, const std::vector<broker_stats>& brokers, std::string& why_not) {
  bool any = false, answering = false;
  for (const auto& b : brokers) {
    // The group coordinator appears again as a "logical" broker, and "internal" is librdkafka's
    // own queue: neither is a connection of its own.
    if (b.source == "logical" || b.source == "internal") continue;
    any = true;
    bool silent = false;
    if (b.waiting <= 0 || b.rx_idle_us < 0) {
      waiting_since_.erase(b.name);
    } else {
      const wall_time last_receive = now - duration(b.rx_idle_us);
      auto [it, fresh] = waiting_since_.emplace(b.name, now);
      if (!fresh && last_receive > it->second) it->second = now;  // answered meanwhile: a new wait
      silent = now - it->second >= cfg_.silence;
    }
    if (b.state == "UP" && !silent) {
      answering = true;  // every broker is still looked at: their waiting times must stay current
      continue;
    }
    if (why_not.size() < 200) {
      if (!why_not.empty()) why_not += "; ";
      why_not += b.name + " " + b.state;
      if (b.state == "UP" && silent)
        why_not += ", " + std::to_string(b.waiting) + " request(s) unanswered, nothing received for " +
                   std::to_string(b.rx_idle_us / 1000000) + " s";
    }
  }
  if (answering) return true;
  if (!any) why_not = "no broker known";
  return false;
}

std::optional<connectivity_notice> connectivity_monitor::due(wall_time now) {
  connectivity_notice n;
  n.since = since_;
  n.lasted = now - since_;
  n.detail = detail_;
  n.suppressed = suppressed_;
  if (state_ == state::trouble && now - since_ >= cfg_.grace) {
    n.what = connectivity_notice::kind::unreachable;
  } else if (state_ == state::reported && now - last_notice_ >= cfg_.reminder) {
    n.what = connectivity_notice::kind::still_unreachable;
  } else {
    return std::nullopt;
  }
  state_ = state::reported;
  last_notice_ = now;
  suppressed_ = 0;
  return n;
}

std::optional<connectivity_notice> connectivity_monitor::on_connection_error(wall_time now, std::string_view detail) {
  if (state_ == state::ok) {
    state_ = state::trouble;
    since_ = now;
    detail_ = std::string(detail);
    suppressed_ = 0;
    // Without statistics nothing would ever come back to report it: report it now.
    if (!have_stats_) since_ = now - cfg_.grace;
  } else {
    ++suppressed_;
  }
  return due(now);
}

std::vector<connectivity_notice> connectivity_monitor::on_stats(wall_time now, const std::vector<broker_stats>& brokers) {
  have_stats_ = true;
  std::vector<connectivity_notice> out;
  std::string why_not;
  if (reachable(now, brokers, why_not)) {
    if (state_ == state::reported) {
      connectivity_notice n;
      n.what = connectivity_notice::kind::reachable_again;
      n.since = since_;
      n.lasted = now - since_;
      n.suppressed = suppressed_;
      n.detail = detail_;
      out.push_back(std::move(n));
    }
    state_ = state::ok;  // a blip shorter than the grace ends here, unreported
    suppressed_ = 0;
    return out;
  }
  if (state_ == state::ok) {
    // Statistics alone start an outage only for a broker that stopped answering: a broker that
    // is not connected may simply not be needed (an idle producer connects on demand), and a lost
    // connection announces itself with errors.
    int64_t idle = -1;
    for (const auto& b : brokers) {
      auto w = waiting_since_.find(b.name);
      if (b.state == "UP" && w != waiting_since_.end() && now - w->second >= cfg_.silence)
        idle = std::max(idle, b.rx_idle_us);
    }
    if (idle < 0) return out;
    state_ = state::trouble;
    suppressed_ = 0;
    detail_ = why_not;
    since_ = now - duration(idle);  // silent since the last byte received
  }
  if (auto n = due(now)) out.push_back(std::move(*n));
  return out;
}

}  // namespace tw::kafka
