// The HTTP server over loopback with a real Beast client (no external servers needed).
#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "common/deadline.hpp"
#include "http/responses.hpp"
#include "http_test_util.hpp"

namespace tk::http::testing {
namespace {

using Clock = std::chrono::steady_clock;

Handler echo_route() {
  return [](RequestContext& ctx) -> asio::awaitable<Response> {
    boost::json::object o;
    o["route"] = ctx.route;
    boost::json::object params;
    for (const auto& [k, v] : ctx.params) params[k] = v;
    o["params"] = std::move(params);
    o["body"] = ctx.req.body();
    o["request_id"] = ctx.request_id;
    ctx.log("account_id", "a-1");
    co_return json_response(beast::http::status::ok, o);
  };
}

class ServerTest : public HttpServerTest {
 protected:
  void SetUp() override {
    HttpServerTest::SetUp();
    router_.add(bhttp::verb::get, "/v1/events/{event_id}", echo_route());
    router_.add(bhttp::verb::post, "/v1/performances/{pid}/queue", echo_route());
    router_.add(bhttp::verb::get, "/v1/performances/{pid}/queue/status", echo_route());
    router_.add(bhttp::verb::get, "/boom", [](RequestContext&) -> asio::awaitable<Response> {
      throw std::runtime_error("secret-db-password at 10.0.0.7");
      co_return Response{};
    });
    router_.add(bhttp::verb::get, "/slow", [](RequestContext& ctx) -> asio::awaitable<Response> {
      auto ms = std::stoi(std::string(ctx.req.target().substr(ctx.req.target().find('=') + 1)));
      co_await sleep_for(std::chrono::milliseconds(ms));
      co_return json_response(beast::http::status::ok, {{"slept_ms", ms}});
    });
  }
};

TEST_F(ServerTest, RoutesParamsAnd404And405OnOneKeepAliveConnection) {
  start(options());
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;

    auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/v1/events/e-42?x=1"));
    EXPECT_EQ(r.result(), bhttp::status::ok);
    EXPECT_EQ(r[bhttp::field::content_type], "application/json");
    EXPECT_EQ(r[bhttp::field::content_length], std::to_string(r.body().size()));
    EXPECT_TRUE(r.keep_alive());
    auto v = body_json(r);
    EXPECT_EQ(v.at("route").as_string(), "/v1/events/{event_id}");
    EXPECT_EQ(v.at("params").at("event_id").as_string(), "e-42");
    EXPECT_EQ(r["X-Request-Id"], v.at("request_id").as_string());
    EXPECT_EQ(r["X-Request-Id"].size(), 16u);  // generated

    auto req = make_request(bhttp::verb::post, "/v1/performances/p9/queue", R"({"a":1})");
    req.set("X-Request-Id", "client-id_1");
    r = co_await roundtrip(s, buf, std::move(req));
    EXPECT_EQ(r.result(), bhttp::status::ok);
    EXPECT_EQ(r["X-Request-Id"], "client-id_1");  // sane: echoed
    EXPECT_EQ(body_json(r).at("params").at("pid").as_string(), "p9");
    EXPECT_EQ(body_json(r).at("body").as_string(), R"({"a":1})");

    req = make_request(bhttp::verb::get, "/v1/events/e1");
    req.set("X-Request-Id", "has space");
    r = co_await roundtrip(s, buf, std::move(req));
    EXPECT_NE(r["X-Request-Id"], "has space");
    EXPECT_EQ(r["X-Request-Id"].size(), 16u);
    req = make_request(bhttp::verb::get, "/v1/events/e1");
    req.set("X-Request-Id", std::string(65, 'a'));
    r = co_await roundtrip(s, buf, std::move(req));
    EXPECT_EQ(r["X-Request-Id"].size(), 16u);

    r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/v1/nothing/here"));
    EXPECT_EQ(r.result(), bhttp::status::not_found);
    EXPECT_EQ(error_code_of(r), "not_found");
    EXPECT_FALSE(r["X-Request-Id"].empty());
    EXPECT_TRUE(r.keep_alive());

    r = co_await roundtrip(s, buf, make_request(bhttp::verb::delete_, "/v1/performances/p9/queue"));
    EXPECT_EQ(r.result(), bhttp::status::method_not_allowed);
    EXPECT_EQ(error_code_of(r), "method_not_allowed");
    EXPECT_EQ(r[bhttp::field::allow], "POST");

    // Still the same connection after all of the above.
    r = co_await roundtrip(s, buf,
                           make_request(bhttp::verb::get, "/v1/performances/p1/queue/status"));
    EXPECT_EQ(r.result(), bhttp::status::ok);
  }());
  EXPECT_EQ(servers_[0]->open_connections(), 1u);
}

// The deadline a handler's PostgreSQL and Redis calls see (common/deadline.hpp), reported by a
// route of each budget: after a suspension too, since it travels with the coroutine's executor.
Handler deadline_route() {
  return [](RequestContext& ctx) -> asio::awaitable<Response> {
    co_await sleep_for(std::chrono::milliseconds(1));
    auto seen = tk::deadline_of(co_await asio::this_coro::executor);
    boost::json::object o;
    o["has_deadline"] = seen != tk::no_deadline;
    o["is_the_requests"] = seen == ctx.deadline;
    o["ms_after_start"] =
        seen == tk::no_deadline ? -1 : (seen - ctx.started) / std::chrono::milliseconds(1);
    co_return json_response(beast::http::status::ok, o);
  };
}

