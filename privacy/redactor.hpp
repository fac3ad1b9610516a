// Redaction of personal data in what leaves the process (docs/privacy.md): the one function every
// edge calls — the output stage on each record and its key, the diagnostic webhook and the alert
// notifier on each body, the log on each line, and the HTTP query endpoints on each payload.
//
// What it finds:
//   patterns  the built-in detectors (detectors.hpp: phone, email, card) and the operator's RE2
//             patterns (privacy.patterns), in free text and in identifiers. Where matches of
//             several overlap, the one starting first wins, then the longest, then the first
//             listed (built-ins in the order phone, email, card; then the operator's, by name).
//   fields    field paths (privacy.fields): the whole value of a matching field is personal.
// What it writes instead:
//   mask      "[phone]" (the pattern's name; a field's last path segment)
//   hash      "[phone:1f0c6a2e9b7d4c35]": keyed_hash.hpp over the name and the value (a phone
//             number's digits alone, an address in lower case), so that the same caller gives the
//             same hash in every message, in every run with the same key.
//   Identifiers — session, trace and observation ids, alert examples and message keys — are
//   always hashed, whatever the mode: masking would give distinct sessions the same key.
//
// Invariants:
//   - Deterministic: the same input and settings give the same bytes (live equals replay).
//   - Nothing is cut from an identifier: one whose redacted form would exceed bounds::max_id_bytes
//     becomes "[id:<hash of the whole id>]". Redacted text is at most max(original size,
//     min_text_budget) bytes (cut on a character boundary, ending in "…"), so a redacted record
//     keeps the output contracts' bounds.
//   - A document is JSON in, JSON out: only string values (and object keys of free-form maps) are
//     rewritten, everything else is copied byte for byte, and a string that needs no change keeps
//     its exact escaping. Input that is not JSON, or stops being JSON, is redacted as text from
//     the point where it stops.
//
// Thread-safe: a redactor is immutable after create() (RE2 matching is thread-safe).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace re2 {
class RE2;
}

namespace tw::privacy {

enum class mode { mask, hash };

// One of the operator's patterns (privacy.patterns).
struct named_pattern {
  std::string name;   // lower-case letters, digits, '_'
  std::string regex;  // RE2 syntax
};

struct redactor_settings {
  mode how = mode::mask;
  bool phones = true, emails = true, cards = true;  // privacy.builtin_patterns
  std::vector<named_pattern> patterns;
  std::vector<std::string> fields;  // field paths (privacy.fields)
  std::string hash_key;             // REQUIRES: non-empty
};

// Redacted text may take this many bytes even where the original took fewer: room for a hash token.
inline constexpr size_t min_text_budget = 64;

class redactor {
 public:
  // nullptr, and `error` naming the pattern, when one of the operator's patterns is not a valid
  // RE2 expression (or can match the empty string).
  static std::unique_ptr<const redactor> create(redactor_settings settings, std::string& error);
  ~redactor();
  redactor(const redactor&) = delete;
  redactor& operator=(const redactor&) = delete;

  // Free text: every pattern match replaced.
  std::string text(std::string_view s) const;
  // An identifier (session id, message key): every pattern match replaced by its hash token.
  std::string identifier(std::string_view id) const;
  // A JSON document (an output record, a webhook body, a query's payload): see the file comment.
  // Which members are identifiers, and which are tracewatch's own and never rewritten (schema,
  // alert_id, rules_version, payload_encoding, times) follows docs/topics.md. JSON inside a string
  // (a dead letter's payload, a tool result) is redacted as a document too, field paths included,
  // and a base64 dead-letter payload is decoded, redacted and encoded again.
  std::string document(std::string_view json) const;
  // A value named outside a document (a log line's field): as the member `name` of a document
  // would be — an identifier, a field path's value, JSON, or text.
  std::string named(std::string_view name, std::string_view value) const;

  // The *_into forms append the redacted form to `out` and return true when it differs from the
  // input; when they return false, `out` is unchanged.
  bool text_into(std::string_view s, std::string& out) const;
  bool identifier_into(std::string_view id, std::string& out) const;

  const redactor_settings& settings() const { return settings_; }

 private:
  struct rule;
  struct match;
  class walker;
  explicit redactor(redactor_settings s);

  void find(std::string_view s, std::vector<match>& found) const;
  void append_token(std::string& out, const rule& r, std::string_view value, bool hashed) const;
  bool replace_matches(std::string_view s, bool hashed, std::string& out) const;
  // The field path `path` (dotted, without array positions) matches: the rule's index, or -1.
  int field_rule(std::string_view path) const;
  void append_field_token(std::string& out, size_t field, std::string_view value) const;

  redactor_settings settings_;
  std::vector<rule> rules_;                          // built-ins, then the operator's patterns
  std::vector<std::unique_ptr<re2::RE2>> compiled_;  // the operator's, by rule index - builtins
  std::vector<std::string> field_labels_;            // per field path: its last segment
};

// From configuration: nullptr when privacy.redact is off (nothing to do). `error` names the key
// when a pattern does not compile. Called at start (config check included), so a bad pattern fails
// there.
std::shared_ptr<const redactor> redactor_from(const config::settings& s, std::string& error);

}  // namespace tw::privacy
