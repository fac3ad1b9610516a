// Why an input event (or an output record) could not be used. Every rejection becomes a
// tracewatch.deadletter.v1 record (topics/contracts/deadletter_json.hpp); nothing is dropped
// silently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tw {

// Appears in the dead-letter contract as a string: never rename, only append.
enum class reject_code : uint8_t {
  invalid_json,      // the payload is not JSON (or not UTF-8)
  unknown_format,    // JSON, but no supported trace format recognises it
  missing_field,     // a required field is absent; detail names its path
  invalid_field,     // a field has the wrong type or an unusable value; detail names its path
  unsupported_type,  // a well-formed event tracewatch cannot attach to a session
  too_large,         // over a configured size limit
  late_event,        // its session was completed and sealed (past the grace period)
  undeliverable,     // an output record the brokers refuse for good (e.g. over their size limit):
                     // its dead letter replaces it (actors/output_stage.hpp)
};
std::string_view to_string(reject_code c);
// Every code, in order (for per-reason counters): append here too.
inline constexpr reject_code all_reject_codes[] = {
    reject_code::invalid_json,     reject_code::unknown_format, reject_code::missing_field, reject_code::invalid_field,
    reject_code::unsupported_type, reject_code::too_large,      reject_code::late_event,    reject_code::undeliverable};

struct rejected_event {
  reject_code code = reject_code::invalid_json;
  std::string detail;             // precise and human-readable: "body.traceId: missing"
  std::optional<uint32_t> index;  // position inside a batch message, when only one event is bad
  std::string payload;            // the offending bytes: the whole message, or that one event
};

}  // namespace tw
