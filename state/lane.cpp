#include "state/lane.hpp"

#include <memory>

#include "state/codec.hpp"

namespace tw::state {

namespace {
std::string meta_key(cf family, uint8_t lane) {
  return std::string("lane.") + cf_name(family) + "." + std::to_string(lane);
}
}  // namespace

std::string lane_key(uint8_t lane, uint64_t seq) {
  std::string k;
  writer w(k);
  w.u8(lane);
  w.fixed64_be(seq);
  return k;
}

store_status lane_writer::open() {
  std::string value;
  auto s = store_.db()->Get(rocksdb::ReadOptions(), store_.handle(cf::meta), meta_key(cf_, lane_), &value);
  if (s.ok()) {
    reader r(value);
    next_ = r.varint();
    if (!r.ok()) return store_status::corrupt("meta " + meta_key(cf_, lane_));
  } else if (!s.IsNotFound()) {
    return store_status::from(s, "reading " + meta_key(cf_, lane_));
  }
  // Never reuse a sequence, even if meta was lost: continue after the last value stored.
  std::string upper = lane_key(static_cast<uint8_t>(lane_ + 1), 0);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  if (lane_ < 255) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.handle(cf_)));
  it->SeekForPrev(lane_ < 255 ? upper : lane_key(lane_, UINT64_MAX));
  if (it->Valid() && it->key().size() == 9 && static_cast<uint8_t>(it->key()[0]) == lane_) {
    reader r(std::string_view(it->key().data() + 1, 8));
    next_ = std::max(next_, r.fixed64_be() + 1);
  }
  return store_status::from(it->status(), std::string("reading the ") + cf_name(cf_) + " lane");
}

uint64_t lane_writer::append(rocksdb::WriteBatch& batch, const std::string& value) {
  uint64_t seq = next_++;
  batch.Put(store_.handle(cf_), lane_key(lane_, seq), value);
  return seq;
}

void lane_writer::save(rocksdb::WriteBatch& batch) const {
  std::string v;
  writer(v).varint(next_);
  batch.Put(store_.handle(cf::meta), meta_key(cf_, lane_), v);
}

store_status lane_read(store& s, cf family, uint8_t lane, uint64_t from, size_t max,
                       std::vector<std::pair<uint64_t, std::string>>& out) {
  std::string upper = lane_key(static_cast<uint8_t>(lane + 1), 0);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  if (lane < 255) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s.db()->NewIterator(ro, s.handle(family)));
  for (it->Seek(lane_key(lane, from)); it->Valid() && out.size() < max; it->Next()) {
    if (it->key().size() != 9 || static_cast<uint8_t>(it->key()[0]) != lane) break;
    reader r(std::string_view(it->key().data() + 1, 8));
    out.emplace_back(r.fixed64_be(), std::string(it->value().data(), it->value().size()));
  }
  return store_status::from(it->status(), std::string("reading the ") + cf_name(family));
}

void lane_erase(store& s, rocksdb::WriteBatch& batch, cf family, uint8_t lane, uint64_t seq) {
  batch.Delete(s.handle(family), lane_key(lane, seq));
}

}  // namespace tw::state
