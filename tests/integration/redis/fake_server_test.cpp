// Client behaviour against a scripted fake server, for server states a real Redis cannot be held
// in on demand (-LOADING after a restart, garbage on the wire).
#include "fake_server.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "redis_test_util.hpp"

namespace tk::redis::testing {
namespace {

using tcp = asio::ip::tcp;

TEST(RedisClientFake, LoadingServerIsUnavailableAndGarbageDropsTheConnection) {
  run([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    FakeRedis fake(ex);
    fake.answer = "-LOADING Redis is loading the dataset in memory\r\n";
    Endpoint ep;
    ep.port = fake.port();
    auto c = Client::create(ex, ep, fast_options());
    StopOnExit<Client> stop{c};  // declared after `fake`: stops the client first
    c->start();

    // A loading server accepts connections but is not up: the client keeps retrying.
    CO_ASSERT(co_await wait_until([&] { return fake.connections >= 3; }, 3s));
    EXPECT_FALSE(c->connected());
    EXPECT_EQ((co_await c->exec("PING")).code(), Errc::unavailable);
    EXPECT_NE(c->last_error().find("LOADING"), std::string::npos) << c->last_error();

    fake.answer = "+PONG\r\n";
    CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 3s));
    auto pong = co_await c->exec("PING");
    CO_ASSERT(pong.ok());
    EXPECT_EQ(pong->str, "PONG");

    // A transient refusal at run time: unavailable (not executed), connection kept.
    fake.answer = "-LOADING Redis is loading the dataset in memory\r\n";
    auto loading = co_await c->exec("GET", "k");
    EXPECT_EQ(loading.code(), Errc::unavailable);
    EXPECT_NE(error_text(loading.error()).find("LOADING"), std::string::npos);
    EXPECT_TRUE(c->connected());

    // Garbage: the stream cannot be trusted any more, so the connection is dropped, the command
    // fails with unavailable, and the client reconnects by itself.
    fake.answer = "?garbage\r\n";
    auto garbage = co_await c->exec("GET", "k");
    EXPECT_EQ(garbage.code(), Errc::unavailable);
    EXPECT_NE(c->last_error().find("protocol error"), std::string::npos) << c->last_error();
    fake.answer = "+PONG\r\n";
    CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 3s));
    EXPECT_GE(c->reconnects(), 1u);
    pong = co_await c->exec("PING");
    CO_ASSERT(pong.ok());
    EXPECT_EQ(pong->str, "PONG");
  });
}

// A server that stops answering (paused, stuck in a script, a peer gone without a FIN): timeouts
// alone would keep the connection in use forever; the stall rule drops and re-establishes it.
TEST(RedisClientFake, StalledConnectionIsDroppedAndReestablished) {
  run([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    FakeRedis fake(ex);
    Endpoint ep;
    ep.port = fake.port();
    Options o = fast_options();
    o.command_timeout = 100ms;
    o.stall_timeout = 400ms;
    o.ping_interval = 0ms;
    auto c = Client::create(ex, ep, o);
    StopOnExit<Client> stop{c};
    c->start();
    CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 3s));
    EXPECT_TRUE(c->healthy());

    fake.answer = "";  // silent from now on
    auto r = co_await c->exec("GET", "k");
    EXPECT_EQ(r.code(), Errc::timeout);
    EXPECT_FALSE(c->healthy());  // connected, but a command went unanswered past the timeout
    EXPECT_TRUE(c->connected());
    EXPECT_GE(c->unanswered_for(), o.command_timeout);

    fake.answer = "+PONG\r\n";  // a fresh connection is answered again (the old one stays silent)
    CO_ASSERT(co_await wait_until([&] { return c->stall_drops() == 1; }, 3s));
    CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 3s));
    EXPECT_EQ(fake.connections, 2);
    EXPECT_EQ(c->reconnects(), 1u);
    auto pong = co_await c->exec("PING");
    CO_ASSERT(pong.ok());
    EXPECT_EQ(pong->str, "PONG");
    EXPECT_TRUE(c->healthy());
    EXPECT_NE(c->last_error().find("no reply for"), std::string::npos) << c->last_error();
  });
}