TEST_F(ServerTest, RequestDeadlineReachesTheHandlersCallsOnBudgetedRoutesOnly) {
  router_.add(bhttp::verb::get, "/budgeted", deadline_route());
  router_.add(bhttp::verb::get, "/unbudgeted", deadline_route(), Budget::none);
  auto o = options();
  o.request_timeout = 7000ms;
  start(o);
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/budgeted"));
    auto v = body_json(r);
    EXPECT_TRUE(v.at("has_deadline").as_bool());
    EXPECT_TRUE(v.at("is_the_requests").as_bool());
    EXPECT_EQ(v.at("ms_after_start").as_int64(), 7000);
    r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/unbudgeted"));
    EXPECT_FALSE(body_json(r).at("has_deadline").as_bool());
  }());
}

TEST_F(ServerTest, NoRequestDeadlineWhenTheTimeoutIsOff) {
  router_.add(bhttp::verb::get, "/budgeted", deadline_route());
  start(options());  // request_timeout 0
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/budgeted"));
    EXPECT_FALSE(body_json(r).at("has_deadline").as_bool());
  }());
}

TEST_F(ServerTest, TheDoorRefusesAClassThatQueuesAtOnceAndLetsOtherRoutesThrough) {
  DoorOptions o;
  o.target = 10ms;
  o.interval = 50ms;
  o.min_limit = 2;
  auto queued = std::make_shared<FifoResource>();
  auto open = std::make_shared<FifoResource>();
  int door = router_.add_door("fifo", o);
  router_.add(bhttp::verb::get, "/fifo", fifo_route(queued), Budget::request, door);
  router_.add(bhttp::verb::get, "/open", fifo_route(open));
  start(options());
  Tally at_door, no_door;
  run(
      [&]() -> asio::awaitable<void> {
        // Unloaded first: the class's own latency, one request at a time.
        auto s = co_await connect_to(port());
        beast::flat_buffer buf;
        for (int i = 0; i < 5; ++i) {
          auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/fifo"));
          EXPECT_EQ(r.result(), bhttp::status::ok);
        }
        co_await crowd(port(), "/fifo", 40, 8, at_door);
        co_await crowd(port(), "/open", 40, 2, no_door);
        // The crowd gone, one at a time is let in again.
        for (int i = 0; i < 5; ++i) {
          auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/fifo"));
          EXPECT_EQ(r.result(), bhttp::status::ok);
        }
      }(),
      30s);
  EXPECT_EQ(at_door.other, 0);
  EXPECT_EQ(at_door.ok + at_door.refused, 320);
  // The door closed on the queue: most of the crowd was refused, and a refused request never
  // reached the handler.
  EXPECT_GT(at_door.refused, 160);
  EXPECT_EQ(queued->served, at_door.ok + 10);
  EXPECT_NE(registry_.render().find("http_door_refused_total{door=\"fifo\"} " +
                                    std::to_string(at_door.refused)),
            std::string::npos);
  // A route outside every class is never refused, however long its queue.
  EXPECT_EQ(no_door.refused, 0);
  EXPECT_EQ(no_door.ok, 80);
}

TEST_F(ServerTest, AClassWhoseBackendIsFullIsRefusedOnArrivalThoughItOnlyMeasures) {
  DoorOptions measured;
  measured.target = 10ms;
  measured.sheds = false;
  bool full = false;
  int served = 0;
  int door = router_.add_door("sale", measured, {}, [&] { return full; });
  router_.add(
      bhttp::verb::post, "/sale",
      [&](RequestContext&) -> asio::awaitable<Response> {
        ++served;
        co_return json_response(bhttp::status::ok, {{"ok", true}});
      },
      Budget::request, door);
  start(options());
  std::vector<Response> got;
  run([&]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    for (bool f : {false, true, true, false}) {
      full = f;
      got.push_back(co_await roundtrip(s, buf, make_request(bhttp::verb::post, "/sale", "{}")));
    }
  }());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].result(), bhttp::status::ok);
  for (int i : {1, 2}) {
    EXPECT_EQ(got[i].result(), bhttp::status::service_unavailable);
    EXPECT_EQ(error_code_of(got[i]), "unavailable");
    EXPECT_GE(std::stoi(std::string(got[i][bhttp::field::retry_after])), 1);
  }
  EXPECT_EQ(got[3].result(), bhttp::status::ok);
  // The refused never reached the handler, and are counted as the door's.
  EXPECT_EQ(served, 2);
  EXPECT_NE(registry_.render().find("http_door_refused_total{door=\"sale\"} 2"), std::string::npos);
}

