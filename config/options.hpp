// The option table: every configuration key declared once, with its type, default, bounds (and
// why), whether changing it needs a restart, and a description. Loading (loader.hpp), --set
// overrides and docs/configuration.md (docs.hpp) all read this table, so they cannot disagree.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace tw::config {

enum class value_type { string, integer, boolean, duration, string_list, string_map };
std::string_view to_string(value_type t);

struct option_spec {
  std::string key;           // dotted: "completion.gap"
  value_type type;
  std::string default_text;  // as a user would write it; parsed at start like any other value
  std::string bounds;        // human-readable bounds, empty when unbounded
  std::string bounds_reason; // why the bounds are what they are
  std::vector<std::string> choices;  // allowed values for an enumerated string
  bool needs_restart = true;
  // A secret (a password, a token): `config show` prints it masked, and it is never logged.
  bool secret = false;
  std::string description;

  // Parse `text` (scalar form; lists comma-separated, maps "k=v,k2=v2") into `s`. Returns an
  // error message (without the key) or nullopt.
  std::function<std::optional<std::string>(settings& s, std::string_view text)> assign;
  // For list and map options given as YAML sequences/maps: assign one structured value.
  std::function<std::optional<std::string>(settings& s, const std::vector<std::string>& items)> assign_list;
  std::function<std::optional<std::string>(settings& s, const std::vector<std::pair<std::string, std::string>>& entries)>
      assign_map;
  // Render the current value in s, in the same grammar as default_text.
  std::function<std::string(const settings& s)> render;
};

const std::vector<option_spec>& option_table();
const option_spec* find_option(std::string_view key);

// Settings holding every option's documented default.
settings defaults();

}  // namespace tw::config
