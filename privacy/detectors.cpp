#include "privacy/detectors.hpp"

#include <string>

namespace tw::privacy {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_digit(c) || is_alpha(c) || c == '_'; }

// One group of digits in a run, and what came before it.
struct group {
  size_t begin = 0;     // its first byte ('(' for a bracketed one)
  size_t end = 0;       // one past its last byte
  size_t digits = 0;
  char sep_before = 0;  // the separator between it and the previous group (0: none, or the first)
  bool bracketed = false;
};

// A number cannot start right after these: it is part of a word, a path, a decimal, an amount or
// an address.
// An international number's "+" is unmistakable: only a letter or digit before it blocks it
// ("call-+14155550123" is a phone in an id).
bool blocks_start(std::string_view text, size_t at) {
  if (at == 0) return false;
  const char p = text[at - 1];
  if (text[at] == '+') return is_digit(p) || is_alpha(p);
  return is_word(p) || p == '.' || p == ',' || p == '/' || p == '-' || p == '@' || p == '$';
}
bool blocks_end(std::string_view text, size_t at) { return at < text.size() && (is_word(text[at]) || text[at] == '@'); }

// The groups of digits from `i` on, separated by one of `seps`; with `phone` also a leading "+"
// and one bracketed group (an area code) first or after the country code. Returns one past the run.
size_t read_run(std::string_view text, size_t i, bool phone, std::string_view seps, bool& plus,
                std::vector<group>& groups) {
  const size_t n = text.size();
  groups.clear();
  plus = false;
  size_t j = i;
  if (phone && text[j] == '+') {
    plus = true;
    ++j;
  }
  char sep = 0;
  bool bracket_used = false;
  auto separator_then = [&](size_t at, bool allow_bracket) {
    return at + 1 < n && seps.find(text[at]) != std::string_view::npos &&
           (is_digit(text[at + 1]) || (allow_bracket && text[at + 1] == '('));
  };
  while (j < n) {
    const bool may_bracket = phone && !bracket_used && (groups.empty() || (plus && groups.size() == 1));
    if (text[j] == '(' && may_bracket) {
      size_t k = j + 1;
      while (k < n && is_digit(text[k]) && k - j <= 5) ++k;
      if (k == j + 1 || k >= n || text[k] != ')') break;
      groups.push_back({j, k + 1, k - j - 1, sep, true});
      bracket_used = true;
      j = k + 1;
      if (j + 1 < n && (text[j] == ' ' || text[j] == '-') && is_digit(text[j + 1])) {
        sep = text[j++];
        continue;
      }
      if (j < n && is_digit(text[j])) {
        sep = 0;
        continue;
      }
      break;
    }
    if (!is_digit(text[j])) break;
    size_t k = j;
    while (k < n && is_digit(text[k])) ++k;
    groups.push_back({j, k, k - j, sep, false});
    j = k;
    const bool next_may_bracket = phone && !bracket_used && plus && groups.size() == 1;
    if (separator_then(j, next_may_bracket)) {
      sep = text[j++];
      continue;
    }
    break;
  }
  return groups.empty() ? i + 1 : j;
}

// Groups a, a+1, a+2 spell a date: 2024-05-01, 01.05.2024.
bool date_at(const std::vector<group>& g, size_t a) {
  if (a + 2 >= g.size()) return false;
  const char s = g[a + 1].sep_before;
  if (s != '-' && s != '.' && s != '/') return false;
  if (g[a + 2].sep_before != s) return false;
  const size_t x = g[a].digits, y = g[a + 1].digits, z = g[a + 2].digits;
  return (x == 4 && y <= 2 && z <= 2) || (x <= 2 && y <= 2 && z == 4);
}

bool phone_shaped(const std::vector<group>& g, size_t a, size_t b, bool plus) {
  size_t digits = 0;
  for (size_t i = a; i <= b; ++i) digits += g[i].digits;
  const size_t count = b - a + 1;
  if (digits > 15 || digits < (plus ? 8u : 10u)) return false;
  if (!plus && count == 1) return false;
  bool all_dots = count > 1;
  for (size_t i = a + 1; i <= b; ++i) all_dots = all_dots && g[i].sep_before == '.';
  if (all_dots && count == 2) return false;  // a decimal number
  if (all_dots && count == 4) {              // an IPv4 address
    bool small = true;
    for (size_t i = a; i <= b; ++i) small = small && g[i].digits <= 3;
    if (small) return false;
  }
  return true;
}

}  // namespace

