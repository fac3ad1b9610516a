// The option table is the single source of configuration truth: these tests pin that defaults
// parse, bad values are refused naming the key, and docs/configuration.md is up to date.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/docs.hpp"
#include "config/loader.hpp"
#include "config/options.hpp"
#include "config/values.hpp"
#include "model/bounds.hpp"

using namespace tw::config;
using namespace std::chrono_literals;

TEST_CASE("every documented default parses under its own option's rules") {
  for (const auto& o : option_table()) {
    INFO(o.key);
    settings s;
    if (o.type == value_type::string_map && o.default_text.empty()) continue;
    CHECK_FALSE(o.assign(s, o.default_text));
    CHECK(o.render(s) == o.default_text);
  }
}

TEST_CASE("every option has a description and a unique key") {
  std::set<std::string> keys;
  for (const auto& o : option_table()) {
    INFO(o.key);
    CHECK_FALSE(o.description.empty());
    CHECK(keys.insert(o.key).second);
  }
}

TEST_CASE("the defaults load and validate") {
  auto r = load(std::nullopt, {});
  REQUIRE(r);
  CHECK(r.value->completion.gap == 5min);
  CHECK(r.value->completion.min_traces == 4);
  CHECK(r.value->topics.input == std::vector<std::string>{"traces.raw"});
}

TEST_CASE("nested YAML maps and dotted keys are the same option") {
  auto nested = load_yaml("completion:\n  gap: 90s\nkafka:\n  bootstrap.servers: b1:9092,b2:9092\n", "<t>", defaults());
  REQUIRE(nested);
  CHECK(nested.value->completion.gap == 90s);
  CHECK(nested.value->kafka.bootstrap_servers == "b1:9092,b2:9092");
  auto dotted = load_yaml("completion.gap: 90s\n", "<t>", defaults());
  REQUIRE(dotted);
  CHECK(dotted.value->completion.gap == 90s);
}

TEST_CASE("lists and librdkafka pass-through maps load from YAML") {
  auto r = load_yaml(
      "topics:\n  input: [a, b]\ncompletion:\n  end_markers: []\n"
      "kafka:\n  librdkafka:\n    security.protocol: SASL_SSL\n    sasl:\n      mechanisms: PLAIN\n",
      "<t>", defaults());
  REQUIRE(r);
  CHECK(r.value->topics.input == std::vector<std::string>{"a", "b"});
  CHECK(r.value->completion.end_markers.empty());
  CHECK(r.value->kafka.librdkafka.at("security.protocol") == "SASL_SSL");
  CHECK(r.value->kafka.librdkafka.at("sasl.mechanisms") == "PLAIN");
}

TEST_CASE("bad configuration is refused with a message naming the key") {
  struct row {
    const char* description;
    const char* yaml;
    const char* key;
    const char* message_part;
  };
  const row rows[] = {
      {"a duration without a unit we know", "completion.gap: 5x", "completion.gap", "not a duration"},
      {"a duration below its bound", "completion.gap: 10ms", "completion.gap", "out of bounds"},
      {"an integer that is not one", "completion.min_traces: four", "completion.min_traces", "not an integer"},
      {"an integer above its bound", "session.max_events: 999999999999", "session.max_events", "out of bounds"},
      {"a misspelt key gets a suggestion", "completion.gapp: 5m", "completion.gapp", "did you mean 'completion.gap'"},
      {"an unknown section", "nonsense:\n  x: 1", "nonsense.x", "unknown option"},
      {"a value outside its choices", "input.format: xml", "input.format", "not one of"},
      {"an empty input topic list", "topics.input: []", "topics.input", "at least one"},
      {"a map where a scalar belongs", "completion.gap: {a: 1}", "completion.gap", "single value"},
      {"a missing value", "completion.gap:", "completion.gap", "no value"},
      {"a bad format in the per-topic map", "input.format_by_topic: {t1: xml}", "input.format_by_topic",
       "not one of"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto res = load_yaml(r.yaml, "<t>", defaults());
    REQUIRE_FALSE(res);
    CHECK(res.error->key == r.key);
    CHECK_THAT(res.error->message, Catch::Contains(r.message_part));
  }
}

TEST_CASE("YAML syntax errors name the file") {
  auto r = load_yaml("a: [1, 2", "my.yaml", defaults());
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "my.yaml");
  CHECK_THAT(r.error->message, Catch::Contains("not valid YAML"));
}

