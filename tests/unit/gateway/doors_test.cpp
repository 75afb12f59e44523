// The gateway's door: its own routes and forwarder in front of an upstream in this process whose
// order route queues (served first come, first served). The crowd's joins must be refused at the
// gateway, before they are forwarded, while the orders queue; the orders are never refused. A
// gateway whose forwarder is full refuses before it spends a round trip on the session.
#include <gtest/gtest.h>

#include "../crypto/test_keys.hpp"
#include "../http/http_test_util.hpp"
#include "app/deps.hpp"
#include "common/clock.hpp"
#include "common/crypto/tokens.hpp"
#include "gateway/forwarder.hpp"
#include "gateway/routes.hpp"
#include "gateway/upstreams.hpp"

namespace tk::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace tk::http::testing;
using http::Router;

class GatewayDoor : public ::testing::Test {
 protected:
  void SetUp() override {
    tk::log::set_sink([](std::string_view) {});
    shared_.clock = &clock_;
    shared_.signer = &signer_;
  }
  void TearDown() override {
    servers_.clear();
    if (fwd_) fwd_->close();
    tk::log::set_sink(nullptr);
  }

  std::uint16_t serve(Router& r) {
    http::ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    auto s = std::make_unique<http::Server>(ioc_.get_executor(), o, r, registry_);
    EXPECT_TRUE(s->listen().ok());
    s->start();
    servers_.push_back(std::move(s));
    return servers_.back()->port();
  }

  // The gateway in front of `upstream`, its door as in the service with a short interval.
  std::uint16_t gateway(std::uint16_t upstream, ForwardOptions fo = {}, app::Ports ports = {}) {
    ups_ = std::make_unique<Upstreams>(
        std::vector<tcp::endpoint>{{asio::ip::make_address("127.0.0.1"), upstream}},
        HealthOptions{});
    fwd_ = std::make_unique<Forwarder>(ioc_.get_executor(), *ups_, fo, &registry_);
    RouteOptions o;
    o.ready = [] { return true; };
    o.forwarder = fwd_.get();
    o.door.target = 10ms;
    o.door.interval = 50ms;
    o.door.min_limit = 2;
    app::Deps deps;
    deps.shared = &shared_;
    deps.ports = ports;
    add_routes(gw_router_, deps, o);
    return serve(gw_router_);
  }

  // Declaration order: the io_context goes after the routers, registry and upstreams that its
  // suspended connection coroutines reference, and before the forwarder and servers on it.
  metrics::Registry registry_;
  Router api_router_, gw_router_;
  SystemClock clock_;
  crypto::Signer signer_ = crypto::testing::signer_a();
  app::Shared shared_;
  std::unique_ptr<Upstreams> ups_;
  asio::io_context ioc_;
  std::unique_ptr<Forwarder> fwd_;
  std::vector<std::unique_ptr<http::Server>> servers_;
};

TEST_F(GatewayDoor, TheJoinIsRefusedAtTheGatewayWhileForwardedOrdersQueue) {
  auto orders = std::make_shared<FifoResource>();
  int joins_forwarded = 0;
  api_router_.add(bhttp::verb::post, "/v1/orders", fifo_route(orders));
  api_router_.add(bhttp::verb::post, "/v1/performances/{pid}/queue",
                  [&](http::RequestContext&) -> asio::awaitable<http::Response> {
                    ++joins_forwarded;
                    co_return http::json_response(bhttp::status::ok, {{"ok", true}});
                  });
  const std::uint16_t gw = gateway(serve(api_router_));
  Tally sales, during;
  int in_a_row = 0, ok_after = 0, refused_after = 0;
  run_client(
      ioc_,
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        auto s = co_await connect_to(gw);
        beast::flat_buffer buf;
        for (const char* path : {"/v1/orders", "/v1/performances/p1/queue"}) {
          for (int i = 0; i < 5; ++i) {  // unloaded latencies
            auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::post, path, "{}"));
            EXPECT_EQ(r.result(), bhttp::status::ok);
          }
        }
        // The orders queue upstream for about 1.3 s (320 of 4 ms, 40 at a time); the joins, one
        // every 20 ms from 10 clients for about 0.8 s, take no time of their own.
        bool sale_done = false;
        asio::steady_timer done(ex, std::chrono::steady_clock::time_point::max());
        asio::co_spawn(ex, crowd(gw, "/v1/orders", 40, 8, sales, 0ms, bhttp::verb::post),
                       [&](std::exception_ptr e) {
                         if (e) ++sales.other;
                         sale_done = true;
                         done.cancel();
                       });
        co_await crowd(gw, "/v1/performances/p1/queue", 10, 40, during, 20ms, bhttp::verb::post);
        if (!sale_done) co_await done.async_wait(kTuple);
        // The orders calm again: the joins are let in again within a few intervals.
        asio::steady_timer gap(ex);
        for (int i = 0; i < 100 && in_a_row < 5; ++i) {
          auto r = co_await roundtrip(
              s, buf, make_request(bhttp::verb::post, "/v1/performances/p1/queue", "{}"));
          in_a_row = r.result() == bhttp::status::ok ? in_a_row + 1 : 0;
          if (r.result() == bhttp::status::ok) ++ok_after;
          if (r.result() == bhttp::status::service_unavailable) ++refused_after;
          gap.expires_after(20ms);
          co_await gap.async_wait(asio::use_awaitable);
        }
      }(),
      30s);
  // The orders are never refused at the gateway.
  EXPECT_EQ(sales.ok, 320);
  EXPECT_EQ(sales.refused + sales.other, 0);
  // The joins were shed while the orders queued, and a refused join never left the gateway.
  EXPECT_EQ(during.other, 0);
  EXPECT_EQ(during.ok + during.refused, 400);
  EXPECT_GT(during.refused, 200);
  EXPECT_EQ(in_a_row, 5);
  EXPECT_EQ(joins_forwarded, 5 + during.ok + ok_after);
  EXPECT_NE(registry_.render().find("http_door_refused_total{door=\"join\"} " +
                                    std::to_string(during.refused + refused_after)),
            std::string::npos);
}

