// Input formats: turning one Kafka message's bytes into normalised observations.
//
// Supported (docs/input-formats.md):
//   langfuse         Langfuse ingestion events: one event {id,type,timestamp,body} or {"batch":[...]}
//   langfuse_export  a Langfuse trace as its API exports it: {trace:{...}, observations:[...]}
//   otlp             OTLP/JSON traces (resourceSpans, legacy batches) and GenAI logs (resourceLogs)
//   native           tracewatch.event.v1, our own small format
// `auto_detect` picks one per message from the JSON shape.
//
// A message may yield observations and rejections at once: one bad event in a Langfuse batch is
// rejected on its own with a precise reason; the rest are used. Parsing never throws and never
// crashes on any input (tests/unit/formats_fuzz_test.cpp).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "model/observation.hpp"
#include "model/rejection.hpp"

namespace tw {

enum class input_format { auto_detect, langfuse, langfuse_export, otlp, native };
std::string_view to_string(input_format f);
std::optional<input_format> parse_input_format(std::string_view name);  // "auto", "langfuse", ...

struct parse_limits {
  size_t max_message_bytes = 8 << 20;  // larger: rejected as too_large, unparsed
  size_t text_excerpt_bytes = 500;     // user/assistant text per event
  size_t result_excerpt_bytes = 300;   // tool results, status messages
  size_t metadata_entries = 32;        // flattened metadata entries per event
  size_t metadata_value_bytes = 200;
};

struct parse_result {
  input_format detected = input_format::auto_detect;  // what the message turned out to be
  std::vector<observation> observations;
  std::vector<rejected_event> rejected;
  size_t ignored = 0;  // valid events that carry nothing for sessions (e.g. Langfuse sdk-log)
};

// Reuses its parse buffers between calls. Not thread-safe: one per thread.
class payload_parser {
 public:
  explicit payload_parser(parse_limits limits = {});
  ~payload_parser();
  payload_parser(const payload_parser&) = delete;
  payload_parser& operator=(const payload_parser&) = delete;

  parse_result parse(std::string_view payload, input_format format = input_format::auto_detect);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tw
