#include "config/options.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "config/values.hpp"

namespace tw::config {
namespace {

using namespace std::chrono_literals;

// Builders: each returns a spec whose assign/render close over an accessor into settings.
template <class Get>
option_spec string_option(std::string key, std::string def, Get get, std::string desc,
                          std::vector<std::string> choices = {}, bool restart = true) {
  option_spec o;
  o.key = std::move(key);
  o.type = value_type::string;
  o.default_text = std::move(def);
  o.choices = std::move(choices);
  o.needs_restart = restart;
  o.description = std::move(desc);
  auto allowed = o.choices;
  o.assign = [get, allowed](settings& s, std::string_view text) -> std::optional<std::string> {
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), text) == allowed.end())
      return "'" + std::string(text) + "' is not one of: " + join(allowed, ", ");
    get(s) = std::string(text);
    return std::nullopt;
  };
  o.render = [get](const settings& s) { return get(const_cast<settings&>(s)); };
  return o;
}

template <class Get>
option_spec nonempty_string_option(std::string key, std::string def, Get get, std::string desc) {
  auto o = string_option(std::move(key), std::move(def), get, std::move(desc));
  auto inner = o.assign;
  o.bounds = "non-empty";
  o.assign = [inner](settings& s, std::string_view text) -> std::optional<std::string> {
    if (text.empty()) return std::string("must not be empty");
    return inner(s, text);
  };
  return o;
}

template <class Get>
option_spec integer_option(std::string key, std::string def, int64_t lo, int64_t hi, std::string why,
                           Get get, std::string desc, bool restart = true) {
  option_spec o;
  o.key = std::move(key);
  o.type = value_type::integer;
  o.default_text = std::move(def);
  o.bounds = std::to_string(lo) + " .. " + std::to_string(hi);
  o.bounds_reason = std::move(why);
  o.needs_restart = restart;
  o.description = std::move(desc);
  o.assign = [get, lo, hi](settings& s, std::string_view text) -> std::optional<std::string> {
    auto v = parse_integer(text);
    if (!v) return "'" + std::string(text) + "' is not an integer";
    if (*v < lo || *v > hi)
      return std::to_string(*v) + " is out of bounds [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    get(s) = *v;
    return std::nullopt;
  };
  o.render = [get](const settings& s) { return std::to_string(get(const_cast<settings&>(s))); };
  return o;
}

template <class Get>
option_spec bool_option(std::string key, std::string def, Get get, std::string desc, bool restart = true) {
  option_spec o;
  o.key = std::move(key);
  o.type = value_type::boolean;
  o.default_text = std::move(def);
  o.needs_restart = restart;
  o.description = std::move(desc);
  o.assign = [get](settings& s, std::string_view text) -> std::optional<std::string> {
    auto v = parse_bool(text);
    if (!v) return "'" + std::string(text) + "' is not a boolean (true/false)";
    get(s) = *v;
    return std::nullopt;
  };
  o.render = [get](const settings& s) { return std::string(get(const_cast<settings&>(s)) ? "true" : "false"); };
  return o;
}

template <class Get>
option_spec duration_option(std::string key, std::string def, micros lo, micros hi, std::string why,
                            Get get, std::string desc, bool restart = true) {
  option_spec o;
  o.key = std::move(key);
  o.type = value_type::duration;
  o.default_text = std::move(def);
  o.bounds = format_duration(lo) + " .. " + format_duration(hi);
  o.bounds_reason = std::move(why);
  o.needs_restart = restart;
  o.description = std::move(desc);
  o.assign = [get, lo, hi](settings& s, std::string_view text) -> std::optional<std::string> {
    auto v = parse_duration(text);
    if (!v) return "'" + std::string(text) + "' is not a duration (write e.g. 250ms, 30s, 5m, 2h, 1d)";
    if (*v < lo || *v > hi)
      return format_duration(*v) + " is out of bounds [" + format_duration(lo) + ", " + format_duration(hi) + "]";
    get(s) = *v;
    return std::nullopt;
  };
  o.render = [get](const settings& s) { return format_duration(get(const_cast<settings&>(s))); };
  return o;
}

template <class Get>
option_spec list_option(std::string key, std::string def, bool allow_empty, Get get, std::string desc) {
  option_spec o;
  o.key = std::move(key);
  o.type = value_type::string_list;
  o.default_text = std::move(def);
  o.bounds = allow_empty ? "" : "at least one entry";
  o.description = std::move(desc);
  auto assign_items = [get, allow_empty](settings& s, const std::vector<std::string>& items) -> std::optional<std::string> {
    if (!allow_empty && items.empty()) return std::string("needs at least one entry");
    for (const auto& i : items)
      if (i.empty()) return std::string("entries must not be empty");
    get(s) = items;
    return std::nullopt;
  };
  o.assign_list = assign_items;
  o.assign = [assign_items](settings& s, std::string_view text) { return assign_items(s, split_list(text)); };
  o.render = [get](const settings& s) { return join(get(const_cast<settings&>(s)), ","); };
  return o;
}

template <class Get>
option_spec map_option(std::string key, Get get, std::string desc,
                       std::function<std::optional<std::string>(const std::string&, const std::string&)> check = {}) {
  option_spec o;
  o.key = std::move(key);
  o.type = value_type::string_map;
  o.default_text = "";
  o.description = std::move(desc);
  auto assign_entries = [get, check](settings& s, const std::vector<std::pair<std::string, std::string>>& entries)
      -> std::optional<std::string> {
    for (const auto& [k, v] : entries) {
      if (k.empty()) return std::string("map keys must not be empty");
      if (check)
        if (auto err = check(k, v)) return "'" + k + "': " + *err;
      get(s)[k] = v;
    }
    return std::nullopt;
  };
  o.assign_map = assign_entries;
  o.assign = [assign_entries](settings& s, std::string_view text) -> std::optional<std::string> {
    auto entries = split_map(text);
    if (!entries) return "'" + std::string(text) + "' is not a list of key=value pairs";
    return assign_entries(s, *entries);
  };
  o.render = [get](const settings& s) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : get(const_cast<settings&>(s))) parts.push_back(k + "=" + v);
    return join(parts, ",");
  };
  o.map_entries = [get](const settings& s) { return get(const_cast<settings&>(s)); };
  return o;
}

option_spec secret(option_spec o, secrecy what) {
  o.secret = what;
  return o;
}

const std::vector<std::string> formats = {"auto", "langfuse", "langfuse_export", "otlp", "native"};

