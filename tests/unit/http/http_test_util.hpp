#pragma once
// Loopback test harness for the HTTP server: a Beast client on the same io_context, run with a
// deadline so a broken server fails the test instead of hanging it.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "http/responses.hpp"
#include "http/server.hpp"

namespace tk::http::testing {

namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
inline constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::use_awaitable);
}

inline asio::awaitable<beast::tcp_stream> connect_to(std::uint16_t port) {
  beast::tcp_stream s(co_await asio::this_coro::executor);
  s.expires_after(2s);
  co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                           asio::use_awaitable);
  co_return s;
}

inline Request make_request(bhttp::verb v, std::string target, std::string body = {}) {
  Request req{v, target, 11};
  req.set(bhttp::field::host, "localhost");
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();
  return req;
}

// Reads one response (throws on error or timeout).
inline asio::awaitable<Response> read_response(beast::tcp_stream& s, beast::flat_buffer& buf) {
  bhttp::response_parser<bhttp::string_body> p;
  p.body_limit(16 * 1024 * 1024);
  s.expires_after(3s);
  co_await bhttp::async_read(s, buf, p, asio::use_awaitable);
  co_return p.release();
}

inline asio::awaitable<Response> roundtrip(beast::tcp_stream& s, beast::flat_buffer& buf,
                                           Request req) {
  s.expires_after(3s);
  co_await bhttp::async_write(s, req, asio::use_awaitable);
  co_return co_await read_response(s, buf);
}

// True when the server closed the connection: a read gets EOF/reset, not data, within `within`.
inline asio::awaitable<bool> closed_by_peer(beast::tcp_stream& s,
                                            std::chrono::milliseconds within) {
  char c;
  s.expires_after(within);
  auto [ec, n] = co_await s.async_read_some(asio::buffer(&c, 1), kTuple);
  co_return ec&& ec != beast::error::timeout;
}

inline boost::json::value body_json(const Response& r) { return boost::json::parse(r.body()); }
inline std::string error_code_of(const Response& r) {
  return std::string(body_json(r).at("error").at("code").as_string());
}

// One resource served first come, first served, 4 ms a request: concurrent requests queue for
// it, as they would for a saturated Redis or database.
struct FifoResource {
  std::chrono::steady_clock::time_point busy_until{};
  int served = 0;
};

inline Handler fifo_route(std::shared_ptr<FifoResource> res) {
  return [res](RequestContext&) -> asio::awaitable<Response> {
    auto now = std::chrono::steady_clock::now();
    res->busy_until = std::max(now, res->busy_until) + 4ms;
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_at(res->busy_until);
    co_await t.async_wait(asio::use_awaitable);
    ++res->served;
    co_return json_response(beast::http::status::ok, {{"ok", true}});
  };
}

struct Tally {
  int ok = 0, refused = 0, other = 0;
};

// `clients` connections, each sending `each` requests (`method` `target`) one after another,
// `pause` apart. A refusal is a 503 `unavailable` with a Retry-After.
inline asio::awaitable<void> crowd(std::uint16_t port, std::string target, int clients, int each,
                                   Tally& tally, std::chrono::milliseconds pause = 0ms,
                                   bhttp::verb method = bhttp::verb::get) {
  auto ex = co_await asio::this_coro::executor;
  int running = clients;
  asio::steady_timer all_done(ex, std::chrono::steady_clock::time_point::max());
  for (int c = 0; c < clients; ++c) {
    asio::co_spawn(
        ex,
        [&, port, target, each, pause, method]() -> asio::awaitable<void> {
          auto s = co_await connect_to(port);
          beast::flat_buffer buf;
          asio::steady_timer gap(co_await asio::this_coro::executor);
          for (int i = 0; i < each; ++i) {
            if (i > 0 && pause.count() > 0) {
              gap.expires_after(pause);
              co_await gap.async_wait(asio::use_awaitable);
            }
            auto r = co_await roundtrip(s, buf, make_request(method, target));
            if (r.result() == bhttp::status::ok) {
              ++tally.ok;
            } else if (r.result() == bhttp::status::service_unavailable &&
                       error_code_of(r) == "unavailable" &&
                       std::stoi(std::string(r[bhttp::field::retry_after])) >= 1) {
              ++tally.refused;
            } else {
              ++tally.other;
            }
          }
        },
        [&](std::exception_ptr e) {
          if (e) ++tally.other;
          if (--running == 0) all_done.cancel();
        });
  }
  co_await all_done.async_wait(kTuple);
}

// Runs the client coroutine on `io`; the test fails (instead of hanging) when it misses the
// deadline, and with the exception's text when the client throws.
inline void run_client(asio::io_context& io, asio::awaitable<void> client,
                       std::chrono::milliseconds deadline) {
  bool done = false;
  std::exception_ptr err;
  asio::co_spawn(io, std::move(client), [&](std::exception_ptr e) {
    err = e;
    done = true;
    io.stop();
  });
  io.run_for(deadline);
  io.restart();
  ASSERT_TRUE(done) << "client did not finish before the deadline";
  if (err) {
    try {
      std::rethrow_exception(err);
    } catch (const std::exception& e) {
      FAIL() << "client failed: " << e.what();
    }
  }
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tk::log::set_sink([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  void TearDown() override {
    servers_.clear();
    tk::log::set_sink(nullptr);
  }

  ServerOptions options() {
    ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    return o;
  }

  Server& start(ServerOptions o, std::shared_ptr<ConnectionLimiter> limiter = nullptr) {
    if (!servers_.empty()) {
      o.port = servers_.front()->port();  // extra instances share the port (SO_REUSEPORT)
    }
    auto s = std::make_unique<Server>(ioc_.get_executor(), o, router_, registry_, limiter);
    auto st = s->listen();
    EXPECT_TRUE(st.ok()) << st.code().message();
    s->start();
    servers_.push_back(std::move(s));
    return *servers_.back();
  }
  std::uint16_t port() const { return servers_.front()->port(); }

  void run(asio::awaitable<void> client, std::chrono::milliseconds deadline = 5s) {
    run_client(ioc_, std::move(client), deadline);
  }

  std::vector<std::string> log_lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

  // Declaration order matters: io_context is destroyed before the router and registry that
  // suspended connection coroutines still reference.
  metrics::Registry registry_;
  Router router_;
  asio::io_context ioc_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace tk::http::testing