TEST_F(ServerTest, AClassThatYieldsIsShedWhileTheOneItYieldsToQueuesThoughItsOwnRequestsAreFast) {
  DoorOptions o;
  o.target = 10ms;
  o.interval = 50ms;
  o.min_limit = 2;
  DoorOptions measured = o;
  measured.sheds = false;
  auto sale = std::make_shared<FifoResource>();
  int sale_door = router_.add_door("sale", measured);
  int entry_door = router_.add_door("entry", o, {sale_door});
  router_.add(bhttp::verb::get, "/sale", fifo_route(sale), Budget::request, sale_door);
  router_.add(
      bhttp::verb::get, "/entry",
      [](RequestContext&) -> asio::awaitable<Response> {
        co_return json_response(beast::http::status::ok, {{"ok", true}});
      },
      Budget::request, entry_door);
  start(options());
  Tally sales, during;
  int in_a_row = 0, refused_after = 0;
  run(
      [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        auto s = co_await connect_to(port());
        beast::flat_buffer buf;
        static constexpr const char* kPaths[] = {"/sale", "/entry"};
        for (const char* path : kPaths) {  // unloaded latencies
          for (int i = 0; i < 5; ++i) {
            auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, path));
            EXPECT_EQ(r.result(), bhttp::status::ok);
          }
        }
        // The sale queues for about 1.3 s (320 requests of 4 ms, 40 at a time); the entry's
        // requests, one every 20 ms from 10 clients for about 0.8 s, take no time of their own.
        bool sale_done = false;
        asio::steady_timer done(ex, std::chrono::steady_clock::time_point::max());
        asio::co_spawn(ex, crowd(port(), "/sale", 40, 8, sales), [&](std::exception_ptr e) {
          if (e) ++sales.other;
          sale_done = true;
          done.cancel();
        });
        co_await crowd(port(), "/entry", 10, 40, during, 20ms);
        if (!sale_done) co_await done.async_wait(kTuple);
        // The sale calm again: the entry is let in again within a few intervals.
        asio::steady_timer gap(ex);
        for (int i = 0; i < 100 && in_a_row < 5; ++i) {
          auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/entry"));
          in_a_row = r.result() == bhttp::status::ok ? in_a_row + 1 : 0;
          if (r.result() == bhttp::status::service_unavailable) ++refused_after;
          gap.expires_after(20ms);
          co_await gap.async_wait(asio::use_awaitable);
        }
      }(),
      30s);
  // The class yielded to is never refused.
  EXPECT_EQ(sales.ok, 320);
  EXPECT_EQ(sales.refused + sales.other, 0);
  // The entry was shed while the sale queued, though each of its requests was fast.
  EXPECT_EQ(during.other, 0);
  EXPECT_EQ(during.ok + during.refused, 400);
  EXPECT_GT(during.refused, 200);
  EXPECT_EQ(in_a_row, 5);
  EXPECT_NE(registry_.render().find("http_door_refused_total{door=\"entry\"} " +
                                    std::to_string(during.refused + refused_after)),
            std::string::npos);
  EXPECT_EQ(registry_.render().find("http_door_refused_total{door=\"sale\"}"), std::string::npos);
}

TEST_F(ServerTest, AClasss503sAskBackAfterTheClasssWaitWhichGrowsWhileTheyLast) {
  DoorOptions o;
  o.target = 10ms;
  o.interval = 20ms;
  o.sheds = false;  // measured only: what it refuses, its backend refused
  o.max_retry_after_s = 8;
  int door = router_.add_door("short", o);
  auto short_of_backend = [](RequestContext&) -> asio::awaitable<Response> {
    Response r = json_response(bhttp::status::service_unavailable, {{"error", "unavailable"}});
    r.set(bhttp::field::retry_after, "1");  // what a handler says on its own
    co_return r;
  };
  router_.add(bhttp::verb::get, "/short", short_of_backend, Budget::request, door);
  router_.add(bhttp::verb::get, "/plain", short_of_backend);
  start(options());
  std::vector<int> waits;
  int plain_wait = 0;
  run(
      [&]() -> asio::awaitable<void> {
        auto s = co_await connect_to(port());
        beast::flat_buffer buf;
        asio::steady_timer gap(co_await asio::this_coro::executor);
        for (int i = 0; i < 40; ++i) {
          auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/short"));
          EXPECT_EQ(r.result(), bhttp::status::service_unavailable);
          waits.push_back(std::stoi(std::string(r[bhttp::field::retry_after])));
          gap.expires_after(10ms);
          co_await gap.async_wait(asio::use_awaitable);
        }
        auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/plain"));
        plain_wait = std::stoi(std::string(r[bhttp::field::retry_after]));
      }(),
      30s);
  ASSERT_EQ(waits.size(), 40u);
  // Every request of the class answered 503 for ~0.4 s: the wait grew from 1 s to the class's
  // cap, and each answer spreads it over half to one and a half times.
  EXPECT_EQ(waits.front(), 1);
  for (std::size_t i = waits.size() - 5; i < waits.size(); ++i) {
    EXPECT_GE(waits[i], 4) << i;
    EXPECT_LE(waits[i], 12) << i;
  }
  // A route outside every class keeps its handler's own Retry-After.
  EXPECT_EQ(plain_wait, 1);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start(options());
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    std::string wire;
    for (const char* id : {"e1", "e2", "e3"}) {
      wire += std::string("GET /v1/events/") + id + " HTTP/1.1\r\nHost: x\r\n\r\n";
    }
    // The slow one first: the fast ones behind it must still come back after it.
    wire = "GET /slow?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n" + wire;
    co_await asio::async_write(s.socket(), asio::buffer(wire), asio::use_awaitable);
    beast::flat_buffer buf;
    auto r = co_await read_response(s, buf);
    EXPECT_EQ(body_json(r).at("slept_ms").as_int64(), 100);
    for (const char* id : {"e1", "e2", "e3"}) {
      r = co_await read_response(s, buf);
      EXPECT_EQ(body_json(r).at("params").at("event_id").as_string(), id);
    }
  }());
}

