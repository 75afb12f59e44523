// The gateway's forwarder against a real API process (the built binary, role api, on the
// fixture's PostgreSQL and Redis), next to upstreams that fail in the ways a killed process does:
// a port nobody listens on (refused), a process that takes the request and dies without
// answering (cut after send), one that never answers (deadline).
#include "gateway/forwarder.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "gateway/upstreams.hpp"
#include "support/test_env.hpp"

namespace tk::gateway {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

std::uint16_t free_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

bool answers(std::uint16_t port) {
  try {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string req = "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    asio::write(s, asio::buffer(req));
    std::string out;
    boost::system::error_code ec;
    char buf[512];
    while (true) {
      auto n = s.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
    }
    return out.rfind("HTTP/1.1 200", 0) == 0;
  } catch (const std::exception&) {
    return false;
  }
}

// One API process for the whole suite.
pid_t api_pid = 0;
std::uint16_t api_port = 0;

class Forwarding : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    api_port = free_port();
    std::uint16_t ops = free_port();
    api_pid = fork();
    if (api_pid == 0) {
      setenv("TICKETING_ROLE", "api", 1);
      setenv("TICKETING_HTTP_PORT", std::to_string(api_port).c_str(), 1);
      setenv("TICKETING_OPS_PORT", std::to_string(ops).c_str(), 1);
      setenv("TICKETING_THREADS", "1", 1);
      setenv("TICKETING_PG_URL", test::env("TICKETING_PG_URL").c_str(), 1);
      setenv("TICKETING_REDIS_URL", test::env("TICKETING_REDIS_URL").c_str(), 1);
      setenv("TICKETING_SECRET", "it-gateway-secret-0123456789abcdef0123456789", 1);
      setenv("TICKETING_ACCESS_LOG", "0", 1);
      setenv("TICKETING_ARGON2_OPSLIMIT", "1", 1);
      setenv("TICKETING_ARGON2_MEMLIMIT_KIB", "8192", 1);
      setenv("TICKETING_RATE_PER_ADDRESS", "0", 1);
      setenv("TICKETING_SIGNUPS_PER_MINUTE", "100000", 1);
      std::string bin = test::service_bin();
      execl(bin.c_str(), bin.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 300 && !answers(api_port); ++i) std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(answers(api_port)) << "the API process did not become ready";
  }
  static void TearDownTestSuite() {
    if (api_pid > 0) {
      kill(api_pid, SIGTERM);
      waitpid(api_pid, nullptr, 0);
    }
  }

  tcp::endpoint api() const { return {asio::ip::make_address("127.0.0.1"), api_port}; }

  // Accepts connections, reads a request's head and then closes (dies mid-request) or, with
  // `hang`, keeps it unanswered. Counts the requests it took.
  struct Faulty {
    tcp::acceptor acceptor;
    bool hang = false;
    int taken = 0;
    std::vector<std::shared_ptr<tcp::socket>> held;
    explicit Faulty(asio::io_context& io)
        : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
    tcp::endpoint endpoint() const { return acceptor.local_endpoint(); }
    asio::awaitable<void> run() {
      for (;;) {
        auto [ec, s] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        auto sock = std::make_shared<tcp::socket>(std::move(s));
        std::string data;
        auto [rec, n] = co_await asio::async_read_until(
            *sock, asio::dynamic_buffer(data), "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
        if (rec) continue;
        ++taken;
        if (hang) {
          held.push_back(sock);
        } else {
          boost::system::error_code ignored;
          sock->close(ignored);
        }
      }
    }
  };

  // Runs one forward on `io` and returns its result.
  Result<http::Response> forward(asio::io_context& io, Forwarder& f, http::Request req,
                                 std::chrono::milliseconds budget = 5000ms) {
    std::optional<Result<http::Response>> out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          out.emplace(co_await f.forward(req, std::chrono::steady_clock::now() + budget));
        },
        asio::detached);
    while (!out) io.run_one();
    return std::move(*out);
  }

  static http::Request request(bhttp::verb v, std::string target, std::string body = {}) {
    http::Request r{v, target, 11};
    r.set(bhttp::field::host, "gateway-test");
    if (!body.empty()) {
      r.set(bhttp::field::content_type, "application/json");
      r.body() = std::move(body);
    }
    return r;
  }

  static std::string new_account_body() {
    static int n = 0;
    return R"({"email":"fwd)" + std::to_string(getpid()) + "-" + std::to_string(++n) +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
           R"(@example.com","password":"password-123","name":"F"})";
  }
};

