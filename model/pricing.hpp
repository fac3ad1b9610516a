// Model prices: what an LLM call costs when its producer reported tokens but no cost.
//
// A price_table maps model names to list prices in US dollars per million input and output
// tokens. It holds the operator's rows (cost.prices) and the built-in rows below; a model that one
// of the operator's rows matches takes that row, whatever the built-in rows say. A model no row
// matches has no price: its calls keep cost_usd unknown rather than a guess.
//
// Matching (price_table::find):
//   - The model name is compared in ASCII lower case, once as given and once without what precedes
//     its last '/' (a provider or resource prefix: "openai/gpt-4o", "models/gemini-2.0-flash"), and
//     without a Bedrock prefix ("anthropic.", "us.anthropic.", ...).
//   - A pattern without '*' matches that name, or that name followed by a version suffix: one or
//     more of -YYYY-MM-DD, -NNN... (three digits or more: -0613, -002, -20241022), -latest,
//     -vN or -vN:M (Bedrock), @... (Vertex). So `gpt-4o` matches gpt-4o-2024-08-06 and
//     claude-3-5-sonnet matches claude-3-5-sonnet-20241022 and anthropic.claude-3-5-sonnet-20240620-v1:0,
//     but `gpt-4o` does not match gpt-4o-mini or gpt-4o-realtime-preview (another model, another price).
//   - A pattern with '*' is a glob: '*' matches any run of characters, the rest literally, over
//     the whole name.
//   - When several rows of one table match: an exact name before a name with a version suffix
//     (the longer pattern first), before a glob (the one with the most literal characters first;
//     then the first in the table).
//
// The built-in rows are list prices (standard tier: no batch discount, no prompt caching, prompts
// under the long-context thresholds) per million tokens, taken on 2026-12-02 — see builtin_rows()
// in pricing.cpp for where each came from. Prices change: an operator who pays other prices, or a
// model launched since, gets a row in cost.prices.
//
// Thread-safety: immutable after construction; shared by every thread that summarises sessions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tw {

// US dollars per million tokens.
struct token_price {
  double input_per_mtok = 0;
  double output_per_mtok = 0;
  friend bool operator==(const token_price& a, const token_price& b) {
    return a.input_per_mtok == b.input_per_mtok && a.output_per_mtok == b.output_per_mtok;
  }
};

struct price_row {
  std::string pattern;  // a model name, or a glob with '*'; compared in lower case
  token_price price;
};

// The date the built-in prices were taken (ISO 8601), as the documentation states it.
inline constexpr std::string_view builtin_prices_date = "2026-12-02";

class price_table {
 public:
  // No rows: prices nothing (cost.prices: off).
  price_table() = default;
  // `own` rows are consulted before `builtin` ones.
  price_table(std::vector<price_row> own, std::vector<price_row> builtin);

  // The built-in rows (see the file comment).
  static const std::vector<price_row>& builtin_rows();

  // The row that prices `model`, or null when none does.
  const price_row* find(std::string_view model) const;
  bool empty() const { return own_.empty() && builtin_.empty(); }

 private:
  std::vector<price_row> own_, builtin_;
};

// What `input_tokens` and `output_tokens` cost at `p`. A missing count contributes nothing; a
// negative one means the producer's data is wrong, and gives no cost at all.
std::optional<double> cost_of(const token_price& p, std::optional<int64_t> input_tokens,
                              std::optional<int64_t> output_tokens);

}  // namespace tw