// --- cost.prices: `builtin` | `off` | rows `pattern=IN/OUT` (US dollars per million tokens) ---

// The dearest list price is o1-pro's $600 per million output tokens: a figure far above it is a
// price written per thousand tokens, or in cents.
constexpr double max_price_per_mtok = 10000;

std::optional<std::string> assign_price_rows(settings& s, const std::vector<std::pair<std::string, std::string>>& rows) {
  for (const auto& [pattern, value] : rows) {
    if (pattern.empty()) return std::string("a model name or pattern must not be empty");
    const auto slash = value.find('/');
    std::optional<double> in, out;
    if (slash != std::string::npos) {
      in = parse_decimal(std::string_view(value).substr(0, slash));
      out = parse_decimal(std::string_view(value).substr(slash + 1));
    }
    if (!in || !out)
      return "'" + pattern + "': '" + value +
             "' is not INPUT/OUTPUT, US dollars per million input and output tokens (e.g. 2.50/10.00)";
    for (double p : {*in, *out})
      if (p < 0 || p > max_price_per_mtok)
        return "'" + pattern + "': " + format_decimal(p) + " is out of bounds [0, " + format_decimal(max_price_per_mtok) +
               "] (US dollars per million tokens)";
    s.cost.prices[pattern] = model_price{*in, *out};
  }
  s.cost.prices_off = false;
  return std::nullopt;
}

option_spec prices_option() {
  option_spec o;
  o.key = "cost.prices";
  o.type = value_type::string_map;
  o.default_text = "builtin";
  o.bounds = "prices 0 .. " + format_decimal(max_price_per_mtok) + " per million tokens";
  o.bounds_reason = "the dearest list price is $600 per million output tokens; a larger figure is a price written in "
                    "the wrong unit";
  o.description =
      "Model prices for LLM calls whose producer reported tokens but no cost: the cost is then computed as input "
      "tokens × INPUT + output tokens × OUTPUT, in US dollars per million tokens, and the session's "
      "`stats.cost_source` says `computed` (or `mixed`); a reported cost is never replaced, and a model without a "
      "price keeps its cost unknown. `builtin`: tracewatch's own table of list prices (standard tier, no batch or "
      "cache discounts, short prompts), taken 2026-12-02, for OpenAI gpt-4o, gpt-4o-mini, gpt-4.1(-mini, -nano), "
      "gpt-5(-mini, -nano), o1, o3(-mini, -pro), o4-mini; Anthropic claude-3/3.5/3.7 haiku, sonnet, opus and "
      "claude-sonnet-4(-5), claude-opus-4(-1, -5), claude-haiku-4-5; Google gemini-1.5/2.0/2.5 flash(-lite) and "
      "pro (docs/operations.md, \"Cost\", lists them). Rows `MODEL: INPUT/OUTPUT` (YAML map, or "
      "`--set cost.prices.MODEL=INPUT/OUTPUT`) come on top of the built-in table and win over it. MODEL is a "
      "model name, compared without case and without a provider prefix (`openai/`, `models/`, Bedrock's "
      "`anthropic.`); it also prices its dated versions (gpt-4o prices gpt-4o-2024-08-06, claude-3-5-sonnet prices "
      "claude-3-5-sonnet-20241022, -latest, Bedrock's -v1:0, Vertex's @2024...) but no other model (gpt-4o does "
      "not price gpt-4o-mini). A MODEL with `*` is a glob over the whole name (`ft:gpt-4o-mini*`). Where several "
      "rows match, an exact name wins, then the longest name, then the glob with most literal characters. `off`: "
      "no cost is computed. The same figures reach verdicts, the cost expert and the alert rules' cost_sum.";
  o.assign_map = assign_price_rows;
  o.assign = [](settings& s, std::string_view text) -> std::optional<std::string> {
    if (trim(text) == "off" || trim(text) == "builtin") {
      s.cost.prices.clear();
      s.cost.prices_off = trim(text) == "off";
      return std::nullopt;
    }
    auto rows = split_map(text);
    if (!rows) return "'" + std::string(text) + "' is not `builtin`, `off` or a list of MODEL=INPUT/OUTPUT rows";
    return assign_price_rows(s, *rows);
  };
  o.render = [](const settings& s) -> std::string {
    if (s.cost.prices_off) return "off";
    if (s.cost.prices.empty()) return "builtin";
    std::vector<std::string> parts;
    for (const auto& [pattern, p] : s.cost.prices)
      parts.push_back(pattern + "=" + format_decimal(p.input_per_mtok) + "/" + format_decimal(p.output_per_mtok));
    return join(parts, ",");
  };
  return o;
}

