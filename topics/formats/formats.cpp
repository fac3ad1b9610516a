#include "topics/formats/formats.hpp"

namespace tw {

std::string_view to_string(input_format f) {
  switch (f) {
    case input_format::auto_detect: return "auto";
    case input_format::langfuse: return "langfuse";
    case input_format::langfuse_export: return "langfuse_export";
    case input_format::otlp: return "otlp";
    case input_format::native: return "native";
  }
  return "unknown";
}

std::optional<input_format> parse_input_format(std::string_view name) {
  for (auto f : {input_format::auto_detect, input_format::langfuse, input_format::langfuse_export,
                 input_format::otlp, input_format::native})
    if (to_string(f) == name) return f;
  return std::nullopt;
}

}  // namespace tw

// ---------------------------------------------------------------------------------------------
// payload_parser: size check, one simdjson parse into a reused padded buffer, format detection,
// then the format's parser (parsers.hpp).

#include <new>
#include <string>

#include <simdjson.h>

#include "topics/formats/parsers.hpp"

namespace tw {

struct payload_parser::impl {
  parse_limits limits;
  simdjson::dom::parser parser;
  std::string buffer;  // the payload plus simdjson's padding, reused between messages
  formats::nested_json nested;
};

payload_parser::payload_parser(parse_limits limits) : impl_(std::make_unique<impl>()) { impl_->limits = limits; }
payload_parser::~payload_parser() = default;

parse_result payload_parser::parse(std::string_view payload, input_format format) {
  parse_result result;
  formats::parse_context ctx{impl_->limits, impl_->nested, result, payload};
  if (payload.size() > impl_->limits.max_message_bytes) {
    ctx.reject_message({reject_code::too_large, "message: " + std::to_string(payload.size()) +
                                                    " bytes, over max_message_bytes (" +
                                                    std::to_string(impl_->limits.max_message_bytes) + ")"});
    return result;
  }
  // A failed allocation is the one exception the parsers can meet (simdjson is used through error
  // codes). It is this message's problem, not the process's: report it as too large for us.
  try {
    impl_->buffer.assign(payload.data(), payload.size());
    impl_->buffer.append(simdjson::SIMDJSON_PADDING, '\0');
    simdjson::dom::element root;
    if (auto err = impl_->parser.parse(impl_->buffer.data(), payload.size(), false).get(root)) {
      ctx.reject_message({reject_code::invalid_json, std::string("message: ") + simdjson::error_message(err)});
      return result;
    }
    if (format == input_format::auto_detect) {
      auto detected = formats::detect_format(root);
      if (!detected) {
        ctx.reject_message({reject_code::unknown_format,
                            "message: JSON of no supported shape (Langfuse ingestion or export, OTLP/JSON, "
                            "tracewatch.event.v1)"});
        return result;
      }
      format = *detected;
    }
    result.detected = format;
    switch (format) {
      case input_format::langfuse: formats::parse_langfuse(root, ctx); break;
      case input_format::langfuse_export: formats::parse_langfuse_export(root, ctx); break;
      case input_format::otlp: formats::parse_otlp(root, ctx); break;
      case input_format::native: formats::parse_native(root, ctx); break;
      case input_format::auto_detect: break;
    }
  } catch (const std::bad_alloc&) {
    result.observations.clear();
    result.rejected.clear();
    result.rejected.push_back(
        rejected_event{reject_code::too_large, "message: out of memory while parsing", std::nullopt, std::string(payload)});
  }
  return result;
}

}  // namespace tw
