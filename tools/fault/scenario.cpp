#include "tools/fault/scenario.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "model/time.hpp"

namespace tw::fault {

double seconds_since(steady::time_point t0) { return std::chrono::duration<double>(steady::now() - t0).count(); }

work_dir::work_dir(const std::string& tool, bool keep) : keep_(keep) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (tool + "-XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) throw harness_error("cannot create a work directory");
  path_ = tmpl;
}

work_dir::~work_dir() {
  std::error_code ec;  // best effort throughout: a leftover temporary directory harms nothing
  if (keep_) {
    std::printf("kept %s\n", path_.c_str());
  } else if (passed_) {
    std::filesystem::remove_all(path_, ec);
  } else {
    for (const auto& e : std::filesystem::directory_iterator(path_, ec))
      if (e.path().extension() != ".log") std::filesystem::remove_all(e.path(), ec);
    std::printf("kept the logs in %s\n", path_.c_str());
  }
}

// --- broker ---------------------------------------------------------------------------------------

broker_process::broker_process(const std::string& broker_binary, const std::vector<topic_spec>& topics,
                               const std::string& log_path) {
  std::vector<std::string> argv{broker_binary};
  for (const auto& t : topics) {
    argv.push_back("--topic");
    argv.push_back(t.name + ":" + std::to_string(t.partitions));
  }
  p_ = process::start(argv, process_options{"", log_path, true, true});
  auto line = p_->read_line(30s);
  if (!line || line->empty())
    throw harness_error("the mock broker did not print its address; its log: " + truncated(read_whole_file(log_path), 2000));
  bootstrap_ = *line;
}

broker_process::~broker_process() {
  if (!p_->running()) return;
  p_->signal(SIGCONT);
  p_->write_line("quit");
  if (!p_->wait_exit(10s)) p_->signal(SIGKILL);
}

void broker_process::command(const std::string& line) {
  if (!p_->write_line(line)) throw harness_error("the mock broker's stdin is closed (did it exit?)");
  auto answer = p_->read_line(30s);
  if (!answer || answer->rfind("ok", 0) != 0)
    throw harness_error("mock broker: `" + line + "` answered " + (answer ? *answer : std::string("nothing")));
}

void broker_process::create(const topic_spec& t) { command("create " + t.name + ":" + std::to_string(t.partitions)); }
void broker_process::down() { command("down"); }
void broker_process::up() { command("up"); }
void broker_process::pause() { p_->signal(SIGSTOP); }
void broker_process::resume() { p_->signal(SIGCONT); }

// --- input ----------------------------------------------------------------------------------------

input_data generate_input(uint64_t seed, size_t min_events, std::chrono::milliseconds spacing) {
  sim::generator_options o;  // the defaults: duplicates and shuffled sends included
  o.seed = seed;
  o.keys = sim::key_mode::trace_id;
  sim::call_generator gen(o);
  input_data d;
  d.messages = sim::generate_stream(gen, min_events, *parse_iso8601("2025-03-01T08:00:00Z"), spacing, &d.plans);
  for (const auto& p : d.plans) d.events += static_cast<size_t>(p.events);
  for (const auto& m : d.messages) d.payload_bytes += m.key.size() + m.payload.size();
  return d;
}

int64_t produce_input(const std::string& brokers, const topic_spec& topic, const input_data& in) {
  produce_all(brokers, topic.name, in.messages);
  topic_reader check(brokers, {topic});
  auto marks = check.watermarks()[topic.name];
  int64_t total = 0, largest = 0;
  for (size_t p = 0; p < marks.size(); ++p) {
    if (marks[p].low != 0)
      throw harness_error(topic.name + "/" + std::to_string(p) + " lost its first " + std::to_string(marks[p].low) +
                          " messages to the mock broker's retention (~5 MB per partition): use more partitions");
    total += marks[p].high;
    largest = std::max(largest, marks[p].high);
  }
  if (total != static_cast<int64_t>(in.messages.size()))
    throw harness_error(topic.name + " holds " + std::to_string(total) + " messages, " +
                        std::to_string(in.messages.size()) + " were produced");
  return largest;
}

// --- runs -----------------------------------------------------------------------------------------

run_names names_for(const std::string& label, const std::string& work_dir) {
  run_names n;
  n.label = label;
  n.state_dir = work_dir + "/" + label + ".state";
  n.group = "tw-fault-" + label;
  n.sessions = label + ".sessions";
  n.verdicts = label + ".verdicts";
  n.diagnostics = label + ".diagnostics";
  n.deadletter = label + ".deadletter";
  n.alerts = label + ".alerts";
  n.watermarks = label + ".watermarks";
  return n;
}

std::vector<topic_spec> output_topics(const run_names& n, const output_partitions& p, bool watermarks) {
  std::vector<topic_spec> t{{n.sessions, p.sessions},
                            {n.verdicts, p.verdicts},
                            {n.diagnostics, p.diagnostics},
                            {n.deadletter, p.deadletter},
                            {n.alerts, p.alerts}};
  if (watermarks) t.push_back({n.watermarks, 1});
  return t;
}

std::vector<std::string> fast_settings() {
  return {"completion.gap=5s",          "completion.settle_delay=500ms", "time.max_out_of_orderness=1s",
          "time.idle_timeout=1s",       "pipeline.tick_interval=100ms",  "resolve.pending_timeout=10s",
          "diagnostics.interval=1ms",   "diagnostics.burst=1000"};
}

std::vector<std::string> run_argv(const run_command_line& c, const run_names& n) {
  std::vector<std::string> a{c.binary, "run"};
  auto set = [&](const std::string& kv) {
    a.push_back("--set");
    a.push_back(kv);
  };
  set("kafka.bootstrap.servers=" + c.brokers);
  set("state.dir=" + n.state_dir);
  set("kafka.group.id=" + n.group);
  set("topics.input=" + c.input_topic);
  set("topics.sessions=" + n.sessions);
  set("topics.verdicts=" + n.verdicts);
  set("topics.diagnostics=" + n.diagnostics);
  set("topics.deadletter=" + n.deadletter);
  set("topics.alerts=" + n.alerts);
  if (c.watermarks) set(std::string(watermarks_option) + "=" + n.watermarks);
  set("http.listen=127.0.0.1:0");  // any free port: the scenario's runs overlap, and other checkouts run too
  for (const auto& kv : c.settings) set(kv);
  return a;
}

run_tracker::run_tracker(const std::string& brokers, const run_names& n, const output_partitions& p)
    : names_(n), topics_(output_topics(n, p, false)), reader_(brokers, topics_) {}

void run_tracker::take(std::vector<record>& records) {
  size_t fresh = 0;
  for (const auto& r : records) {
    output_kind k = r.topic == names_.sessions     ? output_kind::sessions
                    : r.topic == names_.verdicts   ? output_kind::verdicts
                    : r.topic == names_.diagnostics ? output_kind::diagnostics
                    : r.topic == names_.alerts      ? output_kind::alerts
                                                    : output_kind::deadletter;
    // Any new record counts as growth (a repeat too: the run is still delivering).
    outputs_.of(k).add(r.payload);
    ++fresh;
  }
  if (fresh) last_growth_ = steady::now();
  records.clear();
}

size_t run_tracker::poll(std::chrono::milliseconds wait) {
  std::vector<record> got;
  auto identities = [&] {
    size_t n = 0;
    for (auto kind : all_output_kinds) n += outputs_.of(kind).by_identity.size();
    return n;
  };
  size_t before = identities();
  reader_.poll(wait, got);
  take(got);
  return identities() - before;
}

bool run_tracker::complete(const std::vector<sim::call_plan>& plans) const {
  for (const auto& p : plans)
    if (!outputs_.sessions.latest_revision.count(p.session_id)) return false;
  for (const auto& [id, payloads] : outputs_.sessions.by_identity)
    if (!outputs_.verdicts.by_identity.count(id)) return false;
  for (const auto& id : outputs_.verdicts.needs_diagnosis)
    if (!outputs_.diagnostics.by_identity.count(id)) return false;
  return true;
}

void run_tracker::read_to_end() {
  std::vector<record> got;
  reader_.read_to_end(120s, got);
  take(got);
  for (const auto& [topic, parts] : reader_.watermarks())
    for (size_t p = 0; p < parts.size(); ++p)
      if (parts[p].low != 0)
        throw harness_error(topic + "/" + std::to_string(p) + " lost its first " + std::to_string(parts[p].low) +
                            " messages to the mock broker's retention: give the output topics more partitions");
}

const char* to_string(settled s) {
  switch (s) {
    case settled::complete: return "complete";
    case settled::quiet: return "quiet (nothing new, but incomplete)";
    case settled::exited: return "exited on its own";
    case settled::timed_out: return "timed out";
  }
  return "?";
}

settled wait_settled(run_tracker& t, const std::vector<sim::call_plan>& plans, process& p,
                     std::chrono::milliseconds after_complete, std::chrono::milliseconds quiet,
                     std::chrono::milliseconds deadline) {
  const auto until = steady::now() + deadline;
  while (true) {
    t.poll(100ms);
    const auto still = steady::now() - t.last_growth();
    if (still >= after_complete && t.complete(plans)) return settled::complete;
    if (still >= (t.records_seen() == 0 ? std::max<std::chrono::milliseconds>(quiet, 180s) : quiet))
      return settled::quiet;
    if (!p.running()) return settled::exited;
    if (steady::now() >= until) return settled::timed_out;
  }
}

std::optional<int> stop(process& p, std::chrono::milliseconds deadline) {
  p.signal(SIGTERM);
  auto code = p.wait_exit(deadline);
  if (!code) {
    p.signal(SIGKILL);
    p.wait_exit(10s);
  }
  return code;
}

std::vector<std::string> log_problems(const std::string& log_path, size_t limit) {
  std::map<std::string, std::pair<size_t, std::string>> by_msg;
  std::vector<std::string> order;
  std::string text = read_whole_file(log_path);
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(text.data() + start, nl - start);
    if (line.find("level=warn") == std::string_view::npos && line.find("level=error") == std::string_view::npos)
      continue;
    auto m = line.find("msg=\"");
    std::string msg = m == std::string_view::npos ? std::string(line.substr(0, 60))
                                                  : std::string(line.substr(m, line.find('"', m + 5) - m + 1));
    auto& e = by_msg[msg];
    if (e.first++ == 0) {
      e.second = std::string(line);
      order.push_back(msg);
    }
  }
  std::vector<std::string> out;
  for (const auto& msg : order) {
    if (out.size() >= limit) break;
    const auto& e = by_msg[msg];
    out.push_back(std::to_string(e.first) + "x " + truncated(e.second, 300));
  }
  return out;
}

}  // namespace tw::fault
