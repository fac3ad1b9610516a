// The alert engine (alerts/alerts.hpp; semantics in docs/alerts.md).
//
// Invariants that make live, replay and backtest agree byte for byte:
// - Instants are multiples of a rule's `every`; an instant is evaluated once, after every fact of
//   its window was applied (a fact older than a rule's last evaluated instant is late for it).
// - Every value is a function of the buckets alone (integer sums; see alert_window.hpp), and the
//   buckets do not depend on the order in which facts arrived.
// - Events come out in (instant, rule in file order, group in label order, level) order.
// - A group is visited only at the instants where its decision can change: where a bucket enters or
//   leaves one of the windows its decision reads (next_window_change), and where its state machine
//   names a deadline (for elapsed, a repeat due, keep firing over). Between two such instants the
//   windows hold the same buckets, so the value, the samples, the baseline and the evidence are the
//   same: skipped instants are exactly those where a visit would change nothing, so one advance()
//   over a day and 86400 advances of a second give the same events.
// - A group is written (take_changes) when its buckets or its levels change, not when only its next
//   visit moves: a restored group whose `next` is earlier than it became is visited at the first
//   instant not yet evaluated, and that visit changes nothing either (restore). A group that comes
//   and goes between two take_changes calls is never written, and its going is no deletion.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "alerts/alert_rules.hpp"
#include "alerts/alert_state_codec.hpp"
#include "alerts/alerts.hpp"
#include "config/values.hpp"
#include "model/text.hpp"

namespace tw::alerts {

using detail::group_key;
using detail::group_state;
using detail::level_state;
using detail::rule_state;
using phase = level_state::phase;

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// The first instant (multiple of `every`) at or after t.
event_time instant_at_or_after(event_time t, duration every) {
  const int64_t e = every.count();
  return event_time::from_micros(-floor_div(-t.micros(), e) * e);
}
// The last instant strictly before t.
event_time instant_before(event_time t, duration every) {
  const int64_t e = every.count();
  return event_time::from_micros((floor_div(t.micros() - 1, e)) * e);
}
int64_t bucket_of(event_time t, duration every) { return floor_div(t.micros(), every.count()); }

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// FNV-1a over: rule '\0' (name '=' value '\0')* with the labels sorted by name.
std::string alert_id_of(const std::string& rule, const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string bytes = rule;
  bytes.push_back('\0');
  for (const auto& [k, v] : labels) {
    bytes += k + "=" + v;
    bytes.push_back('\0');
  }
  return hex16(stable_hash(bytes));
}

// The window of instant e, and the windows it is compared with, as bucket index ranges [from, to).
struct bucket_range {
  int64_t from = 0;
  int64_t to = 0;
};

bucket_range window_of(const alert_rule& r, event_time e, uint32_t back) {
  const int64_t every = r.every.count();
  const int64_t w = r.window.count();
  // Sliding: the window ends at e. Tumbling: it starts at the window boundary at or before the
  // start of the instant's last bucket, so a budget accumulates from the boundary.
  const int64_t end = r.kind == window_kind::sliding ? e.micros() : floor_div(e.micros() - every, w) * w + w;
  const int64_t to = r.kind == window_kind::sliding ? end - back * w : (back == 0 ? e.micros() : end - back * w);
  const int64_t from = end - (back + 1) * w;
  return {floor_div(from, every), floor_div(to, every)};
}

// What one visit decides for a group: the window's value, and per level whether the condition
// holds.
struct decision {
  signal_value signal;
  std::optional<double> baseline;
  std::vector<std::string> examples;
  std::array<bool, max_levels> holds{};  // per level
  // The window holds fewer samples than the rule needs, and no bucket waits to enter it: with no
  // new fact, the window only loses buckets, so no later instant can decide otherwise.
  bool starved = false;
};

}  // namespace

struct alert_engine::impl {
  impl(std::shared_ptr<const alert_rule_set> r, engine_limits l) : rules(std::move(r)), limits(l) {
    for (const auto& rule : rules->rules())
      if (rule.levels.size() > max_levels) throw std::logic_error("alert rule " + rule.name + " has more levels than the engine keeps");
    state.resize(rules->rules().size());
    std::vector<std::vector<label>> groupings;
    for (const auto& rule : rules->rules()) {
      auto at = std::find(groupings.begin(), groupings.end(), rule.group_by);
      signature.push_back(static_cast<size_t>(at - groupings.begin()));
      if (at == groupings.end()) groupings.push_back(rule.group_by);
    }
    tuples.resize(groupings.size());
    for (auto& rs : state) rs.sweep_above = std::max<size_t>(limits.max_groups_per_rule, 64);
    for (size_t t = 0; t < rules->rules().size(); ++t)
      for (size_t i = 0; i < rules->rules().size(); ++i) {
        const auto& targets = rules->rules()[i].inhibits;
        if (std::find(targets.begin(), targets.end(), t) != targets.end()) inhibitors[t].push_back(i);
      }
  }

