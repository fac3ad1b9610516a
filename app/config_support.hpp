// Loading configuration for a subcommand: prints the error naming the key and says which exit
// code to use when it fails.
#pragma once

#include <optional>

#include "app/commands.hpp"
#include "config/settings.hpp"

namespace tw::app {

// defaults → extra (a subcommand's own defaults, e.g. the demo's short gap) → file → --set.
std::optional<config::settings> load_settings(const config_source& src, const std::vector<std::string>& extra = {});

// Sets up the structured log from settings.
void configure_logging(const config::settings& s);

}  // namespace tw::app
