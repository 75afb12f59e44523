#include "http/deadline.hpp"

#include <cstdint>

namespace tk::http {

// Shared with the pending wait: the timer's handler may run after the Deadline is gone.
struct Deadline::State : std::enable_shared_from_this<State> {
  State(const boost::asio::any_io_executor& ex, boost::asio::ip::tcp::socket& s)
      : timer(ex), sock(&s) {}

  boost::asio::steady_timer timer;
  boost::asio::ip::tcp::socket* sock;  // null once the owner is gone
  clock::time_point deadline = clock::time_point::max();
  clock::time_point armed_for = clock::time_point::max();  // max: no wait pending
  std::uint64_t generation = 0;  // of the wait whose completion still counts
  bool expired = false;

  void arm(clock::time_point t) {
    armed_for = t;
    // Re-arming cancels the previous wait; its completion carries an older generation.
    std::uint64_t gen = ++generation;
    timer.expires_at(t);
    timer.async_wait(
        [self = shared_from_this(), gen](const boost::system::error_code&) { self->fired(gen); });
  }

  void fired(std::uint64_t gen) {
    if (gen != generation || !sock) {
      return;
    }
    armed_for = clock::time_point::max();
    if (deadline == clock::time_point::max()) {
      return;
    }
    if (clock::now() < deadline) {
      arm(deadline);  // moved later since this wait was armed
      return;
    }
    expired = true;
    boost::system::error_code ignored;
    sock->close(ignored);
  }
};

Deadline::Deadline(const boost::asio::any_io_executor& ex, boost::asio::ip::tcp::socket& sock)
    : st_(std::make_shared<State>(ex, sock)) {}

Deadline::~Deadline() {
  st_->sock = nullptr;
  st_->timer.cancel();
}

void Deadline::expire_at(clock::time_point t) {
  State& s = *st_;
  s.deadline = t;
  // A wait armed for no later than `t` fires, sees the later deadline and re-arms once.
  if (s.armed_for > t) {
    s.arm(t);
  }
}

void Deadline::clear() { st_->deadline = clock::time_point::max(); }

bool Deadline::expired() const { return st_->expired; }

}  // namespace tk::http
