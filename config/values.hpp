// Scalar grammars of configuration values (what a user writes in YAML or after --set).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tw::config {

// Without leading and trailing white space.
std::string_view trim(std::string_view s);
std::optional<int64_t> parse_integer(std::string_view text);
// A plain decimal number ("2.5", "0.075", "10"), finite; no exponent, no hex.
std::optional<double> parse_decimal(std::string_view text);
// The shortest rendering that parse_decimal reads back as the same value (2.5 -> "2.5").
std::string format_decimal(double v);
// true/false, yes/no, on/off, 1/0 (case-insensitive).
std::optional<bool> parse_bool(std::string_view text);
// "250ms", "30s", "5m", "2h", "1d", "1500us", or a bare number of milliseconds. Not negative.
std::optional<std::chrono::microseconds> parse_duration(std::string_view text);
// Shortest exact rendering in the same grammar: 300000000us -> "5m".
std::string format_duration(std::chrono::microseconds d);
// "a, b,c" -> {"a","b","c"}; "" -> {}.
std::vector<std::string> split_list(std::string_view text);
// "k=v,k2=v2" -> pairs; nullopt when an entry lacks '='.
std::optional<std::vector<std::pair<std::string, std::string>>> split_map(std::string_view text);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// `text` with every `${NAME}` (NAME: a letter or '_', then letters, digits, '_') replaced by the
// value `lookup(NAME)` gives, so that a secret can come from the environment instead of the file;
// `$${` stands for a literal `${`, and any other `$` is kept. nullopt when a variable is not set,
// with its name in `missing`.
using env_lookup = std::optional<std::string> (*)(const std::string& name);
std::optional<std::string> expand_environment(std::string_view text, env_lookup lookup, std::string& missing);
// The process environment (getenv).
std::optional<std::string> process_environment(const std::string& name);

// "host:port" or "[v6 address]:port", port 0..65535 (0: any free port). nullopt when malformed.
struct host_port {
  std::string host;
  int port = 0;
};
std::optional<host_port> parse_host_port(std::string_view text);
// The same grammar back: brackets around a host that contains ':'.
std::string format_host_port(const host_port& a);

// The candidate a misspelt or unfinished `word` most likely meant — within three edits, or one
// the word (at least three characters) begins — or "" when none is that close. For "did you
// mean" hints; the first of equally close candidates wins.
std::string closest_name(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace tw::config
