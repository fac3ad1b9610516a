// The typed configuration every stage receives. Filled from the option table (options.hpp), so
// the defaults below are placeholders overwritten by the table's documented defaults: the table,
// not this file, is the single source of truth (docs/configuration.md is generated from it).
//
// config/ depends on nothing else of ours: durations are plain std::chrono types here.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tw::config {

using micros = std::chrono::microseconds;

struct kafka_settings {
  std::string bootstrap_servers;
  std::string group_id;
  std::map<std::string, std::string> librdkafka;  // passed through to every client
  std::map<std::string, std::string> consumer;    // consumer clients only
  std::map<std::string, std::string> producer;    // producer clients only
  micros group_commit_interval{0};                // 0: the input offsets are not committed to the group
};

struct topic_settings {
  std::vector<std::string> input;
  std::string sessions;
  std::string deadletter;
  std::string verdicts;
  std::string diagnostics;
  std::string watermarks;
  std::string alerts;
};

struct input_settings {
  std::string format;                               // auto | langfuse | langfuse_export | otlp | native
  std::string start_from;                           // earliest | latest
  std::map<std::string, std::string> format_by_topic;
  int64_t max_message_bytes = 0;
  int64_t text_excerpt_bytes = 0;
  int64_t result_excerpt_bytes = 0;
  int64_t metadata_entries = 0;
};

struct time_settings {
  micros max_out_of_orderness{0};
  micros idle_timeout{0};
};

struct resolve_settings {
  micros pending_timeout{0};
  int64_t trace_cache_entries = 0;
};

struct completion_settings {
  micros gap{0};
  micros max_duration{0};
  int64_t min_traces = 0;
  std::vector<std::string> end_markers;
  micros settle_delay{0};
  micros grace{0};
  micros tombstone_retention{0};
};

struct session_settings {
  int64_t max_events = 0;
  int64_t max_turns = 0;
  int64_t max_tool_calls = 0;
  int64_t max_llm_calls = 0;
  int64_t max_errors = 0;
  int64_t max_scores = 0;
};

struct state_settings {
  std::string dir;
  bool sync_writes = false;
  int64_t cache_sessions = 0;
  int64_t block_cache_mb = 0;
  int64_t write_buffer_mb = 0;
};

struct pipeline_settings {
  int64_t batch_max_records = 0;
  micros batch_max_wait{0};
  int64_t max_inflight_records = 0;
  micros tick_interval{0};
};

struct judge_settings {
  std::string rules;  // "builtin:scheduling" or a path to a rules file
};

struct diagnostics_settings {
  micros interval{0};  // one diagnosis per interval
  int64_t burst = 0;
  int64_t memory_queue = 0;
};

struct webhook_settings {
  std::string url;  // empty: no webhook
  micros timeout{0};
  int64_t max_attempts = 0;
  micros backoff_initial{0};
  micros backoff_max{0};
  micros retry_after_max{0};
  int64_t breaker_failures = 0;
  micros breaker_cooldown{0};
  std::map<std::string, std::string> headers;
};

struct alerts_settings {
  std::string rules;              // builtin:scheduling | a path | off
  int64_t max_groups = 0;         // per rule; more label sets fold into "other"
  int64_t examples = 0;           // session ids per alert event
  std::string alertmanager_url;   // empty: no Alertmanager
  std::map<std::string, std::string> alertmanager_headers;
  micros resend_interval{0};      // firing alerts are re-sent to Alertmanager this often
  std::string webhook_url;        // empty: no alert webhook
  std::map<std::string, std::string> webhook_headers;
  std::string receiver, external_url, generator_url;  // payload fields
  micros timeout{0};
  int64_t max_attempts = 0;
  micros backoff_initial{0};
  micros backoff_max{0};
  micros retry_after_max{0};
  int64_t breaker_failures = 0;
  micros breaker_cooldown{0};
  micros retry_initial{0};        // a notification no call delivered waits this, doubling
  micros retry_max{0};
};

struct output_settings {
  int64_t max_record_bytes = 0;  // the largest value of any output record
  micros stall_timeout{0};       // an output lane whose oldest record waits longer is stalled
};

struct http_settings {
  bool enabled = false;
  std::string listen_host;  // http.listen
  int listen_port = 0;      // http.listen; 0: any free port (the address bound is logged)
  int64_t threads = 0;
  micros stall_timeout{0};  // a stage with work that shows no life for this long is wedged
  int64_t ready_max_lag = 0;  // records behind the high watermarks, summed over the partitions
};

struct query_settings {
  std::string token;      // query.token: the bearer token of the query endpoints (secret); empty: see token_env
  std::string token_env;  // query.token_env: the environment variable holding the token when token is empty
  micros retention{0};    // query.retention: results are kept this long (event time) past closed_at; 0: none
};

// privacy.*: redaction of personal data in everything that leaves the process (docs/privacy.md).
struct privacy_settings {
  bool redact = false;                                           // privacy.redact
  std::string mode = "mask";                                     // privacy.mode: mask | hash
  std::vector<std::string> builtin_patterns{"phone", "email", "card"};  // privacy.builtin_patterns
  std::map<std::string, std::string> patterns;                   // privacy.patterns: name -> RE2 expression
  std::vector<std::string> fields;                               // privacy.fields: field paths
  std::string hash_key;                                          // privacy.hash_key (secret)
};

// One row of cost.prices: US dollars per million tokens.
struct model_price {
  double input_per_mtok = 0;
  double output_per_mtok = 0;
};

struct cost_settings {
  bool prices_off = false;                      // cost.prices: off — no cost is ever computed
  std::map<std::string, model_price> prices;    // the operator's rows (model name or glob), over the built-in ones
};

struct log_settings {
  std::string level;
  std::string format;
};

struct settings {
  kafka_settings kafka;
  topic_settings topics;
  input_settings input;
  time_settings time;
  resolve_settings resolve;
  completion_settings completion;
  session_settings session;
  state_settings state;
  pipeline_settings pipeline;
  judge_settings judge;
  diagnostics_settings diagnostics;
  webhook_settings webhook;
  alerts_settings alerts;
  output_settings output;
  http_settings http;
  query_settings query;
  privacy_settings privacy;
  cost_settings cost;
  log_settings log;
};

}  // namespace tw::config