  const std::vector<alert_rule>& list() const { return rules->rules(); }

  // --- applying facts ---

  using group_it = detail::group_entry*;

  // Label tuples, shared by the rules that group by the same labels (most rules of a file group by
  // the same one or two, e.g. [agent]): a fact looks each of its tuples up once, not once per rule,
  // and each rule's group of that tuple is then a pointer away. Every node of every rule's map is
  // indexed here (group(), restore()) until sweep() erases it.
  struct tuple_groups {
    std::vector<group_it> by_rule;  // per rule; nullptr where the rule has no group of these labels
    size_t groups = 0;              // how many are not nullptr
  };
  using tuple_map = std::unordered_map<group_key, tuple_groups, detail::group_key_hash>;
  using tuple_node = tuple_map::value_type;

  // The tuple of `labels` for the grouping of rule r; nullptr when no rule has a group of them.
  tuple_node* find_tuple(size_t r, const group_key& labels) {
    const size_t sig = signature[r];
    for (auto& [s, node] : memo)
      if (s == sig && node->first == labels) return node;
    auto it = tuples[sig].find(labels);
    if (it == tuples[sig].end()) return nullptr;
    memo.emplace_back(sig, &*it);
    return &*it;
  }

  // Indexes a node just put in rule r's map.
  void index(size_t r, group_it it) {
    auto [t, created] = tuples[signature[r]].try_emplace(it->first);
    if (created) t->second.by_rule.assign(list().size(), nullptr);
    t->second.by_rule[r] = it;
    t->second.groups += 1;
  }

  void unindex(size_t r, const group_key& labels) {
    auto& map = tuples[signature[r]];
    auto t = map.find(labels);
    if (t == map.end()) return;
    t->second.by_rule[r] = nullptr;
    if (--t->second.groups == 0) map.erase(t);
  }

  // The group of `key`, created (or brought back from dropped) when there is none. Past
  // max_groups_per_rule, a new label set is folded into the group whose labels are all "other".
  group_it group(size_t r, const group_key& labels, bool& created, engine_counters& counters) {
    rule_state& rs = state[r];
    const group_key* key = &labels;
    tuple_node* t = find_tuple(r, *key);
    group_it it = t ? t->second.by_rule[r] : nullptr;
    if ((!it || it->second.dropped) && rs.live >= limits.max_groups_per_rule) {
      key = &other_key(r);
      counters.folded += 1;
      t = find_tuple(r, *key);
      it = t ? t->second.by_rule[r] : nullptr;
    }
    created = !it || it->second.dropped;
    if (!it) {
      it = &*rs.groups.emplace(*key, group_state{}).first;
      it->second.levels.resize(list()[r].levels.size());
      index(r, it);
    }
    if (created) {
      it->second.dropped = false;  // a dropped group holds nothing: as good as new
      rs.live += 1;
    }
    return it;
  }

  const group_key& other_key(size_t r) {
    if (others.size() != list().size()) {
      others.resize(list().size());
      for (size_t i = 0; i < list().size(); ++i) others[i].assign(list()[i].group_by.size(), "other");
    }
    return others[r];
  }

  // A flag per group rather than a set of keys: marking is on the path of every visit.
  void mark(size_t r, group_state& g) {
    g.dirty = true;
    state[r].any_dirty = true;
  }

  void schedule(size_t r, group_it it, event_time at) {
    if (at == event_time::max()) return;
    rule_state& rs = state[r];
    auto [slot, created] = rs.calendar.try_emplace(at);
    if (created && !rs.spare_slots.empty()) {
      slot->second = std::move(rs.spare_slots.back());
      rs.spare_slots.pop_back();
    }
    slot->second.push_back(it);
    it->second.scheduled += 1;
  }


  // Makes a group due at `at` if it was due later.
  void wake(size_t r, group_it it, event_time at) {
    group_state& g = it->second;
    if (at < g.next) {
      g.next = at;
      schedule(r, it, at);
    }
    mark(r, g);
  }

  // Forgets a group with nothing left to decide. Its node stays, emptied, for when the same labels
  // come back (groups come and go with their traffic, and a node's allocations cost more than its
  // evaluation); the dropped nodes of a rule are swept when there are more than the live ones
  // may be, and only those the calendar no longer names.
  void drop(size_t r, group_it it) {
    rule_state& rs = state[r];
    group_state& g = it->second;
    if (!g.delete_pending) rs.dropped.push_back(it);
    g.delete_pending = true;
    rs.any_dirty = true;
    rs.live -= 1;
    for (auto& l : g.levels)
      if (!l.pristine()) l = level_state{};
    g.next = event_time::max();
    g.dirty = false;
    g.dropped = true;
    if (rs.groups.size() - rs.live > rs.sweep_above) sweep(r);
  }

