#include "infra/amqp/broker_thread.hpp"

#include <poll.h>

#include <algorithm>

#include "common/log.hpp"
#include "common/supervisor.hpp"

namespace tk::amqp::detail {

using Clock = std::chrono::steady_clock;

BrokerThread::BrokerThread(std::string kind, std::string label, Endpoint ep, Options opt,
                           int channels, Hooks hooks)
    : kind_(std::move(kind)),
      label_(std::move(label)),
      ep_(std::move(ep)),
      opt_(std::move(opt)),
      channels_(channels),
      hooks_(std::move(hooks)),
      waker_(std::make_unique<Waker>()) {}

BrokerThread::~BrokerThread() { stop(); }

void BrokerThread::start() {
  std::lock_guard lk(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  stopped_ = false;
  thread_ = std::thread([this] { thread_main(); });
}

void BrokerThread::stop() {
  std::thread t;
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    t = std::move(thread_);
  }
  waker_->wake();
  if (t.joinable()) t.join();
  stopped_ = true;
}

std::string BrokerThread::last_error() const {
  std::lock_guard lk(err_mu_);
  return last_error_;
}

void BrokerThread::set_last_error(std::string e) {
  std::lock_guard lk(err_mu_);
  last_error_ = std::move(e);
}

void BrokerThread::pause(std::chrono::milliseconds d) {
  pollfd p{waker_->fd(), POLLIN, 0};
  auto until = Clock::now() + d;
  while (!stopping_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return;
    if (::poll(&p, 1, static_cast<int>(std::min(left, kTick).count())) > 0) waker_->drain();
    if (hooks_.idle) hooks_.idle();
  }
}

void BrokerThread::thread_main() {
  for (;;) {
    try {
      run();
      return;
    } catch (...) {
      failures_.fetch_add(1, std::memory_order_relaxed);
      connected_ = false;
      auto what = describe_exception(std::current_exception());
      set_last_error(what);
      log::error("amqp " + kind_ + " thread failed", {{"client", label_}, {"error", what}});
      if (hooks_.after_failure) hooks_.after_failure();
      pause(opt_.reconnect_max);
    }
  }
}

void BrokerThread::run() {
  auto backoff = opt_.reconnect_min;
  int failed_attempts = 0;  // in a row; logged on the first and every tenth
  while (!stopping_) {
    Connection c;
    auto st = c.open(ep_, opt_, channels_);
    if (st && hooks_.setup) st = hooks_.setup(c);
    if (!st) {
      auto reason = st.error().details.contains("reason")
                        ? std::string(st.error().details.at("reason").as_string())
                        : st.error().code.message();
      set_last_error(reason);
      if (failed_attempts++ % 10 == 0)
        log::warn("amqp " + kind_ + " cannot connect",
                  {{"client", label_}, {"host", ep_.host}, {"port", ep_.port}, {"error", reason}});
      pause(backoff);
      backoff = std::min(backoff * 2, opt_.reconnect_max);
      continue;
    }
    backoff = opt_.reconnect_min;
    failed_attempts = 0;
    if (connected_before_) reconnects_.fetch_add(1, std::memory_order_relaxed);
    connected_before_ = true;
    connected_ = true;
    hooks_.serve(c);
    connected_ = false;
    if (hooks_.after_serve) hooks_.after_serve();
  }
}

}  // namespace tk::amqp::detail
