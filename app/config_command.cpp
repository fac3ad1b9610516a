#include <iostream>

#include "app/commands.hpp"
#include "app/config_support.hpp"
#include "config/docs.hpp"
#include "config/loader.hpp"

namespace tw::app {

int config_check_command(const config_source& cfg) {
  if (!load_settings(cfg)) return exit_usage;
  std::cout << "configuration ok\n";
  return exit_ok;
}

int config_show_command(const config_source& cfg) {
  auto s = load_settings(cfg);
  if (!s) return exit_usage;
  std::cout << config::render_yaml(*s);
  return exit_ok;
}

int config_docs_command() {
  std::cout << config::render_markdown();
  return exit_ok;
}

}  // namespace tw::app
