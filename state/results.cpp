#include "state/results.hpp"

#include <rocksdb/db.h>

#include <algorithm>
#include <memory>

#include "state/codec.hpp"
#include "state/keys.hpp"

namespace tw::state {
namespace {

// Kind bytes of the key grammar (results.hpp). On disk: never reuse one.
constexpr char kind_session = 's';
constexpr char kind_verdict = 'v';
constexpr char kind_diagnostic = 'd';
constexpr char kind_retention = 'r';
constexpr char kind_all = 'a';
constexpr char kind_by_status = 'b';
constexpr char kind_by_intent = 'i';
constexpr char kind_by_agent = 'g';
constexpr char kind_minute = 'm';
constexpr char kind_firing = 'f';

constexpr uint8_t value_version = 1;
constexpr int64_t minute_us = 60'000'000;
constexpr size_t status_count = std::size(all_verdict_statuses);

std::string_view sv(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

int64_t minute_start(event_time t) {
  const int64_t us = t.micros();
  const int64_t q = us / minute_us;
  return (us % minute_us < 0 ? q - 1 : q) * minute_us;  // floor, for instants before 1970 too
}

std::string pos_of(event_time closed_at, std::string_view session_id, uint32_t revision) {
  std::string p;
  writer w(p);
  w.fixed64_be(sortable_time(closed_at.micros()));
  w.bytes(session_id);
  w.fixed32_be(revision);
  return p;
}

struct decoded_pos {
  event_time closed_at;
  std::string session_id;
  uint32_t revision = 0;
};

// Reads a pos from `r`; false when the bytes are not one.
bool read_pos(reader& r, decoded_pos& out) {
  out.closed_at = event_time::from_micros(from_sortable_time(r.fixed64_be()));
  out.session_id = std::string(r.bytes());
  out.revision = r.fixed32_be();
  return r.ok() && !out.session_id.empty();
}

std::string result_key(char kind, std::string_view session_id, uint32_t revision) {
  std::string k(1, kind);
  writer w(k);
  w.bytes(session_id);
  w.fixed32_be(revision);
  return k;
}

std::string result_prefix(char kind, std::string_view session_id) {
  std::string k(1, kind);
  writer(k).bytes(session_id);
  return k;
}

void write_fields(writer& w, const verdict_fields& f) {
  w.svarint(f.closed_at.micros());
  w.u8(static_cast<uint8_t>(f.status));
  w.bytes(f.intent);
  w.bytes(f.agent);
}

bool read_fields(reader& r, verdict_fields& f) {
  f.closed_at = event_time::from_micros(r.svarint());
  const uint8_t status = r.u8();
  if (status >= status_count) return false;
  f.status = static_cast<verdict_status>(status);
  f.intent = std::string(r.bytes());
  f.agent = std::string(r.bytes());
  return r.ok();
}

std::string fields_value(const verdict_fields& f) {
  std::string v;
  writer w(v);
  w.u8(value_version);
  write_fields(w, f);
  return v;
}

bool decode_fields_value(std::string_view value, verdict_fields& f) {
  reader r(value);
  return r.u8() == value_version && read_fields(r, f) && r.at_end();
}

// The index prefixes a verdict with these fields is listed under.
std::vector<std::string> index_prefixes(const verdict_fields& f) {
  std::vector<std::string> out;
  out.emplace_back(1, kind_all);
  std::string by_status(1, kind_by_status);
  by_status.push_back(static_cast<char>(f.status));
  out.push_back(std::move(by_status));
  std::string by_intent(1, kind_by_intent);
  writer(by_intent).bytes(f.intent);
  out.push_back(std::move(by_intent));
  if (!f.agent.empty()) {
    std::string by_agent(1, kind_by_agent);
    writer(by_agent).bytes(f.agent);
    out.push_back(std::move(by_agent));
  }
  return out;
}

std::string minute_key(int64_t start_us) {
  std::string k(1, kind_minute);
  writer(k).fixed64_be(sortable_time(start_us));
  return k;
}

std::string encode_counts(const std::array<uint64_t, 5>& c) {
  std::string v;
  writer w(v);
  w.u8(value_version);
  for (uint64_t n : c) w.varint(n);
  return v;
}

bool decode_counts(std::string_view value, std::array<uint64_t, 5>& c) {
  reader r(value);
  if (r.u8() != value_version) return false;
  for (auto& n : c) n = r.varint();
  return r.ok() && r.at_end();
}

// A stored value that is one version byte, a closed_at and a JSON document ('s' and 'd').
bool decode_json_value(std::string_view value, event_time& closed_at, std::string& json) {
  reader r(value);
  if (r.u8() != value_version) return false;
  closed_at = event_time::from_micros(r.svarint());
  json = std::string(r.bytes());
  return r.ok() && r.at_end();
}

std::string json_value(event_time closed_at, std::string_view json) {
  std::string v;
  writer w(v);
  w.u8(value_version);
  w.svarint(closed_at.micros());
  w.bytes(json);
  return v;
}

void put_retention_entry(store& s, rocksdb::WriteBatch& batch, char kind, event_time closed_at,
                         std::string_view session_id, uint32_t revision, const verdict_fields* fields) {
  std::string k(1, kind_retention);
  k += pos_of(closed_at, session_id, revision);
  k.push_back(kind);
  std::string v;
  writer w(v);
  w.u8(value_version);
  if (fields) write_fields(w, *fields);
  batch.Put(s.handle(cf::results), k, v);
}

// A read view of one snapshot, released with it.
class snapshot_reads {
 public:
  explicit snapshot_reads(store& s) : store_(s), snapshot_(s.db()->GetSnapshot()) {}
  ~snapshot_reads() { store_.db()->ReleaseSnapshot(snapshot_); }
  snapshot_reads(const snapshot_reads&) = delete;
  snapshot_reads& operator=(const snapshot_reads&) = delete;

  rocksdb::ReadOptions options() const {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    return ro;
  }
  // Every entry whose key starts with `prefix`, in key order.
  template <class F>
  store_status scan(const std::string& prefix, F&& each) const {
    std::string upper = keys::successor(prefix);
    rocksdb::Slice upper_slice(upper);
    auto ro = options();
    if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.handle(cf::results)));
    for (it->Seek(prefix); it->Valid(); it->Next())
      if (!each(sv(it->key()).substr(prefix.size()), sv(it->value()))) break;
    return store_status::from(it->status(), "reading query results");
  }
  store_status get(const std::string& key, std::optional<std::string>& out) const {
    std::string value;
    auto s = store_.db()->Get(options(), store_.handle(cf::results), key, &value);
    if (s.IsNotFound()) {
      out.reset();
      return {};
    }
    if (!s.ok()) return store_status::from(s, "reading query results");
    out = std::move(value);
    return {};
  }
  store& db() const { return store_; }

