// The model price table (model/pricing.hpp): which row prices a model name, and what tokens cost.
// A wrong match is a wrong cost on every session that uses the model, and a cost_sum budget alert
// that fires (or does not) for it: these cases pin the grammar row by row.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "model/pricing.hpp"

using namespace tw;

namespace {

const price_table& builtin() {
  static const price_table t({}, price_table::builtin_rows());
  return t;
}

std::string matched(const price_table& t, const std::string& model) {
  const price_row* r = t.find(model);
  return r ? r->pattern : "(none)";
}

}  // namespace

TEST_CASE("a model name finds the built-in row that prices it, including dated and provider-specific names") {
  struct row {
    const char* why;
    const char* model;
    const char* pattern;
  };
  const row rows[] = {
      {"the exact name", "gpt-4o", "gpt-4o"},
      {"an OpenAI dated snapshot", "gpt-4o-2024-08-06", "gpt-4o"},
      {"a snapshot with its own price wins over the family", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"},
      {"mini is another model, not a version of gpt-4o", "gpt-4o-mini", "gpt-4o-mini"},
      {"a dated mini", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
      {"gpt-4.1 and its dated snapshot", "gpt-4.1-2025-04-14", "gpt-4.1"},
      {"gpt-4.1-nano is not gpt-4.1", "gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"},
      {"o3", "o3", "o3"},
      {"o3-mini is not o3", "o3-mini-2025-01-31", "o3-mini"},
      {"o4-mini dated", "o4-mini-2025-04-16", "o4-mini"},
      {"a four-digit OpenAI snapshot", "gpt-4-0613", "gpt-4"},
      {"case does not matter", "GPT-4o", "gpt-4o"},
      {"a provider prefix is not part of the name", "openai/gpt-4o-mini", "gpt-4o-mini"},
      {"Anthropic's dated names", "claude-3-5-sonnet-20241022", "claude-3-5-sonnet"},
      {"Anthropic's -latest alias", "claude-3-7-sonnet-latest", "claude-3-7-sonnet"},
      {"the dotted spelling", "anthropic/claude-3.5-sonnet", "claude-3.5-sonnet"},
      {"Claude 4 names put the size first", "claude-sonnet-4-20250514", "claude-sonnet-4"},
      {"sonnet 4.5 is not sonnet 4 (one digit is not a version)", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
      {"opus 4.1", "claude-opus-4-1-20250805", "claude-opus-4-1"},
      {"Bedrock model ids", "anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"},
      {"Bedrock cross-region inference profiles", "us.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet"},
      {"Vertex AI's @version", "claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet"},
      {"the haiku in a real fixture", "claude-3-haiku", "claude-3-haiku"},
      {"Gemini's numbered versions", "gemini-1.5-pro-002", "gemini-1.5-pro"},
      {"Gemini through the models/ resource name", "models/gemini-2.0-flash", "gemini-2.0-flash"},
      {"flash-lite is not flash", "gemini-2.0-flash-lite-001", "gemini-2.0-flash-lite"},
      {"gemini 2.5 flash", "gemini-2.5-flash", "gemini-2.5-flash"},
      {"gemini 2.5 pro", "gemini-2.5-pro", "gemini-2.5-pro"},
  };
  for (const auto& r : rows) {
    INFO(r.why << ": " << r.model);
    CHECK(matched(builtin(), r.model) == r.pattern);
  }
}

TEST_CASE("a model no row prices has no price, rather than a neighbour's") {
  for (const char* model : {"", "my-finetune", "gpt-4o-realtime-preview", "gpt-4o-audio-preview", "gpt-4-32k",
                            "gemini-2.5-flash-preview-04-17", "claude-2", "o3-deep-research", "llama-3.1-70b",
                            "gpt-4o-v", "gpt-4o-vision"}) {
    INFO(model);
    CHECK(builtin().find(model) == nullptr);
  }
  CHECK(price_table().find("gpt-4o") == nullptr);  // cost.prices: off
  CHECK(price_table().empty());
}

TEST_CASE("the built-in rows carry the list prices per million tokens they are documented with") {
  // Spot checks of each provider against the figures in docs/operations.md ("Cost").
  auto price = [](const char* model) { return builtin().find(model)->price; };
  CHECK(price("gpt-4o") == token_price{2.50, 10.00});
  CHECK(price("gpt-4o-mini") == token_price{0.15, 0.60});
  CHECK(price("gpt-4.1") == token_price{2.00, 8.00});
  CHECK(price("o3") == token_price{2.00, 8.00});
  CHECK(price("o4-mini") == token_price{1.10, 4.40});
  CHECK(price("claude-3-5-sonnet-20241022") == token_price{3.00, 15.00});
  CHECK(price("claude-3-5-haiku-20241022") == token_price{0.80, 4.00});
  CHECK(price("claude-opus-4-20250514") == token_price{15.00, 75.00});
  CHECK(price("gemini-1.5-flash") == token_price{0.075, 0.30});
  CHECK(price("gemini-2.5-pro") == token_price{1.25, 10.00});
  // Every row is a distinct pattern with sane prices.
  std::set<std::string> patterns;
  for (const auto& r : price_table::builtin_rows()) {
    INFO(r.pattern);
    CHECK(patterns.insert(r.pattern).second);
    CHECK(r.price.input_per_mtok > 0);
    CHECK(r.price.output_per_mtok >= 0);
    CHECK(r.price.output_per_mtok < 1000);
  }
}

TEST_CASE("the operator's rows win over the built-in ones, and globs price families of names") {
  price_table t({{"gpt-4o", {1.0, 2.0}}, {"ft:gpt-4o-mini*", {0.3, 1.2}}, {"Acme-*", {5, 5}}, {"acme-large*", {9, 9}}},
                price_table::builtin_rows());
  CHECK(t.find("gpt-4o-2024-08-06")->price == token_price{1.0, 2.0});  // overrides the built-in gpt-4o
  CHECK(t.find("gpt-4o-mini")->price == token_price{0.15, 0.60});      // untouched built-in row
  CHECK(matched(t, "ft:gpt-4o-mini-2024-07-18:acme::9yTaC31L") == "ft:gpt-4o-mini*");
  CHECK(matched(t, "acme-small") == "acme-*");                         // patterns are lowered too
  CHECK(matched(t, "acme-large-2") == "acme-large*");                  // the most literal glob wins
  CHECK(matched(t, "acme") == "(none)");                               // a glob covers the whole name
  // A glob of the operator's wins even over a built-in exact name: the operator said so.
  price_table everything({{"*", {1, 1}}}, price_table::builtin_rows());
  CHECK(matched(everything, "gpt-4o") == "*");
  // Within one table, an exact name wins over a glob that also matches.
  price_table own({{"claude-*", {1, 1}}, {"claude-3-haiku", {2, 2}}}, {});
  CHECK(matched(own, "claude-3-haiku") == "claude-3-haiku");
  CHECK(matched(own, "claude-3-haiku-20240307") == "claude-3-haiku");
  CHECK(matched(own, "claude-3-opus") == "claude-*");
}

TEST_CASE("tokens cost their count times the price per million") {
  const token_price p{2.50, 10.00};
  CHECK(*cost_of(p, 1'000'000, 0) == Approx(2.50));
  CHECK(*cost_of(p, 1200, 345) == Approx(1200 * 2.5e-6 + 345 * 1e-5));
  CHECK(*cost_of(p, std::nullopt, 100) == Approx(100 * 1e-5));  // a missing count contributes nothing
  CHECK(*cost_of(p, 0, 0) == 0.0);
  CHECK_FALSE(cost_of(p, std::nullopt, std::nullopt));  // no tokens: nothing to price
  CHECK_FALSE(cost_of(p, -5, 10));                      // wrong data gives no cost, not a negative one
}
