#include "state/outbox.hpp"

#include <rocksdb/write_batch.h>

#include "state/codec.hpp"
#include "state/keys.hpp"

namespace tw::state {

void encode_outbox_entry(const outbox_entry& e, std::string& out) {
  writer w(out);
  w.u8(1);
  w.bytes(e.topic);
  w.bytes(e.key);
  w.bytes(e.payload);
}

std::optional<outbox_entry> decode_outbox_entry(uint64_t seq, std::string_view value) {
  reader r(value);
  if (r.u8() != 1) return std::nullopt;
  outbox_entry e;
  e.seq = seq;
  e.topic = std::string(r.bytes());
  e.key = std::string(r.bytes());
  e.payload = std::string(r.bytes());
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return e;
}

store_status outbox_reader::read(uint64_t from, size_t max, std::vector<outbox_entry>& out) {
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(rocksdb::ReadOptions(), store_.handle(cf::outbox)));
  for (it->Seek(keys::outbox(from)); it->Valid() && out.size() < max; it->Next()) {
    reader r(std::string_view(it->key().data(), it->key().size()));
    uint64_t seq = r.fixed64_be();
    auto e = decode_outbox_entry(seq, std::string_view(it->value().data(), it->value().size()));
    if (!r.ok() || !e) return store_status::corrupt("outbox entry " + std::to_string(seq) + " does not decode");
    out.push_back(std::move(*e));
  }
  return store_status::from(it->status(), "reading the outbox");
}

store_status outbox_reader::erase(const std::vector<uint64_t>& seqs) {
  rocksdb::WriteBatch batch;
  for (auto seq : seqs) batch.Delete(store_.handle(cf::outbox), keys::outbox(seq));
  return store_status::from(store_.db()->Write(store_.write_options(), &batch), "deleting delivered outbox entries");
}

store_status outbox_reader::end_seq(uint64_t& out) {
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(rocksdb::ReadOptions(), store_.handle(cf::outbox)));
  it->SeekToLast();
  out = 0;
  if (it->Valid()) {
    reader r(std::string_view(it->key().data(), it->key().size()));
    out = r.fixed64_be() + 1;
  }
  return store_status::from(it->status(), "reading the outbox");
}

}  // namespace tw::state
