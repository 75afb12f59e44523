#pragma once
// Sends requests on to the API processes: one Forwarder per event loop (shared-nothing, like the
// server), holding a small pool of keep-alive connections per upstream. An upstream is picked
// round-robin among the healthy ones; a failed attempt goes to another upstream only when
// may_retry() allows it (policy.hpp). Each upstream's requests in flight from one loop are bounded:
// past the bound the next upstream is tried, and with all of them full the answer is 503.
//
// Single-threaded: use a Forwarder on its own executor only.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "common/metrics.hpp"
#include "common/result.hpp"
#include "gateway/errors.hpp"
#include "gateway/upstreams.hpp"
#include "http/context.hpp"

namespace tk::gateway {

struct ForwardOptions {
  std::size_t idle_per_upstream = 32;  // keep-alive connections kept per upstream and loop
  std::size_t max_in_flight = 256;     // requests in flight per upstream and loop
  std::chrono::milliseconds connect_timeout{1000};
  // A pooled connection idle longer is closed rather than reused: shorter than the API's own
  // idle timeout (30 s), so the gateway never writes to a connection the API is closing.
  std::chrono::milliseconds idle_timeout{15000};
  std::size_t response_body_limit = 32 * 1024 * 1024;  // e-ticket PDFs fit
  int max_attempts = 3;                                // per request, each on a different upstream
};

class Forwarder {
 public:
  Forwarder(boost::asio::any_io_executor ex, Upstreams& ups, ForwardOptions o,
            metrics::Registry* metrics = nullptr);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Forwards `req` (headers already rewritten by the caller; it is prepared in place, and must
  // outlive the call) until `deadline`. The response is the API process's, hop-by-hop headers
  // removed; an error is one of gateway::Errc. By reference, not by value: GCC 12 may destroy a
  // by-value class argument of a co_await expression twice.
  boost::asio::awaitable<Result<http::Response>> forward(
      http::Request& req, std::chrono::steady_clock::time_point deadline);

  // The refusal forward() would answer at once for want of a healthy upstream with a free slot
  // on this loop (counted in gateway_unavailable_total), or nullopt while one has room. Asked
  // before the checks that cost a Redis round trip, so a full gateway refuses within its own
  // loop's time instead of after them.
  std::optional<Errc> unavailable();

  void close();  // closes the pooled connections (shutdown)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Hop-by-hop headers (RFC 9110 7.6.1) are the connection's, never forwarded in either direction.
template <class Message>
void strip_hop_by_hop(Message& m) {
  namespace bhttp = boost::beast::http;
  for (auto f : {bhttp::field::connection, bhttp::field::keep_alive, bhttp::field::proxy_connection,
                 bhttp::field::te, bhttp::field::trailer, bhttp::field::transfer_encoding,
                 bhttp::field::upgrade, bhttp::field::proxy_authorization,
                 bhttp::field::proxy_authenticate}) {
    m.erase(f);
  }
}

}  // namespace tk::gateway
