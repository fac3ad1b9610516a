// Short texts for evidence and messages: excerpts that stay readable in a verdict and bounded in
// size, whatever the session holds.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "model/time.hpp"

namespace tw::judge {

// Longest excerpt of session text quoted in evidence, check details and findings.
constexpr size_t evidence_excerpt_bytes = 160;

// A window of `text` around the match at [pos, pos + len), at most about evidence_excerpt_bytes,
// cut on character boundaries; "…" marks a cut at either end. The whole text when it fits.
std::string excerpt_around(std::string_view text, size_t pos, size_t len);

// Whitespace squeezed and excerpted to evidence_excerpt_bytes.
std::string short_text(std::string_view text);

// "1234 ms" (whole milliseconds, rounded down).
std::string millis_text(duration d);

}  // namespace tw::judge
