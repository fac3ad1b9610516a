#include "http/server.hpp"

#include <httplib.h>
#include <time.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "config/values.hpp"

namespace tw::http {

namespace {

int64_t thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

}  // namespace

struct server::impl {
  server_settings settings;
  httplib::Server srv;
  std::map<std::string, handler> routes;
  std::thread listener;
  int port = -1;
  bool started = false;

  // Guarded by mutex: only the server's own threads take it, never a stage.
  mutable std::mutex mutex;
  std::map<std::pair<std::string, int>, uint64_t> counts;
  std::atomic<int64_t> handler_cpu_us{0};

  explicit impl(server_settings s) : settings(std::move(s)) {}

  void count(const std::string& path, int status) {
    const std::string key = routes.count(path) ? path : "other";  // unknown paths: one series
    std::lock_guard<std::mutex> lock(mutex);
    ++counts[{key, status}];
  }
};

server::server(server_settings s) : impl_(std::make_unique<impl>(std::move(s))) {}

server::~server() { stop(); }

void server::get(const std::string& path, handler h) { impl_->routes[path] = std::move(h); }

std::optional<std::string> server::start() {
  auto& m = *impl_;
  const size_t threads = std::max<size_t>(1, m.settings.threads);
  m.srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // httplib's default sets SO_REUSEPORT, with which a second process binds the same port and the
  // kernel splits the connections between the two: a scrape would reach either instance. Only
  // SO_REUSEADDR (a restart may rebind while old connections linger), so a taken port fails.
  m.srv.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  for (const auto& [path, h] : m.routes) {
    const handler* fn = &h;  // routes do not change once started
    m.srv.Get(path, [fn, &m](const httplib::Request& req, httplib::Response& res) {
      const int64_t cpu_at_start = thread_cpu_us();
      request r;
      r.path = req.path;
      r.params = {req.params.begin(), req.params.end()};
      r.headers = {req.headers.begin(), req.headers.end()};
      response out = (*fn)(r);
      res.status = out.status;
      for (const auto& [name, value] : out.headers) res.set_header(name.c_str(), value);
      res.set_content(std::move(out.body), out.content_type.c_str());
      m.handler_cpu_us += thread_cpu_us() - cpu_at_start;
    });
  }
  // Called once per request, routed or not, after the response is built.
  m.srv.set_logger([&m](const httplib::Request& req, const httplib::Response& res) { m.count(req.path, res.status); });
  if (m.settings.port == 0) {
    m.port = m.srv.bind_to_any_port(m.settings.host);
  } else {
    m.port = m.srv.bind_to_port(m.settings.host, m.settings.port) ? m.settings.port : -1;
  }
  const std::string where = config::format_host_port({m.settings.host, m.settings.port});
  if (m.port < 0) return "cannot listen on " + where + " (is the port taken, or the address not this host's?)";
  m.listener = std::thread([&m] { m.srv.listen_after_bind(); });
  m.started = true;
  // httplib's stop() does nothing until the listening loop runs: wait for it, so that a stop()
  // right after start() cannot leave the thread listening forever.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!m.srv.is_running() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!m.srv.is_running()) {
    stop();
    return "the HTTP server on " + where + " did not start listening";
  }
  return std::nullopt;
}

std::string server::bound_address() const {
  if (!impl_->started) return {};
  return config::format_host_port({impl_->settings.host, impl_->port});
}

int server::port() const { return impl_->started ? impl_->port : -1; }

void server::stop() {
  auto& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.srv.stop();
  if (m.listener.joinable()) m.listener.join();
}

server_stats server::stats() const {
  server_stats s;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    for (const auto& [key, n] : impl_->counts) s.requests.push_back({key.first, key.second, n});
  }
  s.handler_cpu = duration{impl_->handler_cpu_us.load()};
  return s;
}

}  // namespace tw::http
