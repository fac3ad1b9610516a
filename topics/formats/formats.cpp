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
