// Small text utilities shared by the importer and the state stage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tw {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// `s` with every byte sequence that is not valid UTF-8 replaced by U+FFFD.
std::string to_valid_utf8(std::string_view s);

// At most `max_bytes` bytes of `s`, cut on a character boundary; appends "…" when it cut.
// The result (including the ellipsis) never exceeds max_bytes + 3 bytes.
std::string excerpt(std::string_view s, size_t max_bytes);
// The same, with the ellipsis counted: never longer than `max_bytes` (REQUIRES: max_bytes >= 3).
std::string excerpt_within(std::string_view s, size_t max_bytes);

// Collapses runs of whitespace (including newlines) into single spaces and trims both ends.
std::string squeeze_whitespace(std::string_view s);

// Appends `s` as a JSON string literal, quotes included (RFC 8259 escaping; UTF-8 passes
// through unchanged).
void append_json_string(std::string& out, std::string_view s);

// Base64, standard alphabet with padding (RFC 4648 §4).
std::string base64_encode(std::string_view bytes);
// Reads the standard and the URL-safe alphabet (RFC 4648 §5), with or without padding; nullopt for
// any other character, or a length no encoding gives.
std::optional<std::string> base64_decode(std::string_view text);

// A stable 64-bit hash (FNV-1a). Stable across builds and platforms: used in on-disk keys and for
// routing, so it must never change.
uint64_t stable_hash(std::string_view s);
// Continues stable_hash over more bytes: stable_hash_more(stable_hash(a), b) == stable_hash(a + b).
uint64_t stable_hash_more(uint64_t h, std::string_view s);

}  // namespace tw
