#include "privacy/keyed_hash.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace tw::privacy {

std::string keyed_hash_hex(std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // One-shot HMAC: it cannot fail for SHA-256 with in-memory buffers short of an allocation
  // failure, which OpenSSL reports as a null result; then the hash is made of zeros rather than
  // left out, so that output stays masked.
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
            message.size(), md, &len) ||
      len < keyed_hash_hex_digits / 2) {
    return std::string(keyed_hash_hex_digits, '0');
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(keyed_hash_hex_digits, '0');
  for (size_t i = 0; i < keyed_hash_hex_digits / 2; ++i) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 0xF];
  }
  return out;
}

}  // namespace tw::privacy
