#include "model/watermark_record.hpp"

namespace tw {

std::string_view to_string(watermark_decision d) {
  switch (d) {
    case watermark_decision::assign: return "assign";
    case watermark_decision::idle: return "idle";
    case watermark_decision::wake: return "wake";
  }
  return "unknown";
}

}  // namespace tw