TEST_CASE("overrides given with --set apply on top of the file, including single map entries") {
  auto r = apply_overrides({"completion.gap=10s", "kafka.librdkafka.security.protocol=SSL", "topics.input=x,y"},
                           defaults());
  REQUIRE(r);
  CHECK(r.value->completion.gap == 10s);
  CHECK(r.value->kafka.librdkafka.at("security.protocol") == "SSL");
  CHECK(r.value->topics.input == std::vector<std::string>{"x", "y"});

  auto bad = apply_overrides({"completion.gap"}, defaults());
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error->message, Catch::Contains("key=value"));
}

TEST_CASE("cross-option checks refuse contradictory settings") {
  auto r = load(std::nullopt, {"completion.gap=10s", "completion.settle_delay=20s"});
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "completion.settle_delay");

  auto loop = load(std::nullopt, {"topics.input=tracewatch.sessions"});
  REQUIRE_FALSE(loop);
  CHECK(loop.error->key == "topics.input");

  auto reserved = load(std::nullopt, {"kafka.librdkafka.enable.auto.commit=true"});
  REQUIRE_FALSE(reserved);
  CHECK(reserved.error->key == "kafka.librdkafka.enable.auto.commit");
}

TEST_CASE("an output record budget the producer cannot take is refused at start, naming both keys") {
  // Issue 6: a record over the producer's message.max.bytes can never be delivered.
  for (const std::string section : {"kafka.producer.", "kafka.librdkafka."}) {
    INFO(section);
    auto r = load(std::nullopt, {section + "message.max.bytes=500000"});
    REQUIRE_FALSE(r);
    CHECK(r.error->key == section + "message.max.bytes");
    CHECK(r.error->message.find("output.max_record_bytes (900000)") != std::string::npos);
    auto lowered = load(std::nullopt, {section + "message.max.bytes=500000", "output.max_record_bytes=498976"});
    CHECK(lowered);
    auto not_a_number = load(std::nullopt, {section + "message.max.bytes=lots"});
    REQUIRE_FALSE(not_a_number);
    CHECK(not_a_number.error->key == section + "message.max.bytes");
  }
  // The producer's own section is what the producer uses: it decides over the shared one.
  CHECK(load(std::nullopt, {"kafka.librdkafka.message.max.bytes=500000", "kafka.producer.message.max.bytes=2000000"}));
  CHECK(load(std::nullopt, {"kafka.producer.message.max.bytes=901024"}));
  CHECK_FALSE(load(std::nullopt, {"kafka.producer.message.max.bytes=901023"}));
}

TEST_CASE("the output record budget's default and margin are the ones the encoders use") {
  const auto d = defaults();
  CHECK(static_cast<size_t>(d.output.max_record_bytes) == tw::bounds::default_max_record_bytes);
  CHECK(load(std::nullopt, {"kafka.producer.message.max.bytes=" +
                            std::to_string(tw::bounds::default_max_record_bytes + tw::bounds::record_overhead_bytes)}));
}

TEST_CASE("docs/configuration.md is generated from the option table and up to date") {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/docs/configuration.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  INFO("regenerate with: build/tracewatch config docs > docs/configuration.md");
  CHECK(ss.str() == render_markdown());
}