  // Erases the dropped nodes no calendar entry names; the next sweep is when as many more again
  // were dropped, so that sweeping costs O(1) per drop however many stay named.
  void sweep(size_t r) {
    rule_state& rs = state[r];
    memo.clear();  // it may name a tuple erased here
    for (auto it = rs.groups.begin(); it != rs.groups.end();) {
      if (it->second.dropped && it->second.scheduled == 0 && !it->second.delete_pending) {
        unindex(r, it->first);
        it = rs.groups.erase(it);
      } else {
        ++it;
      }
    }
    rs.sweep_above = rs.groups.size() - rs.live + std::max<size_t>(limits.max_groups_per_rule, 64);
  }

  // Takes the calendar's first instant e of rule r: the groups due at e (in no order).
  std::vector<group_it> take_due(size_t r, event_time e) {
    rule_state& rs = state[r];
    std::vector<group_it> due;
    auto slot = rs.calendar.begin();
    if (slot == rs.calendar.end() || slot->first != e) return due;
    due = std::move(slot->second);
    rs.calendar.erase(slot);
    size_t n = 0;
    for (group_it it : due) {
      group_state& g = it->second;
      g.scheduled -= 1;
      if (g.dropped || g.next != e || g.due) continue;  // stale (due sooner, and visited), or named twice
      g.due = true;
      due[n++] = it;
    }
    due.resize(n);
    return due;
  }

  // Returns whether the fact was late for a rule it feeds.
  bool apply(const alert_fact& f, engine_counters& counters) {
    bool late = false;
    memo.clear();
    const fact_labels labels = labels_of(f);
    for (size_t r = 0; r < list().size(); ++r) {
      const alert_rule& rule = list()[r];
      rule_state& rs = state[r];
      const bool is_late = f.at < rs.evaluated_to;
      const event_time bucket_end = event_time::from_micros((bucket_of(f.at, rule.every) + 1) * rule.every.count());
      if (rule.signal.kind == signal_kind::absence && rule.group_by.empty()) {
        // The ungrouped absence group exists from the first fact of any kind, so that a quiet
        // stretch after it fires even if no fact ever fed the rule.
        bool created = false;
        static const group_key none;
        auto it = group(r, none, created, counters);
        if (created || rs.evaluated_to == event_time::min()) wake(r, it, std::max(bucket_end, instant_after(r)));
      }
      const size_t n = samples_of(f, labels, rule, scratch);
      if (n == 0) continue;
      if (is_late) {
        late = true;
        continue;
      }
      const bool absence = rule.signal.kind == signal_kind::absence;
      for (size_t i = 0; i < n; ++i) {
        const fact_sample& s = scratch[i];
        if (s.what.empty() && !absence) continue;
        bool created = false;
        auto it = group(r, s.labels, created, counters);
        if (s.what.empty()) {
          if (created) wake(r, it, bucket_end);
          continue;
        }
        add(it->second.buckets[bucket_of(f.at, rule.every)], s.what, limits.examples_max);
        // A group whose window would be starved where this bucket enters it decides nothing
        // there: it is due where it is dropped (drop_instant), as its visit at bucket_end would
        // have made it. A later fact that feeds it wakes it sooner, as ever.
        group_state& g = it->second;
        if (limits.skip_starved && bucket_end < g.next && dormant_at(rule, g, bucket_end)) {
          const event_time t = drop_instant(rule, g, bucket_end);
          if (t < g.next) {
            g.next = t;
            schedule(r, it, t);
          }
          mark(r, g);
          continue;
        }
        wake(r, it, bucket_end);
      }
    }
    return late;
  }

  // The first instant a rule may still evaluate.
  event_time instant_after(size_t r) const {
    const event_time done = state[r].evaluated_to;
    return done == event_time::min() ? event_time::min() : done + list()[r].every;
  }

  // --- evaluating ---

  decision decide(const alert_rule& rule, const group_state& g, event_time e) const {
    decision d;
    const auto cur = window_of(rule, e, 0);
    // Examples only when an event is made (examples_of): most visits emit nothing.
    window_sum w = sum_buckets(g.buckets, cur.from, cur.to, 0);
    d.signal = value_of(rule, w);
    const bool absence = rule.signal.kind == signal_kind::absence;
    bool usable = absence || (d.signal.defined && d.signal.samples > 0 && d.signal.samples >= rule.min_samples);
    d.starved = starved(rule, g, cur, d.signal.samples);
    double compared = d.signal.value;
    if (usable && rule.change.against != baseline_kind::none) {
      // Mean of the preceding windows that have enough samples themselves; none, or a zero base
      // (no relative change can be taken from it), and the condition is false.
      double sum = 0;
      uint32_t n = 0;
      for (uint32_t k = 1; k <= rule.change.windows; ++k) {
        const auto range = window_of(rule, e, k);
        const signal_value v = value_of(rule, sum_buckets(g.buckets, range.from, range.to, 0));
        if (!v.defined || v.samples == 0 || v.samples < rule.min_samples) continue;
        sum += v.value;
        n += 1;
      }
      if (n > 0) d.baseline = sum / n;
      usable = d.baseline && *d.baseline != 0;
      if (usable) compared = (d.signal.value - *d.baseline) / *d.baseline;
    }
    for (size_t i = 0; i < rule.levels.size(); ++i)
      d.holds[i] = usable && compare(rule.levels[i].op, compared, rule.levels[i].threshold);
    return d;
  }