TEST_F(ServerTest, BodyOverLimitIs413AndCloses) {
  start(options());
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    auto req = make_request(bhttp::verb::post, "/v1/performances/p1/queue",
                            std::string(64 * 1024 + 1, 'x'));
    req.set("X-Request-Id", "big-1");
    auto r = co_await roundtrip(s, buf, std::move(req));
    EXPECT_EQ(r.result(), bhttp::status::payload_too_large);
    EXPECT_EQ(error_code_of(r), "body_too_large");
    EXPECT_EQ(r[bhttp::field::content_type], "application/json");
    EXPECT_EQ(r["X-Request-Id"], "big-1");
    EXPECT_FALSE(r.keep_alive());
    EXPECT_EQ(r[bhttp::field::connection], "close");
    EXPECT_TRUE(co_await closed_by_peer(s, 2s));

    // Exactly at the limit is fine.
    auto s2 = co_await connect_to(port());
    r = co_await roundtrip(
        s2, buf,
        make_request(bhttp::verb::post, "/v1/performances/p1/queue", std::string(64 * 1024, 'x')));
    EXPECT_EQ(r.result(), bhttp::status::ok);

    // Chunked bodies are limited as they stream in.
    auto s3 = co_await connect_to(port());
    std::string chunk(40 * 1024, 'y');
    std::string wire =
        "POST /v1/performances/p1/queue HTTP/1.1\r\nHost: x\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    char hex[16];
    std::snprintf(hex, sizeof hex, "%zx\r\n", chunk.size());
    for (int i = 0; i < 2; ++i) wire += hex + chunk + "\r\n";
    wire += "0\r\n\r\n";
    co_await asio::async_write(s3.socket(), asio::buffer(wire), asio::use_awaitable);
    beast::flat_buffer buf3;
    r = co_await read_response(s3, buf3);
    EXPECT_EQ(r.result(), bhttp::status::payload_too_large);
  }());
}

TEST_F(ServerTest, HeadersOverLimitAre431) {
  start(options());
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    auto req = make_request(bhttp::verb::get, "/v1/events/e1");
    req.set("X-Padding", std::string(17 * 1024, 'p'));
    auto r = co_await roundtrip(s, buf, std::move(req));
    EXPECT_EQ(r.result(), bhttp::status::request_header_fields_too_large);
    EXPECT_EQ(error_code_of(r), "headers_too_large");
    EXPECT_EQ(r[bhttp::field::content_type], "application/json");
    EXPECT_FALSE(r["X-Request-Id"].empty());
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(co_await closed_by_peer(s, 2s));
  }());
}

TEST_F(ServerTest, MalformedHttpIs400AndCloses) {
  start(options());
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    std::string wire = "GET /v1/events/e1 HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n";
    co_await asio::async_write(s.socket(), asio::buffer(wire), asio::use_awaitable);
    beast::flat_buffer buf;
    auto r = co_await read_response(s, buf);
    EXPECT_EQ(r.result(), bhttp::status::bad_request);
    EXPECT_EQ(error_code_of(r), "malformed_request");
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(co_await closed_by_peer(s, 2s));
  }());
}

TEST_F(ServerTest, SlowClientIsCutOffAndOthersAreServed) {
  auto o = options();
  o.read_timeout = 500ms;
  start(o);
  run([this]() -> asio::awaitable<void> {
    auto slow = co_await connect_to(port());
    auto t0 = Clock::now();
    bool cut = false;
    bool got_bytes = false;
    // Reader side of the slow client: anything other than a close is a failure.
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          char c;
          auto [ec, n] = co_await slow.socket().async_read_some(asio::buffer(&c, 1), kTuple);
          got_bytes = n > 0;
          cut = true;
        },
        asio::detached);
    std::string wire = "GET /v1/events/e1 HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    wire += std::string(40, 'a');
    std::size_t sent = 0;
    bool served_other = false;
    while (!cut && Clock::now() - t0 < 2s) {
      auto [ec, n] = co_await asio::async_write(slow.socket(),
                                                asio::buffer(&wire[sent % wire.size()], 1), kTuple);
      if (ec) break;
      ++sent;
      if (sent == 2) {
        // Meanwhile a normal client is served promptly.
        auto other = co_await connect_to(port());
        beast::flat_buffer buf;
        auto r = co_await roundtrip(other, buf, make_request(bhttp::verb::get, "/v1/events/e2"));
        served_other = r.result() == bhttp::status::ok;
      }
      co_await sleep_for(200ms);
    }
    while (!cut && Clock::now() - t0 < 2s) co_await sleep_for(10ms);
    auto elapsed = Clock::now() - t0;
    EXPECT_TRUE(cut);
    EXPECT_FALSE(got_bytes) << "no partial or error response to a slow client";
    EXPECT_TRUE(served_other);
    EXPECT_LT(elapsed, 1100ms);
    EXPECT_GE(elapsed, 400ms);
    // And the server still works afterwards.
    auto again = co_await connect_to(port());
    beast::flat_buffer buf;
    auto r = co_await roundtrip(again, buf, make_request(bhttp::verb::get, "/v1/events/e3"));
    EXPECT_EQ(r.result(), bhttp::status::ok);
  }());
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosed) {
  auto o = options();
  o.idle_timeout = 200ms;
  start(o);
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/v1/events/e1"));
    EXPECT_EQ(r.result(), bhttp::status::ok);
    auto t0 = Clock::now();
    EXPECT_TRUE(co_await closed_by_peer(s, 2s));
    EXPECT_LT(Clock::now() - t0, 1s);
  }());
  EXPECT_EQ(servers_[0]->open_connections(), 0u);
}