TEST_CASE("durations render in the shortest exact unit") {
  CHECK(format_duration(5min) == "5m");
  CHECK(format_duration(1500ms) == "1500ms");
  CHECK(format_duration(90s) == "90s");
  CHECK(format_duration(std::chrono::microseconds(1500)) == "1500us");
  CHECK(parse_duration("250") == 250ms);
  CHECK_FALSE(parse_duration("-5s"));
}

TEST_CASE("http.listen takes host:port or [v6]:port, and a malformed address is refused naming the key") {
  auto ok = load(std::nullopt, {"http.listen=0.0.0.0:0"});
  REQUIRE(ok);
  CHECK(ok.value->http.listen_host == "0.0.0.0");
  CHECK(ok.value->http.listen_port == 0);
  auto v6 = load(std::nullopt, {"http.listen=[::1]:9100"});
  REQUIRE(v6);
  CHECK(v6.value->http.listen_host == "::1");
  CHECK(v6.value->http.listen_port == 9100);
  CHECK(find_option("http.listen")->render(*v6.value) == "[::1]:9100");
  for (const char* bad : {"9464", "localhost", "localhost:", ":9464", "localhost:65536", "::1:9464", "[::1]9464",
                          "host:12a"}) {
    INFO(bad);
    auto r = load(std::nullopt, {std::string("http.listen=") + bad});
    REQUIRE_FALSE(r);
    CHECK(r.error->key == "http.listen");
  }
}

TEST_CASE("http.stall_timeout must be longer than the state stage's tick, which is its sign of life") {
  auto r = load(std::nullopt, {"http.stall_timeout=1s", "pipeline.tick_interval=2s"});
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "http.stall_timeout");
  CHECK(load(std::nullopt, {"http.stall_timeout=3s", "pipeline.tick_interval=2s"}));
}

TEST_CASE("cost.prices: the built-in table by default, `off`, and rows from YAML or --set on top") {
  auto def = load(std::nullopt, {});
  REQUIRE(def);
  CHECK_FALSE(def.value->cost.prices_off);
  CHECK(def.value->cost.prices.empty());  // no rows of the operator's: the built-in ones alone

  auto off = load_yaml("cost:\n  prices: off\n", "<t>", defaults());
  REQUIRE(off);
  CHECK(off.value->cost.prices_off);

  // Model names hold dots: a YAML map below the option keeps them whole.
  auto rows = load_yaml("cost:\n  prices:\n    gemini-1.5-pro: 1.25/5\n    \"ft:gpt-4o-mini*\": 0.3/1.2\n", "<t>",
                        defaults());
  REQUIRE(rows);
  CHECK(rows.value->cost.prices.size() == 2);
  CHECK(rows.value->cost.prices.at("gemini-1.5-pro").input_per_mtok == 1.25);
  CHECK(rows.value->cost.prices.at("gemini-1.5-pro").output_per_mtok == 5.0);
  CHECK(rows.value->cost.prices.at("ft:gpt-4o-mini*").output_per_mtok == 1.2);

  auto set = apply_overrides({"cost.prices.acme-7b=0.05/0.05", "cost.prices=my-model=1/2,other=0.5/0"}, defaults());
  REQUIRE(set);
  CHECK(set.value->cost.prices.size() == 3);
  CHECK(set.value->cost.prices.at("other").output_per_mtok == 0.0);
  // `off` after rows turns everything off; rows after `off` bring prices back.
  auto later_off = apply_overrides({"cost.prices.acme=1/1", "cost.prices=off"}, defaults());
  REQUIRE(later_off);
  CHECK(later_off.value->cost.prices_off);
  CHECK(later_off.value->cost.prices.empty());
  auto later_rows = apply_overrides({"cost.prices=off", "cost.prices.acme=1/1"}, defaults());
  REQUIRE(later_rows);
  CHECK_FALSE(later_rows.value->cost.prices_off);

  // What `config show` prints loads back as the same settings.
  for (const auto* s : {&*def.value, &*off.value, &*rows.value}) {
    auto again = load_yaml(render_yaml(*s), "<shown>", defaults());
    REQUIRE(again);
    CHECK(again.value->cost.prices_off == s->cost.prices_off);
    REQUIRE(again.value->cost.prices.size() == s->cost.prices.size());
    for (const auto& [k, v] : s->cost.prices) {
      INFO(k);
      CHECK(again.value->cost.prices.at(k).input_per_mtok == v.input_per_mtok);
      CHECK(again.value->cost.prices.at(k).output_per_mtok == v.output_per_mtok);
    }
  }
}

