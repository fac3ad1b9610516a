// Redaction of personal data (privacy/): the built-in detectors' true positives and deliberate
// negatives, the Luhn check, mask and hash modes, identifiers, field paths, and documents — JSON in,
// the same JSON out with only what must change rewritten. docs/privacy.md states the same rules.
#include <catch2/catch.hpp>

#include <regex>

#include "model/text.hpp"
#include "privacy/detectors.hpp"
#include "privacy/keyed_hash.hpp"
#include "privacy/redactor.hpp"

using namespace tw;
using namespace tw::privacy;

namespace {

const std::string test_key = "a-test-key-of-32-bytes-0123456789";

std::unique_ptr<const redactor> make(mode how, std::vector<std::string> fields = {}, std::vector<named_pattern> patterns = {}) {
  redactor_settings s;
  s.how = how;
  s.fields = std::move(fields);
  s.patterns = std::move(patterns);
  s.hash_key = test_key;
  std::string error;
  auto r = redactor::create(std::move(s), error);
  INFO(error);
  REQUIRE(r);
  return r;
}

using finder = void (*)(std::string_view, std::vector<span>&);

// The texts `find` marks in `text`.
std::vector<std::string> found_by(finder find, std::string_view text) {
  std::vector<span> spans;
  find(text, spans);
  std::vector<std::string> out;
  for (const auto& s : spans) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

struct detection {
  const char* why;
  const char* text;
  std::vector<std::string> found;
};

void check_all(finder find, const std::vector<detection>& rows) {
  for (const auto& r : rows) {
    INFO(r.why << ": " << r.text);
    CHECK(found_by(find, r.text) == r.found);
  }
}

}  // namespace

TEST_CASE("phone numbers are found in the ways people and transcripts write them") {
  check_all(find_phones, {
      {"US with dashes", "call me at 415-555-0123 please", {"415-555-0123"}},
      {"US with dots", "415.555.0123", {"415.555.0123"}},
      {"bracketed area code", "(415) 555-0123", {"(415) 555-0123"}},
      {"country code and bracketed area code", "+1 (415) 555-0123.", {"+1 (415) 555-0123"}},
      {"international with spaces", "ring +44 20 7946 0958 now", {"+44 20 7946 0958"}},
      {"plus and digits, no groups", "caller +4915123456789", {"+4915123456789"}},
      {"digits as a transcript spells them", "it is 4 1 5 5 5 5 0 1 2 3.", {"4 1 5 5 5 5 0 1 2 3"}},
      {"a log's key=value", "phone=+15551234567 ok", {"+15551234567"}},
      {"a tel: URI", "tel:+1-415-555-0123", {"+1-415-555-0123"}},
      {"followed by a date: the phone alone", "415-555-0123 2024-05-01", {"415-555-0123"}},
      {"two numbers", "415-555-0123 or 212 555 0199", {"415-555-0123", "212 555 0199"}},
  });
}

TEST_CASE("numbers that are not phone numbers are left alone") {
  check_all(find_phones, {
      {"a date and a time", "2024-05-01 10:30", {}},
      {"a timestamp", "2025-01-01T00:00:00.123Z", {}},
      {"a European date", "01.05.2024 12", {}},
      {"an IPv4 address", "from 192.168.100.200", {}},
      {"a decimal", "pi is 3.14159265358979", {}},
      {"an epoch in milliseconds (bare digits)", "at 1700000000000", {}},
      {"a local number (7 digits)", "555-0123", {}},
      {"inside a word", "id abc4155550123 and x415-555-0123", {}},
      {"after a decimal point", "0.4155550123", {}},
      {"an amount", "$415 555 0123", {}},
      {"16 digits grouped alike: one long number", "4111 1111 1111 1112", {}},
      {"too many digits", "+1234567890123456", {}},
  });
}

TEST_CASE("e-mail addresses are found, up to where the sentence ends") {
  check_all(find_emails, {
      {"plain", "mail jane@example.com today", {"jane@example.com"}},
      {"dots, plus and a long domain", "Jane.Doe+tag@mail.example.co.uk", {"Jane.Doe+tag@mail.example.co.uk"}},
      {"a full stop after it", "Contact: JOHN@EXAMPLE.COM.", {"JOHN@EXAMPLE.COM"}},
      {"two of them", "a@b.io,c@d.org", {"a@b.io", "c@d.org"}},
      {"in angle brackets", "<ops@tracewatch.dev>", {"ops@tracewatch.dev"}},
  });
  check_all(find_emails, {
      {"no dot in the domain", "user@localhost", {}},
      {"a one-letter top-level label", "a@b.c", {}},
      {"no local part", "@example.com", {}},
      {"a label starting with a dash", "foo@-bar.com", {}},
      {"a digit top-level label", "x@10.0.0.1", {}},
      {"a handle", "@tracewatch on social media", {}},
  });
}

TEST_CASE("the Luhn check separates card numbers from other long numbers") {
  CHECK(luhn_valid("79927398713"));
  CHECK_FALSE(luhn_valid("79927398710"));
  CHECK(luhn_valid("4111111111111111"));
  CHECK_FALSE(luhn_valid("4111111111111112"));
  CHECK(luhn_valid("378282246310005"));
  CHECK(luhn_valid("6011111111111117"));
  CHECK_FALSE(luhn_valid(""));
}

TEST_CASE("long numbers that pass the Luhn check but begin as no issuer's cards, like epoch timestamps, are no cards") {
  // Nanosecond timestamps of OTLP spans in the real fixtures that pass Luhn.
  for (const char* ts : {"1777555056212903200", "1777555058430219500"}) {
    INFO(ts);
    std::vector<span> found;
    find_cards(std::string("\"startTimeUnixNano\": \"") + ts + "\"", found);
    CHECK(found.empty());
    CHECK_FALSE(card_issuer_range(ts));
  }
  CHECK(luhn_valid("1777555056212903200"));
  CHECK(card_issuer_range("4111111111111111"));
  CHECK(card_issuer_range("378282246310005"));
  CHECK_FALSE(card_issuer_range("37828224631000"));  // Amex has 15 digits
  CHECK_FALSE(card_issuer_range("9111111111111111"));
}

TEST_CASE("card numbers are found bare or grouped, only when they pass the Luhn check") {
  check_all(find_cards, {
      {"Visa, grouped by spaces", "card 4111 1111 1111 1111 exp 12/29", {"4111 1111 1111 1111"}},
      {"Visa, dashes", "4111-1111-1111-1111", {"4111-1111-1111-1111"}},
      {"Visa, bare", "4111111111111111.", {"4111111111111111"}},
      {"Mastercard", "5555555555554444", {"5555555555554444"}},
      {"Amex, 4-6-5", "3782 822463 10005", {"3782 822463 10005"}},
      {"followed by more digits", "4111 1111 1111 1111 2029", {"4111 1111 1111 1111"}},
  });
  check_all(find_cards, {
      {"fails Luhn", "4111 1111 1111 1112", {}},
      {"too short", "411111111111", {}},
      {"too long, bare", "41111111111111111111", {}},
      {"inside a hex id", "a4111111111111111b", {}},
      {"an epoch in nanoseconds", "1700000000000000000", {}},
  });
}

TEST_CASE("the keyed hash is HMAC-SHA256, cut to 64 bits") {
  // RFC 4231, test case 2.
  CHECK(keyed_hash_hex("Jefe", "what do ya want for nothing?") == "5bdcc146bf60754e");
  CHECK(keyed_hash_hex("another key", "what do ya want for nothing?") != "5bdcc146bf60754e");
}

TEST_CASE("mask mode writes the pattern's name in place of what it found") {
  auto r = make(mode::mask);
  CHECK(r->text("call 415-555-0123 or mail jane@example.com, card 4111 1111 1111 1111") ==
        "call [phone] or mail [email], card [card]");
  CHECK(r->text("nothing personal here: order 12345 at 2024-05-01 10:30") ==
        "nothing personal here: order 12345 at 2024-05-01 10:30");
  // Where a phone and a card overlap, the longer match (the card) wins.
  CHECK(r->text("4111 1111 1111 1111") == "[card]");
}

TEST_CASE("hash mode keeps the same caller recognisable, and only with the same key") {
  auto r = make(mode::hash);
  const std::string a = r->text("call +1 415-555-0123");
  const std::string b = r->text("my number: +14155550123");
  const std::regex token(R"(\[phone:[0-9a-f]{16}\])");
  std::smatch ma, mb;
  REQUIRE(std::regex_search(a, ma, token));
  REQUIRE(std::regex_search(b, mb, token));
  CHECK(ma.str() == mb.str());  // the same digits, however written
  CHECK(r->text("call +1 415-555-0199") != a);
  CHECK(r->text("Jane@Example.com") == r->text("jane@example.com"));

  redactor_settings other;
  other.how = mode::hash;
  other.hash_key = "a-different-key-of-32-bytes-01234";
  std::string error;
  auto r2 = redactor::create(other, error);
  REQUIRE(r2);
  CHECK(r2->text("call +1 415-555-0123") != a);
  // Deterministic: the same input, the same bytes.
  CHECK(r->text("call +1 415-555-0123") == a);
}

TEST_CASE("identifiers are hashed whatever the mode, so that distinct ids stay distinct") {
  auto r = make(mode::mask);
  const std::string one = r->identifier("call-+14155550123"), two = r->identifier("call-+14155550199");
  CHECK(std::regex_match(one, std::regex(R"(call-\[phone:[0-9a-f]{16}\])")));
  CHECK(one != two);
  CHECK(r->identifier("sess-000042-1a2b3c4d") == "sess-000042-1a2b3c4d");
  // An id is never cut: one that would grow past 512 bytes is hashed whole.
  std::string long_id(480, 'x');
  long_id += " +14155550123 +14155550199";
  const std::string hashed = r->identifier(long_id);
  CHECK(std::regex_match(hashed, std::regex(R"(\[id:[0-9a-f]{16}\])")));
}

TEST_CASE("redacted text never outgrows its bound, and redacting twice changes nothing more") {
  auto r = make(mode::hash);
  std::string text;
  while (text.size() < 480) text += "415-555-0123 ";
  text = excerpt(text, 500);
  const std::string once = r->text(text);
  CHECK(once.size() <= std::max(text.size(), min_text_budget));
  CHECK(r->text(once) == once);
  CHECK(r->text("[phone:4111111111111111] and [card]") == "[phone:4111111111111111] and [card]");
  // A bracketed phone is no token.
  CHECK(r->text("[415-555-0123]") != "[415-555-0123]");
}

TEST_CASE("the operator's patterns apply like the built-in ones, and bad ones are refused naming them") {
  auto r = make(mode::mask, {}, {{"member_id", "M-[0-9]{6}"}});
  CHECK(r->text("member M-123456, phone 415-555-0123") == "member [member_id], phone [phone]");

  std::string error;
  redactor_settings bad;
  bad.hash_key = test_key;
  bad.patterns = {{"broken", "M-[0-9"}};
  CHECK_FALSE(redactor::create(bad, error));
  CHECK_THAT(error, Catch::Contains("privacy.patterns.broken") && Catch::Contains("not a valid RE2"));
  bad.patterns = {{"everything", "x*"}};
  CHECK_FALSE(redactor::create(bad, error));
  CHECK_THAT(error, Catch::Contains("privacy.patterns.everything") && Catch::Contains("empty"));
}

TEST_CASE("field paths replace whole values, matched on the end of the dotted path") {
  auto r = make(mode::mask, {"user_id", "metadata.customer.phone", "labels.*"});
  const std::string doc =
      R"({"schema":"tracewatch.session.v1","user_id":"u-42","other_user_id":"keep",)"
      R"("metadata":{"customer.phone":"+15551234567","plan":"gold"},"turns":[{"user_id":"u-7","user":"hi"}],)"
      R"("labels":{"intent":"book","agent":"a1"}})";
  CHECK(r->document(doc) ==
        R"({"schema":"tracewatch.session.v1","user_id":"[user_id]","other_user_id":"keep",)"
        R"("metadata":{"customer.phone":"[phone]","plan":"gold"},"turns":[{"user_id":"[user_id]","user":"hi"}],)"
        R"("labels":{"intent":"[labels]","agent":"[labels]"}})");

  auto h = make(mode::hash, {"user_id"});
  const std::string a = h->document(R"({"user_id":"u-42"})"), b = h->document(R"({"user_id":"u-42"})");
  CHECK(a == b);
  CHECK(std::regex_match(a, std::regex(R"(\{"user_id":"\[user_id:[0-9a-f]{16}\]"\})")));
  CHECK(h->document(R"({"user_id":""})") == R"({"user_id":""})");  // nothing to hide
}

TEST_CASE("a document is rewritten only where it must be, and stays the JSON it was") {
  auto r = make(mode::mask, {}, {{"digits4", "[0-9]{4}"}});
  SECTION("tracewatch's own members are never rewritten, even where a pattern matches") {
    const std::string doc = R"({"schema":"tracewatch.alert.v1","alert_id":"0123456789abcdef","at":"2025-01-01T00:00:00.000Z",)"
                            R"("started_at":"2025-01-01T00:00:00.000Z","rules_version":"1234abcd","summary":"code 1234"})";
    CHECK(r->document(doc) == R"({"schema":"tracewatch.alert.v1","alert_id":"0123456789abcdef","at":"2025-01-01T00:00:00.000Z",)"
                              R"("started_at":"2025-01-01T00:00:00.000Z","rules_version":"1234abcd","summary":"code [digits4]"})");
  }
  SECTION("numbers, literals, white space and untouched escapes are copied byte for byte") {
    const std::string doc = "{ \"n\" : 12345.5e3, \"ok\": true, \"x\": null, \"t\": \"caf\\u00e9 \\\"q\\\"\" }";
    CHECK(r->document(doc) == doc);
  }
}

TEST_CASE("identifiers inside a document are hashed like the message key") {
  auto r = make(mode::mask);
  const std::string key = "call-+14155550123";
  const std::string doc = R"({"session_id":"call-+14155550123","examples":["call-+14155550123","plain"],)"
                          R"("turns":[{"trace_id":"t-1","user":"call +14155550123"}]})";
  const std::string id = r->identifier(key);
  CHECK(r->document(doc) == R"({"session_id":")" + id + R"(","examples":[")" + id + R"(","plain"],)" +
                                R"("turns":[{"trace_id":"t-1","user":"call [phone]"}]})");
}

TEST_CASE("escaped text is read before it is matched, and written escaped again") {
  auto r = make(mode::mask);
  CHECK(r->document(R"({"user":"call \u0034\u0031\u0035-555-0123\n\"now\""})") == R"({"user":"call [phone]\n\"now\""})");
}

TEST_CASE("text that is not JSON, or stops being JSON, is redacted as text from where it stops") {
  auto r = make(mode::mask);
  CHECK(r->document("call 415-555-0123") == "call [phone]");
  CHECK(r->document(R"({"a":"call 415-555-0123","b":"x 212-555-0199)") == R"({"a":"call [phone]","b":"x [phone])");
  CHECK(r->document(R"({"a":"jane@example.com"} trailing 415-555-0123)") == R"({"a":"[email]"} trailing [phone])");
}

TEST_CASE("JSON inside a dead letter's payload is redacted as a document, field paths included") {
  auto r = make(mode::mask, {"userId"});
  const std::string inner = R"({"batch":[{"body":{"userId":"u1","sessionId":"s-1","input":"mail me at jane@example.com"}}]})";
  std::string doc = R"({"schema":"tracewatch.deadletter.v1","payload_encoding":"utf8","payload":)";
  append_json_string(doc, inner);
  doc += "}";
  std::string want_inner = R"({"batch":[{"body":{"userId":"[userId]","sessionId":"s-1","input":"mail me at [email]"}}]})";
  std::string want = R"({"schema":"tracewatch.deadletter.v1","payload_encoding":"utf8","payload":)";
  append_json_string(want, want_inner);
  want += "}";
  CHECK(r->document(doc) == want);

  SECTION("a payload cut short is redacted as far as it is JSON, then as text") {
    std::string cut = R"({"payload":)";
    append_json_string(cut, R"({"userId":"u1","input":"call 415-555-0123 and jane@exa…)");
    cut += "}";
    std::string want_cut = R"({"payload":)";
    append_json_string(want_cut, R"({"userId":"[userId]","input":"call [phone] and jane@exa…)");
    want_cut += "}";
    CHECK(r->document(cut) == want_cut);
  }
}

TEST_CASE("a base64 dead-letter payload is decoded, redacted and encoded again") {
  auto r = make(mode::mask);
  const std::string bytes = "call 415-555-0123 \xff\xfe";
  const std::string doc = R"({"payload_encoding":"base64","payload":")" + base64_encode(bytes) + R"("})";
  CHECK(r->document(doc) == R"({"payload_encoding":"base64","payload":")" + base64_encode("call [phone] \xff\xfe") + R"("})");
}

TEST_CASE("a log field is redacted as the member of that name would be") {
  auto r = make(mode::mask, {"user_id"});
  CHECK(r->named("user_id", "u-42") == "[user_id]");
  CHECK(std::regex_match(r->named("session_id", "+14155550123"), std::regex(R"(\[phone:[0-9a-f]{16}\])")));
  CHECK(r->named("key", "+14155550123") == r->identifier("+14155550123"));
  CHECK(r->named("error", "refused for jane@example.com") == "refused for [email]");
  CHECK(r->named("count", "12") == "12");
}
