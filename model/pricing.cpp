#include "model/pricing.hpp"

#include <algorithm>
#include <cctype>

namespace tw {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The length of the version component at the start of `s`, or 0 when there is none:
// -YYYY-MM-DD, -NNN (3+ digits), -latest, -vN, -vN:M, @anything-up-to-the-next-separator.
size_t version_component(std::string_view s) {
  if (s.empty()) return 0;
  if (s[0] == '@') {
    size_t n = 1;
    while (n < s.size() && s[n] != '-' && s[n] != '@') ++n;
    return n > 1 ? n : 0;
  }
  if (s[0] != '-') return 0;
  std::string_view rest = s.substr(1);
  const size_t end = std::min(rest.find_first_of("-@"), rest.size());
  std::string_view word = rest.substr(0, end);
  // -YYYY-MM-DD
  if (word.size() == 4 && all_digits(word) && rest.size() >= 10 && rest[4] == '-' && rest[7] == '-' &&
      all_digits(rest.substr(5, 2)) && all_digits(rest.substr(8, 2)))
    return 1 + 10;
  if (word.size() >= 3 && all_digits(word)) return 1 + word.size();
  if (word == "latest") return 1 + word.size();
  if (word.size() >= 2 && word[0] == 'v') {
    std::string_view num = word.substr(1);
    const size_t colon = num.find(':');
    if (colon == std::string_view::npos ? all_digits(num)
                                        : all_digits(num.substr(0, colon)) && all_digits(num.substr(colon + 1)))
      return 1 + word.size();
  }
  return 0;
}

bool is_version_suffix(std::string_view s) {
  if (s.empty()) return false;
  while (!s.empty()) {
    const size_t n = version_component(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  // Iterative '*' matching with one backtrack point: linear in practice for short names.
  size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// How well `pattern` matches one of the candidate names: 0 not at all; higher is better. Exact
// names rank above names with a version suffix, which rank above globs; within a kind, longer
// (more literal) patterns rank higher.
size_t match_rank(const std::string& pattern, const std::vector<std::string>& candidates) {
  constexpr size_t exact = 3u << 20, versioned = 2u << 20, glob = 1u << 20;
  size_t best = 0;
  const bool is_glob = pattern.find('*') != std::string::npos;
  for (const auto& name : candidates) {
    if (is_glob) {
      if (glob_match(pattern, name))
        best = std::max(best, glob + static_cast<size_t>(std::count_if(pattern.begin(), pattern.end(),
                                                                       [](char c) { return c != '*'; })));
    } else if (name == pattern) {
      best = std::max(best, exact + pattern.size());
    } else if (name.size() > pattern.size() && name.compare(0, pattern.size(), pattern) == 0 &&
               is_version_suffix(std::string_view(name).substr(pattern.size()))) {
      best = std::max(best, versioned + pattern.size());
    }
  }
  return best;
}

std::vector<std::string> candidates_of(std::string_view model) {
  std::vector<std::string> out{lower(model)};
  std::string name = out.front();
  if (auto slash = name.rfind('/'); slash != std::string::npos) {
    name = name.substr(slash + 1);
    out.push_back(name);
  }
  // Bedrock model ids: [region.]anthropic.claude-...
  for (std::string_view region : {"", "us.", "eu.", "apac.", "global."}) {
    const std::string prefix = std::string(region) + "anthropic.";
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
      out.push_back(name.substr(prefix.size()));
      break;
    }
  }
  return out;
}

const price_row* best_of(const std::vector<price_row>& rows, const std::vector<std::string>& candidates) {
  const price_row* best = nullptr;
  size_t best_rank = 0;
  for (const auto& row : rows) {
    const size_t rank = match_rank(row.pattern, candidates);
    if (rank > best_rank) {  // strictly better: the first row wins a tie
      best = &row;
      best_rank = rank;
    }
  }
  return best;
}

std::vector<price_row> lowered(std::vector<price_row> rows) {
  for (auto& r : rows) r.pattern = lower(r.pattern);
  return rows;
}

}  // namespace

price_table::price_table(std::vector<price_row> own, std::vector<price_row> builtin)
    : own_(lowered(std::move(own))), builtin_(lowered(std::move(builtin))) {}

const price_row* price_table::find(std::string_view model) const {
  if (model.empty() || empty()) return nullptr;
  const auto candidates = candidates_of(model);
  if (const auto* r = best_of(own_, candidates)) return r;
  return best_of(builtin_, candidates);
}

std::optional<double> cost_of(const token_price& p, std::optional<int64_t> input_tokens,
                              std::optional<int64_t> output_tokens) {
  if (!input_tokens && !output_tokens) return std::nullopt;
  if (input_tokens.value_or(0) < 0 || output_tokens.value_or(0) < 0) return std::nullopt;
  return static_cast<double>(input_tokens.value_or(0)) * p.input_per_mtok / 1e6 +
         static_cast<double>(output_tokens.value_or(0)) * p.output_per_mtok / 1e6;
}

// List prices in US dollars per million tokens (input, output), standard tier: no batch
// discount, no prompt-cache pricing (tracewatch does not see cached-token counts), the tier for
// prompts under a model's long-context threshold (Gemini 1.5/2.5 Pro and Claude Sonnet 4/4.5 cost
// more above 128k/200k prompt tokens). Taken 2026-12-02: the OpenAI, Anthropic and Google 2.x rows
// as the providers publish them, cross-checked against Langfuse's public default model price table
// (its entries last updated 2025-12 .. 2026-06); the Gemini 1.5 rows are Google's list prices after
// its 2024-10 reduction. The providers' own pricing pages could not be reached from where this was
// written: check the rows you rely on, and override them in cost.prices.
//
// Both spellings Anthropic's models go by are listed (claude-3-5-sonnet, claude-3.5-sonnet).
const std::vector<price_row>& price_table::builtin_rows() {
  static const std::vector<price_row> rows = lowered({
      // --- OpenAI ---
      {"gpt-4o", {2.50, 10.00}},
      {"gpt-4o-2024-05-13", {5.00, 15.00}},  // the first gpt-4o snapshot kept its launch price
      {"chatgpt-4o-latest", {5.00, 15.00}},
      {"gpt-4o-mini", {0.15, 0.60}},
      {"gpt-4.1", {2.00, 8.00}},
      {"gpt-4.1-mini", {0.40, 1.60}},
      {"gpt-4.1-nano", {0.10, 0.40}},
      {"gpt-5", {1.25, 10.00}},
      {"gpt-5-mini", {0.25, 2.00}},
      {"gpt-5-nano", {0.05, 0.40}},
      {"o1", {15.00, 60.00}},
      {"o1-mini", {1.10, 4.40}},
      {"o3", {2.00, 8.00}},
      {"o3-mini", {1.10, 4.40}},
      {"o3-pro", {20.00, 80.00}},
      {"o4-mini", {1.10, 4.40}},
      {"gpt-4", {30.00, 60.00}},
      {"gpt-4-turbo", {10.00, 30.00}},
      {"gpt-3.5-turbo", {0.50, 1.50}},
      {"text-embedding-3-small", {0.02, 0.00}},
      {"text-embedding-3-large", {0.13, 0.00}},
      {"text-embedding-ada-002", {0.10, 0.00}},
      // --- Anthropic ---
      {"claude-3-haiku", {0.25, 1.25}},
      {"claude-3-sonnet", {3.00, 15.00}},
      {"claude-3-opus", {15.00, 75.00}},
      {"claude-3-5-haiku", {0.80, 4.00}},
      {"claude-3.5-haiku", {0.80, 4.00}},
      {"claude-3-5-sonnet", {3.00, 15.00}},
      {"claude-3.5-sonnet", {3.00, 15.00}},
      {"claude-3-7-sonnet", {3.00, 15.00}},
      {"claude-3.7-sonnet", {3.00, 15.00}},
      {"claude-sonnet-4", {3.00, 15.00}},
      {"claude-sonnet-4-5", {3.00, 15.00}},
      {"claude-opus-4", {15.00, 75.00}},
      {"claude-opus-4-1", {15.00, 75.00}},
      {"claude-opus-4-5", {5.00, 25.00}},
      {"claude-haiku-4-5", {1.00, 5.00}},
      // --- Google ---
      {"gemini-1.5-flash", {0.075, 0.30}},
      {"gemini-1.5-pro", {1.25, 5.00}},
      {"gemini-2.0-flash", {0.10, 0.40}},
      {"gemini-2.0-flash-lite", {0.075, 0.30}},
      {"gemini-2.5-flash", {0.30, 2.50}},
      {"gemini-2.5-flash-lite", {0.10, 0.40}},
      {"gemini-2.5-pro", {1.25, 10.00}},
  });
  return rows;
}

}  // namespace tw
