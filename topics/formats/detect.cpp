// Format detection from the JSON shape of one message. The rules look only at the root's keys
// (and, for arrays and event lists, at the first element), so they cost next to nothing and a
// message is never parsed twice:
//
//   {"schema":"tracewatch.event.v1", ...}, {"events":[...]}, [{"schema":...}, ...]  -> native
//   {"resourceSpans"|"resourceLogs"|"batches": ...}                                 -> otlp
//   {"trace":{...}, "observations"?: [...]}                                         -> langfuse_export
//   {"batch": ...} or an event {"type", "body", "id"?, "timestamp"?}                 -> langfuse
//
// "batches" (Tempo/legacy OTLP) and "batch" (Langfuse) differ by one letter: both are matched
// exactly.
#include "topics/formats/parsers.hpp"

namespace tw::formats {
namespace {

constexpr std::string_view native_schema = "tracewatch.event.v1";

bool is_native_event(dom::element e) {
  auto obj = as_object(e);
  if (!obj) return false;
  auto schema = string_member(*obj, "schema");
  return schema && *schema == native_schema;
}

bool first_is_native(dom::array arr) {
  for (dom::element first : arr) return is_native_event(first);
  return false;
}

}  // namespace

std::optional<input_format> detect_format(dom::element root) {
  if (auto arr = as_array(root)) {
    if (first_is_native(*arr)) return input_format::native;
    return std::nullopt;
  }
  auto obj = as_object(root);
  if (!obj) return std::nullopt;
  // One pass over the root's keys; the decision below follows the order in the file comment.
  bool native = false, native_list = false, otlp = false, export_trace = false, batch = false, type = false,
       body = false;
  for (dom::key_value_pair kv : *obj) {
    const std::string_view k = kv.key;
    if (k == "schema") {
      native = native || is_native_event(root);
    } else if (k == "events") {
      auto arr = as_array(kv.value);
      native_list = arr && first_is_native(*arr);
    } else if (k == "resourceSpans" || k == "resourceLogs" || k == "batches") {
      otlp = true;
    } else if (k == "trace") {
      export_trace = as_object(kv.value).has_value();
    } else if (k == "batch") {
      batch = true;
    } else if (k == "type") {
      type = true;
    } else if (k == "body") {
      body = true;
    }
  }
  if (native || native_list) return input_format::native;
  if (otlp) return input_format::otlp;
  if (export_trace) return input_format::langfuse_export;
  if (batch || (type && body)) return input_format::langfuse;
  return std::nullopt;
}

}  // namespace tw::formats