std::vector<option_spec> build_table() {
  constexpr int64_t max_i64 = std::numeric_limits<int64_t>::max();
  (void)max_i64;
  std::vector<option_spec> t;

  // --- kafka ---
  t.push_back(nonempty_string_option(
      "kafka.bootstrap.servers", "localhost:9092", [](settings& s) -> auto& { return s.kafka.bootstrap_servers; },
      "Kafka brokers to connect to (host:port,...). The only setting that changes between the demo's embedded "
      "broker and a real cluster."));
  t.push_back(nonempty_string_option(
      "kafka.group.id", "tracewatch", [](settings& s) -> auto& { return s.kafka.group_id; },
      "Consumer group of the input consumer, and the name under which a live run records its watermark decisions (a replay follows the decisions of this group). Run ONE instance per group: state is per process, so a second instance would split sessions (a partition another member holds keeps the watermark where its progress was, and an error says so)."));
  t.push_back(secret(map_option(
      "kafka.librdkafka", [](settings& s) -> auto& { return s.kafka.librdkafka; },
      "Extra librdkafka properties passed to every Kafka client (consumer and producer), e.g. "
      "`kafka.librdkafka.security.protocol: SASL_SSL`. Properties tracewatch sets itself "
      "(enable.auto.commit, enable.auto.offset.store, enable.partition.eof, group.id, bootstrap.servers) "
      "cannot be overridden here."), secrecy::named_entries));

  t.push_back(secret(map_option(
      "kafka.consumer", [](settings& s) -> auto& { return s.kafka.consumer; },
      "librdkafka properties for the input consumer only (applied after kafka.librdkafka), e.g. "
      "`session.timeout.ms`, `fetch.max.bytes`. tracewatch's own defaults, which these override: "
      "`fetch.wait.max.ms=50`, `queued.max.messages.kbytes=16384` (librdkafka's 64 MB prefetch would be a "
      "quarter of the memory bound under a backlog)."), secrecy::named_entries));
  t.push_back(secret(map_option(
      "kafka.producer", [](settings& s) -> auto& { return s.kafka.producer; },
      "librdkafka properties for the output producer only (applied after kafka.librdkafka), e.g. "
      "`linger.ms`, `compression.type`. The producer is always idempotent with acks=all."), secrecy::named_entries));

  // --- kafka.group_commit_interval and cost (issue 8). One block: other branches add options too. ---
  t.push_back(duration_option(
      "kafka.group_commit_interval", "5s", 0us, micros(3600LL * 1000000),
      "0 turns it off; each commit is one request to the group coordinator, and beyond an hour a lag dashboard "
      "shows nothing useful",
      [](settings& s) -> auto& { return s.kafka.group_commit_interval; },
      "How often the input positions that the state stage committed durably to RocksDB are also committed to the "
      "consumer group (kafka.group.id), asynchronously, so that standard consumer-lag tools see progress "
      "(docs/operations.md, \"Consumer lag\"). Informational only: a restart resumes from the positions in "
      "RocksDB whatever the group holds, and a new state directory starts at input.start_from. Only partitions "
      "this process holds are committed, and a revoked partition's last position is committed as it goes; a "
      "failed commit is counted and logged at most once per interval. `replay --topic` never commits. 0: no "
      "commits."));
  t.push_back(prices_option());

  // --- topics ---
  t.push_back(list_option("topics.input", "traces.raw", false, [](settings& s) -> auto& { return s.topics.input; },
                          "Input topics holding raw trace events."));
  t.push_back(nonempty_string_option("topics.sessions", "tracewatch.sessions",
                                     [](settings& s) -> auto& { return s.topics.sessions; },
                                     "Output topic for completed sessions (tracewatch.session.v1, keyed by session id)."));
  t.push_back(nonempty_string_option("topics.deadletter", "tracewatch.deadletter",
                                     [](settings& s) -> auto& { return s.topics.deadletter; },
                                     "Output topic for unusable input (tracewatch.deadletter.v1)."));

  t.push_back(nonempty_string_option("topics.verdicts", "tracewatch.verdicts",
                                     [](settings& s) -> auto& { return s.topics.verdicts; },
                                     "Output topic for verdicts (tracewatch.verdict.v1, keyed by session id)."));
  t.push_back(nonempty_string_option("topics.diagnostics", "tracewatch.diagnostics",
                                     [](settings& s) -> auto& { return s.topics.diagnostics; },
                                     "Output topic for diagnostics of failed, partial and error verdicts "
                                     "(tracewatch.diagnostic.v1, keyed by session id)."));
  t.push_back(nonempty_string_option("topics.alerts", "tracewatch.alerts",
                                     [](settings& s) -> auto& { return s.topics.alerts; },
                                     "Output topic for alert state changes (tracewatch.alert.v1, keyed by alert_id)."));
  t.push_back(nonempty_string_option(
      "topics.watermarks", "tracewatch.watermarks", [](settings& s) -> auto& { return s.topics.watermarks; },
      "Internal topic where a live run records each watermark decision the data alone does not determine "
      "(a partition went idle, event time flowed on while all input was idle, data woke an idle partition, "
      "partitions were assigned), with the input positions where it was taken (tracewatch.watermark.v1). "
      "`replay --topic` reads it and takes the same decisions at the same positions, so that it reproduces the "
      "live run's sessions. Any number of partitions; do not delete it sooner than the input."));

  // --- input ---
  t.push_back(string_option("input.format", "auto", [](settings& s) -> auto& { return s.input.format; },
                            "Format of input messages. `auto` detects it per message from the JSON shape.", formats));
  t.push_back(map_option(
      "input.format_by_topic", [](settings& s) -> auto& { return s.input.format_by_topic; },
      "Fixes the format of specific input topics (topic: format), overriding `input.format`.",
      [](const std::string&, const std::string& v) -> std::optional<std::string> {
        if (std::find(formats.begin(), formats.end(), v) == formats.end())
          return "'" + v + "' is not one of: " + join(formats, ", ");
        return std::nullopt;
      }));
  t.push_back(string_option("input.start_from", "earliest", [](settings& s) -> auto& { return s.input.start_from; },
                            "Where to start in an input partition for which no offset is stored (a new state "
                            "directory): its earliest retained message, or only messages that arrive from now on.",
                            {"earliest", "latest"}));
  t.push_back(integer_option("input.max_message_bytes", "8388608", 1024, 256LL << 20,
                             "Langfuse batches are at most 3.5 MB; larger messages are refused by most brokers anyway",
                             [](settings& s) -> auto& { return s.input.max_message_bytes; },
                             "Messages larger than this are dead-lettered as too_large without being parsed."));
  t.push_back(integer_option("input.text_excerpt_bytes", "500", 16, 65536,
                             "excerpts are stored per event; the upper bound keeps per-session state small",
                             [](settings& s) -> auto& { return s.input.text_excerpt_bytes; },
                             "Longest excerpt of user or assistant text kept per event."));
  t.push_back(integer_option("input.result_excerpt_bytes", "300", 16, 65536,
                             "as for text excerpts",
                             [](settings& s) -> auto& { return s.input.result_excerpt_bytes; },
                             "Longest excerpt of a tool result or error message kept per event."));
  t.push_back(integer_option("input.metadata_entries", "32", 0, 1024, "metadata is stored per event",
                             [](settings& s) -> auto& { return s.input.metadata_entries; },
                             "Most metadata entries (flattened scalars) kept per event."));

  // --- time ---
  t.push_back(duration_option(
      "time.max_out_of_orderness", "5s", 0us, micros(3600LL * 1000000),
      "the watermark lags the newest event time by this much; an hour of lag would delay every verdict by an hour",
      [](settings& s) -> auto& { return s.time.max_out_of_orderness; },
      "How far out of event-time order input may arrive within a partition. The partition watermark is the "
      "largest event time seen minus this; events older than the watermark are late."));
  t.push_back(duration_option(
      "time.idle_timeout", "30s", micros(100000), micros(86400LL * 1000000),
      "below 100ms every pause in traffic would count as idleness",
      [](settings& s) -> auto& { return s.time.idle_timeout; },
      "Live mode only: a partition that is caught up and has received nothing for this long is idle and stops "
      "holding the watermark back; when all are idle, event time follows the wall clock from the latest event, so "
      "the last sessions still complete when input stops."));

  // --- resolve ---
  t.push_back(duration_option(
      "resolve.pending_timeout", "2m", micros(1000000), micros(86400LL * 1000000),
      "observations wait this long in event time for their trace's session id",
      [](settings& s) -> auto& { return s.resolve.pending_timeout; },
      "An observation whose trace has no known session id is held this long (event time) for the id to arrive; "
      "then the trace becomes a session of its own, keyed by its trace id."));
  t.push_back(integer_option("resolve.trace_cache_entries", "200000", 1000, 100000000,
                             "bounds memory: the trace-to-session map itself lives in RocksDB",
                             [](settings& s) -> auto& { return s.resolve.trace_cache_entries; },
                             "Trace-to-session bindings cached in memory."));

  // --- completion ---
  t.push_back(duration_option(
      "completion.gap", "5m", micros(1000000), micros(7LL * 86400 * 1000000),
      "shorter than a second would split sessions at every pause between turns",
      [](settings& s) -> auto& { return s.completion.gap; },
      "A session completes when the watermark passes its last activity plus this gap."));
  t.push_back(duration_option(
      "completion.max_duration", "4h", micros(1000000), micros(30LL * 86400 * 1000000),
      "bounds how long a never-ending session holds state",
      [](settings& s) -> auto& { return s.completion.max_duration; },
      "A session completes at its first event time plus this, however active it still is."));
  t.push_back(integer_option("completion.min_traces", "4", 1, 1000000, "a session has at least one trace",
                             [](settings& s) -> auto& { return s.completion.min_traces; },
                             "Sessions with fewer traces complete as abandoned."));
  t.push_back(list_option("completion.end_markers", "hangup", true,
                          [](settings& s) -> auto& { return s.completion.end_markers; },
                          "Observation names that end a session (e.g. a hang-up event). Empty: only the gap and "
                          "the maximum duration close sessions."));
  t.push_back(duration_option(
      "completion.settle_delay", "2s", 0us, micros(3600LL * 1000000),
      "events that trail the end marker are merged during this time",
      [](settings& s) -> auto& { return s.completion.settle_delay; },
      "After an end marker, the session completes once the watermark passes the marker's time plus this."));
  t.push_back(duration_option(
      "completion.grace", "30m", 0us, micros(30LL * 86400 * 1000000),
      "a completed session's events are kept this long for late arrivals",
      [](settings& s) -> auto& { return s.completion.grace; },
      "After completing, a session stays reopenable for this much event time: a late event reopens it and a new "
      "revision is emitted. After that it is sealed and later events are dead-lettered as late_event."));
  t.push_back(duration_option(
      "completion.tombstone_retention", "7d", micros(60LL * 1000000), micros(365LL * 86400 * 1000000),
      "a sealed session is remembered (a few bytes) so that its late events are recognised",
      [](settings& s) -> auto& { return s.completion.tombstone_retention; },
      "How long (event time) a sealed session's id, revision and trace bindings are remembered after sealing."));

  // --- session ---
  t.push_back(integer_option("session.max_events", "5000", 10, 10000000,
                             "bounds per-session state in RocksDB and the work to summarise a session",
                             [](settings& s) -> auto& { return s.session.max_events; },
                             "Events stored per session. Later events still move the session's time window but "
                             "are not stored; the output reports how many were left out."));
  t.push_back(integer_option("session.max_turns", "50", 1, 100000, "bounds the output message",
                             [](settings& s) -> auto& { return s.session.max_turns; },
                             "Turns (user/assistant excerpts per trace) in a session's output."));
  t.push_back(integer_option("session.max_tool_calls", "100", 1, 100000, "bounds the output message",
                             [](settings& s) -> auto& { return s.session.max_tool_calls; },
                             "Tool calls listed in a session's output (all are counted)."));
  t.push_back(integer_option("session.max_llm_calls", "100", 1, 100000, "bounds the output message",
                             [](settings& s) -> auto& { return s.session.max_llm_calls; },
                             "LLM calls listed in a session's output (all are counted)."));
  t.push_back(integer_option("session.max_errors", "50", 1, 100000, "bounds the output message",
                             [](settings& s) -> auto& { return s.session.max_errors; },
                             "Errors listed in a session's output (all are counted)."));
  t.push_back(integer_option("session.max_scores", "50", 0, 100000, "bounds the output message",
                             [](settings& s) -> auto& { return s.session.max_scores; },
                             "Scores listed in a session's output."));

  // --- state ---
  t.push_back(nonempty_string_option("state.dir", "./tracewatch-state", [](settings& s) -> auto& { return s.state.dir; },
                                     "RocksDB directory holding sessions, offsets and the output outbox."));
  t.push_back(bool_option("state.sync_writes", "false", [](settings& s) -> auto& { return s.state.sync_writes; },
                          "fsync the write-ahead log on every batch. Off, a killed process loses nothing (the WAL is "
                          "in the OS page cache); on, a power loss loses nothing either, at a large cost in "
                          "throughput."));
  t.push_back(integer_option("state.cache_sessions", "20000", 100, 10000000,
                             "bounds memory; sessions beyond it are read back from RocksDB",
                             [](settings& s) -> auto& { return s.state.cache_sessions; },
                             "Open-session headers cached in memory."));
  t.push_back(integer_option("state.block_cache_mb", "64", 8, 65536, "RocksDB block cache",
                             [](settings& s) -> auto& { return s.state.block_cache_mb; },
                             "RocksDB block cache size in MiB."));
  t.push_back(integer_option("state.write_buffer_mb", "64", 8, 65536,
                             "bounds memory: the total of all column families' memtables",
                             [](settings& s) -> auto& { return s.state.write_buffer_mb; },
                             "Memory for RocksDB write buffers (memtables), in MiB, across all column families."));

  // --- pipeline ---
  t.push_back(integer_option("pipeline.batch_max_records", "2000", 1, 1000000,
                             "a batch is one RocksDB write; larger batches amortise it, smaller ones cut latency",
                             [](settings& s) -> auto& { return s.pipeline.batch_max_records; },
                             "Most input records per batch handed from the consumer to the pipeline."));
  t.push_back(duration_option("pipeline.batch_max_wait", "20ms", micros(100), micros(10LL * 1000000),
                              "the consumer hands over a partial batch after this long",
                              [](settings& s) -> auto& { return s.pipeline.batch_max_wait; },
                              "Longest the consumer waits to fill a batch."));
  t.push_back(integer_option("pipeline.max_inflight_records", "10000", 100, 100000000,
                             "bounds memory between the consumer and the state stage",
                             [](settings& s) -> auto& { return s.pipeline.max_inflight_records; },
                             "The consumer stops taking records when this many are consumed but not yet stored (and pauses if that lasts over 5 s)."));
  t.push_back(duration_option("pipeline.tick_interval", "500ms", micros(10000), micros(60LL * 1000000),
                              "idle partitions are re-evaluated this often",
                              [](settings& s) -> auto& { return s.pipeline.tick_interval; },
                              "How often the state stage re-checks idle partitions and the output outbox."));

  // --- judge ---
  t.push_back(nonempty_string_option(
      "judge.rules", "builtin:scheduling", [](settings& s) -> auto& { return s.judge.rules; },
      "The intent, fulfillment and expert rules (docs/rules.md): `builtin:scheduling` (the demo's clinic "
      "scheduling agent, compiled in) or the path of a rules file. Checked at start; `tracewatch rules check` "
      "checks a file alone."));

  // --- diagnostics ---
  t.push_back(duration_option(
      "diagnostics.interval", "250ms", micros(1000), micros(3600LL * 1000000),
      "the rate limit of the diagnostic mailbox: a few per second protects what diagnostics call (the webhook)",
      [](settings& s) -> auto& { return s.diagnostics.interval; },
      "One failed session is diagnosed per interval (250ms: four per second), after an initial burst. The rest "
      "waits in the durable mailbox."));
  t.push_back(integer_option("diagnostics.burst", "5", 1, 100000, "a token bucket holds at least one token",
                             [](settings& s) -> auto& { return s.diagnostics.burst; },
                             "How many diagnoses may start at once after a quiet period."));
  t.push_back(integer_option("diagnostics.memory_queue", "1000", 1, 10000000,
                             "bounds memory: further failures wait in RocksDB only (spilled)",
                             [](settings& s) -> auto& { return s.diagnostics.memory_queue; },
                             "Sessions kept in memory while they wait for judgement, and failures while they wait for "
                             "diagnosis (each queue); the rest wait in RocksDB only and are read back in order. Also "
                             "bounds how many completed sessions the state stage hands to the judge stage in memory at once."));

  // --- webhook ---
  t.push_back(secret(string_option("webhook.url", "", [](settings& s) -> auto& { return s.webhook.url; },
                            "Optional: each failed session's summary is POSTed here (JSON) through the diagnostic "
                            "mailbox, and the response is attached to its diagnostic (docs/webhook.md). Empty: no "
                            "webhook. http:// or https://."), secrecy::url_path));
  t.push_back(duration_option("webhook.timeout", "5s", micros(10000), micros(600LL * 1000000),
                              "bounds how long one attempt holds the diagnostic stage",
                              [](settings& s) -> auto& { return s.webhook.timeout; },
                              "Time limit of one attempt (connect and response)."));
  t.push_back(integer_option("webhook.max_attempts", "4", 1, 100, "each attempt holds the diagnostic stage",
                             [](settings& s) -> auto& { return s.webhook.max_attempts; },
                             "Attempts per call, the first included."));
  t.push_back(duration_option("webhook.backoff_initial", "500ms", micros(1000), micros(600LL * 1000000),
                              "the first wait before a retry", [](settings& s) -> auto& { return s.webhook.backoff_initial; },
                              "Wait before the first retry; it doubles with each retry up to webhook.backoff_max."));
  t.push_back(duration_option("webhook.backoff_max", "30s", micros(1000), micros(3600LL * 1000000),
                              "caps the exponential backoff", [](settings& s) -> auto& { return s.webhook.backoff_max; },
                              "Longest wait between retries."));
  t.push_back(duration_option("webhook.retry_after_max", "1m", micros(1000), micros(3600LL * 1000000),
                              "a server's Retry-After is honoured up to this",
                              [](settings& s) -> auto& { return s.webhook.retry_after_max; },
                              "Longest Retry-After (from a 429 or 503 answer) that is honoured; longer ones are cut."));
  t.push_back(integer_option("webhook.breaker_failures", "5", 1, 1000, "consecutive failed calls before the breaker opens",
                             [](settings& s) -> auto& { return s.webhook.breaker_failures; },
                             "The circuit breaker opens after this many consecutive failed calls: later calls "
                             "are not attempted until webhook.breaker_cooldown has passed."));
  t.push_back(duration_option("webhook.breaker_cooldown", "1m", micros(1000000), micros(86400LL * 1000000),
                              "how long an open breaker waits before one trial call",
                              [](settings& s) -> auto& { return s.webhook.breaker_cooldown; },
                              "How long the open circuit breaker refuses calls before it lets one trial through."));
  t.push_back(secret(map_option("webhook.headers", [](settings& s) -> auto& { return s.webhook.headers; },
                         "Extra HTTP headers sent with every webhook call (e.g. Authorization)."), secrecy::map_values));

  // --- alerts ---
  t.push_back(nonempty_string_option(
      "alerts.rules", "builtin:scheduling", [](settings& s) -> auto& { return s.alerts.rules; },
      "The alert rules (docs/alerts.md): `builtin:scheduling` (the demo's clinic scheduling agent, compiled in), "
      "the path of a YAML file whose `alerts` section holds them (it may be the judgement rules file), or `off`. "
      "Checked at start; `tracewatch rules check` checks a file alone."));
  t.push_back(integer_option("alerts.max_groups", "1000", 1, 1000000,
                             "bounds memory: one runaway label value cannot create unbounded groups",
                             [](settings& s) -> auto& { return s.alerts.max_groups; },
                             "Label sets (groups) one alert rule tracks at most; facts of further groups are counted "
                             "under the label value `other`."));
  t.push_back(integer_option("alerts.examples", "5", 0, 100, "each alert event carries these as evidence; bounded "
                             "so that an event stays small",
                             [](settings& s) -> auto& { return s.alerts.examples; },
                             "Session ids an alert event carries as examples of what it is about."));
  // --- alerts: notifications (docs/notifications.md) ---
  t.push_back(secret(string_option("alerts.alertmanager.url", "", [](settings& s) -> auto& { return s.alerts.alertmanager_url; },
                            "Optional: a Prometheus Alertmanager (base URL, e.g. http://alertmanager:9093) that receives "
                            "every alert event, posted to <url>/api/v2/alerts through the durable notification queue "
                            "(docs/notifications.md). Empty: none. Live runs only."), secrecy::url_path));
  t.push_back(secret(map_option("alerts.alertmanager.headers", [](settings& s) -> auto& { return s.alerts.alertmanager_headers; },
                         "Extra HTTP headers sent to Alertmanager (e.g. Authorization behind a proxy)."), secrecy::map_values));
  t.push_back(duration_option("alerts.alertmanager.resend_interval", "1m", micros(1000000), micros(3600LL * 1000000),
                              "Alertmanager forgets a firing alert that is not re-sent within its resolve_timeout (5m by default)",
                              [](settings& s) -> auto& { return s.alerts.resend_interval; },
                              "Firing alerts are re-posted to Alertmanager this often (wall clock), as Prometheus does."));
  t.push_back(secret(string_option("alerts.webhook.url", "", [](settings& s) -> auto& { return s.alerts.webhook_url; },
                            "Optional: every alert event is POSTed here in Alertmanager's webhook payload shape "
                            "(docs/notifications.md). Empty: none. Live runs only."), secrecy::url_path));
  t.push_back(secret(map_option("alerts.webhook.headers", [](settings& s) -> auto& { return s.alerts.webhook_headers; },
                         "Extra HTTP headers sent to the alert webhook (e.g. Authorization)."), secrecy::map_values));
  t.push_back(string_option("alerts.webhook.receiver", "tracewatch", [](settings& s) -> auto& { return s.alerts.receiver; },
                            "The webhook message's `receiver`."));
  t.push_back(string_option("alerts.webhook.external_url", "", [](settings& s) -> auto& { return s.alerts.external_url; },
                            "The webhook message's `externalURL` (a link to tracewatch)."));
  t.push_back(string_option("alerts.notify.generator_url", "", [](settings& s) -> auto& { return s.alerts.generator_url; },
                            "Each alert's `generatorURL` (omitted from Alertmanager posts when empty)."));
  t.push_back(duration_option("alerts.notify.timeout", "5s", micros(10000), micros(600LL * 1000000),
                              "bounds how long one attempt holds the notifier",
                              [](settings& s) -> auto& { return s.alerts.timeout; },
                              "Time limit of one notification POST (connect and response)."));
  t.push_back(integer_option("alerts.notify.max_attempts", "4", 1, 100, "each attempt holds the notifier",
                             [](settings& s) -> auto& { return s.alerts.max_attempts; },
                             "POSTs per call to one target, the first included; after them the notification waits "
                             "for alerts.notify.retry_initial (growing) and is tried again: it is never dropped."));
  t.push_back(duration_option("alerts.notify.backoff_initial", "500ms", micros(1000), micros(600LL * 1000000),
                              "the first wait before a retry within a call",
                              [](settings& s) -> auto& { return s.alerts.backoff_initial; },
                              "Wait before the first retry within a call; doubles per retry up to alerts.notify.backoff_max."));
  t.push_back(duration_option("alerts.notify.backoff_max", "30s", micros(1000), micros(3600LL * 1000000),
                              "caps the exponential backoff", [](settings& s) -> auto& { return s.alerts.backoff_max; },
                              "Largest wait between retries within a call."));
  t.push_back(duration_option("alerts.notify.retry_after_max", "1m", micros(1000), micros(3600LL * 1000000),
                              "a server's Retry-After is honoured up to this",
                              [](settings& s) -> auto& { return s.alerts.retry_after_max; },
                              "Largest Retry-After (from a 429 or 503 answer) that is honoured."));
  t.push_back(integer_option("alerts.notify.breaker_failures", "5", 1, 1000, "consecutive failed calls before the breaker opens",
                             [](settings& s) -> auto& { return s.alerts.breaker_failures; },
                             "Consecutive failed calls that open a target's circuit breaker."));
  t.push_back(duration_option("alerts.notify.breaker_cooldown", "1m", micros(1000000), micros(86400LL * 1000000),
                              "how long an open breaker waits before one trial call",
                              [](settings& s) -> auto& { return s.alerts.breaker_cooldown; },
                              "How long an open breaker refuses calls before it lets one trial through."));
  t.push_back(duration_option("alerts.notify.retry_initial", "10s", micros(1000), micros(3600LL * 1000000),
                              "the first wait before a notification no call delivered is tried again",
                              [](settings& s) -> auto& { return s.alerts.retry_initial; },
                              "Wait before trying again a notification that no call delivered; doubles per failure up "
                              "to alerts.notify.retry_max."));
  t.push_back(duration_option("alerts.notify.retry_max", "5m", micros(1000), micros(3600LL * 1000000),
                              "also how late an alert can reach a target after the target recovers",
                              [](settings& s) -> auto& { return s.alerts.retry_max; },
                              "Largest wait before trying a notification again."));

  // --- output ---
  t.push_back(integer_option(
      "output.max_record_bytes", "900000", 65536, 1000000000,
      "a record must fit the producer's message.max.bytes (librdkafka: 1,000,000 by default, at most "
      "1,000,000,000) with room for its key; under 64 KiB a session could not keep its fixed part",
      [](settings& s) -> auto& { return s.output.max_record_bytes; },
      "The largest value (JSON document) of any output record: sessions, verdicts, diagnostics and dead "
      "letters are built to fit it, leaving entries out of the middle of their lists (counted in the "
      "record) when they would not. Must be at least 1024 bytes under the producer's message.max.bytes "
      "(kafka.producer or kafka.librdkafka) when one is set; a record the brokers still refuse becomes a "
      "dead letter (reason undeliverable)."));
  t.push_back(duration_option(
      "output.stall_timeout", "30s", micros(1000000), micros(3600LL * 1000000),
      "shorter than a second would call every broker hiccup a stall; longer than an hour hides an outage",
      [](settings& s) -> auto& { return s.output.stall_timeout; },
      "An output lane (sessions, verdicts, diagnostics) whose oldest record has not been acknowledged for "
      "this long is stalled: one error line names the lane, its depth and the last error, and another says "
      "when it moves again."));

  // --- http (docs/operations.md, "Health and metrics") ---
  t.push_back(bool_option("http.enabled", "true", [](settings& s) -> auto& { return s.http.enabled; },
                          "Serve the HTTP endpoints over HTTP (run and demo; a replay serves nothing): /healthz, /readyz, /metrics, "
                          "the status page (/ and /status.json) and the query endpoints (/api/v1/..., docs/queries.md)."));
  {
    option_spec o;
    o.key = "http.listen";
    o.type = value_type::string;
    o.default_text = "127.0.0.1:9464";
    o.bounds = "host:port or [v6 address]:port, port 0 .. 65535";
    o.bounds_reason = "port 0: any free port, and the address bound is logged (msg=\"http server listening\")";
    o.description =
        "Where the HTTP server listens. Loopback by default: only the query endpoints require a token "
        "(query.token), the others carry no authentication and the server speaks plain HTTP, so expose it "
        "(0.0.0.0:9464) only where the network is trusted, or behind a TLS proxy.";
    o.assign = [](settings& s, std::string_view text) -> std::optional<std::string> {
      auto a = parse_host_port(text);
      if (!a) return "'" + std::string(text) + "' is not host:port (e.g. 127.0.0.1:9464, [::1]:9464, 0.0.0.0:0)";
      s.http.listen_host = a->host;
      s.http.listen_port = a->port;
      return std::nullopt;
    };
    o.render = [](const settings& s) { return format_host_port({s.http.listen_host, s.http.listen_port}); };
    t.push_back(std::move(o));
  }
  t.push_back(integer_option("http.threads", "4", 1, 64,
                             "each keep-alive connection (a Prometheus server, a health checker) holds one thread",
                             [](settings& s) -> auto& { return s.http.threads; },
                             "Threads serving HTTP requests. They only read the stages' probes: no stage ever waits for "
                             "them."));
  t.push_back(duration_option(
      "http.stall_timeout", "1m", micros(1000000), micros(3600LL * 1000000),
      "must exceed how long a stage may take over one message (the state stage's largest batch, a split "
      "commit); waits a stage announces (rate limits, retries, webhook calls) do not count",
      [](settings& s) -> auto& { return s.http.stall_timeout; },
      "A stage that has work queued and shows no sign of life for this long is wedged: /healthz answers 503 "
      "naming it. Must be longer than pipeline.tick_interval."));
  t.push_back(integer_option("http.ready_max_lag", "10000", 0, max_i64,
                             "0: ready only when caught up with every partition",
                             [](settings& s) -> auto& { return s.http.ready_max_lag; },
                             "/readyz answers 503 while the consumer lag (records between the committed positions and "
                             "the high watermarks, summed over the assigned partitions) exceeds this."));

  // --- query: the query endpoints and the status page (issue 8; docs/queries.md) ---
  {
    auto o = string_option(
        "query.token", "", [](settings& s) -> auto& { return s.query.token; },
        "The bearer token every query endpoint (/api/v1/...) requires: `Authorization: Bearer <token>`. Empty: the "
        "token comes from the environment variable named by query.token_env; when neither gives one, the query "
        "endpoints are off (they answer 403 saying so) while /, /status.json, /healthz, /readyz and /metrics still "
        "serve. Prefer the environment variable: a file holding the token must be protected like the token.");
    o.secret = secrecy::value;
    o.bounds = "empty, or 16 .. 512 printable ASCII characters without spaces";
    o.bounds_reason = "a shorter token can be guessed; it travels in an HTTP header, which takes no spaces";
    auto inner = o.assign;
    o.assign = [inner](settings& s, std::string_view text) -> std::optional<std::string> {
      // The value is a secret: the message never quotes it.
      if (!text.empty() && (text.size() < 16 || text.size() > 512)) return std::string("must be 16 to 512 characters long");
      for (char c : text)
        if (c <= ' ' || c > '~') return std::string("must be printable ASCII without spaces");
      return inner(s, text);
    };
    t.push_back(std::move(o));
  }
  t.push_back(string_option(
      "query.token_env", "TRACEWATCH_QUERY_TOKEN", [](settings& s) -> auto& { return s.query.token_env; },
      "The environment variable the query token is read from when query.token is empty (the same bounds apply to "
      "its value; a bad value stops the start, naming the variable, never quoting it)."));
  t.push_back(duration_option(
      "query.retention", "7d", 0us, micros(365LL * 86400 * 1000000),
      "0 keeps no results; beyond a year the state directory grows for little use",
      [](settings& s) -> auto& { return s.query.retention; },
      "How long (event time) completed results are kept in state for the queries: each session revision's "
      "summary, verdict and diagnosis, the verdict index and the per-minute verdict counts. They are deleted once "
      "the watermark passes the revision's window.closed_at plus this, so a replay keeps what the live run kept "
      "(docs/architecture.md, \"Query results and retention\"). It costs disk: about the size of the sessions topic over this much time. "
      "0: nothing is kept and the session and verdict queries find nothing."));

  // --- privacy: personal data in what leaves the process (docs/privacy.md) ---
  t.push_back(bool_option("privacy.redact", "false", [](settings& s) -> auto& { return s.privacy.redact; },
                          "Redact personal data in everything that leaves the process: the records on every output "
                          "topic and their keys, the webhook and alert notification bodies, the query answers and "
                          "the log. What is found (privacy.builtin_patterns, privacy.patterns) and whole field values "
                          "(privacy.fields) are replaced as privacy.mode says; identifiers are always hashed with "
                          "privacy.hash_key, so that distinct sessions stay distinct. State (RocksDB) keeps what came "
                          "in. On in the demo."));
  t.push_back(string_option("privacy.mode", "mask", [](settings& s) -> auto& { return s.privacy.mode; },
                            "mask: what is found becomes its kind (`[phone]`); hash: its kind and a keyed hash of it "
                            "(`[phone:1f0c6a2e9b7d4c35]`), so that the same caller stays recognisable across "
                            "messages and runs with the same privacy.hash_key.",
                            {"mask", "hash"}));
  {
    auto o = list_option("privacy.builtin_patterns", "phone,email,card", true,
                         [](settings& s) -> auto& { return s.privacy.builtin_patterns; },
                         "The built-in detectors to apply: phone (international and national forms, at least 7 "
                         "digits), email, card (13 to 19 digits that pass the Luhn check). Empty: none.");
    auto inner = o.assign_list;
    auto checked = [inner](settings& s, const std::vector<std::string>& items) -> std::optional<std::string> {
      for (const auto& i : items)
        if (i != "phone" && i != "email" && i != "card") return "'" + i + "' is not one of: phone, email, card";
      return inner(s, items);
    };
    o.assign_list = checked;
    o.assign = [checked](settings& s, std::string_view text) { return checked(s, split_list(text)); };
    o.bounds = "each of phone, email, card";
    t.push_back(std::move(o));
  }
  t.push_back(map_option(
      "privacy.patterns", [](settings& s) -> auto& { return s.privacy.patterns; },
      "The operator's own detectors: name -> RE2 regular expression (e.g. `member_id: 'M-[0-9]{8}'`). A match "
      "becomes `[name]` (or `[name:hash]`). A pattern that does not compile, or matches the empty text, stops the "
      "start naming it.",
      [](const std::string& k, const std::string&) -> std::optional<std::string> {
        for (char c : k)
          if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return std::string("a pattern's name is lower-case letters, digits and '_'");
        return std::nullopt;
      }));
  t.push_back(list_option("privacy.fields", "", true, [](settings& s) -> auto& { return s.privacy.fields; },
                          "Field paths whose whole value is personal, matched on the end of the dotted path of a "
                          "member in any output document (e.g. `user_id`, `metadata.caller`): the value becomes "
                          "`[user_id]` (or `[user_id:hash]`)."));
  t.push_back(secret(string_option("privacy.hash_key", "", [](settings& s) -> auto& { return s.privacy.hash_key; },
                                   "The key of the keyed hash (HMAC-SHA256) behind hash tokens and hashed "
                                   "identifiers. Required when privacy.redact is on; keep it stable, or the same "
                                   "caller hashes differently from then on. Best given from the environment: "
                                   "`privacy.hash_key: ${TRACEWATCH_HASH_KEY}`."),
                     secrecy::value));

  // --- log ---
  t.push_back(string_option("log.level", "info", [](settings& s) -> auto& { return s.log.level; },
                            "Least severe log level written to stderr.",
                            {"trace", "debug", "info", "warn", "error", "off"}, false));
  t.push_back(string_option("log.format", "logfmt", [](settings& s) -> auto& { return s.log.format; },
                            "Log line format on stderr: key=value pairs (logfmt) or one JSON object per line.",
                            {"logfmt", "json"}));
  return t;
}

}  // namespace

