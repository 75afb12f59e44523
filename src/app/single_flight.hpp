#pragma once
// Coalesces concurrent calls for one key: the first caller (the leader) does the work, callers
// that arrive while it is in flight wait for its result instead of repeating it. A crowd that
// finds the same thing missing at the same instant (a performance's sold markers after a Redis
// restart, its reserved queue positions) then costs one query, not one per request.
//
// Threading: one instance per io_context (shared-nothing), no locks. Different keys run freely.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/async.hpp"
#include "app/errors.hpp"
#include "common/string_map.hpp"

namespace tk::app {

template <class T>
class SingleFlight {
 public:
  // Runs fn() (-> Task<T>) unless a call for `key` is in flight; then returns that call's result.
  template <class Fn>
  Task<T> run(std::string key, Fn fn) {
    if (auto it = flights_->find(key); it != flights_->end()) {
      auto f = it->second;  // keeps the result alive after the leader is gone
      if (!f->result)
        co_await f->done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (!f->result) co_return Errc::unavailable;  // the leader was destroyed (shutdown)
      co_return *f->result;
    }
    auto f = std::make_shared<Flight>(co_await boost::asio::this_coro::executor);
    flights_->emplace(key, f);
    Landing landing{flights_, std::move(key), f};  // also on the leader's destruction
    Result<T> r = co_await fn();
    f->result = r;
    co_return r;
  }

  bool in_flight(std::string_view key) const { return flights_->find(key) != flights_->end(); }

 private:
  struct Flight {
    explicit Flight(boost::asio::any_io_executor ex)
        : done(std::move(ex), boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer done;  // cancelled when the leader lands: wakes every waiter
    std::optional<Result<T>> result;
  };
  using Map = StringMap<std::shared_ptr<Flight>>;
  struct Landing {
    // Shares the map: a leader suspended at shutdown is destroyed with its io_context, which may
    // outlive the SingleFlight's owner.
    std::shared_ptr<Map> map;
    std::string key;
    std::shared_ptr<Flight> flight;
    Landing(std::shared_ptr<Map> m, std::string k, std::shared_ptr<Flight> f)
        : map(std::move(m)), key(std::move(k)), flight(std::move(f)) {}
    Landing(const Landing&) = delete;
    Landing& operator=(const Landing&) = delete;
    ~Landing() {
      map->erase(key);
      flight->done.cancel();
    }
  };
  std::shared_ptr<Map> flights_ = std::make_shared<Map>();
};

}  // namespace tk::app
