#include "app/lost_holds.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "app/deps.hpp"
#include "common/log.hpp"
#include "common/supervisor.hpp"

namespace tk::app {
namespace {

namespace asio = boost::asio;

void bump(std::atomic<std::uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

boost::json::object fields(const LostHold& h) {
  return {{"performance", h.perf_id}, {"hold_id", h.hold_id}, {"account", h.account_id}};
}

asio::awaitable<void> run(Deps d, LostHold h, LostHoldOptions o,
                          std::shared_ptr<LostHolds::Counters> c) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto backoff = o.backoff_min;
  for (int attempt = 1;; ++attempt) {
    auto r = co_await d.ports.holds->release(h.perf_id, h.hold_id, h.account_id);
    if (r) {
      bump(*r ? c->released : c->absent);
      auto f = fields(h);
      f["attempts"] = attempt;
      log::info(*r ? "lost hold released" : "lost hold was not written", f);
      co_return;
    }
    if (d.now() >= h.expires_at) {
      bump(c->expired);
      log::warn("lost hold not released before its expiry", fields(h));
      co_return;
    }
    timer.expires_after(backoff);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    backoff = std::min(backoff * 2, o.backoff_max);
  }
}

}  // namespace

LostHolds::LostHolds(LostHoldOptions o) : opt_(o), counters_(std::make_shared<Counters>()) {}

void LostHolds::release(const asio::any_io_executor& ex, const Deps& d, const LostHold& h) {
  auto c = counters_;
  if (c->in_flight.load(std::memory_order_relaxed) >= opt_.max_in_flight) {
    bump(c->skipped);
    log::warn("lost hold left to expire: too many releases in flight", fields(h));
    return;
  }
  bump(c->started);
  bump(c->in_flight);
  log::warn("hold answer lost; releasing it", fields(h));
  asio::co_spawn(ex, run(d, h, opt_, c), [c, h](std::exception_ptr e) {
    c->in_flight.fetch_sub(1, std::memory_order_relaxed);
    if (!e) return;
    bump(c->failed);
    auto f = fields(h);
    f["error"] = describe_exception(e);
    log::error("lost hold release failed", f);
  });
}

}  // namespace tk::app
