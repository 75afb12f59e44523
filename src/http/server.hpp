#pragma once
// HTTP/1.1 server on Beast + Asio coroutines. One Server per io_context (per thread, each with its
// own SO_REUSEPORT acceptor, nginx-worker style); a Server's state is touched only on its own
// executor, so nothing on the request path locks. Only the connection cap is shared, as an atomic.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/metrics.hpp"
#include "common/result.hpp"
#include "http/client_address.hpp"
#include "http/context.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"

namespace tk::http {

// Counts open client connections across every Server of the process: the cap is global because
// the kernel spreads connections over the SO_REUSEPORT listeners unevenly.
class ConnectionLimiter {
 public:
  explicit ConnectionLimiter(std::size_t max) : max_(max) {}
  bool try_acquire() {
    if (count_.fetch_add(1, std::memory_order_relaxed) >= max_) {
      count_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void release() { count_.fetch_sub(1, std::memory_order_relaxed); }
  std::size_t current() const { return count_.load(std::memory_order_relaxed); }
  std::size_t max() const { return max_; }

 private:
  const std::size_t max_;
  std::atomic<std::size_t> count_{0};
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (read it back with Server::port())
  bool reuse_port = true;
  std::size_t body_limit = 64 * 1024;    // over it: 413 body_too_large
  std::size_t header_limit = 16 * 1024;  // over it: 431 headers_too_large
  // The whole request (headers + body) must arrive within it, counted from its first byte:
  // slowloris cut-off. On expiry the socket is closed without a response.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{10000};
  // Budget of a handler from the moment its request was read: the PostgreSQL and Redis calls it
  // makes bound their waits by it (common/deadline.hpp). 0: no request deadline.
  std::chrono::milliseconds request_timeout{0};
  // Cap across ALL Server instances sharing one ConnectionLimiter (used when the constructor gets
  // no limiter). Over the cap: 503 unavailable + Retry-After, then close.
  std::size_t max_connections = 10000;
  bool access_log = true;  // one JSON line per request on stdout; off for benchmarks
  // Peers whose PROXY header and X-Forwarded-For are believed (client_address.hpp); null or
  // empty: the socket peer is the client. RequestContext::remote is the client so found.
  std::shared_ptr<const TrustedProxies> trusted_proxies;
  // Trusted peers open every connection with a PROXY v1/v2 header (HAProxy `send-proxy`); a
  // connection from one without a valid header is closed. Other peers never send one.
  bool proxy_protocol = false;
  int backlog = 1024;
};

class Server {
 public:
  // `router` and `metrics` must outlive every io_context this server's connections run on.
  // `limiter` is shared by all Servers of the process; nullptr -> a private one with
  // opt.max_connections.
  Server(asio::any_io_executor ex, ServerOptions opt, const Router& router,
         metrics::Registry& metrics, std::shared_ptr<ConnectionLimiter> limiter = nullptr);
  ~Server();  // stops accepting; connections still open finish on their own
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Bind + listen. Call before the io_context runs (or on its thread).
  tk::Status listen();
  std::uint16_t port() const;  // the bound port (useful with port 0)
  void start();                // spawns the accept loop on the executor

  // Graceful drain, step 1: close the acceptor. Safe from any thread.
  void stop_accepting();
  // Step 2 (await on this server's executor): closes idle keep-alive connections at once, lets
  // in-flight requests finish (their responses carry Connection: close), and returns when no
  // connection is left or after max_wait, when the rest are closed by force. A handler still
  // running then completes in the background; its response is dropped.
  asio::awaitable<void> drain(std::chrono::milliseconds max_wait);

  std::size_t open_connections() const;  // this instance's
  bool draining() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with every connection coroutine, so they never dangle
};

// Request id rule shared with other components: X-Request-Id is taken when 1..64 chars of
// [A-Za-z0-9_-]; otherwise a random 16-hex-digit id is generated.
bool sane_request_id(std::string_view id);
std::string generate_request_id();

}  // namespace tk::http