// A client that stops reading mid-response is cut off after write_timeout: the response is
// bigger than the socket buffers, so the write suspends and only the deadline can end it.
TEST_F(ServerTest, ClientThatStopsReadingIsCutOffAfterWriteTimeout) {
  router_.add(bhttp::verb::get, "/big", [](RequestContext&) -> asio::awaitable<Response> {
    Response res{bhttp::status::ok, 11};
    res.body() = std::string(32 * 1024 * 1024, 'x');
    co_return res;
  });
  auto o = options();
  o.write_timeout = 300ms;
  start(o);
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    auto req = make_request(bhttp::verb::get, "/big");
    co_await bhttp::async_write(s, req, asio::use_awaitable);
    auto t0 = Clock::now();
    while (servers_[0]->open_connections() != 0 && Clock::now() - t0 < 3s) {
      co_await sleep_for(20ms);
    }
    EXPECT_EQ(servers_[0]->open_connections(), 0u);
    EXPECT_GE(Clock::now() - t0, 250ms);
    EXPECT_LT(Clock::now() - t0, 2s);
  }());
}

TEST_F(ServerTest, ConnectionCapSharedAcrossServers) {
  auto limiter = std::make_shared<ConnectionLimiter>(2);
  auto o = options();
  start(o, limiter);
  start(o, limiter);  // second instance on the same port (SO_REUSEPORT), same cap
  ASSERT_EQ(servers_[0]->port(), servers_[1]->port());
  run([this, limiter]() -> asio::awaitable<void> {
    beast::flat_buffer buf;
    auto a = co_await connect_to(port());
    auto b = co_await connect_to(port());
    // A completed request proves each connection was accepted and holds a slot.
    EXPECT_EQ((co_await roundtrip(a, buf, make_request(bhttp::verb::get, "/v1/events/a"))).result(),
              bhttp::status::ok);
    EXPECT_EQ((co_await roundtrip(b, buf, make_request(bhttp::verb::get, "/v1/events/b"))).result(),
              bhttp::status::ok);
    EXPECT_EQ(limiter->current(), 2u);

    for (int i = 0; i < 3; ++i) {
      auto c = co_await connect_to(port());
      beast::flat_buffer cbuf;
      auto r = co_await read_response(c, cbuf);  // answered before sending anything
      EXPECT_EQ(r.result(), bhttp::status::service_unavailable);
      EXPECT_EQ(error_code_of(r), "unavailable");
      EXPECT_EQ(r[bhttp::field::retry_after], "1");
      EXPECT_FALSE(r.keep_alive());
      EXPECT_TRUE(co_await closed_by_peer(c, 2s));
    }
    EXPECT_EQ(limiter->current(), 2u);

    // Closing one frees its slot.
    a.close();
    for (int i = 0; i < 100 && limiter->current() != 1; ++i) co_await sleep_for(5ms);
    EXPECT_EQ(limiter->current(), 1u);
    auto d = co_await connect_to(port());
    auto r = co_await roundtrip(d, buf, make_request(bhttp::verb::get, "/v1/events/d"));
    EXPECT_EQ(r.result(), bhttp::status::ok);
  }());
  EXPECT_NE(registry_.render().find("http_connections_rejected_total 3"), std::string::npos);
}

TEST_F(ServerTest, HandlerExceptionIs500WithoutLeakingText) {
  start(options());
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/boom"));
    EXPECT_EQ(r.result(), bhttp::status::internal_server_error);
    EXPECT_EQ(error_code_of(r), "internal");
    EXPECT_EQ(r.body().find("secret"), std::string::npos) << r.body();
    EXPECT_EQ(r.body().find("10.0.0.7"), std::string::npos);
    EXPECT_FALSE(r["X-Request-Id"].empty());
    // The connection survives a failed handler.
    r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/v1/events/e1"));
    EXPECT_EQ(r.result(), bhttp::status::ok);
  }());
  bool logged = false;
  for (const auto& l : log_lines()) {
    if (l.find("secret-db-password") != std::string::npos) {
      auto v = boost::json::parse(l);
      EXPECT_EQ(v.at("level").as_string(), "error");
      EXPECT_EQ(v.at("route").as_string(), "/boom");
      logged = true;
    }
  }
  EXPECT_TRUE(logged) << "exception text goes to the log";
}

