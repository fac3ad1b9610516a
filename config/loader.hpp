// Loading configuration: documented defaults, then a YAML file, then --set key=value overrides.
// Every failure names the key it concerns; the caller prints it and exits non-zero before
// anything starts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace tw::config {

struct config_error {
  std::string key;      // the offending key, or the file for syntax errors
  std::string message;
  std::string to_string() const { return key.empty() ? message : key + ": " + message; }
};

// Result of loading: settings, or the first error found.
struct load_result {
  std::optional<settings> value;
  std::optional<config_error> error;
  explicit operator bool() const { return value.has_value(); }
};

// Any value (a scalar, a list entry, a map entry's value; in YAML or after --set) may name
// environment variables as `${NAME}`, replaced before the value is read — so that secrets need not
// sit in the file (`kafka.librdkafka.sasl.password: ${KAFKA_PASSWORD}`). An unset variable is an
// error naming the key; `$${` is a literal `${`. An error about a secret option (options.hpp,
// secrecy) never quotes the value given.
//
// YAML text (nested maps are flattened with '.': `completion: {gap: 5m}` is `completion.gap`).
// `origin` names the source in error messages (a file path, "<inline>").
load_result load_yaml(const std::string& yaml_text, const std::string& origin, settings base);
load_result load_file(const std::string& path, settings base);
// "key=value" strings as given after --set. A key below a map option
// (`kafka.librdkafka.security.protocol=SSL`) sets one map entry.
load_result apply_overrides(const std::vector<std::string>& assignments, settings base);

// Cross-option checks that no single option can make (e.g. grace vs. gap).
std::optional<config_error> validate(const settings& s);

// defaults → optional file → overrides → validate.
load_result load(const std::optional<std::string>& path, const std::vector<std::string>& overrides);

// The effective configuration as YAML, one flattened key per line, in table order; secrets are
// shown as <redacted> (render_masked).
std::string render_yaml(const settings& s);

}  // namespace tw::config
