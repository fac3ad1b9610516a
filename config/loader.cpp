#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "config/options.hpp"
#include "config/values.hpp"

namespace tw::config {
namespace {

config_error unknown_key(const std::string& key) {
  std::vector<std::string_view> keys;
  for (const auto& o : option_table()) keys.push_back(o.key);
  std::string best = closest_name(key, keys);
  std::string msg = "unknown option";
  if (!best.empty()) msg += " (did you mean '" + best + "'?)";
  msg += "; `tracewatch config docs` lists every option";
  return config_error{key, msg};
}

// Flattens a YAML map below a map option into "a.b.c" = scalar entries.
void flatten_map(const YAML::Node& node, const std::string& prefix,
                 std::vector<std::pair<std::string, std::string>>& out, std::optional<config_error>& err,
                 const std::string& option_key) {
  for (const auto& kv : node) {
    std::string k = kv.first.as<std::string>();
    std::string path = prefix.empty() ? k : prefix + "." + k;
    if (kv.second.IsMap()) {
      flatten_map(kv.second, path, out, err, option_key);
    } else if (kv.second.IsScalar()) {
      out.emplace_back(path, kv.second.Scalar());
    } else {
      err = config_error{option_key + "." + path, "expected a scalar value"};
      return;
    }
    if (err) return;
  }
}

using entries = std::vector<std::pair<std::string, std::string>>;

// `${NAME}` references replaced from the environment (values.hpp); an unset one is an error
// naming the key.
std::optional<config_error> expand(const std::string& key, std::string& text) {
  std::string missing;
  auto v = expand_environment(text, process_environment, missing);
  if (!v) return config_error{key, "environment variable " + missing + " is not set"};
  text = std::move(*v);
  return std::nullopt;
}

// What was given for the secret parts of `o` (a scalar, or map entries): an error about `o` must
// not quote any of it.
std::vector<std::string> given_secrets(const option_spec& o, std::string_view scalar, entries given) {
  std::vector<std::string> out;
  switch (o.secret) {
    case secrecy::none:
      break;
    case secrecy::value:
    case secrecy::url_path:
      out.emplace_back(scalar);
      break;
    case secrecy::map_values:
    case secrecy::named_entries:
      if (given.empty())
        if (auto split = split_map(scalar)) given = std::move(*split);
      for (const auto& [k, v] : given)
        if (o.secret == secrecy::map_values || is_secret_entry(k)) out.push_back(v);
      break;
  }
  return out;
}

config_error refusal(const option_spec& o, const std::string& key, const std::string& message,
                     std::string_view scalar, const entries& given = {}) {
  return config_error{key, scrub_secrets(message, given_secrets(o, scalar, given), 1)};
}

std::optional<config_error> assign_node(const option_spec& o, const YAML::Node& node, settings& s) {
  if (node.IsNull()) return config_error{o.key, "has no value"};
  std::optional<std::string> err;
  std::string scalar;
  entries given;
  switch (o.type) {
    case value_type::string_list:
      if (node.IsSequence()) {
        std::vector<std::string> items;
        for (const auto& item : node) {
          if (!item.IsScalar()) return config_error{o.key, "list entries must be scalars"};
          items.push_back(item.Scalar());
          if (auto e = expand(o.key, items.back())) return e;
        }
        err = o.assign_list(s, items);
      } else if (node.IsScalar()) {
        scalar = node.Scalar();
        if (auto e = expand(o.key, scalar)) return e;
        err = o.assign(s, scalar);
      } else {
        return config_error{o.key, "expected a list"};
      }
      break;
    case value_type::string_map:
      if (node.IsMap()) {
        std::optional<config_error> flat_err;
        flatten_map(node, "", given, flat_err, o.key);
        if (flat_err) return flat_err;
        for (auto& [k, v] : given)
          if (auto e = expand(o.key + "." + k, v)) return e;
        err = o.assign_map(s, given);
      } else if (node.IsScalar()) {
        scalar = node.Scalar();
        if (auto e = expand(o.key, scalar)) return e;
        err = o.assign(s, scalar);  // the --set grammar: "k=v,k2=v2", or a word the option knows (`off`)
      } else {
        return config_error{o.key, "expected a map"};
      }
      break;
    default:
      if (!node.IsScalar()) return config_error{o.key, "expected a single value"};
      scalar = node.Scalar();
      if (auto e = expand(o.key, scalar)) return e;
      err = o.assign(s, scalar);
  }
  if (err) return refusal(o, o.key, *err, scalar, given);
  return std::nullopt;
}

std::optional<config_error> walk(const YAML::Node& node, const std::string& prefix, settings& s) {
  for (const auto& kv : node) {
    std::string key = prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>();
    if (const auto* o = find_option(key)) {
      if (auto err = assign_node(*o, kv.second, s)) return err;
      continue;
    }
    if (kv.second.IsMap()) {
      if (auto err = walk(kv.second, key, s)) return err;
      continue;
    }
    return unknown_key(key);
  }
  return std::nullopt;
}

}  // namespace

load_result load_yaml(const std::string& yaml_text, const std::string& origin, settings base) {
  load_result r;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports syntax errors only by exception; converted here, at the boundary.
    r.error = config_error{origin, std::string("not valid YAML: ") + e.what()};
    return r;
  }
  if (root.IsNull()) {  // an empty file is a valid, empty configuration
    r.value = std::move(base);
    return r;
  }
  if (!root.IsMap()) {
    r.error = config_error{origin, "the top level must be a map of options"};
    return r;
  }
  try {
    if (auto err = walk(root, "", base)) {
      r.error = err;
      return r;
    }
  } catch (const YAML::Exception& e) {
    r.error = config_error{origin, std::string("unreadable value: ") + e.what()};
    return r;
  }
  r.value = std::move(base);
  return r;
}