  // Whether a window [cur) holding `samples` holds fewer than the rule needs, with no bucket waiting
  // to enter it (decision::starved).
  static bool starved(const alert_rule& rule, const group_state& g, const bucket_range& cur, uint64_t samples) {
    return rule.signal.kind != signal_kind::absence && samples < std::max<uint64_t>(rule.min_samples, 1) &&
           (g.buckets.empty() || g.buckets.back().first < cur.to);
  }

  // Whether a visit at e would find the group dormant: every level inactive, its window starved.
  static bool dormant_at(const alert_rule& rule, const group_state& g, event_time e) {
    if (std::any_of(g.levels.begin(), g.levels.end(), [](const level_state& l) { return l.now != phase::inactive; }))
      return false;
    const auto cur = window_of(rule, e, 0);
    uint64_t samples = 0;
    for (auto it = g.buckets.lower_bound(cur.from); it != g.buckets.end() && it->first < cur.to; ++it) samples += it->second.total;
    return starved(rule, g, cur, samples);
  }

  // The evidence of the window that decided at e.
  std::vector<std::string> examples_of(const alert_rule& rule, const group_state& g, event_time e) const {
    const auto cur = window_of(rule, e, 0);
    std::vector<std::string> out;
    for (auto& x : sum_buckets(g.buckets, cur.from, cur.to, limits.examples_max).examples)
      out.push_back(std::move(x.session_id));
    return out;
  }

  // Drops the buckets no later instant looks at; returns whether there were any.
  static bool prune(const alert_rule& rule, group_state& g, event_time e) {
    const auto oldest = window_of(rule, e + rule.every, rule.change.windows);
    return g.buckets.erase_before(oldest.from);
  }

  // The next instant after e at which one of the windows the decision of a group reads (the window,
  // and the preceding windows a change rule compares it with) holds other buckets than at e; max
  // when none will. Sliding: every range moves one bucket per instant, range k of instant n being
  // [n - cf, n - ct) for constants ct, cf, so bucket b is in it while b + ct < n <= b + cf. Tumbling:
  // the current window grows to the instant, and every range moves at the window boundary.
  static event_time next_window_change(const alert_rule& rule, const group_state& g, event_time e) {
    if (g.buckets.empty()) return event_time::max();
    const int64_t every = rule.every.count();
    const int64_t n0 = floor_div(e.micros(), every);
    int64_t next = std::numeric_limits<int64_t>::max();
    auto first_from = [&](int64_t b) { return g.buckets.lower_bound(b); };
    if (rule.kind == window_kind::sliding) {
      const uint32_t ranges = rule.change.against == baseline_kind::none ? 0 : rule.change.windows;
      for (uint32_t k = 0; k <= ranges; ++k) {
        const auto r = window_of(rule, e, k);
        const int64_t ct = n0 - r.to, cf = n0 - r.from;
        if (auto in = first_from(n0 - ct); in != g.buckets.end()) next = std::min(next, in->first + ct + 1);
        if (auto out = first_from(n0 - cf); out != g.buckets.end()) next = std::min(next, out->first + cf + 1);
      }
      return next == std::numeric_limits<int64_t>::max() ? event_time::max() : event_time::from_micros(next * every);
    }
    if (auto in = first_from(n0); in != g.buckets.end()) next = in->first + 1;
    const int64_t w = rule.window.count();
    const event_time boundary = event_time::from_micros((floor_div(e.micros() - every, w) + 1) * w + every);
    return std::min(event_time::from_micros(next == std::numeric_limits<int64_t>::max() ? next : next * every),
                    instant_at_or_after(boundary, rule.every));
  }

  // The next instant after e at which a group's decision can change, given the condition per level
  // at e (it stays so until the windows change).
  static event_time next_visit(const alert_rule& rule, const group_state& g, event_time e) {
    const event_time step = e + rule.every;
    event_time next = next_window_change(rule, g, e);
    auto at_least_step = [&](event_time t) { return std::max(step, instant_at_or_after(t, rule.every)); };
    // Where the condition at e differed from what it will be from now on, the next instant
    // decides; otherwise only the state machine's own deadlines do.
    for (size_t i = 0; i < g.levels.size(); ++i) {
      const level_state& l = g.levels[i];
      const bool holds = g.holds[i];
      switch (l.now) {
        case phase::inactive:
          if (holds) next = std::min(next, step);
          break;
        case phase::pending:
          next = std::min(next, holds ? at_least_step(l.since + rule.for_) : step);
          break;
        case phase::firing:
          if (!l.notified || holds == l.false_since.has_value()) {
            next = std::min(next, step);  // inhibited (emits once no inhibitor fires), or the condition turns
            break;
          }
          if (rule.repeat_interval.count() > 0) next = std::min(next, at_least_step(l.last_notified + rule.repeat_interval));
          if (!holds) next = std::min(next, at_least_step(*l.false_since + rule.keep_firing_for));
          break;
      }
    }
    return next;
  }