TEST_F(Forwarding, ReachesTheApiAndReusesItsConnection) {
  asio::io_context io;
  Upstreams ups({api()}, {});
  Forwarder f(io.get_executor(), ups, {});
  for (int i = 0; i < 3; ++i) {
    auto r = forward(io, f, request(bhttp::verb::get, "/readyz"));
    ASSERT_TRUE(r) << r.error().code.message();
    EXPECT_EQ(r->result(), bhttp::status::ok);
    EXPECT_NE(r->body().find("\"role\":\"api\""), std::string::npos) << r->body();
    EXPECT_EQ(r->count(bhttp::field::connection), 0u);  // hop-by-hop: the gateway's own
  }
}

TEST_F(Forwarding, RefusedBeforeSendingGoesToTheNextUpstreamEvenForAPost) {
  asio::io_context io;
  tcp::endpoint refused{asio::ip::make_address("127.0.0.1"), free_port()};
  Upstreams ups({refused, api()}, {});
  Forwarder f(io.get_executor(), ups, {});
  auto r = forward(io, f, request(bhttp::verb::post, "/v1/accounts", new_account_body()));
  ASSERT_TRUE(r) << r.error().code.message();
  EXPECT_EQ(r->result(), bhttp::status::created) << r->body();
  EXPECT_FALSE(ups.healthy(0));  // out at once, not after the next checks
  EXPECT_TRUE(ups.healthy(1));
}

TEST_F(Forwarding, APostWithoutKeyCutAfterSendingIsNotRepeated) {
  asio::io_context io;
  Faulty dies(io);
  asio::co_spawn(io, dies.run(), asio::detached);
  Upstreams ups({dies.endpoint(), api()}, {});
  Forwarder f(io.get_executor(), ups, {});
  const std::string body = new_account_body();
  auto r = forward(io, f, request(bhttp::verb::post, "/v1/accounts", body));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::upstream_failed));
  EXPECT_EQ(to_response(Errc::upstream_failed).result(), bhttp::status::bad_gateway);
  EXPECT_EQ(dies.taken, 1);
  EXPECT_FALSE(ups.healthy(0));
  // The API never saw it: the same sign-up is new there.
  Upstreams api_only({api()}, {});
  Forwarder g(io.get_executor(), api_only, {});
  auto again = forward(io, g, request(bhttp::verb::post, "/v1/accounts", body));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->result(), bhttp::status::created) << again->body();
}

TEST_F(Forwarding, KeyedPostsAndReadsCutAfterSendingAreRetried) {
  asio::io_context io;
  Faulty dies(io);
  asio::co_spawn(io, dies.run(), asio::detached);
  {
    Upstreams ups({dies.endpoint(), api()}, {});
    Forwarder f(io.get_executor(), ups, {});
    auto req = request(bhttp::verb::post, "/v1/orders/ord_x/payment",
                       R"({"method":"card","card_token":"tok_ok"})");
    req.set("Idempotency-Key", "fwd-key-1");
    auto r = forward(io, f, req);
    ASSERT_TRUE(r) << r.error().code.message();
    EXPECT_EQ(r->result(), bhttp::status::unauthorized);  // the API's answer: no session
    EXPECT_EQ(dies.taken, 1);
  }
  {
    Upstreams ups({dies.endpoint(), api()}, {});
    Forwarder f(io.get_executor(), ups, {});
    auto r = forward(io, f, request(bhttp::verb::get, "/v1/events"));
    ASSERT_TRUE(r) << r.error().code.message();
    EXPECT_EQ(r->result(), bhttp::status::ok);
    EXPECT_EQ(dies.taken, 2);
  }
}

TEST_F(Forwarding, AnUnansweredRequestEndsAtItsDeadline) {
  asio::io_context io;
  Faulty hangs(io);
  hangs.hang = true;
  asio::co_spawn(io, hangs.run(), asio::detached);
  Upstreams ups({hangs.endpoint(), api()}, {});
  Forwarder f(io.get_executor(), ups, {});
  auto t0 = std::chrono::steady_clock::now();
  auto r = forward(io, f, request(bhttp::verb::get, "/v1/events"), 300ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::upstream_timeout));
  EXPECT_LT(took, 2s);
  EXPECT_GE(took, 250ms);
}

TEST_F(Forwarding, NoHealthyUpstreamIs503) {
  asio::io_context io;
  tcp::endpoint refused{asio::ip::make_address("127.0.0.1"), free_port()};
  Upstreams ups({refused}, {});
  Forwarder f(io.get_executor(), ups, {});
  auto r = forward(io, f, request(bhttp::verb::get, "/v1/events"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(Errc::no_upstream));
  auto res = to_response(Errc::no_upstream);
  EXPECT_EQ(res.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(res.count(bhttp::field::retry_after), 1u);
}

}  // namespace
}  // namespace tk::gateway
