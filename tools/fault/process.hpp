// Child processes for the fault suite: the tracewatch binary and the mock broker, started with
// fork/exec, signalled (SIGKILL, SIGTERM, SIGSTOP/SIGCONT), waited for with a deadline, and
// measured from outside (/proc/PID/status) while they run.
//
// Every child asks for SIGKILL when the tool that started it dies (PR_SET_PDEATHSIG), so a
// harness that crashes or is killed by ctest's timeout leaves no tracewatch or broker behind.
//
// Thread: one thread owns a process object (the tools are single-threaded).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tw::fault {

// The harness could not do what it needed (start a child, reach the broker, read a topic): the
// tools exit 1 on it, distinct from "ran, and found a difference" (exit 3).
struct harness_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// From /proc/PID/status; -1 when not readable (the process is gone).
struct memory_sample {
  long rss_kb = -1;  // VmRSS: resident now
  long hwm_kb = -1;  // VmHWM: the high-water mark of VmRSS since exec
};

struct process_options {
  std::string stdout_path;  // empty: /dev/null (unless pipe_stdout)
  std::string stderr_path;  // empty: /dev/null
  bool pipe_stdin = false;  // write_line() feeds the child's stdin
  bool pipe_stdout = false; // read_line() reads the child's stdout
};

class process {
 public:
  // argv[0] is the executable's path. Throws harness_error when fork or exec fails (exec failure
  // is seen as exit code 127 by the first wait).
  static std::unique_ptr<process> start(const std::vector<std::string>& argv, const process_options& o);
  ~process();  // SIGKILLs and reaps a child still running
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits until the child exits, up to `deadline`: its exit code (128 + signal when killed), or
  // nullopt if it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  std::optional<int> exit_code() const { return code_; }
  memory_sample memory() const;

  // Pipes (process_options::pipe_stdin / pipe_stdout).
  bool write_line(const std::string& line);
  // One line of the child's stdout, without its newline; nullopt at the deadline or at EOF.
  std::optional<std::string> read_line(std::chrono::milliseconds deadline);

 private:
  process() = default;
  void reap(int status);
  pid_t pid_ = -1;
  std::optional<int> code_;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string stdout_buffer_;
};

// Reads a growing log file (a child's stderr) from where the last call stopped.
class log_follower {
 public:
  explicit log_follower(std::string path) : path_(std::move(path)) {}
  // The complete lines appended since the last call.
  std::vector<std::string> poll();

 private:
  std::string path_;
  long long read_ = 0;
  std::string partial_;
};

std::string read_whole_file(const std::string& path);

}  // namespace tw::fault
