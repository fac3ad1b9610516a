#include "state/mailbox.hpp"

#include "state/codec.hpp"

namespace tw::state {

std::string encode_mailbox_value(wall_time enqueued_at, const std::string& payload) {
  std::string out;
  writer w(out);
  w.u8(1);
  w.svarint(enqueued_at.micros());
  w.bytes(payload);
  return out;
}

std::optional<mailbox_item> decode_mailbox_value(uint64_t seq, std::string_view value) {
  reader r(value);
  if (r.u8() != 1) return std::nullopt;
  mailbox_item item;
  item.seq = seq;
  item.enqueued_at = wall_time::from_micros(r.svarint());
  item.payload = std::string(r.bytes());
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return item;
}

mailbox_item mailbox_writer::put(rocksdb::WriteBatch& batch, std::string payload, wall_time now) {
  mailbox_item item;
  item.enqueued_at = now;
  item.seq = lane_.append(batch, encode_mailbox_value(now, payload));
  item.payload = std::move(payload);
  return item;
}

rate_limited_mailbox::rate_limited_mailbox(store& s, mailbox_lane lane, mailbox_settings settings, wall_time now,
                                           mailbox_probe& probe)
    : store_(s),
      lane_(static_cast<uint8_t>(lane)),
      settings_(settings),
      bucket_(settings.interval, settings.burst, now),
      probe_(probe) {}

bool rate_limited_mailbox::offer(mailbox_item item) {
  if (item.seq < disk_next_) return false;  // already read back from disk
  if (known_end_ == UINT64_MAX || known_end_ < item.seq + 1) known_end_ = item.seq + 1;
  probe_.enqueued_end = std::max(probe_.enqueued_end.load(), item.seq + 1);
  bool kept = item.seq == disk_next_ && memory_.size() < settings_.memory_capacity;
  if (kept) {
    if (probe_.head_enqueued_us == 0) probe_.head_enqueued_us = item.enqueued_at.micros();
    memory_.push_back(std::move(item));
    disk_next_ = memory_.back().seq + 1;
  } else {
    ++probe_.spilled;  // it waits in RocksDB; refill() reads it back in order
  }
  probe_.in_memory = memory_.size();
  return kept;
}

void rate_limited_mailbox::known_until(uint64_t end) {
  if (end <= disk_next_) return;
  if (known_end_ == UINT64_MAX || known_end_ < end) known_end_ = end;
  probe_.enqueued_end = std::max(probe_.enqueued_end.load(), end);
}

store_status rate_limited_mailbox::refill() {
  if (memory_.size() >= settings_.memory_capacity || disk_next_ >= known_end_) return {};
  std::vector<std::pair<uint64_t, std::string>> raw;
  auto st = lane_read(store_, cf::mailbox, lane_, disk_next_, settings_.memory_capacity - memory_.size(), raw);
  if (!st.ok()) return st;
  for (auto& [seq, value] : raw) {
    auto item = decode_mailbox_value(seq, value);
    if (!item) return store_status::corrupt("mailbox item " + std::to_string(seq));
    memory_.push_back(std::move(*item));
    disk_next_ = seq + 1;
    ++probe_.read_from_disk;
  }
  if (raw.size() < settings_.memory_capacity - (memory_.size() - raw.size())) {
    // Read to the end of the lane: everything that exists is now in memory.
    known_end_ = disk_next_;
  }
  probe_.enqueued_end = std::max(probe_.enqueued_end.load(), disk_next_);
  if (!memory_.empty()) probe_.head = memory_.front().seq;
  if (!memory_.empty() && probe_.head_enqueued_us == 0) probe_.head_enqueued_us = memory_.front().enqueued_at.micros();
  probe_.in_memory = memory_.size();
  return {};
}

std::optional<mailbox_item> rate_limited_mailbox::take(wall_time now, wall_time& retry_at) {
  publish(now);
  if (memory_.empty()) {
    retry_at = wall_time::max();
    return std::nullopt;
  }
  if (!bucket_.try_take(now)) {
    retry_at = bucket_.next_token_at(now);
    return std::nullopt;
  }
  mailbox_item item = std::move(memory_.front());
  memory_.pop_front();
  ++probe_.taken;
  probe_.in_memory = memory_.size();
  return item;
}

void rate_limited_mailbox::done(rocksdb::WriteBatch& batch, uint64_t seq) {
  lane_erase(store_, batch, cf::mailbox, lane_, seq);
  probe_.head = memory_.empty() ? disk_next_ : memory_.front().seq;
}

void rate_limited_mailbox::publish(wall_time now) {
  probe_.consumer.beat(now);
  probe_.oldest_wait_us = memory_.empty() ? 0 : std::max<int64_t>(0, (now - memory_.front().enqueued_at).count());
  probe_.head_enqueued_us = memory_.empty() ? 0 : memory_.front().enqueued_at.micros();
  if (!memory_.empty()) probe_.head = memory_.front().seq;
}

}  // namespace tw::state