load_result load_file(const std::string& path, settings base) {
  std::ifstream in(path);
  if (!in) {
    load_result r;
    r.error = config_error{path, "cannot read the configuration file"};
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return load_yaml(ss.str(), path, std::move(base));
}

load_result apply_overrides(const std::vector<std::string>& assignments, settings base) {
  load_result r;
  for (const auto& a : assignments) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      r.error = config_error{a, "an override must look like key=value"};
      return r;
    }
    std::string key = a.substr(0, eq), value = a.substr(eq + 1);
    if (auto err = expand(key, value)) {
      r.error = err;
      return r;
    }
    if (const auto* o = find_option(key)) {
      if (auto err = o->assign(base, value)) {
        r.error = refusal(*o, key, *err, value);
        return r;
      }
      continue;
    }
    // A key below a map option sets one entry: kafka.librdkafka.security.protocol=SSL.
    bool matched = false;
    for (const auto& o : option_table()) {
      if (o.type == value_type::string_map && key.size() > o.key.size() + 1 &&
          key.compare(0, o.key.size() + 1, o.key + ".") == 0) {
        const entries entry = {{key.substr(o.key.size() + 1), value}};
        if (auto err = o.assign_map(base, entry)) {
          r.error = refusal(o, key, *err, "", entry);
          return r;
        }
        matched = true;
        break;
      }
    }
    if (!matched) {
      r.error = unknown_key(key);
      return r;
    }
  }
  r.value = std::move(base);
  return r;
}

