#include "gateway/forwarder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <vector>

#include "http/deadline.hpp"

namespace tk::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Conn {
  explicit Conn(const asio::any_io_executor& ex) : sock(ex) {}
  tcp::socket sock;
  beast::flat_buffer buf;
  Clock::time_point idle_since;
};

// A pooled connection the API closed while it sat idle has its EOF (or RST) waiting: one
// non-blocking read tells, so nothing is written to a dead connection.
bool still_open(tcp::socket& s) {
  boost::system::error_code ec;
  s.non_blocking(true, ec);
  if (ec) return false;
  char b;
  s.read_some(asio::buffer(&b, 1), ec);
  return ec == asio::error::would_block || ec == asio::error::try_again;
}
}  // namespace

struct Forwarder::Impl {
  asio::any_io_executor ex;
  Upstreams& ups;
  ForwardOptions opt;
  struct Pool {
    std::vector<std::unique_ptr<Conn>> idle;
    std::size_t in_flight = 0;
  };
  std::vector<Pool> pools;
  std::size_t cursor = 0;
  metrics::Counter* retries = nullptr;
  metrics::Counter* failures = nullptr;
  metrics::Counter* refused = nullptr;

  // Healthy, and below its in-flight bound on this loop.
  bool has_room(std::size_t i) const {
    return ups.healthy(i) && pools[i].in_flight < opt.max_in_flight;
  }

  std::unique_ptr<Conn> take_idle(std::size_t i) {
    auto& idle = pools[i].idle;
    const auto now = Clock::now();
    while (!idle.empty()) {
      auto c = std::move(idle.back());
      idle.pop_back();
      if (now - c->idle_since < opt.idle_timeout && still_open(c->sock)) return c;
    }
    return nullptr;
  }

  void put_idle(std::size_t i, std::unique_ptr<Conn> c) {
    auto& idle = pools[i].idle;
    if (idle.size() >= opt.idle_per_upstream) return;  // closed by its destructor
    c->idle_since = Clock::now();
    idle.push_back(std::move(c));
  }

  enum class Outcome { ok, failed_before, failed_after, timeout };
  struct Attempt {
    Outcome outcome = Outcome::failed_before;
    bool reused = false;  // on a pooled connection (its failure says less about the upstream)
    http::Response res;
  };

  asio::awaitable<Attempt> attempt(std::size_t i, const http::Request& req,
                                   Clock::time_point deadline);
};

asio::awaitable<Forwarder::Impl::Attempt> Forwarder::Impl::attempt(std::size_t i,
                                                                   const http::Request& req,
                                                                   Clock::time_point deadline) {
  Attempt a;
  auto conn = take_idle(i);
  a.reused = conn != nullptr;
  if (!conn) {
    conn = std::make_unique<Conn>(ex);
    http::Deadline dl(ex, conn->sock);
    dl.expire_at(std::min(deadline, Clock::now() + opt.connect_timeout));
    auto [cec] = co_await conn->sock.async_connect(ups.endpoint(i), kTuple);
    if (cec) {
      // Refused or unanswered: the request never left.
      a.outcome = Clock::now() >= deadline ? Outcome::timeout : Outcome::failed_before;
      co_return a;
    }
    boost::system::error_code ec;
    conn->sock.set_option(tcp::no_delay(true), ec);
  }
  http::Deadline dl(ex, conn->sock);
  if (deadline != Clock::time_point::max()) dl.expire_at(deadline);
  auto [wec, wn] = co_await bhttp::async_write(conn->sock, req, kTuple);
  if (wec) {
    // Not every byte left, so the API cannot have taken the request as whole.
    a.outcome = dl.expired() ? Outcome::timeout : Outcome::failed_before;
    co_return a;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(opt.response_body_limit);
  if (req.method() == bhttp::verb::head) parser.skip(true);
  auto [rec, rn] = co_await bhttp::async_read(conn->sock, conn->buf, parser, kTuple);
  if (rec) {
    a.outcome = dl.expired() ? Outcome::timeout : Outcome::failed_after;
    co_return a;
  }
  dl.clear();
  a.res = parser.release();
  a.outcome = Outcome::ok;
  if (a.res.keep_alive() && conn->buf.size() == 0) put_idle(i, std::move(conn));
  co_return a;
}

Forwarder::Forwarder(asio::any_io_executor ex, Upstreams& ups, ForwardOptions o,
                     metrics::Registry* metrics)
    : impl_(std::make_unique<Impl>(Impl{ex, ups, o, {}, 0, nullptr, nullptr, nullptr})) {
  impl_->pools.resize(ups.size());
  if (metrics) {
    impl_->retries =
        &metrics->counter("gateway_retries_total", "Forwards sent again to another API process");
    impl_->failures = &metrics->counter("gateway_upstream_failures_total",
                                        "Forward attempts refused, cut or timed out");
    impl_->refused = &metrics->counter("gateway_unavailable_total",
                                       "Requests answered 503: no API process healthy or free");
  }
}

Forwarder::~Forwarder() = default;

std::optional<Errc> Forwarder::unavailable() {
  Impl& s = *impl_;
  for (std::size_t i = 0; i < s.ups.size(); ++i) {
    if (s.has_room(i)) return std::nullopt;
  }
  if (s.refused) s.refused->inc();
  return s.ups.healthy_count() > 0 ? Errc::overloaded : Errc::no_upstream;
}

void Forwarder::close() {
  for (auto& p : impl_->pools) p.idle.clear();
}

asio::awaitable<Result<http::Response>> Forwarder::forward(http::Request& req,
                                                           Clock::time_point deadline) {
  Impl& s = *impl_;
  const bool has_key = req.find("Idempotency-Key") != req.end();
  req.keep_alive(true);
  req.version(11);
  req.prepare_payload();
  std::vector<bool> tried(s.ups.size(), false);
  for (int n = 0; n < s.opt.max_attempts; ++n) {
    std::vector<bool> usable(s.ups.size());
    for (std::size_t i = 0; i < usable.size(); ++i) {
      usable[i] = s.has_room(i);
    }
    auto pick = pick_upstream(usable, tried, s.cursor);
    if (!pick) {
      if (s.refused) s.refused->inc();
      if (n > 0) co_return Error{Errc::no_upstream};
      bool any_healthy = s.ups.healthy_count() > 0;
      co_return Error{any_healthy ? Errc::overloaded : Errc::no_upstream};
    }
    std::size_t i = *pick;
    tried[i] = true;
    if (n > 0 && s.retries) s.retries->inc();
    ++s.pools[i].in_flight;
    struct Done {
      std::size_t& c;
      ~Done() { --c; }
    } done{s.pools[i].in_flight};
    auto a = co_await s.attempt(i, req, deadline);
    switch (a.outcome) {
      case Impl::Outcome::ok:
        strip_hop_by_hop(a.res);
        co_return std::move(a.res);
      case Impl::Outcome::timeout:
        if (s.failures) s.failures->inc();
        co_return Error{Errc::upstream_timeout};
      case Impl::Outcome::failed_before:
        if (s.failures) s.failures->inc();
        if (!a.reused) s.ups.report_failure(i);
        break;  // nothing reached the API: the next upstream may take it
      case Impl::Outcome::failed_after:
        if (s.failures) s.failures->inc();
        s.ups.report_failure(i);
        if (!may_retry(req.method(), has_key, FailedAt::after_send)) {
          co_return Error{Errc::upstream_failed};
        }
        break;
    }
  }
  co_return Error{Errc::no_upstream};
}

}  // namespace tk::gateway
