// Client behaviour against a scripted fake server, for server states a real Redis cannot be held
// in on demand (-LOADING after a restart, garbage on the wire).
#include "redis_test_util.hpp"

namespace tk::redis::testing {
namespace {

using tcp = asio::ip::tcp;

// Accepts on an ephemeral loopback port and answers every chunk it reads with `answer`.
class FakeRedis {
 public:
  explicit FakeRedis(asio::any_io_executor ex)
      : acceptor_(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ex, accept(), asio::detached);
  }
  ~FakeRedis() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sockets_) s->close(ignored);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::string answer = "+PONG\r\n";
  int connections = 0;

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, s] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++connections;
      auto sock = std::make_shared<tcp::socket>(std::move(s));
      sockets_.push_back(sock);
      asio::co_spawn(acceptor_.get_executor(), serve(sock), asio::detached);
    }
  }
  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> s) {
    std::vector<char> buf(4096);
    for (;;) {
      auto [ec, n] =
          co_await s->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      std::string a = answer;
      auto [wec, wn] =
          co_await asio::async_write(*s, asio::buffer(a), asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
  }

  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
};

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

}  // namespace
}  // namespace tk::redis::testing
