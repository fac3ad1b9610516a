#include "topics/contracts/deadletter_json.hpp"

#include <nlohmann/json.hpp>

#include "model/text.hpp"

namespace tw {
namespace {

std::string base64(std::string_view in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += table[n >> 18];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += table[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += table[n >> 18];
    out += table[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += table[n >> 18];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace

std::string encode_deadletter_json(const rejected_event& r, const record_position& source) {
  nlohmann::ordered_json j;
  j["schema"] = deadletter_schema_v1;
  j["reason"] = to_string(r.code);
  j["detail"] = to_valid_utf8(r.detail);  // our own text; an invalid byte in it is replaced
  nlohmann::ordered_json src;
  src["topic"] = to_valid_utf8(source.tp.topic);
  src["partition"] = source.tp.partition.value;
  src["offset"] = source.off.value;
  src["index"] = r.index ? nlohmann::ordered_json(*r.index) : nlohmann::ordered_json(nullptr);
  j["source"] = std::move(src);
  if (is_valid_utf8(r.payload)) {
    j["payload_encoding"] = "utf8";
    j["payload"] = r.payload;
  } else {
    j["payload_encoding"] = "base64";
    j["payload"] = base64(r.payload);
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace tw
