#include "infra/redis/subscriber.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/supervisor.hpp"

namespace tk::redis {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using SteadyClock = std::chrono::steady_clock;

}  // namespace

std::shared_ptr<Subscriber> Subscriber::create(asio::any_io_executor ex, Endpoint ep, Options opt) {
  return std::shared_ptr<Subscriber>(new Subscriber(std::move(ex), std::move(ep), opt));
}

Subscriber::Subscriber(asio::any_io_executor ex, Endpoint ep, Options opt)
    : ex_(std::move(ex)),
      ep_(std::move(ep)),
      opt_(opt),
      socket_(ex_),
      backoff_timer_(ex_),
      ping_timer_(ex_) {}

void Subscriber::subscribe(std::string channel) {
  asio::dispatch(ex_, [self = shared_from_this(), c = std::move(channel)]() mutable {
    if (std::find(self->channels_.begin(), self->channels_.end(), c) != self->channels_.end()) {
      return;
    }
    self->channels_.push_back(c);
    if (self->socket_.is_open() && self->conn_gen_ % 2 == 1) self->send("SUBSCRIBE", c);
  });
}

void Subscriber::psubscribe(std::string pattern) {
  asio::dispatch(ex_, [self = shared_from_this(), p = std::move(pattern)]() mutable {
    if (std::find(self->patterns_.begin(), self->patterns_.end(), p) != self->patterns_.end()) {
      return;
    }
    self->patterns_.push_back(p);
    if (self->socket_.is_open() && self->conn_gen_ % 2 == 1) self->send("PSUBSCRIBE", p);
  });
}

void Subscriber::on_message(Handler h) {
  asio::dispatch(ex_, [self = shared_from_this(), h = std::move(h)]() mutable {
    self->on_message_ = std::move(h);
  });
}

void Subscriber::on_connect(std::function<void()> h) {
  asio::dispatch(ex_, [self = shared_from_this(), h = std::move(h)]() mutable {
    self->on_connect_ = std::move(h);
  });
}

void Subscriber::start() {
  asio::dispatch(ex_, [self = shared_from_this()] {
    if (self->running_) return;
    self->running_ = true;
    ++self->run_gen_;
    if (!self->loop_alive_) asio::co_spawn(self->ex_, self->run(), log_failure("redis subscriber"));
  });
}

void Subscriber::stop() {
  asio::dispatch(ex_, [self = shared_from_this()] { self->do_stop(); });
}

void Subscriber::do_stop() {
  if (!running_) return;
  running_ = false;
  ++run_gen_;
  if (conn_gen_ % 2 == 1) drop(conn_gen_);
  boost::system::error_code ignored;
  socket_.close(ignored);
  backoff_timer_.cancel();
}

// conn_gen_ is odd while a connection is up and even otherwise; coroutines of a connection
// remember its generation and stop touching shared state once it changed.
void Subscriber::drop(std::uint64_t gen) {
  if (gen != conn_gen_) return;
  ++conn_gen_;
  connected_.store(false, std::memory_order_relaxed);
  boost::system::error_code ignored;
  socket_.close(ignored);
  out_.clear();
  writing_ = false;
  ping_timer_.cancel();
}

void Subscriber::send(std::string_view cmd, const std::string& arg) {
  detail::append_command(out_, {cmd, arg});
  ++confirms_pending_;
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(ex_, flush(conn_gen_), log_failure("redis subscriber flush"));
  }
}

asio::awaitable<void> Subscriber::flush(std::uint64_t gen) {
  auto self = shared_from_this();
  std::string buf;
  while (gen == conn_gen_ && !out_.empty()) {
    buf.swap(out_);
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(buf), kTuple);
    (void)n;
    buf.clear();
    if (ec) drop(gen);
  }
  if (gen == conn_gen_) writing_ = false;  // drop() already reset it for the next connection
}

// A silent network failure never produces a read error; a PING left unanswered for a whole
// interval (command_timeout, at least 1 s) closes the connection so it gets re-established.
asio::awaitable<void> Subscriber::watchdog(std::uint64_t gen) {
  auto self = shared_from_this();
  const auto interval =
      std::max<std::chrono::milliseconds>(opt_.command_timeout, std::chrono::seconds(1));
  bool ping_outstanding = false;
  auto ping_sent = SteadyClock::now();
  while (gen == conn_gen_) {
    ping_timer_.expires_after(interval);
    co_await ping_timer_.async_wait(kTuple);
    if (gen != conn_gen_) co_return;
    if (ping_outstanding && last_rx_ < ping_sent) {
      drop(gen);
      co_return;
    }
    detail::append_command(out_, {"PING"});
    ping_outstanding = true;
    ping_sent = SteadyClock::now();
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(ex_, flush(gen), log_failure("redis subscriber flush"));
    }
  }
}

void Subscriber::handle(Reply& r) {
  if (!r.is_array() || r.elements.empty()) return;  // e.g. an error reply to a bad pattern
  const std::string& kind = r.elements[0].str;
  auto& e = r.elements;
  if (kind == "message" && e.size() == 3) {
    if (on_message_) on_message_(e[1].str, e[2].str);
  } else if (kind == "pmessage" && e.size() == 4) {
    if (on_message_) on_message_(e[2].str, e[3].str);
  } else if (kind == "subscribe" || kind == "psubscribe") {
    if (confirms_pending_ > 0) --confirms_pending_;
    if (confirms_pending_ == 0) announce();
  }
}

void Subscriber::announce() {
  if (announced_) return;
  announced_ = true;
  connected_.store(true, std::memory_order_relaxed);
  if (ever_connected_) reconnects_.fetch_add(1, std::memory_order_relaxed);
  ever_connected_ = true;
  if (on_connect_) on_connect_();
}

asio::awaitable<void> Subscriber::run() {
  auto self = shared_from_this();
  loop_alive_ = true;
  auto backoff = opt_.reconnect_min;
  std::vector<char> buf(16 * 1024);
  while (running_) {
    const auto rg = run_gen_;
    auto opened = co_await detail::open(socket_, parser_, ep_, opt_);
    if (rg != run_gen_) {
      boost::system::error_code ignored;
      socket_.close(ignored);
      continue;
    }
    if (opened) {
      backoff = opt_.reconnect_min;
      const auto gen = ++conn_gen_;
      confirms_pending_ = 0;
      announced_ = false;
      last_rx_ = SteadyClock::now();
      for (const auto& c : channels_) send("SUBSCRIBE", c);
      for (const auto& p : patterns_) send("PSUBSCRIBE", p);
      if (confirms_pending_ == 0) announce();  // nothing to confirm
      asio::co_spawn(ex_, watchdog(gen), log_failure("redis subscriber watchdog"));
      Reply reply;
      while (gen == conn_gen_) {
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), kTuple);
        if (gen != conn_gen_) break;
        if (ec) {
          drop(gen);
          break;
        }
        last_rx_ = SteadyClock::now();
        parser_.feed(buf.data(), n);
        for (;;) {
          auto st = parser_.next(reply);
          if (st == detail::Parser::Next::need_more) break;
          if (st == detail::Parser::Next::error) {
            drop(gen);
            break;
          }
          handle(reply);  // may call stop() through a handler
          if (gen != conn_gen_) break;
        }
      }
      if (rg != run_gen_) continue;
    }
    backoff_timer_.expires_after(backoff);
    co_await backoff_timer_.async_wait(kTuple);
    backoff = std::min(backoff * 2, opt_.reconnect_max);
  }
  loop_alive_ = false;
}

}  // namespace tk::redis