// A one-shot signal between coroutines of the test's io_context: wait() resumes once set().
struct Event {
  explicit Event(asio::any_io_executor ex) : timer(ex, asio::steady_timer::time_point::max()) {}
  void set() {
    done = true;
    timer.cancel();
  }
  asio::awaitable<void> wait() {
    while (!done) co_await timer.async_wait(kTuple);
  }
  asio::steady_timer timer;
  bool done = false;
};

// Event-driven: the handler holds its request until the test releases it, so every step waits for
// a condition, never for a fixed time.
TEST_F(ServerTest, DrainFinishesInFlightAndClosesIdle) {
  Event entered(ioc_.get_executor()), release(ioc_.get_executor()), drained(ioc_.get_executor());
  router_.add(bhttp::verb::get, "/block", [&](RequestContext&) -> asio::awaitable<Response> {
    entered.set();
    co_await release.wait();
    co_return json_response(beast::http::status::ok, {{"released", true}});
  });
  start(options());
  Server& srv = *servers_[0];
  run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    beast::flat_buffer ibuf;
    auto idle = co_await connect_to(port());
    auto r = co_await roundtrip(idle, ibuf, make_request(bhttp::verb::get, "/v1/events/e1"));
    EXPECT_EQ(r.result(), bhttp::status::ok);

    auto busy = co_await connect_to(port());
    co_await bhttp::async_write(busy, make_request(bhttp::verb::get, "/block"),
                                asio::use_awaitable);
    co_await entered.wait();  // the handler is now running

    asio::co_spawn(ex, srv.drain(30s), [&](std::exception_ptr) { drained.set(); });
    // The idle keep-alive connection goes at once; the busy one holds the drain open.
    EXPECT_TRUE(co_await closed_by_peer(idle, 1s));
    EXPECT_FALSE(drained.done);
    EXPECT_TRUE(srv.draining());

    // No longer accepting, while the in-flight request is still running.
    beast::tcp_stream late(ex);
    late.expires_after(1s);
    auto [ec] = co_await late.async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()), kTuple);
    EXPECT_TRUE(ec);

    release.set();
    beast::flat_buffer bbuf;
    r = co_await read_response(busy, bbuf);
    EXPECT_EQ(r.result(), bhttp::status::ok);
    EXPECT_TRUE(body_json(r).at("released").as_bool());
    EXPECT_FALSE(r.keep_alive());  // Connection: close while draining
    EXPECT_TRUE(co_await closed_by_peer(busy, 1s));
    busy.close();  // a well-behaved client closes on Connection: close; the server lingers till
                   // then
    co_await drained.wait();  // well before the 30 s bound: the last connection's exit ends it
    EXPECT_EQ(srv.open_connections(), 0u);
  }());
}

TEST_F(ServerTest, DrainIsBoundedByMaxWait) {
  start(options());
  Server& srv = *servers_[0];
  run([this, &srv]() -> asio::awaitable<void> {
    auto busy = co_await connect_to(port());
    co_await bhttp::async_write(busy, make_request(bhttp::verb::get, "/slow?ms=3000"),
                                asio::use_awaitable);
    co_await sleep_for(50ms);
    auto t0 = Clock::now();
    co_await srv.drain(200ms);
    auto took = Clock::now() - t0;
    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 800ms);
    EXPECT_TRUE(co_await closed_by_peer(busy, 1s));  // forced closed, no response
  }());
}

