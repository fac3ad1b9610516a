#include "model/session.hpp"

namespace tw {

std::string_view to_string(completion_reason r) {
  switch (r) {
    case completion_reason::gap: return "gap";
    case completion_reason::end_marker: return "end_marker";
    case completion_reason::max_duration: return "max_duration";
    case completion_reason::flush: return "flush";
    case completion_reason::idle: return "idle";
  }
  return "unknown";
}

std::string_view to_string(cost_origin o) {
  switch (o) {
    case cost_origin::reported: return "reported";
    case cost_origin::computed: return "computed";
    case cost_origin::mixed: return "mixed";
  }
  return "unknown";
}

}  // namespace tw
