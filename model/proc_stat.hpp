// A process's CPU time, resident memory and start time from /proc/<pid>/stat (Linux): for
// /metrics' process_* families and for the benchmarks that measure a child from outside.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace tw {

struct proc_stat {
  double cpu_seconds = 0;          // utime + stime
  uint64_t resident_bytes = 0;     // rss
  double start_after_boot_s = 0;   // starttime: seconds after the machine booted
};

// `pid`: a process id, or "self". nullopt when the file cannot be read (the process is gone).
inline std::optional<proc_stat> read_proc_stat(const std::string& pid) {
  std::ifstream f("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size()) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> v((std::istream_iterator<std::string>(fields)), std::istream_iterator<std::string>());
  auto field = [&](size_t n) { return std::stod(v[n - 3]); };  // v[0] is field 3
  if (v.size() < 22) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  proc_stat s;
  s.cpu_seconds = (field(14) + field(15)) / ticks;
  s.start_after_boot_s = field(22) / ticks;
  s.resident_bytes = static_cast<uint64_t>(field(24)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return s;
}

// The machine's boot time (Unix seconds, /proc/stat's btime); nullopt when unreadable.
inline std::optional<double> boot_time_seconds() {
  std::ifstream boot("/proc/stat");
  for (std::string key; boot >> key;) {
    if (key == "btime") {
      double t = 0;
      if (boot >> t) return t;
      return std::nullopt;
    }
    boot.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

}  // namespace tw
