#include "app/config_support.hpp"

#include <iostream>

#include "config/loader.hpp"
#include "config/options.hpp"
#include "actors/pipeline.hpp"
#include "judge/judge.hpp"
#include "model/log.hpp"

namespace tw::app {

std::optional<config::settings> load_settings(const config_source& src, const std::vector<std::string>& extra) {
  auto base = config::apply_overrides(extra, config::defaults());
  if (!base) {
    std::cerr << "tracewatch: configuration error: " << base.error->to_string() << "\n";
    return std::nullopt;
  }
  config::load_result r;
  r.value = std::move(base.value);
  if (src.file) {
    r = config::load_file(*src.file, std::move(*r.value));
    if (!r) {
      std::cerr << "tracewatch: configuration error: " << r.error->to_string() << "\n";
      return std::nullopt;
    }
  }
  r = config::apply_overrides(src.overrides, std::move(*r.value));
  if (!r) {
    std::cerr << "tracewatch: configuration error: " << r.error->to_string() << "\n";
    return std::nullopt;
  }
  if (auto err = config::validate(*r.value)) {
    std::cerr << "tracewatch: configuration error: " << err->to_string() << "\n";
    return std::nullopt;
  }
  // The rules are configuration too: a bad rules file stops the start, naming the key and the
  // place in the file.
  const auto& rules = r.value->judge.rules;
  if (rules.rfind("builtin:", 0) != 0) {
    auto loaded = judge::load_rules_file(rules);
    if (!loaded) {
      std::cerr << "tracewatch: configuration error: judge.rules: " << rules << ": " << loaded.error->to_string() << "\n";
      return std::nullopt;
    }
  }
  if (auto err = actors::validate_webhook(*r.value)) {
    std::cerr << "tracewatch: configuration error: " << *err << "\n";
    return std::nullopt;
  }
  return std::move(r.value);
}

void configure_logging(const config::settings& s) { log::configure(s.log.level, s.log.format); }

}  // namespace tw::app