TEST_CASE("cost.prices rows that are not prices are refused at start, naming the key and the row") {
  struct row {
    const char* description;
    const char* yaml;
    const char* message_part;
  };
  const row rows[] = {
      {"one number, not two", "cost.prices: {gpt-4o: 2.5}", "'gpt-4o': '2.5' is not INPUT/OUTPUT"},
      {"a word", "cost.prices: {gpt-4o: cheap/dear}", "is not INPUT/OUTPUT"},
      {"a negative price", "cost.prices: {gpt-4o: -1/2}", "out of bounds"},
      {"a price in the wrong unit", "cost.prices: {gpt-4o: 2500/10000.5}", "out of bounds"},
      {"an exponent", "cost.prices: {gpt-4o: 2e0/1}", "is not INPUT/OUTPUT"},
      {"a word the option does not know", "cost.prices: none", "is not `builtin`, `off`"},
  };
  for (const auto& r : rows) {
    INFO(r.description);
    auto res = load_yaml(r.yaml, "<t>", defaults());
    REQUIRE_FALSE(res);
    CHECK(res.error->key == "cost.prices");
    CHECK_THAT(res.error->message, Catch::Contains(r.message_part));
  }
}

TEST_CASE("kafka.group_commit_interval: 5 s by default, 0 turns the commits off") {
  auto def = load(std::nullopt, {});
  REQUIRE(def);
  CHECK(def.value->kafka.group_commit_interval == 5s);
  auto off = load(std::nullopt, {"kafka.group_commit_interval=0s"});
  REQUIRE(off);
  CHECK(off.value->kafka.group_commit_interval == 0s);
  auto bad = load(std::nullopt, {"kafka.group_commit_interval=2h"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error->key == "kafka.group_commit_interval");
}

TEST_CASE("query.token is a secret: config show masks it, and a bad one is refused without being quoted") {
  const std::string token = "tw-planted-token-0123456789";
  auto r = apply_overrides({"query.token=" + token}, defaults());
  REQUIRE(r);
  CHECK(r.value->query.token == token);
  const std::string shown = render_yaml(*r.value);
  CHECK(shown.find(token) == std::string::npos);
  CHECK(shown.find("query.token: \"<redacted>\"") != std::string::npos);
  CHECK(render_yaml(defaults()).find("query.token: \"\"") != std::string::npos);  // none set: says so
  CHECK(find_option("query.token")->secret == secrecy::value);
  for (const char* bad : {"short-token", "has a space in the middle of it", "tab\there-and-more-than-sixteen"}) {
    INFO(bad);
    auto refused = apply_overrides({std::string("query.token=") + bad}, defaults());
    REQUIRE(refused.error);
    CHECK(refused.error->key == "query.token");
    CHECK(refused.error->message.find(bad) == std::string::npos);
  }
}

TEST_CASE("query.retention: 7 days by default, 0 keeps nothing, more than a year is refused") {
  CHECK(defaults().query.retention == std::chrono::hours(24 * 7));
  CHECK(defaults().query.token_env == "TRACEWATCH_QUERY_TOKEN");
  auto none = apply_overrides({"query.retention=0s"}, defaults());
  REQUIRE(none);
  CHECK(none.value->query.retention.count() == 0);
  auto too_long = apply_overrides({"query.retention=400d"}, defaults());
  REQUIRE(too_long.error);
  CHECK(too_long.error->key == "query.retention");
}

// --- secrets (docs/configuration.md, "Secret"; docs/privacy.md) ---

namespace {

// A value for every secret part of every secret option, each unique, and the YAML that sets them.
struct planted {
  std::vector<std::string> secrets;
  std::vector<std::string> quotes;  // per secret: a line a library's error might print with it
  std::string yaml;
};

planted plant_secrets() {
  planted p;
  int n = 0;
  auto secret = [&] { return "s3cr3t-" + std::to_string(++n) + "-Zq9xWv7Ku2"; };
  for (const auto& o : option_table()) {
    switch (o.secret) {
      case secrecy::none:
        break;
      case secrecy::value:
        p.secrets.push_back(secret());
        p.quotes.push_back("bad key " + p.secrets.back());
        p.yaml += o.key + ": \"" + p.secrets.back() + "\"\n";
        break;
      case secrecy::url_path:
        p.secrets.push_back(secret());
        p.quotes.push_back("POST https://hooks.example.com/services/" + p.secrets.back() + "/api: refused");
        p.yaml += o.key + ": \"https://hooks.example.com/services/" + p.secrets.back() + "\"\n";
        break;
      case secrecy::map_values:
        p.secrets.push_back(secret());
        p.quotes.push_back("token " + p.secrets.back() + " refused (Authorization: Bearer " + p.secrets.back() + ")");
        p.yaml += o.key + ":\n  Authorization: \"Bearer " + p.secrets.back() + "\"\n";
        break;
      case secrecy::named_entries:
        p.secrets.push_back(secret());
        p.quotes.push_back("Invalid value \"" + p.secrets.back() + "\" for sasl.password");
        p.yaml += o.key + ":\n  sasl.password: \"" + p.secrets.back() + "\"\n";
        p.secrets.push_back(secret());
        p.quotes.push_back("key password " + p.secrets.back());
        p.yaml += "  ssl.key.password: \"" + p.secrets.back() + "\"\n  security.protocol: SASL_SSL\n";
        break;
    }
  }
  return p;
}

}  // namespace

TEST_CASE("the credentials among the options are marked secret in the table") {
  const std::map<std::string, secrecy> expected = {
      {"kafka.librdkafka", secrecy::named_entries},     {"kafka.consumer", secrecy::named_entries},
      {"kafka.producer", secrecy::named_entries},       {"webhook.url", secrecy::url_path},
      {"webhook.headers", secrecy::map_values},         {"alerts.alertmanager.url", secrecy::url_path},
      {"alerts.alertmanager.headers", secrecy::map_values}, {"alerts.webhook.url", secrecy::url_path},
      {"alerts.webhook.headers", secrecy::map_values}, {"query.token", secrecy::value}, {"privacy.hash_key", secrecy::value}};
  for (const auto& o : option_table()) {
    INFO(o.key);
    auto it = expected.find(o.key);
    CHECK(o.secret == (it == expected.end() ? secrecy::none : it->second));
  }
  for (const char* name : {"sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret",
                           "sasl.oauthbearer.config", "ssl.key.pem", "SASL.PASSWORD"})
    CHECK(is_secret_entry(name));
  for (const char* name : {"security.protocol", "sasl.username", "sasl.mechanisms", "ssl.ca.location", "ssl.certificate.pem"})
    CHECK_FALSE(is_secret_entry(name));
}

TEST_CASE("config show renders every secret as <redacted> and everything else as it is") {
  auto p = plant_secrets();
  auto r = load_yaml(p.yaml, "<t>", defaults());
  INFO(p.yaml);
  REQUIRE(r);
  const std::string shown = render_yaml(*r.value);
  for (const auto& s : p.secrets) CHECK(shown.find(s) == std::string::npos);
  CHECK_THAT(shown, Catch::Contains("webhook.url: \"https://hooks.example.com/<redacted>\""));
  CHECK_THAT(shown, Catch::Contains("  \"sasl.password\": \"<redacted>\""));
  CHECK_THAT(shown, Catch::Contains("  \"security.protocol\": \"SASL_SSL\""));
  // A URL without a path hides nothing; an unset secret shows empty.
  auto plain = apply_overrides({"alerts.alertmanager.url=http://alertmanager:9093"}, defaults());
  REQUIRE(plain);
  CHECK_THAT(render_yaml(*plain.value), Catch::Contains("alerts.alertmanager.url: \"http://alertmanager:9093\""));
}

TEST_CASE("secret_values lists what the settings hold, and scrub_secrets cuts it out of any text") {
  auto p = plant_secrets();
  auto r = load_yaml(p.yaml, "<t>", defaults());
  REQUIRE(r);
  const auto values = secret_values(*r.value);
  // Each as a library's error might quote it: a password alone, a header's credential, a URL.
  for (size_t i = 0; i < p.secrets.size(); ++i) {
    const std::string& s = p.secrets[i];
    INFO(p.quotes[i]);
    const std::string scrubbed = scrub_secrets(p.quotes[i], values);
    CHECK(scrubbed.find(s) == std::string::npos);
    CHECK_THAT(scrubbed, Catch::Contains("<redacted>"));
  }
  // Too short to scrub from free text without mangling it: kept (config show still masks it).
  CHECK(scrub_secrets("abc in a line", {"abc"}) == "abc in a line");
}

TEST_CASE("an error about a secret option never quotes the value given") {
  struct row {
    const char* why;
    std::vector<std::string> overrides;
    const char* key;
    const char* secret;
  };
  const row rows[] = {
      {"a webhook URL that is not http", {"webhook.url=ftp://x/T0/B0/Zq9xWv7Ku2"}, "webhook.url", "Zq9xWv7Ku2"},
  };
  for (const auto& r : rows) {
    INFO(r.why);
    auto res = load(std::nullopt, r.overrides);
    REQUIRE_FALSE(res);
    CHECK(res.error->key == r.key);
    CHECK(res.error->to_string().find(r.secret) == std::string::npos);
  }
}

TEST_CASE("any value may come from the environment as ${NAME}") {
  setenv("TW_TEST_KAFKA_PASSWORD", "from-the-env", 1);
  setenv("TW_TEST_GAP", "90s", 1);
  unsetenv("TW_TEST_UNSET");
  auto yaml = load_yaml(
      "kafka:\n  librdkafka:\n    sasl.password: ${TW_TEST_KAFKA_PASSWORD}\ncompletion.gap: ${TW_TEST_GAP}\n"
      "topics.input: [\"in-${TW_TEST_GAP}\"]\n",
      "<t>", defaults());
  REQUIRE(yaml);
  CHECK(yaml.value->kafka.librdkafka.at("sasl.password") == "from-the-env");
  CHECK(yaml.value->completion.gap == 90s);
  CHECK(yaml.value->topics.input == std::vector<std::string>{"in-90s"});
  auto set = apply_overrides({"webhook.headers.Authorization=Bearer ${TW_TEST_KAFKA_PASSWORD}-and-more",
                              "kafka.group.id=g-$${literal}-$x"},
                             defaults());
  REQUIRE(set);
  CHECK(set.value->webhook.headers.at("Authorization") == "Bearer from-the-env-and-more");
  CHECK(set.value->kafka.group_id == "g-${literal}-$x");

  auto unset = load_yaml("webhook.url: ${TW_TEST_UNSET}\n", "<t>", defaults());
  REQUIRE_FALSE(unset);
  CHECK(unset.error->key == "webhook.url");
  CHECK_THAT(unset.error->message, Catch::Contains("environment variable TW_TEST_UNSET is not set"));

  std::string missing;
  CHECK(expand_environment("no references, $ and ${ alone", process_environment, missing) ==
        std::string("no references, $ and ${ alone"));
}
