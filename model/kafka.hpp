// Kafka coordinates as distinct types.
//
// An offset names one record. The off-by-one between "the last record processed" and "the next
// record to consume" is spelled out: state stores next_to_consume(), which is what a consumer
// seeks to after a restart.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>

namespace tw {

struct partition_id {
  int32_t value = 0;
  friend bool operator==(partition_id a, partition_id b) { return a.value == b.value; }
  friend bool operator!=(partition_id a, partition_id b) { return a.value != b.value; }
  friend bool operator<(partition_id a, partition_id b) { return a.value < b.value; }
};

struct offset {
  int64_t value = -1;  // -1: none
  // The offset a consumer must fetch next once this record is fully processed.
  offset next_to_consume() const { return offset{value + 1}; }
  friend bool operator==(offset a, offset b) { return a.value == b.value; }
  friend bool operator!=(offset a, offset b) { return a.value != b.value; }
  friend bool operator<(offset a, offset b) { return a.value < b.value; }
  friend bool operator<=(offset a, offset b) { return a.value <= b.value; }
};

struct topic_partition {
  std::string topic;
  partition_id partition;
  friend bool operator==(const topic_partition& a, const topic_partition& b) {
    return a.partition == b.partition && a.topic == b.topic;
  }
  friend bool operator!=(const topic_partition& a, const topic_partition& b) { return !(a == b); }
  friend bool operator<(const topic_partition& a, const topic_partition& b) {
    return std::tie(a.topic, a.partition.value) < std::tie(b.topic, b.partition.value);
  }
  std::string to_string() const { return topic + "/" + std::to_string(partition.value); }
};

// Where one input record came from: the dead-letter contract's "source".
struct record_position {
  topic_partition tp;
  offset off;
};

// What a partition's log holds, as a consumer last learned it: the first offset still kept (low)
// and the high watermark — one past the last record written, i.e. the next_to_consume() of the
// last record. A consumer whose next offset equals `high` is caught up.
struct partition_extent {
  topic_partition tp;
  offset low;
  offset high;
};

}  // namespace tw

template <>
struct std::hash<tw::topic_partition> {
  size_t operator()(const tw::topic_partition& tp) const noexcept {
    return std::hash<std::string>{}(tp.topic) * 31 + static_cast<size_t>(tp.partition.value);
  }
};