  // A dormant group (its last visit starved, every level inactive) decides nothing at the instants
  // its buckets move between its windows until its last bucket has left: the first of those
  // instants whose prune empties it, where it is dropped (as early as it would be had each been
  // visited, so that the groups live, and what folds into "other", do not change). The instants a
  // visit would be due at are next_window_change's, a function of the instant and the buckets
  // alone: the drop is at the first of them at or after the first instant t* > e whose prune
  // empties the group. Buckets the skipped visits would have pruned stay until then; no window
  // reads them, nor does next_window_change (it looks from each range's start). Called before
  // the prune at e: a bucket pruned at e still leaves a window at the next instant.
  static event_time drop_instant(const alert_rule& rule, const group_state& g, event_time e) {
    const int64_t newest = g.buckets.back().first;
    // t* in instants (multiples of every): the first n whose prune, window_of(rule, n + 1, K).from,
    // starts past the newest bucket (the arithmetic of window_of, solved for n).
    const int64_t every = rule.every.count(), w = rule.window.count(), k = rule.change.windows;
    int64_t first = 0;
    if (rule.kind == window_kind::sliding) {
      // from = (n + 1) * every - (k + 1) * w >= (newest + 1) * every
      first = newest + ceil_div((k + 1) * w, every);
    } else {
      // from = floor(n * every / w) * w - k * w >= (newest + 1) * every: the period floor(n * every / w)
      // at least p, and n the first instant of that period.
      const int64_t p = ceil_div((newest + 1) * every + k * w, w);
      first = ceil_div(p * w, every);
    }
    const int64_t n0 = floor_div(e.micros(), every);
    if (first <= n0) return e;
    return next_window_change(rule, g, event_time::from_micros((first - 1) * every));
  }

  // One alert's state machine at instant e. Returns what happened for phase 2.
  enum class change : uint8_t { none, fired, resolved };
  static change step(const alert_rule& rule, level_state& l, bool holds, event_time e) {
    switch (l.now) {
      case phase::inactive:
        if (!holds) return change::none;
        l.since = e;
        l.now = phase::pending;
        [[fallthrough]];
      case phase::pending:
        if (!holds) {
          l.now = phase::inactive;
          return change::none;
        }
        if (e - l.since < rule.for_) return change::none;
        l.now = phase::firing;
        l.false_since.reset();
        return change::fired;
      case phase::firing:
        if (holds) {
          l.false_since.reset();
          return change::none;
        }
        if (!l.false_since) l.false_since = e;
        if (e - *l.false_since < rule.keep_firing_for) return change::none;
        // Inactive now, so that it no longer inhibits at this instant; emit() announces the
        // resolution from the episode's fields and then clears them.
        l.now = phase::inactive;
        return change::resolved;
    }
    return change::none;
  }

  struct visit {
    size_t rule;
    const group_key* key;
    group_state* g;  // map nodes stay put: groups are dropped only after every visit (finish)
    decision d;
    std::array<change, max_levels> changes{};  // per level
  };

  bool inhibited(size_t target, const group_key& key) const {
    const alert_rule& t = list()[target];
    auto sources = inhibitors.find(target);
    if (sources == inhibitors.end()) return false;
    for (size_t i : sources->second) {
      const alert_rule& src = list()[i];
      for (const auto& [skey, g] : state[i].groups) {
        if (std::none_of(g.levels.begin(), g.levels.end(), [](const level_state& l) { return l.now == phase::firing; }))
          continue;
        bool equal = true;
        for (auto lab : src.inhibit_equal) {
          const auto sp = std::find(src.group_by.begin(), src.group_by.end(), lab) - src.group_by.begin();
          const auto tp = std::find(t.group_by.begin(), t.group_by.end(), lab) - t.group_by.begin();
          if (skey[sp] != key[tp]) equal = false;
        }
        if (equal) return true;
      }
    }
    return false;
  }

