#include "privacy/redactor.hpp"

#include <re2/re2.h>

#include <algorithm>

#include "model/bounds.hpp"
#include "model/text.hpp"
#include "privacy/detectors.hpp"
#include "privacy/keyed_hash.hpp"

namespace tw::privacy {

struct redactor::rule {
  enum class kind { phone, email, card, regex };
  std::string name;
  kind what;
};

struct redactor::match {
  size_t begin, end;
  size_t rule;
};

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The members of the output contracts (docs/topics.md) whose values are identifiers: a message
// key is one of them, so they are hashed, never masked.
bool is_identifier_key(std::string_view k) {
  return k == "session_id" || k == "trace_id" || k == "observation_id" || k == "observation_ids" || k == "examples";
}

// Members tracewatch writes itself that carry no input text and that consumers parse by their
// exact form: never rewritten, whatever a pattern matches.
bool is_exempt_key(std::string_view k) {
  return k == "schema" || k == "alert_id" || k == "rules_version" || k == "payload_encoding" || k == "at" ||
         (k.size() > 3 && k.compare(k.size() - 3, 3, "_at") == 0);
}

// '*' matches any run of characters.
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// The name a field path's tokens carry: its last segment without wildcards.
std::string label_of(std::string_view path) {
  std::string best;
  size_t from = 0;
  while (from <= path.size()) {
    size_t dot = path.find('.', from);
    std::string_view seg = path.substr(from, dot == std::string_view::npos ? std::string_view::npos : dot - from);
    std::string clean;
    for (char c : seg)
      if (c != '*') clean += c;
    if (!clean.empty()) best = clean;
    if (dot == std::string_view::npos) break;
    from = dot + 1;
  }
  return best.empty() ? "redacted" : best;
}

bool looks_like_json(std::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{' || c == '[';
  }
  return false;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool read_hex4(std::string_view s, size_t at, uint32_t& v) {
  if (at + 4 > s.size()) return false;
  v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    int d = hex_digit(s[i]);
    if (d < 0) return false;
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return true;
}

// The text of a JSON string's contents (between the quotes). A lone surrogate becomes U+FFFD.
bool json_unescape(std::string_view raw, std::string& out) {
  out.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    if (++i >= raw.size()) return false;
    switch (raw[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = 0;
        if (!read_hex4(raw, i + 1, cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low = 0;
          if (i + 2 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u' && read_hex4(raw, i + 3, low) &&
              low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        append_utf8(out, cp);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

// What a hash is taken over: the value in the form that stays the same for the same person
// ("+1 415-555-0123" and "+14155550123" hash alike), after the rule's name.
std::string hash_input(std::string_view name, std::string_view value, bool digits_only, bool lower) {
  std::string m(name);
  m += '\0';
  for (char c : value) {
    if (digits_only && !is_digit(c)) continue;
    m += lower && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return m;
}

}  // namespace

// --- construction ---

redactor::redactor(redactor_settings s) : settings_(std::move(s)) {}
redactor::~redactor() = default;

std::unique_ptr<const redactor> redactor::create(redactor_settings settings, std::string& error) {
  std::unique_ptr<redactor> r(new redactor(std::move(settings)));
  auto& s = r->settings_;
  if (s.phones) r->rules_.push_back({"phone", rule::kind::phone});
  if (s.emails) r->rules_.push_back({"email", rule::kind::email});
  if (s.cards) r->rules_.push_back({"card", rule::kind::card});
  r->compiled_.resize(r->rules_.size());
  for (const auto& p : s.patterns) {
    RE2::Options o;
    o.set_log_errors(false);
    auto re = std::make_unique<RE2>(p.regex, o);
    if (!re->ok()) {
      error = "privacy.patterns." + p.name + ": not a valid RE2 regular expression: " + re->error();
      return nullptr;
    }
    if (RE2::FullMatch("", *re)) {
      error = "privacy.patterns." + p.name + ": matches the empty text, so it would match everywhere";
      return nullptr;
    }
    r->rules_.push_back({p.name, rule::kind::regex});
    r->compiled_.push_back(std::move(re));
  }
  for (const auto& f : s.fields) r->field_labels_.push_back(label_of(f));
  return r;
}

std::shared_ptr<const redactor> redactor_from(const config::settings& s, std::string& error) {
  if (!s.privacy.redact) return nullptr;
  redactor_settings r;
  r.how = s.privacy.mode == "hash" ? mode::hash : mode::mask;
  const auto& b = s.privacy.builtin_patterns;
  r.phones = std::find(b.begin(), b.end(), "phone") != b.end();
  r.emails = std::find(b.begin(), b.end(), "email") != b.end();
  r.cards = std::find(b.begin(), b.end(), "card") != b.end();
  for (const auto& [name, regex] : s.privacy.patterns) r.patterns.push_back({name, regex});
  r.fields = s.privacy.fields;
  r.hash_key = s.privacy.hash_key;
  return redactor::create(std::move(r), error);
}

// --- text and identifiers ---

namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_token_char(char c) { return is_letter(c) || is_digit(c) || c == '_'; }

// The tokens a redactor writes ("[phone]", "[phone:1f0c6a2e9b7d4c35]") found in `s`: text that was
// redacted already is not redacted again (a hash's digits are no card), so redacting is idempotent.
void find_tokens(std::string_view s, std::vector<span>& out) {
  for (size_t at = s.find('['); at != std::string_view::npos; at = s.find('[', at + 1)) {
    size_t i = at + 1;
    if (i >= s.size() || !is_letter(s[i])) continue;
    while (i < s.size() && is_token_char(s[i])) ++i;
    if (i < s.size() && s[i] == ':') {
      size_t h = i + 1;
      while (h < s.size() && h - i - 1 < keyed_hash_hex_digits && (is_digit(s[h]) || (s[h] >= 'a' && s[h] <= 'f'))) ++h;
      if (h - i - 1 != keyed_hash_hex_digits) continue;
      i = h;
    }
    if (i < s.size() && s[i] == ']') out.push_back({at, i + 1});
  }
}

}  // namespace

void redactor::find(std::string_view s, std::vector<match>& found) const {
  size_t digits = 0;
  bool at = false, bracket = false;
  for (char c : s) {
    digits += is_digit(c);
    at = at || c == '@';
    bracket = bracket || c == '[';
  }
  std::vector<span> spans;
  for (size_t i = 0; i < rules_.size(); ++i) {
    spans.clear();
    switch (rules_[i].what) {
      case rule::kind::phone:
        if (digits >= 8) find_phones(s, spans);
        break;
      case rule::kind::email:
        if (at) find_emails(s, spans);
        break;
      case rule::kind::card:
        if (digits >= 13) find_cards(s, spans);
        break;
      case rule::kind::regex: {
        const RE2& re = *compiled_[i];
        re2::StringPiece input(s.data(), s.size()), m;
        size_t pos = 0;
        while (pos <= s.size() && re.Match(input, pos, s.size(), RE2::UNANCHORED, &m, 1)) {
          const size_t b = static_cast<size_t>(m.data() - s.data()), e = b + m.size();
          if (e == b) {  // an empty match somewhere inside: move on
            pos = b + 1;
            continue;
          }
          spans.push_back({b, e});
          pos = e;
        }
        break;
      }
    }
    for (const auto& sp : spans) found.push_back({sp.begin, sp.end, i});
  }
  if (bracket && !found.empty()) {
    spans.clear();
    find_tokens(s, spans);
    auto inside_token = [&](const match& m) {
      for (const auto& t : spans)
        if (m.begin < t.end && t.begin < m.end) return true;
      return false;
    };
    found.erase(std::remove_if(found.begin(), found.end(), inside_token), found.end());
  }
  if (found.size() < 2) return;
  std::sort(found.begin(), found.end(), [](const match& a, const match& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    return a.rule < b.rule;
  });
  size_t kept = 0, reach = 0;
  for (const auto& m : found)
    if (kept == 0 || m.begin >= reach) {
      found[kept++] = m;
      reach = m.end;
    }
  found.resize(kept);
}

void redactor::append_token(std::string& out, const rule& r, std::string_view value, bool hashed) const {
  out += '[';
  out += r.name;
  if (hashed || settings_.how == mode::hash) {
    const bool digits = r.what == rule::kind::phone || r.what == rule::kind::card;
    out += ':';
    out += keyed_hash_hex(settings_.hash_key, hash_input(r.name, value, digits, r.what == rule::kind::email));
  }
  out += ']';
}

bool redactor::replace_matches(std::string_view s, bool hashed, std::string& out) const {
  std::vector<match> found;
  find(s, found);
  if (found.empty()) return false;
  size_t at = 0;
  for (const auto& m : found) {
    out.append(s.substr(at, m.begin - at));
    append_token(out, rules_[m.rule], s.substr(m.begin, m.end - m.begin), hashed);
    at = m.end;
  }
  out.append(s.substr(at));
  return true;
}

bool redactor::text_into(std::string_view s, std::string& out) const {
  const size_t start = out.size();
  if (!replace_matches(s, /*hashed=*/false, out)) return false;
  const size_t budget = std::max(s.size(), min_text_budget);
  if (out.size() - start > budget) {
    std::string cut = excerpt_within(std::string_view(out).substr(start), budget);
    out.resize(start);
    out += cut;
  }
  return true;
}

bool redactor::identifier_into(std::string_view id, std::string& out) const {
  const size_t start = out.size();
  if (!replace_matches(id, /*hashed=*/true, out)) return false;
  if (out.size() - start > bounds::max_id_bytes) {  // never cut an id: hash it whole instead
    out.resize(start);
    out += "[id:" + keyed_hash_hex(settings_.hash_key, hash_input("id", id, false, false)) + "]";
  }
  return true;
}

std::string redactor::text(std::string_view s) const {
  std::string out;
  if (!text_into(s, out)) return std::string(s);
  return out;
}

std::string redactor::identifier(std::string_view id) const {
  std::string out;
  if (!identifier_into(id, out)) return std::string(id);
  return out;
}

// --- field paths ---

int redactor::field_rule(std::string_view path) const {
  for (size_t i = 0; i < settings_.fields.size(); ++i) {
    const std::string& f = settings_.fields[i];
    // The path itself, or any of its ends that starts a segment.
    if (glob_match(f, path)) return static_cast<int>(i);
    for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1))
      if (glob_match(f, path.substr(dot + 1))) return static_cast<int>(i);
  }
  return -1;
}

void redactor::append_field_token(std::string& out, size_t field, std::string_view value) const {
  const std::string& label = field_labels_[field];
  std::string token = "[" + label;
  if (settings_.how == mode::hash) token += ":" + keyed_hash_hex(settings_.hash_key, hash_input(label, value, false, false));
  token += ']';
  const size_t budget = std::max(value.size(), min_text_budget);
  out += token.size() > budget ? excerpt_within(token, budget) : token;
}

// --- documents ---

// A single pass over JSON text that copies everything but the strings it must rewrite. Output is
// appended as input is consumed, so that when the input stops being JSON at `failed_at_`, what
// was written corresponds exactly to the input before it, and the rest is redacted as text.
class redactor::walker {
 public:
  static constexpr int max_levels = 3;       // a document, JSON in one of its strings, and once more
  static constexpr size_t max_depth = 256;   // nesting of objects and arrays

  walker(const redactor& r, std::string_view in, std::string& out, int level)
      : r_(r), in_(in), out_(out), level_(level) {}

  // Appends the redacted document; true when it differs from the input.
  bool run() {
    context top;
    bool ok = value(top);
    if (ok) {
      whitespace();
      ok = pos_ == in_.size();
      if (!ok) failed_at_ = pos_;
    }
    if (!ok) {  // not JSON from failed_at_ on: the rest is text
      const std::string_view tail = in_.substr(failed_at_);
      if (r_.text_into(tail, out_)) changed_ = true;
      else out_.append(tail);
    }
    return changed_;
  }

 private:
  struct context {
    int field = -1;           // the field path covering this value, or -1
    bool identifier = false;  // an id: hashed
    bool exempt = false;      // tracewatch's own: copied
    bool base64 = false;      // a dead letter's base64 payload
    bool free_form = false;   // an object whose keys are data (metadata): keys redacted as text
  };

  bool fail() {
    failed_at_ = token_start_;
    return false;
  }

  void whitespace() {
    const size_t from = pos_;
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) ++pos_;
    out_.append(in_.substr(from, pos_ - from));
  }

  bool value(const context& c) {
    whitespace();
    token_start_ = pos_;
    if (pos_ >= in_.size()) return fail();
    switch (in_[pos_]) {
      case '{': return object(c);
      case '[': return array(c);
      case '"': return string_value(c);
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number(c);
    }
  }

  bool literal(std::string_view word) {
    if (in_.compare(pos_, word.size(), word) != 0) return fail();
    out_.append(word);
    pos_ += word.size();
    return true;
  }

  bool number(const context& c) {
    const size_t from = pos_;
    if (pos_ < in_.size() && in_[pos_] == '-') ++pos_;
    while (pos_ < in_.size() && (is_digit(in_[pos_]) || in_[pos_] == '.' || in_[pos_] == 'e' || in_[pos_] == 'E' ||
                                 in_[pos_] == '+' || in_[pos_] == '-'))
      ++pos_;
    const std::string_view lit = in_.substr(from, pos_ - from);
    if (lit.empty() || lit == "-") {
      pos_ = from;
      return fail();
    }
    // The output contracts' numbers are tracewatch's (counts, costs, times). Inside JSON that came
    // from input (a dead letter's payload), a number can be a card or an id: there it is a text.
    std::string repl;
    bool changed = false;
    if (level_ > 0 && !c.exempt) {
      if (c.field >= 0) {
        r_.append_field_token(repl, static_cast<size_t>(c.field), lit);
        changed = true;
      } else {
        changed = c.identifier ? r_.identifier_into(lit, repl) : r_.text_into(lit, repl);
      }
    }
    if (changed) {
      append_json_string(out_, repl);
      changed_ = true;
    } else {
      out_.append(lit);
    }
    return true;
  }

  // Reads the string at pos_ into its raw contents; false (nothing consumed) when it is not one.
  bool read_string(std::string_view& raw, bool& escaped) {
    const size_t start = pos_;
    escaped = false;
    size_t i = start + 1;
    for (; i < in_.size(); ++i) {
      const char ch = in_[i];
      if (ch == '"') break;
      if (static_cast<unsigned char>(ch) < 0x20) return false;
      if (ch == '\\') {
        escaped = true;
        ++i;
      }
    }
    if (i >= in_.size()) return false;
    raw = in_.substr(start + 1, i - start - 1);
    pos_ = i + 1;
    return true;
  }

  bool decode(std::string_view raw, bool escaped, std::string& buffer, std::string_view& text) {
    if (!escaped) {
      text = raw;
      return true;
    }
    if (!json_unescape(raw, buffer)) return false;
    text = buffer;
    return true;
  }

  bool string_value(const context& c) {
    const size_t start = pos_;
    std::string_view raw, text;
    bool escaped;
    std::string buffer;
    if (!read_string(raw, escaped) || !decode(raw, escaped, buffer, text)) {
      pos_ = start;
      return fail();
    }
    last_string_.assign(text);
    std::string repl;
    bool changed = false;
    if (c.exempt) {
      changed = false;
    } else if (c.field >= 0) {
      if (!text.empty()) {
        r_.append_field_token(repl, static_cast<size_t>(c.field), text);
        changed = true;
      }
    } else if (c.identifier) {
      changed = r_.identifier_into(text, repl);
    } else if (c.base64) {
      auto bytes = base64_decode(text);
      std::string redacted;
      if (!bytes) {
        changed = r_.text_into(text, repl);
      } else if (r_.text_into(*bytes, redacted)) {
        repl = base64_encode(redacted);
        changed = true;
      }
    } else if (level_ + 1 < max_levels && looks_like_json(text)) {
      walker inner(r_, text, repl, level_ + 1);
      changed = inner.run();
    } else {
      changed = r_.text_into(text, repl);
    }
    if (changed) {
      append_json_string(out_, repl);
      changed_ = true;
    } else {
      out_.append(in_.substr(start, pos_ - start));
    }
    return true;
  }

  bool object(const context& c) {
    if (++depth_ > max_depth) return fail();
    out_ += '{';
    ++pos_;
    const size_t path_len = path_.size();
    bool base64_payload = false;
    whitespace();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      out_ += '}';
      ++pos_;
      --depth_;
      return true;
    }
    std::string key;
    while (true) {
      whitespace();
      token_start_ = pos_;
      if (pos_ >= in_.size() || in_[pos_] != '"') return fail();
      const size_t start = pos_;
      std::string_view raw, text;
      bool escaped;
      std::string buffer;
      if (!read_string(raw, escaped) || !decode(raw, escaped, buffer, text)) {
        pos_ = start;
        return fail();
      }
      key.assign(text);
      std::string repl;
      if (c.free_form && r_.text_into(text, repl)) {
        append_json_string(out_, repl);
        changed_ = true;
      } else {
        out_.append(in_.substr(start, pos_ - start));
      }
      whitespace();
      token_start_ = pos_;
      if (pos_ >= in_.size() || in_[pos_] != ':') return fail();
      out_ += ':';
      ++pos_;

      if (path_len > 0) path_ += '.';
      path_ += key;
      context child;
      child.field = c.field >= 0 ? c.field : r_.field_rule(path_);
      child.identifier = level_ == 0 && is_identifier_key(key);
      child.exempt = level_ == 0 && is_exempt_key(key);
      child.free_form = key == "metadata";
      child.base64 = level_ == 0 && key == "payload" && base64_payload;
      last_string_.clear();
      if (!value(child)) return false;
      if (key == "payload_encoding") base64_payload = last_string_ == "base64";
      path_.resize(path_len);

      switch (separator('}')) {
        case after::another: continue;
        case after::end: return true;
        case after::bad: return fail();
      }
    }
  }

  // After a member or an element: ',' (another follows) or `close` (the container ends here).
  enum class after { another, end, bad };
  after separator(char close) {
    whitespace();
    token_start_ = pos_;
    if (pos_ >= in_.size()) return after::bad;
    if (in_[pos_] == ',') {
      out_ += ',';
      ++pos_;
      return after::another;
    }
    if (in_[pos_] == close) {
      out_ += close;
      ++pos_;
      --depth_;
      return after::end;
    }
    return after::bad;
  }

  bool array(const context& c) {
    if (++depth_ > max_depth) return fail();
    out_ += '[';
    ++pos_;
    whitespace();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      out_ += ']';
      ++pos_;
      --depth_;
      return true;
    }
    context element = c;
    element.free_form = false;
    element.base64 = false;
    while (true) {
      if (!value(element)) return false;
      switch (separator(']')) {
        case after::another: continue;
        case after::end: return true;
        case after::bad: return fail();
      }
    }
  }

  const redactor& r_;
  std::string_view in_;
  std::string& out_;
  const int level_;
  size_t pos_ = 0;
  size_t token_start_ = 0;
  size_t failed_at_ = 0;
  size_t depth_ = 0;
  bool changed_ = false;
  std::string path_;         // the dotted path of the member being read
  std::string last_string_;  // the text of the last string value read
};

std::string redactor::document(std::string_view json) const {
  std::string out;
  out.reserve(json.size() + 64);
  walker w(*this, json, out, 0);
  if (!w.run()) return std::string(json);
  return out;
}

std::string redactor::named(std::string_view name, std::string_view value) const {
  std::string out;
  bool changed;
  if (is_identifier_key(name) || name == "key") {
    changed = identifier_into(value, out);
  } else if (int f = field_rule(name); f >= 0) {
    if (value.empty()) return std::string(value);
    append_field_token(out, static_cast<size_t>(f), value);
    changed = true;
  } else if (looks_like_json(value)) {
    walker w(*this, value, out, 1);
    changed = w.run();
  } else {
    changed = text_into(value, out);
  }
  return changed ? out : std::string(value);
}

}  // namespace tw::privacy
