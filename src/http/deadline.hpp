#pragma once
// One deadline per client connection, moved by a plain store. Beast's tcp_stream arms and cancels
// a timer around every read and write, and each cancellation is one more completion through the
// scheduler: three timer round trips per keep-alive request (part of the ~8% a poll profile put
// on Asio's executors and timers). Here the timer is re-armed only when the deadline moves
// earlier than it is armed for (a request's first byte, a write that blocks) or when it fires
// before the deadline (then once, to the deadline): a connection that polls every few seconds
// under a 30 s idle timeout touches the timer about once per 30 s.
//
// On expiry the socket is closed, so whatever operation is pending on it completes with an
// error; `expired()` tells the owner that this was the cause. Single-threaded: use it on the
// socket's executor only (one io_context per core, as the server runs).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace tk::http {

class Deadline {
 public:
  using clock = std::chrono::steady_clock;

  Deadline(const boost::asio::any_io_executor& ex, boost::asio::ip::tcp::socket& sock);
  ~Deadline();  // detaches from the socket; a wait still queued finds it gone
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // The socket is closed at `t` unless the deadline is moved again before.
  void expire_at(clock::time_point t);
  void expire_after(clock::duration d) { expire_at(clock::now() + d); }
  // No deadline (e.g. while a handler runs: its own waits are bounded elsewhere).
  void clear();
  bool expired() const;

 private:
  struct State;
  std::shared_ptr<State> st_;
};

}  // namespace tk::http