  alert_event make_event(const alert_rule& rule, const group_key& key, size_t level, const decision& d,
                         alert_state st, event_time e, const level_state& l) const {
    alert_event ev;
    ev.rule = rule.name;
    ev.state = st;
    ev.level = rule.levels[level].level;
    for (size_t i = 0; i < rule.group_by.size(); ++i) ev.labels.emplace_back(std::string(to_string(rule.group_by[i])), key[i]);
    if (!rule.levels[level].name.empty()) ev.labels.emplace_back("level", rule.levels[level].name);
    std::sort(ev.labels.begin(), ev.labels.end());
    ev.alert_id = alert_id_of(rule.name, ev.labels);
    ev.value = d.signal.value;
    ev.threshold = rule.levels[level].threshold;
    ev.at = e;
    ev.started_at = l.started_at;
    ev.samples = d.signal.samples;
    ev.repeat = st == alert_state::resolved ? 0 : l.repeat;
    ev.examples = d.examples;
    ev.baseline = d.baseline;
    for (const auto& part : rule.summary) {
      using k = summary_part::kind;
      switch (part.what) {
        case k::text: ev.summary += part.text; break;
        case k::rule: ev.summary += rule.name; break;
        case k::value: ev.summary += format_number(ev.value); break;
        case k::threshold: ev.summary += format_number(ev.threshold); break;
        case k::window: ev.summary += config::format_duration(rule.window); break;
        case k::samples: ev.summary += std::to_string(ev.samples); break;
        case k::baseline: ev.summary += d.baseline ? format_number(*d.baseline) : "none"; break;
        case k::label_value:
          for (const auto& [name, value] : ev.labels)
            if (name == part.text) ev.summary += value;
          break;
      }
    }
    return ev;
  }

  // Phase 2 for one visit: what is emitted, after every rule decided at this instant.
  void emit(visit& v, event_time e, std::vector<alert_event>& out, engine_counters& counters) {
    const alert_rule& rule = list()[v.rule];
    group_state& g = *v.g;
    bool examples = false;
    auto with_examples = [&]() -> const decision& {
      if (!examples) v.d.examples = examples_of(rule, g, e);
      examples = true;
      return v.d;
    };
    for (size_t i = 0; i < g.levels.size(); ++i) {
      level_state& l = g.levels[i];
      if (v.changes[i] == change::resolved) {
        mark(v.rule, g);
        // Resolved even under inhibition: a firing that was announced must be closed.
        if (l.notified) out.push_back(make_event(rule, *v.key, i, with_examples(), alert_state::resolved, e, l));
        else counters.inhibited += 1;
        l = level_state{};
        continue;
      }
      if (l.now != phase::firing) continue;
      const bool due = !l.notified || (rule.repeat_interval.count() > 0 && e - l.last_notified >= rule.repeat_interval);
      if (!due) continue;
      if (inhibited(v.rule, *v.key)) {
        // A suppressed repeat is spent (the next is an interval later); a first firing waits for
        // the inhibition to end, counted once.
        if (l.notified) {
          l.last_notified = e;
          mark(v.rule, g);
        }
        if (l.notified || v.changes[i] == change::fired) counters.inhibited += 1;
        continue;
      }
      mark(v.rule, g);
      if (!l.notified) {
        l.notified = true;
        l.started_at = e;
        l.repeat = 0;
      } else {
        l.repeat += 1;
      }
      l.last_notified = e;
      l.last = std::make_shared<const alert_event>(make_event(rule, *v.key, i, with_examples(), alert_state::firing, e, l));
      out.push_back(*l.last);
    }
  }

  // Evaluates every instant before w; with skip_absence, absence rules are left where they are.
  std::vector<alert_event> run(event_time w, bool skip_absence, engine_counters& counters) {
    std::vector<alert_event> out;
    auto runs = [&](size_t r) { return !(skip_absence && list()[r].signal.kind == signal_kind::absence); };
    while (true) {
      event_time e = event_time::max();
      for (size_t r = 0; r < list().size(); ++r)
        if (runs(r)) e = std::min(e, state[r].next());
      if (e >= w) break;
      std::vector<visit> visits;
      std::vector<std::optional<std::vector<group_it>>> due(list().size());  // per rule evaluated at e
      for (size_t r = 0; r < list().size(); ++r) {
        if (!runs(r) || state[r].next() != e) continue;
        const alert_rule& rule = list()[r];
        due[r] = take_due(r, e);
        for (group_it it : *due[r]) {
          group_state& g = it->second;
          counters.evaluations += 1;
          visit v{r, &it->first, &g, decide(rule, g, e), {}};
          g.holds = v.d.holds;
          // Phase 2 only has work where a level changed or fires (a repeat, an announcement):
          // most visits of most groups decide nothing, and are not kept.
          bool matters = false;
          bool moved = false;
          for (size_t i = 0; i < g.levels.size(); ++i) {
            level_state& l = g.levels[i];
            const auto before = std::make_tuple(l.now, l.since, l.false_since);
            v.changes[i] = step(rule, l, v.d.holds[i], e);
            moved = moved || before != std::make_tuple(l.now, l.since, l.false_since);
            matters = matters || v.changes[i] != change::none || l.now == phase::firing;
          }
          if (moved) mark(r, g);
          g.dormant = limits.skip_starved && v.d.starved && std::all_of(g.levels.begin(), g.levels.end(),
                                                 [](const level_state& l) { return l.now == phase::inactive; });
          if (matters) visits.push_back(std::move(v));
        }
      }
      // Events come out in rule order, then label order (visits are in rule order already).
      std::sort(visits.begin(), visits.end(), [](const visit& a, const visit& b) {
        return a.rule != b.rule ? a.rule < b.rule : *a.key < *b.key;
      });
      for (auto& v : visits) emit(v, e, out, counters);
      for (size_t r = 0; r < list().size(); ++r)
        if (due[r]) {
          finish(r, e, *due[r]);
          due[r]->clear();
          state[r].spare_slots.push_back(std::move(*due[r]));
        }
    }
    return out;
  }

