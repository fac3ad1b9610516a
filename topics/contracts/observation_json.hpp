// An observation as a tracewatch.event.v1 document (the native input format, docs/input-formats.md).
// Used where the original bytes of an event are no longer at hand — a held event dead-lettered
// after its message was committed — so the dead letter still carries the event, as understood.
#pragma once

#include <string>

#include "model/observation.hpp"

namespace tw {

std::string encode_observation_json(const observation& o);

}  // namespace tw
