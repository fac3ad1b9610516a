#include "topics/contracts/deadletter_json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "model/text.hpp"

namespace tw {
namespace {

// Bytes `c` takes inside a JSON string as nlohmann writes it (UTF-8 passes through unescaped).
size_t escaped_size(unsigned char c) {
  switch (c) {
    case '"': case '\\': case '\b': case '\f': case '\n': case '\r': case '\t': return 2;
    default: return c < 0x20 ? 6 : 1;
  }
}

// The longest prefix of valid UTF-8 `s` that ends on a character boundary and takes at most
// `room` bytes once escaped.
size_t utf8_prefix_fitting(std::string_view s, size_t room) {
  size_t used = 0, cut = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) cut = i;  // a character starts here: everything before it is whole
    used += escaped_size(c);
    if (used > room) return cut;
  }
  return s.size();
}

nlohmann::ordered_json document(const rejected_event& r, const record_position& source, const std::string& detail,
                                bool utf8, std::string payload) {
  nlohmann::ordered_json j;
  j["schema"] = deadletter_schema_v1;
  j["reason"] = to_string(r.code);
  j["detail"] = detail;
  nlohmann::ordered_json src;
  src["topic"] = to_valid_utf8(source.tp.topic);
  src["partition"] = source.tp.partition.value;
  src["offset"] = source.off.value;
  src["index"] = r.index ? nlohmann::ordered_json(*r.index) : nlohmann::ordered_json(nullptr);
  j["source"] = std::move(src);
  j["payload_encoding"] = utf8 ? "utf8" : "base64";
  j["payload"] = std::move(payload);
  return j;
}

std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

std::string encode_deadletter_json(const rejected_event& r, const record_position& source, size_t max_bytes) {
  // Our own text, quoting bounded pieces of the input; an invalid byte in it is replaced. Room is
  // left for the note on a cut payload, so that detail never exceeds max_message_bytes.
  constexpr size_t note_room = 96;
  const std::string detail = excerpt(to_valid_utf8(r.detail), bounds::max_message_bytes - note_room);
  const bool utf8 = is_valid_utf8(r.payload);
  std::string whole = dump(document(r, source, detail, utf8, utf8 ? r.payload : base64_encode(r.payload)));
  if (whole.size() <= max_bytes) return whole;

  // Too large to deliver: keep as much of the payload as fits, and say so.
  const std::string note = detail + " (payload: its first " + std::string(20, '0') + " of " +
                           std::to_string(r.payload.size()) + " bytes)";
  const size_t frame = dump(document(r, source, note, utf8, "")).size();
  const size_t room = max_bytes > frame ? max_bytes - frame : 0;
  size_t kept;
  std::string payload;
  if (utf8) {
    kept = utf8_prefix_fitting(r.payload, room >= 3 ? room - 3 : 0);  // 3: the "…"
    payload = r.payload.substr(0, kept) + "\xE2\x80\xA6";
  } else {
    kept = std::min(r.payload.size(), room / 4 * 3);
    payload = base64_encode(std::string_view(r.payload).substr(0, kept));
  }
  const std::string cut_detail =
      detail + " (payload: its first " + std::to_string(kept) + " of " + std::to_string(r.payload.size()) + " bytes)";
  return dump(document(r, source, cut_detail, utf8, std::move(payload)));
}

}  // namespace tw