 private:
  store& store_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace

std::optional<event_time> retention_horizon(event_time watermark, duration retention) {
  if (watermark == event_time::min() || watermark == event_time::max()) return std::nullopt;
  return watermark - retention;
}

// --- writers ---------------------------------------------------------------------------------

void put_session_result(store& s, rocksdb::WriteBatch& batch, std::string_view session_id, uint32_t revision,
                        event_time closed_at, std::string_view session_json) {
  batch.Put(s.handle(cf::results), result_key(kind_session, session_id, revision), json_value(closed_at, session_json));
  put_retention_entry(s, batch, kind_session, closed_at, session_id, revision, nullptr);
}

void delete_session_result(store& s, rocksdb::WriteBatch& batch, std::string_view session_id, uint32_t revision,
                           event_time closed_at) {
  batch.Delete(s.handle(cf::results), result_key(kind_session, session_id, revision));
  std::string k(1, kind_retention);
  k += pos_of(closed_at, session_id, revision);
  k.push_back(kind_session);
  batch.Delete(s.handle(cf::results), k);
}

void put_diagnostic_result(store& s, rocksdb::WriteBatch& batch, std::string_view session_id, uint32_t revision,
                           event_time closed_at, std::string_view diagnostic_json) {
  batch.Put(s.handle(cf::results), result_key(kind_diagnostic, session_id, revision),
            json_value(closed_at, diagnostic_json));
  put_retention_entry(s, batch, kind_diagnostic, closed_at, session_id, revision, nullptr);
}

store_status verdict_results_writer::stored_latest(std::string_view session_id, std::optional<latest>& out) {
  out.reset();
  const std::string prefix = result_prefix(kind_verdict, session_id);
  const std::string upper = keys::successor(prefix);
  rocksdb::Slice lower_slice(prefix), upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.handle(cf::results)));
  it->SeekToLast();
  if (it->Valid()) {
    auto key = sv(it->key());
    if (key.size() != prefix.size() + 4) return store_status::corrupt("verdict result key");
    reader kr(key.substr(prefix.size()));
    latest l;
    l.revision = kr.fixed32_be();
    reader vr(sv(it->value()));
    if (vr.u8() != value_version || !read_fields(vr, l.fields) || !kr.ok())
      return store_status::corrupt("verdict result of session " + std::string(session_id));
    out = std::move(l);
  }
  return store_status::from(it->status(), "reading the stored verdicts of a session");
}

