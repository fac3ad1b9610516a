#include "tools/fault/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace tw::fault {

namespace {
int open_or_null(const std::string& path) {
  return open(path.empty() ? "/dev/null" : path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
}
}  // namespace

std::unique_ptr<process> process::start(const std::vector<std::string>& argv, const process_options& o) {
  if (argv.empty()) throw harness_error("process::start without a program");
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
  if (o.pipe_stdin && pipe2(in_pipe, O_CLOEXEC) != 0) throw harness_error("pipe: " + std::string(strerror(errno)));
  if (o.pipe_stdout && pipe2(out_pipe, O_CLOEXEC) != 0) throw harness_error("pipe: " + std::string(strerror(errno)));
  const pid_t parent = getpid();
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);

  // Closed by a successful exec (O_CLOEXEC): start() returns only once the child is the program,
  // so that nothing measures the fork's copy of the harness (its RSS is the harness's, which holds
  // the whole input) as the program's.
  int exec_pipe[2] = {-1, -1};
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) throw harness_error("pipe: " + std::string(strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) throw harness_error("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);  // the parent died before prctl took effect
    int out = o.pipe_stdout ? out_pipe[1] : open_or_null(o.stdout_path);
    int err = open_or_null(o.stderr_path);
    if (o.pipe_stdin) dup2(in_pipe[0], 0);
    else {
      int null_in = open("/dev/null", O_RDONLY);
      dup2(null_in, 0);
    }
    dup2(out, 1);
    dup2(err, 2);
    // The harness may block signals; the child must receive SIGTERM normally.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    close(exec_pipe[0]);
    execv(cargs[0], cargs.data());
    const char failed = 1;
    (void)!write(exec_pipe[1], &failed, 1);
    _exit(127);
  }
  close(exec_pipe[1]);
  char byte = 0;
  ssize_t n;
  while ((n = read(exec_pipe[0], &byte, 1)) < 0 && errno == EINTR) {
  }
  close(exec_pipe[0]);  // n == 0: exec'ed; n == 1: exec failed, and the first wait sees exit 127
  std::unique_ptr<process> p(new process());
  p->pid_ = pid;
  if (o.pipe_stdin) {
    close(in_pipe[0]);
    p->stdin_fd_ = in_pipe[1];
  }
  if (o.pipe_stdout) {
    close(out_pipe[1]);
    p->stdout_fd_ = out_pipe[0];
  }
  return p;
}

process::~process() {
  if (running()) {
    kill(pid_, SIGKILL);
    kill(pid_, SIGCONT);  // a stopped child dies only once continued
    int status;
    waitpid(pid_, &status, 0);
  }
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

void process::reap(int status) {
  code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool process::running() {
  if (code_) return false;
  int status;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reap(status);
    return false;
  }
  return true;
}

void process::signal(int sig) {
  if (!code_) kill(pid_, sig);
}

std::optional<int> process::wait_exit(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (running()) {
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling an exit, inside a deadline
  }
  return code_;
}

memory_sample process::memory() const {
  memory_sample m;
  std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) m.rss_kb = std::atol(line.c_str() + 6);
    else if (line.rfind("VmHWM:", 0) == 0) m.hwm_kb = std::atol(line.c_str() + 6);
  }
  return m;
}

bool process::write_line(const std::string& line) {
  if (stdin_fd_ < 0) return false;
  std::string data = line + "\n";
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = write(stdin_fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> process::read_line(std::chrono::milliseconds deadline) {
  if (stdout_fd_ < 0) return std::nullopt;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    auto nl = stdout_buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = stdout_buffer_.substr(0, nl);
      stdout_buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd pfd{stdout_fd_, POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    char buf[4096];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // EOF: the child closed its stdout (exited)
    stdout_buffer_.append(buf, static_cast<size_t>(n));
  }
}

std::vector<std::string> log_follower::poll() {
  std::vector<std::string> out;
  std::ifstream f(path_, std::ios::binary);
  if (!f) return out;
  f.seekg(read_);
  std::string chunk((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  read_ += static_cast<long long>(chunk.size());
  partial_ += chunk;
  size_t start = 0;
  for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(partial_.substr(start, nl - start));
  partial_.erase(0, start);
  return out;
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace tw::fault