TEST_F(ServerTest, MetricsAndAccessLog) {
  // Told to come back on every other call: 503 then 429, each with Retry-After.
  router_.add(bhttp::verb::get, "/v1/events/{event_id}/busy",
              [n = 0](RequestContext&) mutable -> asio::awaitable<Response> {
                Response r = json_response(
                    ++n % 2 ? bhttp::status::service_unavailable : bhttp::status::too_many_requests,
                    {{"error", "unavailable"}});
                r.set(bhttp::field::retry_after, "1");
                co_return r;
              });
  start(options());
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    for (int i = 0; i < 3; ++i) {
      auto req = make_request(bhttp::verb::get, "/v1/events/e" + std::to_string(i) + "?secret=1");
      req.set("X-Request-Id", "log-" + std::to_string(i));
      (void)co_await roundtrip(s, buf, std::move(req));
    }
    for (int i = 0; i < 2; ++i) {
      auto r = co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/v1/events/e/busy"));
      EXPECT_EQ(r.result_int(), i == 0 ? 503u : 429u);
    }
    (void)co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/nope/1"));
    (void)co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/nope/2"));
  }());
  std::string text = registry_.render();
  EXPECT_NE(text.find("# TYPE http_requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("http_requests_total{method=\"GET\",route=\"/v1/events/{event_id}\","
                      "status=\"200\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE http_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("http_request_duration_seconds_bucket{method=\"GET\",outcome=\"served\","
                      "route=\"/v1/events/{event_id}\",le=\"+Inf\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("http_request_duration_seconds_count{method=\"GET\",outcome=\"served\","
                      "route=\"/v1/events/{event_id}\"} 3\n"),
            std::string::npos);
  // Refusals in a series of their own, so the served requests' tail is not diluted by them.
  EXPECT_NE(text.find("http_request_duration_seconds_count{method=\"GET\",outcome=\"refused\","
                      "route=\"/v1/events/{event_id}/busy\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("outcome=\"served\",route=\"/v1/events/{event_id}/busy\""),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE http_open_connections gauge\nhttp_open_connections "),
            std::string::npos)
      << text;

  int request_lines = 0;
  for (const auto& l : log_lines()) {
    ASSERT_FALSE(l.empty());
    EXPECT_EQ(l.back(), '\n');
    EXPECT_EQ(l.find('\n'), l.size() - 1) << "one line per write";
    auto v = boost::json::parse(l).as_object();
    if (v.at("msg").as_string() != "request") continue;
    ++request_lines;
    if (v.at("route").as_string() != "/v1/events/{event_id}") continue;
    EXPECT_EQ(v.at("request_id").as_string().subview().substr(0, 4), "log-");
    EXPECT_EQ(v.at("method").as_string(), "GET");
    EXPECT_EQ(v.at("path").as_string().subview().substr(0, 12), "/v1/events/e");
    EXPECT_EQ(v.at("path").as_string().subview().find('?'), std::string::npos) << "no query";
    EXPECT_EQ(v.at("status").as_int64(), 200);
    EXPECT_GE(v.at("latency_ms").to_number<double>(), 0.0);
    EXPECT_EQ(v.at("remote").as_string(), "127.0.0.1");
    EXPECT_EQ(v.at("account_id").as_string(), "a-1");
    EXPECT_EQ(v.at("level").as_string(), "info");
    EXPECT_EQ(v.at("ts").as_string().size(), 24u);  // 2024-05-01T12:00:00.123Z
  }
  EXPECT_EQ(request_lines, 7);
}

// A request's span: a child of a valid incoming traceparent (its ids on the access log line), or
// a trace started by the handler that passes one on; requests nobody traces log no trace ids.
TEST_F(ServerTest, TraceparentMakesTheRequestASpanOfTheCallersTrace) {
  router_.add(bhttp::verb::get, "/pass-on", [](RequestContext& ctx) -> asio::awaitable<Response> {
    boost::json::object o;
    o["next"] = ctx.span().traceparent();  // what an outbox row or an upstream would carry
    co_return json_response(beast::http::status::ok, o);
  });
  start(options());
  const std::string incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  std::string passed_on, started;
  run([&]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    auto req = make_request(bhttp::verb::get, "/pass-on");
    req.set("X-Request-Id", "traced");
    req.set("traceparent", incoming);
    passed_on =
        std::string(body_json(co_await roundtrip(s, buf, std::move(req))).at("next").as_string());
    req = make_request(bhttp::verb::get, "/pass-on");
    req.set("X-Request-Id", "started");
    req.set("traceparent", "00-not-a-trace");
    started =
        std::string(body_json(co_await roundtrip(s, buf, std::move(req))).at("next").as_string());
    req = make_request(bhttp::verb::get, "/v1/events/e1");
    req.set("X-Request-Id", "untraced");
    (void)co_await roundtrip(s, buf, std::move(req));
  }());
  auto next = trace::parse(passed_on);
  ASSERT_TRUE(next) << passed_on;
  EXPECT_EQ(std::string_view(next->trace_id.data(), 32), "4bf92f3577b34da6a3ce929d0e0e4736");
  auto fresh = trace::parse(started);
  ASSERT_TRUE(fresh) << started;
  EXPECT_NE(std::string_view(fresh->trace_id.data(), 32), "4bf92f3577b34da6a3ce929d0e0e4736");
  int seen = 0;
  for (const auto& l : log_lines()) {
    auto v = boost::json::parse(l).as_object();
    if (v.at("msg").as_string() != "request") continue;
    auto id = v.at("request_id").as_string();
    ++seen;
    if (id == "traced") {
      EXPECT_EQ(v.at("trace_id").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
      EXPECT_EQ(v.at("parent_id").as_string(), "00f067aa0ba902b7");
      // The span passed on is this one: the next hop's parent.
      EXPECT_EQ(v.at("span_id").as_string(), std::string_view(next->parent_id.data(), 16));
    } else if (id == "started") {
      EXPECT_EQ(v.at("trace_id").as_string(), std::string_view(fresh->trace_id.data(), 32));
      EXPECT_EQ(v.at("span_id").as_string(), std::string_view(fresh->parent_id.data(), 16));
      EXPECT_FALSE(v.contains("parent_id"));
    } else {
      EXPECT_FALSE(v.contains("trace_id")) << l;
      EXPECT_FALSE(v.contains("span_id")) << l;
    }
  }
  EXPECT_EQ(seen, 3);
}

TEST_F(ServerTest, AccessLogCanBeDisabled) {
  auto o = options();
  o.access_log = false;
  start(o);
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    beast::flat_buffer buf;
    (void)co_await roundtrip(s, buf, make_request(bhttp::verb::get, "/v1/events/e1"));
  }());
  EXPECT_TRUE(log_lines().empty());
}