store_status verdict_results_writer::count(rocksdb::WriteBatch& batch, event_time closed_at, verdict_status status,
                                           int delta) {
  const int64_t minute = minute_start(closed_at);
  auto it = minutes_.find(minute);
  if (it == minutes_.end()) {
    std::array<uint64_t, 5> counts{};
    std::string value;
    auto s = store_.db()->Get(rocksdb::ReadOptions(), store_.handle(cf::results), minute_key(minute), &value);
    if (s.ok()) {
      if (!decode_counts(value, counts)) return store_status::corrupt("verdict counts of a minute");
    } else if (!s.IsNotFound()) {
      return store_status::from(s, "reading the verdict counts of a minute");
    } else if (delta < 0) {
      return {};  // the minute's counts were deleted with its retention: nothing to take from
    }
    it = minutes_.emplace(minute, counts).first;
  }
  auto& n = it->second[static_cast<size_t>(status)];
  n = delta < 0 ? (n > 0 ? n - 1 : 0) : n + static_cast<uint64_t>(delta);
  batch.Put(store_.handle(cf::results), minute_key(minute), encode_counts(it->second));
  return {};
}

store_status verdict_results_writer::put(rocksdb::WriteBatch& batch, std::string_view session_id, uint32_t revision,
                                         const verdict_fields& f, std::string_view verdict_json) {
  auto* results = store_.handle(cf::results);
  std::optional<latest> before;
  if (auto it = in_batch_.find(std::string(session_id)); it != in_batch_.end()) before = it->second;
  else if (auto st = stored_latest(session_id, before); !st.ok()) return st;

  {
    std::string v;
    writer w(v);
    w.u8(value_version);
    write_fields(w, f);
    w.bytes(verdict_json);
    batch.Put(results, result_key(kind_verdict, session_id, revision), v);
  }
  put_retention_entry(store_, batch, kind_verdict, f.closed_at, session_id, revision, &f);
  if (before && before->revision > revision) return {};  // a newer revision holds the index

  if (before) {
    const std::string pos = pos_of(before->fields.closed_at, session_id, before->revision);
    for (const auto& prefix : index_prefixes(before->fields)) batch.Delete(results, prefix + pos);
    if (auto st = count(batch, before->fields.closed_at, before->fields.status, -1); !st.ok()) return st;
  }
  const std::string pos = pos_of(f.closed_at, session_id, revision);
  const std::string value = fields_value(f);
  for (const auto& prefix : index_prefixes(f)) batch.Put(results, prefix + pos, value);
  if (auto st = count(batch, f.closed_at, f.status, +1); !st.ok()) return st;
  in_batch_[std::string(session_id)] = latest{revision, f};
  return {};
}

void verdict_results_writer::batch_done(bool written) {
  in_batch_.clear();
  if (!written) {
    minutes_.clear();
    return;
  }
  // Only between batches: a count in a batch not yet written must not be read back from disk.
  while (minutes_.size() > 512) minutes_.erase(minutes_.begin());
}

