// Where output records go: Kafka (live and demo) or a stream (replay to a file or stdout).
// The output stage drives a record_writer; it never needs to know which one.
//
// Thread: a writer belongs to the output stage's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "model/time.hpp"
#include "topics/kafka/output_producer.hpp"

namespace tw {

// What became of one write() at once.
enum class write_status {
  queued,       // on its way: its outcome comes through poll()
  retry_later,  // not queued, for a reason that may pass (the local queue is full, the topic is not
                // known yet): poll, then write it again, and nothing after it meanwhile
  rejected,     // can never be written as it is (e.g. larger than the producer accepts)
};

struct write_result {
  write_status status = write_status::queued;
  std::string error;  // why, unless queued
};

struct write_failure {
  uint64_t seq = 0;
  std::string error;
  bool rejected = false;  // true: retrying cannot help (see write_status::rejected)
};

struct write_outcome {
  std::vector<uint64_t> acknowledged;  // durable downstream
  std::vector<write_failure> failed;   // not delivered: retry later, unless rejected
};

class record_writer {
 public:
  virtual ~record_writer() = default;
  // Queues one record.
  [[nodiscard]] virtual write_result write(uint64_t seq, const std::string& topic, const std::string& key,
                                           const std::string& payload) = 0;
  // Waits up to `wait` for outcomes of earlier writes.
  virtual void poll(duration wait, write_outcome& out) = 0;
  virtual size_t in_flight() const = 0;
};

// Produces to Kafka; acknowledged means acks=all from the brokers.
class kafka_writer final : public record_writer {
 public:
  explicit kafka_writer(std::unique_ptr<kafka::output_producer> p) : producer_(std::move(p)) {}
  write_result write(uint64_t seq, const std::string& topic, const std::string& key,
                     const std::string& payload) override;
  void poll(duration wait, write_outcome& out) override;
  size_t in_flight() const override { return in_flight_; }

 private:
  std::unique_ptr<kafka::output_producer> producer_;
  size_t in_flight_ = 0;
  std::vector<kafka::delivery> reports_;
};

// Writes one payload per line to a stream per topic (e.g. sessions to stdout, dead letters to a
// file). Acknowledged once flushed. A topic without a stream is acknowledged and dropped — the
// caller chose not to keep it (e.g. dead letters of a replay without --deadletter-out).
class stream_writer final : public record_writer {
 public:
  void route(const std::string& topic, std::ostream* out) { streams_[topic] = out; }
  write_result write(uint64_t seq, const std::string& topic, const std::string& key,
                     const std::string& payload) override;
  void poll(duration wait, write_outcome& out) override;
  size_t in_flight() const override { return pending_.size(); }

 private:
  std::map<std::string, std::ostream*> streams_;
  std::vector<uint64_t> pending_;
  std::vector<write_failure> failed_;
};

// Rewrites each record's key and payload on its way to another writer (PII redaction,
// docs/privacy.md): whatever the destination, what leaves is what `key` and `payload` make of it.
class filtering_writer final : public record_writer {
 public:
  using filter = std::function<std::string(const std::string&)>;
  filtering_writer(std::shared_ptr<record_writer> inner, filter key, filter payload)
      : inner_(std::move(inner)), key_(std::move(key)), payload_(std::move(payload)) {}
  write_result write(uint64_t seq, const std::string& topic, const std::string& key,
                     const std::string& payload) override {
    return inner_->write(seq, topic, key_(key), payload_(payload));
  }
  void poll(duration wait, write_outcome& out) override { inner_->poll(wait, out); }
  size_t in_flight() const override { return inner_->in_flight(); }

 private:
  std::shared_ptr<record_writer> inner_;
  filter key_, payload_;
};

}  // namespace tw