  // After a rule's visits at e: prunes, schedules, drops groups with nothing left to decide.
  void finish(size_t r, event_time e, const std::vector<group_it>& visited) {
    const alert_rule& rule = list()[r];
    rule_state& rs = state[r];
    rs.evaluated_to = std::max(rs.evaluated_to, e);
    for (group_it it : visited) {
      group_state& g = it->second;
      g.due = false;
      g.next = next_visit(rule, g, e);  // before the prune: a bucket pruned now leaves at the next instant
      if (g.dormant && !g.buckets.empty()) g.next = drop_instant(rule, g, e);  // before the prune too
      if (prune(rule, g, e)) mark(r, g);
      const bool idle = g.buckets.empty() && std::all_of(g.levels.begin(), g.levels.end(),
                                                         [](const level_state& l) { return l.now == phase::inactive; });
      if (idle && rule.signal.kind != signal_kind::absence) {
        drop(r, it);
        continue;
      }
      schedule(r, it, g.next);
    }
  }

  std::shared_ptr<const alert_rule_set> rules;
  engine_limits limits;
  std::vector<rule_state> state;  // per rule, in file order
  std::map<size_t, std::vector<size_t>> inhibitors;  // target rule -> rules that inhibit it
  std::vector<fact_sample> scratch;  // apply's samples, reused
  std::vector<size_t> signature;     // per rule: its grouping (rules with equal group_by share one)
  std::vector<tuple_map> tuples;     // per grouping
  std::vector<std::pair<size_t, tuple_node*>> memo;  // the tuples the fact being applied looked up
  std::vector<group_key> others;     // per rule, the labels of its "other" group
  event_time clock;
  bool seen_fact = false;
  bool engine_dirty = false;
};

alert_engine::alert_engine(std::shared_ptr<const alert_rule_set> rules, engine_limits limits)
    : impl_(std::make_unique<impl>(std::move(rules), limits)) {}

alert_engine::~alert_engine() = default;

void alert_engine::apply(const alert_fact& f) {
  counters_.facts += 1;
  if (f.what == alert_fact::kind::verdict && f.revision > 1) {
    counters_.revisions_ignored += 1;
    return;
  }
  if (!impl_->seen_fact) {
    impl_->seen_fact = true;
    impl_->engine_dirty = true;
  }
  if (impl_->apply(f, counters_)) counters_.late += 1;
}

std::vector<alert_event> alert_engine::advance(event_time w) {
  if (w <= impl_->clock) return {};
  impl_->clock = w;
  impl_->engine_dirty = true;
  if (!impl_->seen_fact) return {};
  auto out = impl_->run(w, false, counters_);
  // Instants before w with nothing to decide were skipped; they count as evaluated, so a fact
  // for them now is late, as it would have been had they been visited.
  for (size_t r = 0; r < impl_->state.size(); ++r)
    impl_->state[r].evaluated_to = std::max(impl_->state[r].evaluated_to, instant_before(w, impl_->list()[r].every));
  return out;
}

std::vector<alert_event> alert_engine::flush() {
  if (!impl_->seen_fact) return {};
  // Far enough that every window holding facts has drained and keep_firing_for has passed, for
  // every rule but absence: the end of the input is not a quiet stretch.
  event_time end = impl_->clock;
  for (size_t r = 0; r < impl_->state.size(); ++r) {
    const alert_rule& rule = impl_->list()[r];
    const rule_state& rs = impl_->state[r];
    if (rule.signal.kind == signal_kind::absence || rs.live == 0) continue;
    event_time last = std::max(rs.evaluated_to, impl_->clock);
    for (const auto& [key, g] : rs.groups)
      if (!g.buckets.empty())
        last = std::max(last, event_time::from_micros((g.buckets.back().first + 1) * rule.every.count()));
    end = std::max(end, last + rule.window + rule.keep_firing_for + rule.every * 2);
  }
  auto out = impl_->run(end + duration(1), true, counters_);
  for (size_t r = 0; r < impl_->state.size(); ++r)
    if (impl_->list()[r].signal.kind != signal_kind::absence)
      impl_->state[r].evaluated_to = std::max(impl_->state[r].evaluated_to, instant_before(end + duration(1), impl_->list()[r].every));
  impl_->clock = std::max(impl_->clock, end + duration(1));
  impl_->engine_dirty = true;
  return out;
}