void put_firing_alert(store& s, rocksdb::WriteBatch& batch, std::string_view alert_id, std::string_view alert_json) {
  std::string k(1, kind_firing);
  k.append(alert_id);
  std::string v;
  writer w(v);
  w.u8(value_version);
  w.bytes(alert_json);
  batch.Put(s.handle(cf::results), k, v);
}

void remove_firing_alert(store& s, rocksdb::WriteBatch& batch, std::string_view alert_id) {
  std::string k(1, kind_firing);
  k.append(alert_id);
  batch.Delete(s.handle(cf::results), k);
}

// --- retention -------------------------------------------------------------------------------

store_status results_sweeper::sweep(rocksdb::WriteBatch& batch, event_time horizon, sweep_stats& out) {
  out = {};
  auto* results = store_.handle(cf::results);
  // A whole pass after each start and once per retention: results written behind the sweep.
  if (!full_from_ || horizon - *full_from_ >= retention_) {
    full_from_ = horizon;
    resume_.clear();
    swept_until_.reset();
    minutes_deleted_until_ = INT64_MIN;
    more_ = true;
  }
  if (!more_ && swept_until_ && horizon <= *swept_until_) return {};

  std::string upper(1, kind_retention);
  writer(upper).fixed64_be(sortable_time(horizon.micros()));
  const std::string start = resume_.empty() ? std::string(1, kind_retention) : resume_;
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, results));
  for (it->Seek(start); it->Valid() && out.entries < budget_; it->Next()) {
    const auto key = sv(it->key());
    if (key.empty() || key[0] != kind_retention) return store_status::corrupt("retention entry key");
    reader kr(key.substr(1));
    decoded_pos p;
    const bool pos_ok = read_pos(kr, p);
    const char kind = static_cast<char>(kr.u8());
    if (!pos_ok || !kr.ok() || !kr.at_end()) return store_status::corrupt("retention entry key");
    switch (kind) {
      case kind_session:
      case kind_diagnostic:
        batch.Delete(results, result_key(kind, p.session_id, p.revision));
        break;
      case kind_verdict: {
        reader vr(sv(it->value()));
        verdict_fields f;
        if (vr.u8() != value_version || !read_fields(vr, f)) return store_status::corrupt("retention entry of a verdict");
        batch.Delete(results, result_key(kind_verdict, p.session_id, p.revision));
        // Already gone when a later revision took its place: deleting again is harmless.
        const std::string pos = pos_of(f.closed_at, p.session_id, p.revision);
        for (const auto& prefix : index_prefixes(f)) batch.Delete(results, prefix + pos);
        break;
      }
      default:
        return store_status::corrupt("retention entry of unknown kind");
    }
    batch.Delete(results, it->key());
    ++out.entries;
  }
  if (!it->status().ok()) return store_status::from(it->status(), "sweeping query results");
  if (it->Valid()) {
    resume_ = it->key().ToString();
    more_ = true;
  } else {
    resume_ = upper;
    swept_until_ = horizon;
    more_ = false;
  }
  out.more = more_;
  // Whole minutes before the horizon. Any key below it is garbage by definition, so a range
  // deletion is safe even against a count the judge stage writes meanwhile.
  const int64_t minute = minute_start(horizon);
  if (minute > minutes_deleted_until_) {
    batch.DeleteRange(results, std::string(1, kind_minute), minute_key(minute));
    minutes_deleted_until_ = minute;
  }
  return {};
}

// --- reader ----------------------------------------------------------------------------------

