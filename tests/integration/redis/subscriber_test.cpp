// Integration tests of tk::redis::Subscriber against the fixture's real redis-server.
#include "redis_test_util.hpp"

namespace tk::redis::testing {
namespace {

class RedisSubscriber : public RedisTest {};

struct Received {
  std::vector<std::pair<std::string, std::string>> messages;
  bool has(const std::string& ch, const std::string& msg) const {
    return std::find(messages.begin(), messages.end(), std::pair{ch, msg}) != messages.end();
  }
};

asio::awaitable<long long> publish(Client& c, std::string ch, std::string msg) {
  auto r = co_await c.exec("PUBLISH", std::move(ch), std::move(msg));
  co_return r ? r->integer : -1;
}

void restart_test(const char* how) {
  run(
      [how]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        auto sub = Subscriber::create(ex, endpoint(), fast_options());
        StopOnExit<Subscriber> stop_sub{sub};
        Received got;
        int connects = 0;
        sub->subscribe("tk:ch:serving");
        sub->psubscribe("tk:p:*");
        sub->subscribe("tk:ch:serving");  // duplicates are ignored
        sub->on_message(
            [&](std::string_view ch, std::string_view msg) { got.messages.emplace_back(ch, msg); });
        sub->on_connect([&] { ++connects; });
        sub->start();
        CO_ASSERT(co_await wait_until([&] { return connects == 1; }, 3s));
        EXPECT_TRUE(sub->connected());

        auto c = co_await connected_client();
        StopOnExit<Client> stop_c{c};
        CO_ASSERT(c->connected());
        EXPECT_EQ(co_await publish(*c, "tk:ch:serving", "42"), 1);
        EXPECT_EQ(co_await publish(*c, "tk:p:7", std::string("bin\0ary", 7)), 1);
        EXPECT_EQ(co_await publish(*c, "tk:other", "ignored"), 0);
        CO_ASSERT(co_await wait_until([&] { return got.messages.size() >= 2; }, 2s));
        EXPECT_TRUE(got.has("tk:ch:serving", "42"));
        EXPECT_TRUE(got.has("tk:p:7", std::string("bin\0ary", 7)));

        co_await servers(how);
        CO_ASSERT(co_await wait_until([&] { return !sub->connected(); }, 3s));
        co_await servers("redis-start");
        CO_ASSERT(co_await wait_until([&] { return connects == 2; }, 5s));
        EXPECT_TRUE(sub->connected());
        EXPECT_EQ(sub->reconnects(), 1u);
        CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 5s));
        // Subscriptions were restored before on_connect: publishing now reaches the subscriber.
        EXPECT_EQ(co_await publish(*c, "tk:ch:serving", "43"), 1);
        EXPECT_EQ(co_await publish(*c, "tk:p:8", "x"), 1);
        CO_ASSERT(co_await wait_until([&] { return got.messages.size() >= 4; }, 2s));
        EXPECT_TRUE(got.has("tk:ch:serving", "43"));
        EXPECT_TRUE(got.has("tk:p:8", "x"));
        EXPECT_EQ(got.messages.size(), 4u);
      },
      20s);
}

TEST_F(RedisSubscriber, ReceivesMessagesAndResubscribesAfterRestart) { restart_test("redis-stop"); }

TEST_F(RedisSubscriber, ResubscribesAfterKill9) { restart_test("redis-kill"); }

TEST_F(RedisSubscriber, SubscribeWhileConnectedTakesEffect) {
  run([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto sub = Subscriber::create(ex, endpoint(), fast_options());
    StopOnExit<Subscriber> stop_sub{sub};
    Received got;
    int connects = 0;
    sub->on_message(
        [&](std::string_view ch, std::string_view msg) { got.messages.emplace_back(ch, msg); });
    sub->on_connect([&] { ++connects; });
    sub->start();
    CO_ASSERT(co_await wait_until([&] { return connects == 1; }, 3s));  // no subscriptions yet
    auto c = co_await connected_client();
    StopOnExit<Client> stop_c{c};
    sub->subscribe("tk:ch:late");
    co_await sleep(100ms);  // let the SUBSCRIBE reach the server
    EXPECT_EQ(co_await publish(*c, "tk:ch:late", "hi"), 1);
    CO_ASSERT(co_await wait_until([&] { return got.has("tk:ch:late", "hi"); }, 2s));
    EXPECT_EQ(connects, 1);
  });
}

}  // namespace
}  // namespace tk::redis::testing
