// Leaving entries out of the middle of a list, the way every bounded list of the output contracts
// is cut: a list kept to k entries holds its first k/2 and its last k - k/2 (how it began and how
// it ended). Used to fit a record into output.max_record_bytes. Internal to topics/contracts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tw::contracts_detail {

class middle_out {
 public:
  // `sizes`: the bytes each entry takes in the encoded record (its comma included).
  explicit middle_out(std::vector<size_t> sizes) : sizes_(std::move(sizes)), keep_(sizes_.size()) {
    for (auto n : sizes_) bytes_ += n;
  }
  size_t kept() const { return keep_; }
  size_t dropped() const { return sizes_.size() - keep_; }
  size_t bytes() const { return bytes_; }  // of the kept entries
  // Leaves out one more entry: going from k to k - 1 kept entries drops the last of the first half
  // when k is even, else the first of the second half. REQUIRES: kept() > 0.
  void drop_one() {
    const size_t head = keep_ / 2, tail = keep_ - head;
    bytes_ -= sizes_[keep_ % 2 == 0 ? head - 1 : sizes_.size() - tail];
    --keep_;
  }
  // Makes `v` (the list the sizes were taken from) hold the kept entries.
  template <class T>
  void apply(std::vector<T>& v) const {
    if (keep_ == v.size()) return;
    const size_t head = keep_ / 2, tail = keep_ - head;
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(head), v.end() - static_cast<std::ptrdiff_t>(tail));
  }

 private:
  std::vector<size_t> sizes_;
  size_t keep_;
  size_t bytes_ = 0;
};

// Drops entries one at a time, always from the list whose kept entries take the most bytes (the
// first of them on a tie), until `need` bytes are freed or every list is down to `floor` entries.
// Deterministic. Returns whether anything was dropped.
inline bool drop_largest_first(const std::vector<middle_out*>& lists, size_t need, size_t floor = 0) {
  size_t freed = 0;
  bool dropped = false;
  while (freed < need) {
    middle_out* largest = nullptr;
    for (auto* l : lists)
      if (l->kept() > floor && (!largest || l->bytes() > largest->bytes())) largest = l;
    if (!largest) break;
    const size_t before = largest->bytes();
    largest->drop_one();
    freed += before - largest->bytes();
    dropped = true;
  }
  return dropped;
}

}  // namespace tw::contracts_detail