TEST_F(ServerTest, Http10WithoutKeepAliveIsClosedAfterResponse) {
  start(options());
  run([this]() -> asio::awaitable<void> {
    auto s = co_await connect_to(port());
    std::string wire = "GET /v1/events/e1 HTTP/1.0\r\n\r\n";
    co_await asio::async_write(s.socket(), asio::buffer(wire), asio::use_awaitable);
    beast::flat_buffer buf;
    auto r = co_await read_response(s, buf);
    EXPECT_EQ(r.result(), bhttp::status::ok);
    EXPECT_EQ(r.version(), 10u);
    EXPECT_TRUE(co_await closed_by_peer(s, 1s));
  }());
}

TEST_F(ServerTest, ListenFailsOnBusyPortWithoutReusePort) {
  auto o = options();
  o.reuse_port = false;
  start(o);
  o.port = port();
  Server other(ioc_.get_executor(), o, router_, registry_);
  EXPECT_FALSE(other.listen().ok());
}

}  // namespace
}  // namespace tk::http::testing

namespace tk::http::testing {
namespace {

// The client address a handler sees, from a route that echoes RequestContext::remote.
class ClientAddressServerTest : public HttpServerTest {
 protected:
  void SetUp() override {
    HttpServerTest::SetUp();
    router_.add(bhttp::verb::get, "/who", [](RequestContext& ctx) -> asio::awaitable<Response> {
      co_return json_response(bhttp::status::ok, {{"remote", ctx.remote.to_string()}});
    });
  }
  ServerOptions trusting(std::string_view list, bool proxy_protocol) {
    auto o = options();
    auto t = TrustedProxies::parse(list);
    EXPECT_TRUE(t);
    o.trusted_proxies = std::make_shared<const TrustedProxies>(*t);
    o.proxy_protocol = proxy_protocol;
    return o;
  }
  // Sends `raw` as is and returns the "remote" of the answer ("" when the connection closed).
  asio::awaitable<std::string> who(const std::string& raw) {
    auto s = co_await connect_to(port());
    co_await asio::async_write(s.socket(), asio::buffer(raw), asio::use_awaitable);
    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::string_body> p;
    s.expires_after(3s);
    auto [ec, n] = co_await bhttp::async_read(s, buf, p, kTuple);
    if (ec || p.get().result() != bhttp::status::ok) co_return std::string();
    co_return std::string(body_json(p.get()).at("remote").as_string());
  }
};

constexpr const char* kGet = "GET /who HTTP/1.1\r\nHost: x\r\n";

TEST_F(ClientAddressServerTest, ForwardedForIsBelievedOnlyFromATrustedPeer) {
  start(trusting("127.0.0.0/8, 10.0.0.0/8", false));
  run([this]() -> asio::awaitable<void> {
    std::string req = std::string(kGet) + "X-Forwarded-For: 1.1.1.1, 198.51.100.9\r\n" +
                      "X-Forwarded-For: 10.0.0.2\r\n\r\n";
    std::string got = co_await who(req);
    EXPECT_EQ(got, "198.51.100.9");
    std::string plain = std::string(kGet) + "\r\n";
    got = co_await who(plain);
    EXPECT_EQ(got, "127.0.0.1");
  }());
}

TEST_F(ClientAddressServerTest, ForwardedForFromAnUntrustedPeerIsIgnored) {
  start(trusting("10.0.0.0/8", false));
  run([this]() -> asio::awaitable<void> {
    std::string req = std::string(kGet) + "X-Forwarded-For: 198.51.100.9\r\n\r\n";
    std::string got = co_await who(req);
    EXPECT_EQ(got, "127.0.0.1");
  }());
}

TEST_F(ClientAddressServerTest, ProxyProtocolFromATrustedPeerGivesTheClient) {
  start(trusting("127.0.0.1", true));
  run([this]() -> asio::awaitable<void> {
    // v1, then XFF on top is walked from the address the header named (untrusted: it wins).
    std::string v1 = "PROXY TCP4 198.51.100.22 127.0.0.1 35646 80\r\n" + std::string(kGet) +
                     "X-Forwarded-For: 1.1.1.1\r\n\r\n";
    std::string got = co_await who(v1);
    EXPECT_EQ(got, "198.51.100.22");
    std::string v2("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c", 16);
    v2 += std::string("\xcb\x00\x71\x05\x7f\x00\x00\x01\x8b\x3e\x00\x50", 12);
    v2 += std::string(kGet) + "\r\n";
    got = co_await who(v2);
    EXPECT_EQ(got, "203.0.113.5");
    // A trusted peer without a header is refused: the connection is closed unanswered.
    std::string plain = std::string(kGet) + "\r\n";
    got = co_await who(plain);
    EXPECT_EQ(got, "");
  }());
}

TEST_F(ClientAddressServerTest, ProxyHeaderFromAnUntrustedPeerIsNotBelieved) {
  start(trusting("10.0.0.0/8", true));
  run([this]() -> asio::awaitable<void> {
    std::string v1 = "PROXY TCP4 198.51.100.22 127.0.0.1 35646 80\r\n" + std::string(kGet) + "\r\n";
    std::string got = co_await who(v1);
    EXPECT_EQ(got, "");  // not HTTP: 400, never a client address taken from it
    std::string plain = std::string(kGet) + "\r\n";
    got = co_await who(plain);
    EXPECT_EQ(got, "127.0.0.1");
  }());
}

}  // namespace
}  // namespace tk::http::testing
