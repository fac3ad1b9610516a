#include "app/config_support.hpp"

#include <iostream>

#include "config/loader.hpp"
#include "config/options.hpp"
#include "actors/pipeline.hpp"
#include "judge/judge.hpp"
#include "model/log.hpp"
#include "privacy/redactor.hpp"

namespace tw::app {

namespace {

// A configuration error on stderr. The loader never quotes the secret it refuses; what is
// scrubbed here are the secrets loaded so far (`loaded`), should a later check quote one.
void report(const std::string& error, const config::settings* loaded) {
  std::cerr << "tracewatch: configuration error: "
            << (loaded ? config::scrub_secrets(error, config::secret_values(*loaded)) : error) << "\n";
}

}  // namespace

std::optional<config::settings> load_settings(const config_source& src, const std::vector<std::string>& extra) {
  auto base = config::apply_overrides(extra, config::defaults());
  if (!base) {
    report(base.error->to_string(), nullptr);
    return std::nullopt;
  }
  config::load_result r;
  r.value = std::move(base.value);
  if (src.file) {
    const config::settings before = *r.value;
    r = config::load_file(*src.file, std::move(*r.value));
    if (!r) {
      report(r.error->to_string(), &before);
      return std::nullopt;
    }
  }
  {
    const config::settings before = *r.value;
    r = config::apply_overrides(src.overrides, std::move(*r.value));
    if (!r) {
      report(r.error->to_string(), &before);
      return std::nullopt;
    }
  }
  if (auto err = config::validate(*r.value)) {
    report(err->to_string(), &*r.value);
    return std::nullopt;
  }
  // The rules are configuration too: a bad rules file stops the start, naming the key and the
  // place in the file.
  const auto& rules = r.value->judge.rules;
  if (rules.rfind("builtin:", 0) != 0) {
    auto loaded = judge::load_rules_file(rules);
    if (!loaded) {
      report("judge.rules: " + rules + ": " + loaded.error->to_string(), &*r.value);
      return std::nullopt;
    }
  }
  if (auto err = actors::validate_webhook(*r.value)) {
    report(*err, &*r.value);
    return std::nullopt;
  }
  // The operator's redaction patterns must compile (privacy.patterns names the one that does not).
  if (std::string err; !privacy::redactor_from(*r.value, err) && !err.empty()) {
    report(err, &*r.value);
    return std::nullopt;
  }
  return std::move(r.value);
}

void configure_logging(const config::settings& s) {
  log::configure(s.log.level, s.log.format);
  // Every line is scrubbed of the secrets the configuration holds (config/options.hpp, secrecy):
  // a library's error that quotes a URL or a property value must not print it.
  // With privacy.redact, personal data too (docs/privacy.md): each field as the member of that
  // name would be in a document (an id is hashed, a text excerpt masked).
  auto secrets = std::make_shared<const std::vector<std::string>>(config::secret_values(s));
  std::string error;
  std::shared_ptr<const privacy::redactor> redactor = privacy::redactor_from(s, error);  // checked at load
  log::set_filter([secrets, redactor](std::string_view key, std::string_view text) -> std::optional<std::string> {
    if (secrets->empty() && !redactor) return std::nullopt;
    std::string out = secrets->empty() ? std::string(text) : config::scrub_secrets(std::string(text), *secrets);
    if (redactor) out = redactor->named(key, out);
    if (out == text) return std::nullopt;
    return out;
  });
}

}  // namespace tw::app
