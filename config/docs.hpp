// Renders docs/configuration.md from the option table. A unit test fails when the committed file
// differs from this output; regenerate with `build/tracewatch config docs > docs/configuration.md`.
#pragma once

#include <string>

namespace tw::config {

std::string render_markdown();

}  // namespace tw::config