store_status results_reader::session(std::string_view session_id, std::optional<event_time> horizon,
                                     std::vector<revision_results>& out) const {
  out.clear();
  snapshot_reads reads(store_);
  std::map<uint32_t, revision_results> by_revision;
  auto entry = [&](std::string_view key_rest, uint32_t& revision) {
    reader kr(key_rest);
    revision = kr.fixed32_be();
    return kr.ok() && kr.at_end();
  };
  bool corrupt = false;
  for (char kind : {kind_session, kind_verdict, kind_diagnostic}) {
    auto st = reads.scan(result_prefix(kind, session_id), [&](std::string_view rest, std::string_view value) {
      uint32_t revision = 0;
      if (!entry(rest, revision)) return !(corrupt = true);
      event_time closed_at;
      std::string json;
      std::optional<verdict_status> status;
      if (kind == kind_verdict) {
        reader r(value);
        verdict_fields f;
        if (r.u8() != value_version || !read_fields(r, f)) return !(corrupt = true);
        json = std::string(r.bytes());
        if (!r.ok() || !r.at_end()) return !(corrupt = true);
        closed_at = f.closed_at;
        status = f.status;
      } else if (!decode_json_value(value, closed_at, json)) {
        return !(corrupt = true);
      }
      if (horizon && closed_at < *horizon) return true;  // past its retention
      auto& rr = by_revision[revision];
      rr.revision = revision;
      rr.closed_at = closed_at;
      if (kind == kind_session) rr.session_json = std::move(json);
      else if (kind == kind_verdict) {
        rr.verdict_json = std::move(json);
        rr.status = status;
      } else {
        rr.diagnostic_json = std::move(json);
      }
      return true;
    });
    if (!st.ok()) return st;
    if (corrupt) return store_status::corrupt("stored results of session " + std::string(session_id));
  }
  for (auto& [rev, rr] : by_revision) out.push_back(std::move(rr));
  return {};
}

store_status results_reader::diagnostic(std::string_view session_id, uint32_t revision,
                                        std::optional<std::string>& out) const {
  snapshot_reads reads(store_);
  std::optional<std::string> value;
  if (auto st = reads.get(result_key(kind_diagnostic, session_id, revision), value); !st.ok()) return st;
  out.reset();
  if (!value) return {};
  event_time closed_at;
  std::string json;
  if (!decode_json_value(*value, closed_at, json)) return store_status::corrupt("a stored diagnostic");
  out = std::move(json);
  return {};
}

store_status results_reader::verdicts(const verdict_query& q, std::optional<event_time> horizon,
                                      verdict_page& out) const {
  out = {};
  snapshot_reads reads(store_);
  // The most selective index the query names; its other filters are checked on the entries.
  std::vector<std::string> prefixes;
  bool by_status = false, by_intent = false, by_agent = false;
  if (q.agent) {
    std::string p(1, kind_by_agent);
    writer(p).bytes(*q.agent);
    prefixes.push_back(std::move(p));
    by_agent = true;
  } else if (q.intent) {
    std::string p(1, kind_by_intent);
    writer(p).bytes(*q.intent);
    prefixes.push_back(std::move(p));
    by_intent = true;
  } else if (!q.statuses.empty()) {
    for (auto s : q.statuses) {
      std::string p(1, kind_by_status);
      p.push_back(static_cast<char>(s));
      if (std::find(prefixes.begin(), prefixes.end(), p) == prefixes.end()) prefixes.push_back(std::move(p));
    }
    by_status = true;
  } else {
    prefixes.emplace_back(1, kind_all);
  }
  std::optional<event_time> lowest = q.from;
  if (horizon && (!lowest || *lowest < *horizon)) lowest = horizon;

  // One reverse iterator per prefix, merged by position (newest first).
  struct source {
    std::string prefix, lower, upper;
    rocksdb::Slice lower_slice, upper_slice;
    std::unique_ptr<rocksdb::Iterator> it;
  };
  std::vector<std::unique_ptr<source>> sources;
  for (auto& prefix : prefixes) {
    auto s = std::make_unique<source>();
    s->prefix = prefix;
    s->lower = prefix;
    if (lowest) writer(s->lower).fixed64_be(sortable_time(lowest->micros()));
    s->upper = keys::successor(prefix);
    s->lower_slice = rocksdb::Slice(s->lower);
    s->upper_slice = rocksdb::Slice(s->upper);
    auto ro = reads.options();
    ro.iterate_lower_bound = &s->lower_slice;
    if (!s->upper.empty()) ro.iterate_upper_bound = &s->upper_slice;
    s->it.reset(store_.db()->NewIterator(ro, store_.handle(cf::results)));
    if (q.cursor) {
      const std::string at = prefix + *q.cursor;
      s->it->SeekForPrev(at);
      if (s->it->Valid() && sv(s->it->key()) == at) s->it->Prev();  // the cursor's entry was on the last page
    } else if (q.to) {
      std::string at = prefix;
      writer(at).fixed64_be(sortable_time(q.to->micros()));
      s->it->SeekForPrev(at);  // every key of closed_at == to is greater: `to` is exclusive
    } else {
      s->it->SeekToLast();
    }
    sources.push_back(std::move(s));
  }
  auto newest = [&]() -> source* {
    source* best = nullptr;
    for (auto& s : sources) {
      if (!s->it->Valid()) continue;
      if (!best || sv(s->it->key()).substr(s->prefix.size()) > sv(best->it->key()).substr(best->prefix.size()))
        best = s.get();
    }
    return best;
  };
  std::string last_pos;
  while (source* s = newest()) {
    if (out.verdicts.size() >= q.limit || out.scanned >= scan_budget_) {
      out.next_cursor = format_cursor(last_pos);
      break;
    }
    const std::string pos(sv(s->it->key()).substr(s->prefix.size()));
    reader pr(pos);
    decoded_pos p;
    verdict_fields f;
    if (!read_pos(pr, p) || !pr.at_end() || !decode_fields_value(sv(s->it->value()), f))
      return store_status::corrupt("verdict index entry");
    ++out.scanned;
    last_pos = pos;
    s->it->Prev();
    const bool status_ok = by_status || q.statuses.empty() ||
                           std::find(q.statuses.begin(), q.statuses.end(), f.status) != q.statuses.end();
    if (!status_ok || (!by_intent && q.intent && f.intent != *q.intent) || (!by_agent && q.agent && f.agent != *q.agent))
      continue;
    std::optional<std::string> value;
    if (auto st = reads.get(result_key(kind_verdict, p.session_id, p.revision), value); !st.ok()) return st;
    if (!value) continue;  // swept between the index and here: past its retention
    reader vr(*value);
    verdict_fields stored;
    if (vr.u8() != value_version || !read_fields(vr, stored)) return store_status::corrupt("a stored verdict");
    stored_verdict v;
    v.session_id = std::move(p.session_id);
    v.revision = p.revision;
    v.fields = std::move(f);
    v.json = std::string(vr.bytes());
    if (!vr.ok()) return store_status::corrupt("a stored verdict");
    out.verdicts.push_back(std::move(v));
  }
  for (auto& s : sources)
    if (!s->it->status().ok()) return store_status::from(s->it->status(), "reading the verdict index");
  return {};
}

