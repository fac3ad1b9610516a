#include "model/log.hpp"

#include "model/text.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace tw::log {
namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};
std::atomic<bool> json{false};
std::atomic<bool> observed{false};
std::mutex observer_mutex;
observer current_observer;  // guarded by observer_mutex
// Read by every logging thread, replaced rarely (at start, in tests): an atomically swapped pointer.
std::shared_ptr<const filter> current_filter;  // std::atomic_load / std::atomic_store only

spdlog::logger& sink() {
  // stderr, unbuffered; the pattern is only the message: the line is formatted here.
  static auto logger = [] {
    auto l = spdlog::stderr_logger_mt("tracewatch");
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

const char* name(level l) {
  switch (l) {
    case level::trace: return "trace";
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    case level::off: return "off";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

field::field(std::string_view k, double v) : key(k), quoted(false) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

void configure(std::string_view level_name, std::string_view format) {
  for (auto l : {level::trace, level::debug, level::info, level::warn, level::error, level::off})
    if (level_name == name(l)) min_level = static_cast<int>(l);
  json = format == "json";
}

void set_observer(observer o) {
  std::lock_guard<std::mutex> lock(observer_mutex);
  observed = static_cast<bool>(o);
  current_observer = std::move(o);
}

void set_filter(filter f) {
  std::atomic_store(&current_filter, f ? std::make_shared<const filter>(std::move(f)) : std::shared_ptr<const filter>());
}

std::string filtered(std::string_view key, std::string_view text) {
  auto f = std::atomic_load(&current_filter);
  if (f)
    if (auto changed = (*f)(key, text)) return std::move(*changed);
  return std::string(text);
}

bool enabled(level l) { return static_cast<int>(l) >= min_level.load(std::memory_order_relaxed) && l != level::off; }

void write(level l, std::string_view msg, std::initializer_list<field> fields) {
  if (!enabled(l)) return;
  const auto flt = std::atomic_load(&current_filter);
  std::optional<std::string> changed_msg;
  if (flt) changed_msg = (*flt)("msg", msg);
  if (changed_msg) msg = *changed_msg;
  // A field's value as the filter lets it through (a field of an integer, a boolean: as it is).
  std::optional<std::string> changed;
  auto value_of = [&](const field& fl) -> const std::string& {
    changed.reset();
    if (flt && fl.quoted) changed = (*flt)(fl.key, fl.value);
    return changed ? *changed : fl.value;
  };
  std::string line;
  line.reserve(128);
  if (json) {
    line += "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + name(l) + "\",\"msg\":";
    append_json_string(line, msg);
    for (const auto& f : fields) {
      line += ',';
      append_json_string(line, f.key);
      line += ':';
      if (f.quoted) append_json_string(line, value_of(f));
      else line += f.value;
    }
    line += '}';
  } else {
    line += "ts=" + timestamp() + " level=" + name(l) + " msg=";
    append_json_string(line, msg);  // logfmt quotes with the same escapes
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      const std::string& v = value_of(f);
      bool needs_quotes = f.quoted && (v.empty() || v.find_first_of(" \"=\\\n\t") != std::string::npos);
      if (needs_quotes) append_json_string(line, v);
      else line += v;
    }
  }
  sink().log(spdlog::level::info, line);
  if (observed.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lock(observer_mutex);
    if (current_observer) current_observer(l, msg, line);
  }
}

}  // namespace tw::log
