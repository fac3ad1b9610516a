// The option table: every configuration key declared once, with its type, default, bounds (and
// why), whether changing it needs a restart, and a description. Loading (loader.hpp), --set
// overrides and docs/configuration.md (docs.hpp) all read this table, so they cannot disagree.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace tw::config {

enum class value_type { string, integer, boolean, duration, string_list, string_map };
std::string_view to_string(value_type t);

// Which part of an option's value is a credential. A secret is never printed: `config show`
// renders it as `<redacted>` (render_masked), a configuration error does not quote it (the
// loader cuts it out), and every log line is scrubbed of it (secret_values, installed by app/).
// Secrets can stay out of the file: any value may be written `${ENV_VAR}` (loader.hpp).
enum class secrecy {
  none,
  value,          // the whole value (privacy.hash_key)
  map_values,     // every entry's value: HTTP headers (Authorization, API keys)
  named_entries,  // the values of entries whose name says credential (is_secret_entry): librdkafka's
                  // sasl.password, ssl.key.password, sasl.oauthbearer.client.secret, ...
  url_path,       // a URL whose path and query may carry a token (Slack-style webhook URLs): only
                  // scheme://host[:port] is shown
};

// What a masked secret reads as.
inline constexpr std::string_view redacted_text = "<redacted>";

// True for a librdkafka property (or any map entry name) that holds a credential: its name
// contains "password" or "secret", or it is sasl.oauthbearer.config or ssl.key.pem.
bool is_secret_entry(std::string_view entry_name);

struct option_spec {
  std::string key;           // dotted: "completion.gap"
  value_type type;
  std::string default_text;  // as a user would write it; parsed at start like any other value
  std::string bounds;        // human-readable bounds, empty when unbounded
  std::string bounds_reason; // why the bounds are what they are
  std::vector<std::string> choices;  // allowed values for an enumerated string
  bool needs_restart = true;
  secrecy secret = secrecy::none;
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
  // For map options: the entries held in s (render_masked masks some of their values).
  std::function<std::map<std::string, std::string>(const settings& s)> map_entries;
};

const std::vector<option_spec>& option_table();
const option_spec* find_option(std::string_view key);

// Settings holding every option's documented default.
settings defaults();

// o.render(s) with every secret part replaced by redacted_text: what `config show` prints.
std::string render_masked(const option_spec& o, const settings& s);

// Every secret value `s` holds (non-empty), for scrubbing text that might quote one: each secret
// option's value, secret map entries (and a header's credential after its scheme, "Bearer X"),
// and a secret URL whole and its path and query.
std::vector<std::string> secret_values(const settings& s);

// `text` with every occurrence of each of `secrets` (of at least min_scrubbed_bytes; shorter
// ones would mangle unrelated text) replaced by redacted_text.
inline constexpr size_t min_scrubbed_bytes = 4;
std::string scrub_secrets(std::string text, const std::vector<std::string>& secrets,
                          size_t min_bytes = min_scrubbed_bytes);

}  // namespace tw::config
