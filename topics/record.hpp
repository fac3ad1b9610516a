// One input message as consumed, before parsing.
#pragma once

#include <string>

#include "model/kafka.hpp"

namespace tw {

struct raw_record {
  record_position position;
  std::string key;
  std::string payload;
};

}  // namespace tw