void find_phones(std::string_view text, std::vector<span>& out) {
  const size_t n = text.size();
  std::vector<group> g;
  for (size_t i = 0; i < n;) {
    const char c = text[i];
    const bool starts = (is_digit(c) || ((c == '+' || c == '(') && i + 1 < n && is_digit(text[i + 1]))) &&
                        !blocks_start(text, i);
    if (!starts) {
      ++i;
      continue;
    }
    bool plus = false;
    const size_t run_end = read_run(text, i, /*phone=*/true, " .-", plus, g);
    // More than 15 digits in groups all separated alike ("4111 1111 1111 1112"): one long number,
    // not a phone followed by something.
    size_t total = 0;
    bool uniform = true;
    for (size_t k = 0; k < g.size(); ++k) {
      total += g[k].digits;
      if (k > 1 && g[k].sep_before != g[1].sep_before) uniform = false;
      if (g[k].bracketed) uniform = false;
    }
    if (total > 15 && uniform && g.size() > 1) {
      i = run_end;
      continue;
    }
    size_t a = 0;
    while (a < g.size()) {
      if (date_at(g, a)) {
        a += 3;
        continue;
      }
      const bool lead_plus = plus && a == 0;
      // A number starting inside the run must follow a space: "12-415..." is one token.
      if (a > 0 && g[a].sep_before != ' ') {
        ++a;
        continue;
      }
      // The longest phone from group a; at most 15 digits, so few ends to try whatever the run.
      size_t found = g.size(), digits = 0;
      for (size_t b = a; b < g.size() && (digits += g[b].digits) <= 15; ++b) {
        if (b + 1 < g.size() && g[b + 1].sep_before != ' ') continue;  // would end inside a token
        if (b + 1 == g.size() && blocks_end(text, g[b].end)) continue;
        if (phone_shaped(g, a, b, lead_plus)) found = b;
      }
      if (found == g.size()) {
        ++a;
        continue;
      }
      out.push_back({lead_plus ? i : g[a].begin, g[found].end});
      a = found + 1;
    }
    i = run_end;
  }
}

void find_emails(std::string_view text, std::vector<span>& out) {
  auto local_char = [](char c) { return is_digit(c) || is_alpha(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; };
  auto domain_char = [](char c) { return is_digit(c) || is_alpha(c) || c == '.' || c == '-'; };
  size_t from = 0;
  for (size_t at = text.find('@'); at != std::string_view::npos; at = text.find('@', std::max(at + 1, from))) {
    if (at < from) continue;
    size_t begin = at;
    while (begin > from && local_char(text[begin - 1])) --begin;
    while (begin < at && text[begin] == '.') ++begin;  // a sentence's full stop is not the address
    if (begin == at || text[at - 1] == '.') continue;
    size_t end = at + 1;
    while (end < text.size() && domain_char(text[end])) ++end;
    // The domain stops at the first empty label; a trailing dot or dash ends the sentence.
    std::string_view domain = text.substr(at + 1, end - at - 1);
    if (auto dots = domain.find(".."); dots != std::string_view::npos) domain = domain.substr(0, dots);
    while (!domain.empty() && (domain.back() == '.' || domain.back() == '-')) domain.remove_suffix(1);
    const size_t last_dot = domain.rfind('.');
    if (last_dot == std::string_view::npos || domain.front() == '.' || domain.front() == '-') continue;
    const std::string_view tld = domain.substr(last_dot + 1);
    bool letters = tld.size() >= 2;
    for (char c : tld) letters = letters && is_alpha(c);
    bool labels_ok = true;  // no label starts or ends with a dash
    for (size_t k = 0; k < domain.size(); ++k)
      if (domain[k] == '-' && (k == 0 || domain[k - 1] == '.' || k + 1 == domain.size() || domain[k + 1] == '.'))
        labels_ok = false;
    if (!letters || !labels_ok) continue;
    out.push_back({begin, at + 1 + domain.size()});
    from = at + 1 + domain.size();
  }
}

bool luhn_valid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return !digits.empty() && sum % 10 == 0;
}

bool card_issuer_range(std::string_view d) {
  auto prefix = [&](size_t len) { return d.size() >= len ? std::stoi(std::string(d.substr(0, len))) : -1; };
  const size_t n = d.size();
  const int p2 = prefix(2), p3 = prefix(3), p4 = prefix(4);
  if (d[0] == '4') return n == 13 || n == 16 || n == 19;                                  // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;            // Mastercard
  if (p2 == 34 || p2 == 37) return n == 15;                                             // American Express
  if (p4 >= 2200 && p4 <= 2204) return n >= 16;                                         // Mir
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return n >= 14;     // Diners Club
  if (p4 >= 3528 && p4 <= 3589) return n >= 16;                                         // JCB
  if (p2 == 50 || (p2 >= 56 && p2 <= 69)) return true;  // Maestro, Discover, UnionPay, RuPay: 13..19
  return false;
}

void find_cards(std::string_view text, std::vector<span>& out) {
  const size_t n = text.size();
  std::vector<group> g;
  std::string digits;
  for (size_t i = 0; i < n;) {
    if (!is_digit(text[i]) || blocks_start(text, i)) {
      ++i;
      continue;
    }
    bool plus = false;
    const size_t run_end = read_run(text, i, /*phone=*/false, " -", plus, g);
    size_t a = 0;
    while (a < g.size()) {
      // The longest card from group a; at most 19 digits, so few ends to try whatever the run.
      size_t found = g.size();
      digits.clear();
      for (size_t b = a; b < g.size(); ++b) {
        digits.append(text.substr(g[b].begin, g[b].digits));
        if (digits.size() > 19) break;
        if (b + 1 == g.size() && blocks_end(text, g[b].end)) continue;
        if (digits.size() >= 13 && card_issuer_range(digits) && luhn_valid(digits)) found = b;
      }
      if (found == g.size()) {
        ++a;
        continue;
      }
      out.push_back({g[a].begin, g[found].end});
      a = found + 1;
    }
    i = run_end;
  }
}

}  // namespace tw::privacy
