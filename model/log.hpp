// The structured log: one line per event on stderr, as logfmt (ts=… level=… msg="…" key=value)
// or JSON, chosen by log.format. Thread-safe (spdlog underneath). Every stage logs through here.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tw::log {

enum class level { trace, debug, info, warn, error, off };

struct field {
  std::string_view key;
  std::string value;
  bool quoted;
  field(std::string_view k, std::string_view v) : key(k), value(v), quoted(true) {}
  field(std::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  field(std::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  field(std::string_view k, int64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  field(std::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  field(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), quoted(false) {}
  field(std::string_view k, double v);
  field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}
};

// Level: trace|debug|info|warn|error|off; format: logfmt|json. Unknown values keep the defaults
// (info, logfmt): configuration validation rejects them before this is called.
void configure(std::string_view level_name, std::string_view format);
bool enabled(level l);
void write(level l, std::string_view msg, std::initializer_list<field> fields = {});

// What every text passes on its way into a line: app/ installs one that masks secrets and
// personal data (docs/privacy.md). Called with the message (key "msg") and with each quoted field's
// key and value; returns the text to write instead, or nullopt to keep it as it is. Runs on the
// logging thread, any thread: it must be thread-safe and must not log. Null removes it.
using filter = std::function<std::optional<std::string>(std::string_view key, std::string_view text)>;
void set_filter(filter f);
// `text` as the filter would let it into a line: for text printed outside the log (an error on
// stderr before the log is set up, a summary on stdout).
std::string filtered(std::string_view key, std::string_view text);

// A seam for tests: while set, every line written (after the level filter) is also handed to
// `observer`, on the writing thread, with its level and message. Null stops it.
using observer = std::function<void(level l, std::string_view msg, std::string_view line)>;
void set_observer(observer o);

inline void debug(std::string_view msg, std::initializer_list<field> f = {}) { write(level::debug, msg, f); }
inline void info(std::string_view msg, std::initializer_list<field> f = {}) { write(level::info, msg, f); }
inline void warn(std::string_view msg, std::initializer_list<field> f = {}) { write(level::warn, msg, f); }
inline void error(std::string_view msg, std::initializer_list<field> f = {}) { write(level::error, msg, f); }

}  // namespace tw::log
