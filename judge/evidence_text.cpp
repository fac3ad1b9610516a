#include "judge/evidence_text.hpp"

#include "model/text.hpp"

namespace tw::judge {
namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::string excerpt_around(std::string_view text, size_t pos, size_t len) {
  if (text.size() <= evidence_excerpt_bytes) return std::string(text);
  const size_t context = len < evidence_excerpt_bytes ? (evidence_excerpt_bytes - len) / 2 : 0;
  size_t begin = pos > context ? pos - context : 0;
  while (begin > 0 && continuation(text[begin])) --begin;  // never start inside a character
  std::string out = begin > 0 ? "\xE2\x80\xA6" : "";
  out += excerpt(text.substr(begin), evidence_excerpt_bytes);
  return out;
}

std::string short_text(std::string_view text) { return excerpt(squeeze_whitespace(text), evidence_excerpt_bytes); }

std::string millis_text(duration d) { return std::to_string(d.count() / 1000) + " ms"; }

}  // namespace tw::judge
