// The built-in detectors of personal data in text: phone numbers, e-mail addresses and payment
// card numbers (privacy.builtin_patterns). Each appends the byte spans [begin, end) it finds in
// `text`, left to right and not overlapping one another; the redactor resolves overlaps between
// detectors (redactor.hpp).
//
// They scan bytes, ASCII only: a byte of a multi-byte UTF-8 character is never part of a match
// and counts as a boundary, so invalid UTF-8 is harmless. Deterministic and allocation-free
// apart from `out`. What each accepts, and what it deliberately leaves alone, is stated on it;
// docs/privacy.md says the same for users.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace tw::privacy {

struct span {
  size_t begin = 0;
  size_t end = 0;  // one past the last byte
};

// Phone numbers: digit groups separated by single spaces, dots or dashes, optionally with a
// bracketed area code ("(415) 555-0123") and a leading "+" with a country code:
//   - 10 to 15 digits in at least two groups ("415-555-0123", "+44 20 7946 0958",
//     "4 1 5 5 5 5 0 1 2 3" as a transcript spells digits), or
//   - "+" and 8 to 15 digits, grouped or not ("+4915123456789").
// Not: a bare run of digits without "+" (an epoch time, an order number), fewer than 10 digits
// without "+" (a local "555-0123"), a run that begins with a date ("2024-05-01 10"), an IPv4
// address, a decimal number, digits inside a word or after ".", ",", "/", "_", "-", "@", "$".
// Where digit groups run on past 15 digits, the longest phone-shaped prefix that ends at a space is
// taken (over-masking a following number rather than missing the phone) — unless every group is
// separated alike ("4111 1111 1111 1112"): that is one long number, not a phone.
void find_phones(std::string_view text, std::vector<span>& out);

// E-mail addresses: local@domain, the local part of letters, digits and . _ % + -, the domain of
// dot-separated labels (letters, digits, inner dashes) ending in a top-level label of at least two
// letters. Quoted local parts and IP-literal domains are not recognised.
void find_emails(std::string_view text, std::vector<span>& out);

// Payment card numbers: 13 to 19 digits, bare or in groups separated by single spaces or dashes,
// that begin as an issuer's cards begin, with a length it issues (card_issuer_range), and pass the
// Luhn check — so that long numbers that are not cards are left alone: epoch timestamps in micro-
// or nanoseconds begin with 1 (no issuer's), and a random number passes Luhn one time in ten.
// Within a longer run of groups the longest passing run of whole groups is taken. Not inside a word.
void find_cards(std::string_view text, std::vector<span>& out);

// Whether `digits` (13..19 of them) begins with an issuer's range and has a length it issues:
// Visa, Mastercard, American Express, Mir, Diners Club, JCB, and the 5x/6x ranges of Maestro,
// Discover, UnionPay and RuPay.
bool card_issuer_range(std::string_view digits);

// The Luhn (mod 10) check. REQUIRES: `digits` holds only '0'..'9'.
bool luhn_valid(std::string_view digits);

}  // namespace tw::privacy