std::string_view to_string(value_type t) {
  switch (t) {
    case value_type::string: return "string";
    case value_type::integer: return "integer";
    case value_type::boolean: return "boolean";
    case value_type::duration: return "duration";
    case value_type::string_list: return "list of strings";
    case value_type::string_map: return "map of strings";
  }
  return "unknown";
}

const std::vector<option_spec>& option_table() {
  static const std::vector<option_spec> table = build_table();
  return table;
}

const option_spec* find_option(std::string_view key) {
  for (const auto& o : option_table())
    if (o.key == key) return &o;
  return nullptr;
}

bool is_secret_entry(std::string_view entry_name) {
  std::string n;
  for (char c : entry_name) n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return n.find("password") != std::string::npos || n.find("secret") != std::string::npos ||
         n == "sasl.oauthbearer.config" || n == "ssl.key.pem";
}

namespace {

// "https://hooks.example.com/services/T0/B0/XXXX" -> {"https://hooks.example.com", "/services/T0/B0/XXXX"}:
// what may be shown, and what may carry a token. No path (or just "/"): nothing to hide.
std::pair<std::string_view, std::string_view> split_url(std::string_view url) {
  auto scheme = url.find("://");
  size_t from = scheme == std::string_view::npos ? 0 : scheme + 3;
  auto path = url.find_first_of("/?#", from);
  if (path == std::string_view::npos) return {url, {}};
  std::string_view rest = url.substr(path);
  if (rest == "/") return {url, {}};
  return {url.substr(0, path), rest};
}

}  // namespace

