// Runs the tracewatch binary as a child process: start, signal (SIGTERM, or a real SIGKILL),
// wait with a deadline, read what it wrote to stderr.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tw::test {

class child_process {
 public:
  // stdout and stderr go to files (so a test can read them after, or during, the run).
  child_process(const std::string& binary, const std::vector<std::string>& args, const std::string& stdout_path,
                const std::string& stderr_path)
      : stdout_path_(stdout_path), stderr_path_(stderr_path) {
    std::vector<std::string> all{binary};
    all.insert(all.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, 1);
      dup2(err, 2);
      // The test runner may block signals; the child must receive SIGTERM normally.
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~child_process() {
    if (running()) {
      kill(pid_, SIGKILL);
      int status;
      waitpid(pid_, &status, 0);
    }
  }

  bool running() {
    if (exited_) return false;
    int status;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      record(status);
      return false;
    }
    return true;
  }
  void signal(int sig) { kill(pid_, sig); }

  // Waits for the exit; returns the exit code (128 + signal when killed), or -1 on timeout.
  int wait(std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (running()) {
      if (std::chrono::steady_clock::now() > until) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling an exit, with a deadline
    }
    return code_;
  }

  std::string read_stdout() const { return slurp(stdout_path_); }
  std::string read_stderr() const { return slurp(stderr_path_); }

 private:
  void record(int status) {
    exited_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
  std::string stdout_path_, stderr_path_;
};

}  // namespace tw::test
