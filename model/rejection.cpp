#include "model/rejection.hpp"

namespace tw {

std::string_view to_string(reject_code c) {
  switch (c) {
    case reject_code::invalid_json: return "invalid_json";
    case reject_code::unknown_format: return "unknown_format";
    case reject_code::missing_field: return "missing_field";
    case reject_code::invalid_field: return "invalid_field";
    case reject_code::unsupported_type: return "unsupported_type";
    case reject_code::too_large: return "too_large";
    case reject_code::late_event: return "late_event";
    case reject_code::undeliverable: return "undeliverable";
  }
  return "unknown";
}

}  // namespace tw
