#include "state/outbox.hpp"

#include <rocksdb/write_batch.h>

#include "state/codec.hpp"

namespace tw::state {

std::string_view to_string(outbox_lane lane) {
  switch (lane) {
    case outbox_lane::sessions: return "sessions";
    case outbox_lane::verdicts: return "verdicts";
    case outbox_lane::diagnostics: return "diagnostics";
    case outbox_lane::alerts: return "alerts";
  }
  return "unknown";
}

void encode_outbox_entry(const outbox_entry& e, std::string& out) {
  writer w(out);
  w.u8(1);
  w.bytes(e.topic);
  w.bytes(e.key);
  w.bytes(e.payload);
}

std::optional<outbox_entry> decode_outbox_entry(outbox_lane lane, uint64_t seq, std::string_view value) {
  reader r(value);
  if (r.u8() != 1) return std::nullopt;
  outbox_entry e;
  e.lane = lane;
  e.seq = seq;
  e.topic = std::string(r.bytes());
  e.key = std::string(r.bytes());
  e.payload = std::string(r.bytes());
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return e;
}

void outbox_writer::put(rocksdb::WriteBatch& batch, const std::string& topic, const std::string& key,
                        const std::string& payload) {
  outbox_entry e;
  e.topic = topic;
  e.key = key;
  e.payload = payload;
  std::string value;
  encode_outbox_entry(e, value);
  lane_.append(batch, value);
}

store_status outbox_reader::read(outbox_lane lane, uint64_t from, size_t max, std::vector<outbox_entry>& out) {
  std::vector<std::pair<uint64_t, std::string>> raw;
  auto st = lane_read(store_, cf::outbox, static_cast<uint8_t>(lane), from, max, raw);
  if (!st.ok()) return st;
  for (auto& [seq, value] : raw) {
    auto e = decode_outbox_entry(lane, seq, value);
    if (!e) return store_status::corrupt("outbox entry " + std::to_string(seq) + " does not decode");
    out.push_back(std::move(*e));
  }
  return {};
}

store_status outbox_reader::erase(const std::vector<std::pair<outbox_lane, uint64_t>>& entries) {
  rocksdb::WriteBatch batch;
  for (auto [lane, seq] : entries) lane_erase(store_, batch, cf::outbox, static_cast<uint8_t>(lane), seq);
  return store_.write(batch, "deleting delivered outbox entries");
}

}  // namespace tw::state