std::string render_masked(const option_spec& o, const settings& s) {
  const std::string masked(redacted_text);
  switch (o.secret) {
    case secrecy::none:
      return o.render(s);
    case secrecy::value: {
      std::string v = o.render(s);
      return v.empty() ? v : masked;
    }
    case secrecy::url_path: {
      std::string v = o.render(s);
      auto [shown, hidden] = split_url(v);
      return hidden.empty() ? v : std::string(shown) + "/" + masked;
    }
    case secrecy::map_values:
    case secrecy::named_entries: {
      std::vector<std::string> parts;
      for (const auto& [k, v] : o.map_entries(s))
        parts.push_back(k + "=" + (o.secret == secrecy::map_values || is_secret_entry(k) ? masked : v));
      return join(parts, ",");
    }
  }
  return masked;
}

std::vector<std::string> secret_values(const settings& s) {
  std::vector<std::string> out;
  auto add = [&](std::string v) {
    if (!v.empty()) out.push_back(std::move(v));
  };
  for (const auto& o : option_table()) {
    switch (o.secret) {
      case secrecy::none:
        break;
      case secrecy::value:
        add(o.render(s));
        break;
      case secrecy::url_path: {
        std::string v = o.render(s);
        auto [shown, hidden] = split_url(v);
        if (!hidden.empty()) {
          add(v);
          add(std::string(hidden));
        }
        break;
      }
      case secrecy::map_values:
      case secrecy::named_entries:
        for (const auto& [k, v] : o.map_entries(s)) {
          if (o.secret == secrecy::named_entries && !is_secret_entry(k)) continue;
          add(v);
          // "Bearer <token>", "Basic <credentials>": the credential may be quoted without its scheme.
          if (auto space = v.find(' '); o.secret == secrecy::map_values && space != std::string::npos)
            add(std::string(trim(std::string_view(v).substr(space + 1))));
        }
        break;
    }
  }
  return out;
}

std::string scrub_secrets(std::string text, const std::vector<std::string>& secrets, size_t min_bytes) {
  // Longest first: a secret URL goes whole before its path is looked for.
  std::vector<const std::string*> order;
  for (const auto& v : secrets)
    if (!v.empty() && v.size() >= min_bytes) order.push_back(&v);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->size() > b->size(); });
  for (const auto* v : order) {
    for (size_t at = text.find(*v); at != std::string::npos; at = text.find(*v, at + redacted_text.size()))
      text.replace(at, v->size(), redacted_text);
  }
  return text;
}

settings defaults() {
  settings s;
  for (const auto& o : option_table()) {
    if (o.default_text.empty() && o.type == value_type::string_map) continue;
    // A default that does not parse is a programming error caught by the unit tests.
    (void)o.assign(s, o.default_text);
  }
  return s;
}

}  // namespace tw::config
