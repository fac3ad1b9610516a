// The keyed hash behind privacy.mode `hash` and the hashing of identifiers: HMAC-SHA256 (RFC 2104,
// FIPS 180-4) from OpenSSL's libcrypto, truncated to its first 8 bytes and written as 16 lower-case
// hex digits. 64 bits: among ten million distinct callers two share a hash with a probability of
// about three in a million. Keyed, so that someone holding the output cannot confirm a guessed
// phone number without the key; deterministic, so that the same value gives the same hash live,
// replayed and after a restart.
//
// Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

namespace tw::privacy {

inline constexpr size_t keyed_hash_hex_digits = 16;

// HMAC-SHA256(key, message), its first 8 bytes in hex.
std::string keyed_hash_hex(std::string_view key, std::string_view message);

}  // namespace tw::privacy
