#include "topics/webhook/httplib_transport.hpp"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

namespace tw::webhook {

namespace {

using steady = std::chrono::steady_clock;

// Shuts the client's socket down if the exchange is still running at the deadline. The blocked
// read or write on the webhook thread then fails at once.
class watchdog {
 public:
  watchdog(httplib::Client& client, steady::time_point deadline) : client_(client) {
    try {
      thread_ = std::thread([this, deadline] {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!done_cv_.wait_until(lock, deadline, [this] { return done_; })) client_.stop();
      });
    } catch (const std::system_error&) {
      // No thread to spare: go on without the hard bound. Connect, write and each read are still
      // limited by the socket timeouts set on the client.
    }
  }
  ~watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  httplib::Client& client_;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

std::string lower(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

transport_error classify(httplib::Error error, bool deadline_passed, duration timeout) {
  const std::string what = httplib::to_string(error);
  if (error == httplib::Error::ConnectionTimeout || deadline_passed)
    return {transport_errc::timeout,
            "no complete response within " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
                " ms (" + what + ")"};
  switch (error) {
    case httplib::Error::Connection:
    case httplib::Error::BindIPAddress:
    case httplib::Error::SSLConnection:  // handshake failures are often transient (resets)
      return {transport_errc::connection, what};
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      return {transport_errc::tls_config, what};
    case httplib::Error::UnsupportedMultipartBoundaryChars:
      return {transport_errc::bad_request, what};
    default:
      return {transport_errc::io, what};
  }
}

}  // namespace

bool https_supported() {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  return true;
#else
  return false;
#endif
}

http_result httplib_transport::post(const http_request& request) {
  auto parsed = parse_http_url(request.url);
  if (auto* why = std::get_if<std::string>(&parsed)) return transport_error{transport_errc::bad_request, "url " + *why};
  const auto& url = std::get<url_parts>(parsed);
  if (url.scheme == "https" && !https_supported())
    return transport_error{transport_errc::bad_request, "https is not supported by this build of cpp-httplib"};

  httplib::Client client(url.scheme + "://" + url.host + ":" + std::to_string(url.port));
  if (!client.is_valid()) return transport_error{transport_errc::bad_request, "cannot build a client for " + request.url};
  client.set_keep_alive(false);
  client.set_follow_location(false);
  client.set_connection_timeout(request.timeout);
  client.set_read_timeout(request.timeout);
  client.set_write_timeout(request.timeout);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  client.enable_server_certificate_verification(true);
#endif

  httplib::Request req;
  req.method = "POST";
  req.path = url.path;
  req.body = request.body;
  for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
  std::string body;
  req.content_receiver = [&body, cap = request.max_body_bytes](const char* data, size_t n, uint64_t, uint64_t) {
    if (body.size() < cap) body.append(data, std::min(n, cap - body.size()));
    return true;  // keep reading (and dropping) so the exchange completes normally
  };

  const auto deadline = steady::now() + request.timeout;
  httplib::Result result = [&] {
    watchdog guard(client, deadline);
    return client.send(req);
  }();

  if (!result) return classify(result.error(), steady::now() >= deadline, request.timeout);
  http_response response;
  response.status = result->status;
  response.body = std::move(body);
  for (const auto& [name, value] : result->headers) response.headers.emplace(lower(name), value);
  return response;
}

}  // namespace tw::webhook