store_status results_reader::firing_alerts(std::vector<std::pair<std::string, std::string>>& out) const {
  out.clear();
  snapshot_reads reads(store_);
  bool corrupt = false;
  auto st = reads.scan(std::string(1, kind_firing), [&](std::string_view id, std::string_view value) {
    reader r(value);
    if (r.u8() != value_version) return !(corrupt = true);
    out.emplace_back(std::string(id), std::string(r.bytes()));
    if (!r.ok() || !r.at_end()) return !(corrupt = true);
    return true;
  });
  if (!st.ok()) return st;
  return corrupt ? store_status::corrupt("a stored firing alert") : store_status{};
}

store_status results_reader::mix(event_time from, event_time to, verdict_mix& out) const {
  out = {};
  snapshot_reads reads(store_);
  const std::string lower = minute_key(from.micros()), upper = minute_key(to.micros());
  rocksdb::Slice lower_slice(lower), upper_slice(upper);
  auto ro = reads.options();
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.handle(cf::results)));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    std::array<uint64_t, 5> c{};
    if (!decode_counts(sv(it->value()), c)) return store_status::corrupt("verdict counts of a minute");
    for (size_t i = 0; i < c.size(); ++i) out.by_status[i] += c[i];
  }
  return store_status::from(it->status(), "reading verdict counts");
}

// --- cursors ---------------------------------------------------------------------------------

std::string format_cursor(std::string_view pos) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(pos.size() * 2);
  for (unsigned char c : pos) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

std::optional<std::string> parse_cursor(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0 || text.size() > 2 * 1024) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string pos;
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    pos.push_back(static_cast<char>(hi << 4 | lo));
  }
  reader r(pos);
  decoded_pos p;
  if (!read_pos(r, p) || !r.at_end()) return std::nullopt;
  return pos;
}

}  // namespace tw::state