event_time alert_engine::clock() const { return impl_->clock; }

size_t alert_engine::groups() const {
  size_t n = 0;
  for (const auto& rs : impl_->state) n += rs.live;
  return n;
}

std::vector<alert_event> alert_engine::firing() const {
  std::vector<alert_event> out;
  for (const auto& rs : impl_->state) {
    std::vector<const detail::group_entry*> groups;  // in label order, as events are
    for (const auto& entry : rs.groups) groups.push_back(&entry);
    std::sort(groups.begin(), groups.end(), [](auto* a, auto* b) { return a->first < b->first; });
    for (const auto* entry : groups)
      for (const auto& l : entry->second.levels)
        if (l.now == phase::firing && l.notified && l.last) out.push_back(*l.last);
  }
  return out;
}

void alert_engine::take_changes(const change_fn& out) {
  if (impl_->engine_dirty) {
    detail::engine_entry e{impl_->clock, impl_->seen_fact, {}};
    for (size_t r = 0; r < impl_->state.size(); ++r) e.evaluated_to.emplace_back(impl_->list()[r].name, impl_->state[r].evaluated_to);
    out(detail::engine_key(), detail::encode_engine(e));
    impl_->engine_dirty = false;
  }
  for (size_t r = 0; r < impl_->state.size(); ++r) {
    auto& rs = impl_->state[r];
    if (!rs.any_dirty) continue;
    const auto& name = impl_->list()[r].name;
    // Deletions first: a group dropped and created again since the last call is written after.
    for (auto* entry : rs.dropped) {
      entry->second.delete_pending = false;
      if (entry->second.dropped && entry->second.stored) {
        out(detail::group_entry_key(name, entry->first), std::nullopt);
        entry->second.stored = false;
      }
    }
    rs.dropped.clear();
    for (auto& [key, g] : rs.groups) {
      if (!g.dirty || g.dropped) continue;
      out(detail::group_entry_key(name, key), detail::encode_group(g));
      g.dirty = false;
      g.stored = true;
    }
    rs.any_dirty = false;
  }
}

std::optional<std::string> alert_engine::restore(const std::vector<std::pair<std::string, std::string>>& entries) {
  auto fresh = std::make_unique<impl>(impl_->rules, impl_->limits);
  size_t unreadable = 0;
  size_t unknown = 0;
  std::vector<bool> known(fresh->state.size(), false);  // rules the engine entry names
  for (const auto& [key, value] : entries) {
    if (key == detail::engine_key()) {
      auto e = detail::decode_engine(value);
      if (!e) {
        unreadable += 1;
        continue;
      }
      fresh->clock = e->clock;
      fresh->seen_fact = e->seen_fact;
      for (const auto& [name, t] : e->evaluated_to) {
        const size_t r = fresh->rules->find(name);
        if (r < fresh->state.size()) {
          fresh->state[r].evaluated_to = t;
          known[r] = true;
        }
      }
      continue;
    }
    std::string rule;
    group_key labels;
    if (!detail::parse_group_key(key, rule, labels)) {
      unreadable += 1;
      continue;
    }
    const size_t r = fresh->rules->find(rule);
    if (r == fresh->state.size() || labels.size() != fresh->list()[r].group_by.size()) {
      unknown += 1;
      continue;
    }
    auto g = detail::decode_group(value);
    if (!g) {
      unreadable += 1;
      continue;
    }
    if (g->levels.size() != fresh->list()[r].levels.size()) {
      unknown += 1;
      continue;
    }
    g->stored = true;
    fresh->state[r].groups[labels] = std::move(*g);
  }
  for (size_t r = 0; r < fresh->state.size(); ++r) {
    rule_state& rs = fresh->state[r];
    // A rule added since the state was written starts where the others are.
    if (fresh->seen_fact && !known[r]) rs.evaluated_to = instant_before(fresh->clock, fresh->list()[r].every);
    // A group is not written when only its next visit moved later (take_changes): visiting it
    // from the first instant not yet evaluated changes nothing until its true next visit.
    const event_time first = fresh->instant_after(r);
    for (auto& entry : rs.groups) {
      fresh->index(r, &entry);
      entry.second.next = std::max(entry.second.next, first);
      fresh->schedule(r, &entry, entry.second.next);
      rs.live += 1;
    }
  }
  impl_ = std::move(fresh);
  if (unreadable == 0 && unknown == 0) return std::nullopt;
  return "alert state: dropped " + std::to_string(unreadable) + " unreadable entries and " + std::to_string(unknown) +
         " entries of rules (or labels, levels) the rules no longer have";
}

}  // namespace tw::alerts
