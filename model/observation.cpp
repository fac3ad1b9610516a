#include "model/observation.hpp"

namespace tw {

std::string_view to_string(obs_kind k) {
  switch (k) {
    case obs_kind::trace: return "trace";
    case obs_kind::span: return "span";
    case obs_kind::generation: return "generation";
    case obs_kind::tool: return "tool";
    case obs_kind::event: return "event";
    case obs_kind::score: return "score";
  }
  return "unknown";
}

std::string_view to_string(obs_level l) {
  switch (l) {
    case obs_level::debug: return "debug";
    case obs_level::normal: return "default";
    case obs_level::warning: return "warning";
    case obs_level::error: return "error";
  }
  return "unknown";
}

}  // namespace tw
