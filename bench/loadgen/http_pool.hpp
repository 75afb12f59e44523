#pragma once
// A bounded pool of keep-alive HTTP/1.1 connections to one endpoint, on one io_context. A request
// takes a free connection or waits its turn (FIFO); no pipelining. Requests are raw HTTP text (see
// api.hpp: one string per request, no header maps); responses are parsed by Beast.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

struct Reply {
  int status = 0;        // 0: transport error (ec says which)
  int retry_after = -1;  // Retry-After in seconds, -1 when absent
  std::string body;
  beast::error_code ec;
  std::int64_t submitted_ns = 0;  // the request was given to the pool
  std::int64_t sent_ns = 0;       // the request was handed to the socket (after any pool wait)
  std::int64_t recv_ns = 0;       // the whole response was read
};

// Microseconds from the request's hand-over to a connection to its answer (the service and the
// loopback); -1 for a transport error.
inline std::int64_t wire_us(const Reply& r) {
  return r.status != 0 && r.sent_ns > 0 ? (r.recv_ns - r.sent_ns) / 1000 : -1;
}

// Microseconds the request waited in the pool for a free connection; -1 for a transport error.
inline std::int64_t pool_wait_us(const Reply& r) {
  return r.status != 0 && r.sent_ns > 0 ? (r.sent_ns - r.submitted_ns) / 1000 : -1;
}

using Callback = std::function<void(Reply&)>;

class Pool {
 public:
  Pool(asio::io_context& io, tcp::endpoint ep, std::size_t connections);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  void submit(std::string request, Callback cb);
  std::size_t waiting() const { return queue_.size(); }
  std::size_t connects() const { return connects_; }

 private:
  struct Job {
    std::string req;
    Callback cb;
    std::int64_t submitted_ns = 0;
    bool retried = false;
  };
  struct Conn;
  void start(Conn& c, Job job);
  void connect(Conn& c);
  void write(Conn& c);
  void read(Conn& c);
  void fail(Conn& c, beast::error_code ec, bool nothing_received);
  void finish(Conn& c, Reply& r, bool keep);
  void close(Conn& c);

  asio::io_context& io_;
  tcp::endpoint ep_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> free_;
  std::deque<Job> queue_;
  std::size_t connects_ = 0;
};

}  // namespace loadgen