std::optional<config_error> validate(const settings& s) {
  static const std::vector<std::string> reserved = {"enable.auto.commit", "enable.auto.offset.store",
                                                    "enable.partition.eof", "group.id", "bootstrap.servers"};
  for (const auto* section : {&s.kafka.librdkafka, &s.kafka.consumer, &s.kafka.producer})
    for (const auto& [k, v] : *section)
      for (const auto& r : reserved)
        if (k == r)
          return config_error{std::string(section == &s.kafka.librdkafka ? "kafka.librdkafka."
                                          : section == &s.kafka.consumer ? "kafka.consumer."
                                                                         : "kafka.producer.") + k,
                              "is set by tracewatch itself" +
                                  std::string(k == "group.id" || k == "bootstrap.servers"
                                                  ? "; use kafka." + k + " instead"
                                                  : "; offsets are stored with the state")};
  if (s.privacy.redact && s.privacy.hash_key.empty())
    return config_error{"privacy.hash_key", "is required when privacy.redact is on (identifiers are hashed with it)"};
  if (s.completion.settle_delay >= s.completion.gap)
    return config_error{"completion.settle_delay", "must be shorter than completion.gap (" +
                                                       format_duration(s.completion.gap) + ")"};
  if (s.completion.max_duration < s.completion.gap)
    return config_error{"completion.max_duration", "must be at least completion.gap (" +
                                                       format_duration(s.completion.gap) + ")"};
  const std::vector<std::pair<std::string, std::string>> outputs = {{"topics.sessions", s.topics.sessions},
                                                                    {"topics.deadletter", s.topics.deadletter},
                                                                    {"topics.verdicts", s.topics.verdicts},
                                                                    {"topics.diagnostics", s.topics.diagnostics}};
  for (size_t i = 0; i < outputs.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (outputs[i].second == outputs[j].second)
        return config_error{outputs[i].first, "must differ from " + outputs[j].first};
    for (const auto& t : s.topics.input)
      if (t == outputs[i].second)
        return config_error{"topics.input", "'" + t + "' is also an output topic (" + outputs[i].first +
                                                "); that would feed output back as input"};
  }
  if (!s.webhook.url.empty() && s.webhook.url.rfind("http://", 0) != 0 && s.webhook.url.rfind("https://", 0) != 0)
    return config_error{"webhook.url", "must start with http:// or https://"};  // not quoted: it may hold a token
  if (s.webhook.backoff_initial > s.webhook.backoff_max)
    return config_error{"webhook.backoff_initial", "must not exceed webhook.backoff_max"};
  // An output record must fit the producer: the pass-through property that applies is the
  // producer's own section, else the one for every client.
  for (const auto& [section, props] : {std::pair<const char*, const std::map<std::string, std::string>*>{
                                           "kafka.producer.", &s.kafka.producer},
                                       {"kafka.librdkafka.", &s.kafka.librdkafka}}) {
    auto it = props->find("message.max.bytes");
    if (it == props->end()) continue;
    const std::string key = std::string(section) + "message.max.bytes";
    auto limit = parse_integer(it->second);
    if (!limit) return config_error{key, "'" + it->second + "' is not an integer"};
    if (*limit < s.output.max_record_bytes + 1024)
      return config_error{key, std::to_string(*limit) + " leaves no room for output.max_record_bytes (" +
                                   std::to_string(s.output.max_record_bytes) +
                                   ") plus 1024 bytes for the key and framing: lower output.max_record_bytes to " +
                                   std::to_string(std::max<int64_t>(*limit - 1024, 0)) + " or less"};
    break;
  }
  if (s.http.stall_timeout <= s.pipeline.tick_interval)
    return config_error{"http.stall_timeout", "must be longer than pipeline.tick_interval (" +
                                                  format_duration(s.pipeline.tick_interval) +
                                                  "): the state stage shows life once per tick"};
  if (s.judge.rules.rfind("builtin:", 0) == 0 && s.judge.rules != "builtin:scheduling")
    return config_error{"judge.rules", "'" + s.judge.rules + "' is not a built-in rules set (there is builtin:scheduling)"};
  return std::nullopt;
}

load_result load(const std::optional<std::string>& path, const std::vector<std::string>& overrides) {
  load_result r;
  r.value = defaults();
  if (path) {
    r = load_file(*path, std::move(*r.value));
    if (!r) return r;
  }
  r = apply_overrides(overrides, std::move(*r.value));
  if (!r) return r;
  if (auto err = validate(*r.value)) {
    load_result bad;
    bad.error = err;
    return bad;
  }
  return r;
}

std::string render_yaml(const settings& s) {
  std::string out;
  for (const auto& o : option_table()) {
    std::string v = render_masked(o, s);
    switch (o.type) {
      case value_type::string_list: {
        out += o.key + ": [";
        auto items = split_list(v);
        for (size_t i = 0; i < items.size(); ++i) out += (i ? ", \"" : "\"") + items[i] + "\"";
        out += "]\n";
        break;
      }
      case value_type::string_map: {
        if (v.empty()) {
          out += o.key + ": {}\n";
          break;
        }
        auto entries = split_map(v);  // held: iterating *split_map(v) would dangle
        if (!entries) {
          out += o.key + ": \"" + v + "\"\n";  // a word the option takes instead of a map (cost.prices: off)
          break;
        }
        out += o.key + ":\n";
        for (const auto& [k, val] : *entries) out += "  \"" + k + "\": \"" + val + "\"\n";
        break;
      }
      case value_type::string:
        out += o.key + ": \"" + v + "\"\n";  // a secret is already masked (render_masked)
        break;
      default:
        out += o.key + ": " + v + "\n";
    }
  }
  return out;
}

}  // namespace tw::config