// Nobody uses the connection: the PING watchdog finds that the server no longer answers.
TEST(RedisClientFake, IdleConnectionThatStopsAnsweringFailsThePingWatchdog) {
  run([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    FakeRedis fake(ex);
    Endpoint ep;
    ep.port = fake.port();
    Options o = fast_options();
    o.stall_timeout = 300ms;
    o.ping_interval = 100ms;
    auto c = Client::create(ex, ep, o);
    StopOnExit<Client> stop{c};
    c->start();
    CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 3s));
    // Answered PINGs keep a quiet connection up.
    co_await sleep(600ms);
    EXPECT_EQ(c->stall_drops(), 0u);
    EXPECT_GT(c->commands(), 2u);
    fake.answer = "";
    CO_ASSERT(co_await wait_until([&] { return c->stall_drops() >= 1; }, 3s));
    EXPECT_FALSE(c->connected());
    EXPECT_TRUE(co_await wait_until([&] { return fake.connections >= 2; }, 3s));
  });
}

// While the server does not answer, commands beyond max_pending fail at once (503) instead of
// piling up with their callers until the timeout.
TEST(RedisClientFake, PendingQueueIsBoundedWhileTheServerDoesNotAnswer) {
  run([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    FakeRedis fake(ex);
    Endpoint ep;
    ep.port = fake.port();
    Options o = fast_options();
    o.command_timeout = 1500ms;
    o.stall_timeout = 0ms;
    o.ping_interval = 0ms;
    o.max_pending = 10;
    auto c = Client::create(ex, ep, o);
    StopOnExit<Client> stop{c};
    c->start();
    CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 3s));
    fake.answer = "";
    int timeouts = 0;
    for (int i = 0; i < 10; ++i) {
      asio::co_spawn(
          ex,
          [&]() -> asio::awaitable<void> {
            if ((co_await c->exec("GET", "k")).code() == Errc::timeout) ++timeouts;
          },
          asio::detached);
    }
    co_await sleep(20ms);
    const auto t0 = std::chrono::steady_clock::now();
    auto over = co_await c->exec("GET", "k");
    EXPECT_EQ(over.code(), Errc::unavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 200ms);  // refused, not queued
    EXPECT_EQ(c->rejected(), 1u);
    CO_ASSERT(co_await wait_until([&] { return timeouts == 10; }, 5s));
  });
}

// TCP keepalive on the client's socket: the kernel lists its keepalive timer (timer 2, due within
// the 10 s idle time) in /proc/net/tcp for the connection to the fake's port.
TEST(RedisClientFake, ConnectionHasTcpKeepalive) {
  run([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    FakeRedis fake(ex);
    Endpoint ep;
    ep.port = fake.port();
    Options o = fast_options();
    o.ping_interval = 0ms;
    auto c = Client::create(ex, ep, o);
    StopOnExit<Client> stop{c};
    c->start();
    CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 3s));
    co_await sleep(300ms);  // past any delayed ACK of the handshake
    std::ifstream in("/proc/net/tcp");
    std::string line;
    char want[8];
    std::snprintf(want, sizeof want, ":%04X", fake.port());
    int found = 0;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, st, queues, timer;
      f >> sl >> local >> remote >> st >> queues >> timer;
      if (!remote.ends_with(want) || st != "01") continue;  // established, to the fake
      ++found;
      // "tr:when": timer kind 02 (keepalive), due in clock ticks (USER_HZ, 100/s).
      EXPECT_EQ(timer.substr(0, 2), "02") << line;
      const auto when = std::stoul(timer.substr(3), nullptr, 16);
      EXPECT_GT(when, 100u) << line;   // more than 1 s: not a delayed-ACK timer
      EXPECT_LE(when, 1000u) << line;  // within the 10 s keepalive idle time
    }
    EXPECT_EQ(found, 1);
  });
}

}  // namespace
}  // namespace tk::redis::testing