// Every session is found; counts the look-ups (each a Redis round trip in the service).
struct CountingSessions : app::SessionStore {
  int gets = 0;
  app::Task<void> put(std::string, domain::Session, Millis) override { co_return Result<void>{}; }
  app::Task<void> fill(std::string, domain::Session, Millis) override { co_return Result<void>{}; }
  app::Task<app::CachedSession> get(std::string) override {
    ++gets;
    app::CachedSession c;
    c.state = app::CachedSession::State::found;
    c.session = domain::Session{"acc-1", 1, std::numeric_limits<Millis>::max()};
    co_return c;
  }
  app::Task<void> revoke(std::string, Millis) override { co_return Result<void>{}; }
};

TEST_F(GatewayDoor, AFullGatewayRefusesBeforeTheSessionCheck) {
  // The upstream holds every order until released: with one slot per upstream, the first order
  // fills the gateway.
  asio::steady_timer release(ioc_, std::chrono::steady_clock::time_point::max());
  int orders_taken = 0;
  api_router_.add(bhttp::verb::post, "/v1/orders",
                  [&](http::RequestContext&) -> asio::awaitable<http::Response> {
                    ++orders_taken;
                    co_await release.async_wait(kTuple);
                    co_return http::json_response(bhttp::status::ok, {{"ok", true}});
                  });
  CountingSessions sessions;
  app::Ports ports;
  ports.sessions = &sessions;
  ForwardOptions fo;
  fo.max_in_flight = 1;
  const std::uint16_t gw = gateway(serve(api_router_), fo, ports);
  const std::string bearer = "Bearer " + crypto::new_session_token(signer_, nullptr);
  auto order = [&] {
    auto r = make_request(bhttp::verb::post, "/v1/orders", "{}");
    r.set(bhttp::field::authorization, bearer);
    return r;
  };
  http::Response first, refused;
  run_client(
      ioc_,
      [&]() -> asio::awaitable<void> {
        auto a = co_await connect_to(gw);
        auto b = co_await connect_to(gw);
        beast::flat_buffer abuf, bbuf;
        co_await bhttp::async_write(a, order(), asio::use_awaitable);
        for (int i = 0; i < 200 && orders_taken == 0; ++i) co_await sleep_for(5ms);
        EXPECT_EQ(orders_taken, 1);
        EXPECT_EQ(sessions.gets, 1);
        refused = co_await roundtrip(b, bbuf, order());
        release.cancel();
        first = co_await read_response(a, abuf);
      }(),
      10s);
  EXPECT_EQ(first.result(), bhttp::status::ok);
  EXPECT_EQ(refused.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(error_code_of(refused), "unavailable");
  EXPECT_EQ(refused[bhttp::field::retry_after], "1");
  // Refused without its session looked up, and never forwarded.
  EXPECT_EQ(sessions.gets, 1);
  EXPECT_EQ(orders_taken, 1);
  EXPECT_NE(registry_.render().find("gateway_unavailable_total 1"), std::string::npos);
}

}  // namespace
}  // namespace tk::gateway
