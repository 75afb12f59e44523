// The client and the subscriber behind Redis Sentinel, on the Sentinel fixture (a primary, a
// replica, three sentinels): they follow a failover, leave a demoted primary on -READONLY, refuse
// a replica a sentinel still names, and fail fast when no sentinel answers.
#include <cstdio>

#include "fake_server.hpp"
#include "redis_test_util.hpp"

namespace tk::redis::testing {
namespace {

using tcp = asio::ip::tcp;

Endpoint sentinel_endpoint() {
  auto ep = Endpoint::parse(tk::test::env("TK_SENTINEL_URL"));
  if (!ep) throw std::runtime_error("bad TK_SENTINEL_URL");
  return *ep;
}

std::string shell(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
    ::pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string run_id_of(int port) {
  return shell("redis-cli -p " + std::to_string(port) +
               " info server | sed -n 's/^run_id:\\([0-9a-f]*\\).*/\\1/p'");
}

int primary_port() { return std::stoi(tk::test::servers_output("sentinel-primary")); }

// Runs a fixture switch that prints a port (sentinel-kill-primary...) off the I/O thread.
asio::awaitable<int> switch_to_new_primary(std::string cmd) {
  auto run = [&cmd] { return tk::test::servers_output(cmd); };
  const std::string out = co_await off_io_thread<std::string>(run);
  co_return std::stoi(out);
}

// Retries SET until it succeeds or `limit` passes; returns whether it did.
asio::awaitable<bool> write_until_ok(std::shared_ptr<Client> c, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    auto r = co_await c->exec("SET", "tk:sentinel:k", "after");
    if (r.ok()) co_return true;
    co_await sleep(20ms);
  }
  co_return false;
}

class RedisSentinel : public ::testing::Test {
 protected:
  // Every test starts from a primary with a linked replica known to all sentinels, whatever
  // the previous test killed or demoted.
  void SetUp() override { tk::test::servers("sentinel-heal"); }
};

TEST_F(RedisSentinel, ClientFollowsAFailoverAfterThePrimaryIsKilled) {
  run(
      []() -> asio::awaitable<void> {
        const int old_port = primary_port();
        const std::string old_run_id = run_id_of(old_port);
        CO_ASSERT(!old_run_id.empty());
        // The service's own reconnect backoff (up to 2 s), not the tests' fast one.
        auto c = co_await connected_client(Options{}, sentinel_endpoint());
        StopOnExit<Client> stop{c};
        CO_ASSERT(c->connected());
        EXPECT_EQ(c->node().port, old_port);
        EXPECT_EQ(c->run_id(), old_run_id);
        CO_ASSERT((co_await c->exec("SET", "tk:sentinel:k", "before")).ok());

        const int new_port = co_await switch_to_new_primary("sentinel-kill-primary");
        CO_ASSERT(new_port != old_port);
        const auto promoted = std::chrono::steady_clock::now();
        EXPECT_TRUE(co_await write_until_ok(c, 5s)) << c->last_error();
        EXPECT_LT(std::chrono::steady_clock::now() - promoted, 5s);
        EXPECT_EQ(c->node().port, new_port);
        // A new process: the waiting-room scripts see another run id and re-check the queues.
        EXPECT_NE(c->run_id(), old_run_id);
        EXPECT_EQ(c->run_id(), run_id_of(new_port));
        auto got = co_await c->exec("GET", "tk:sentinel:k");
        CO_ASSERT(got.ok());
        EXPECT_EQ(got->str, "after");
      },
      60s);
}

TEST_F(RedisSentinel, DemotedPrimaryAnswersReadonlyAsUnavailableAndTheClientMoves) {
  run(
      []() -> asio::awaitable<void> {
        static const Script kWrite("return redis.call('SET', KEYS[1], ARGV[1])");
        const int old_port = primary_port();
        auto c = co_await connected_client(fast_options(), sentinel_endpoint());
        StopOnExit<Client> stop{c};
        CO_ASSERT(c->connected());
        EXPECT_EQ(c->node().port, old_port);
        CO_ASSERT((co_await c->eval(kWrite, arglist("tk:sentinel:k"), arglist("x"))).ok());
        const auto reconnects = c->reconnects();

        // The old primary becomes a replica under the open connection.
        const int new_port = co_await switch_to_new_primary("sentinel-demote");
        CO_ASSERT(new_port != old_port);
        EXPECT_EQ(c->reconnects(), reconnects) << "the connection was not supposed to drop";
        auto refused = co_await c->eval(kWrite, arglist("tk:sentinel:k"), arglist("y"));
        CO_ASSERT(!refused.ok());
        // Not a script error: the write did not run, the caller answers 503 and may retry.
        EXPECT_EQ(refused.code(), Errc::unavailable);
        EXPECT_NE(error_text(refused.error()).find("READONLY"), std::string::npos);

        EXPECT_TRUE(co_await write_until_ok(c, 5s)) << c->last_error();
        EXPECT_EQ(c->node().port, new_port);
        EXPECT_EQ(c->run_id(), run_id_of(new_port));
        EXPECT_GT(c->reconnects(), reconnects);
      },
      60s);
}

// A sentinel that has not noticed a demotion yet names a replica: the ROLE check keeps the
// client off it (writes would fail, reads could be stale) until a sentinel names the primary.
TEST_F(RedisSentinel, ReplicaNamedByASentinelIsNotConnected) {
  run(
      []() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        const int primary = primary_port();
        const std::string nodes = tk::test::env("TK_SENTINEL_NODE_PORTS");
        const auto comma = nodes.find(',');
        const int a = std::stoi(nodes.substr(0, comma)), b = std::stoi(nodes.substr(comma + 1));
        const int replica = a == primary ? b : a;
        FakeRedis fake(ex);
        fake.answer.clear();  // a sentinel that answers nothing until told
        fake.answer = sentinel_names_primary(replica);
        Endpoint ep = sentinel_endpoint();
        ep.sentinels = {HostPort{"127.0.0.1", fake.port()}};
        auto c = Client::create(ex, ep, fast_options());
        StopOnExit<Client> stop{c};
        c->start();
        CO_ASSERT(co_await wait_until([&] { return fake.connections >= 3; }, 5s));
        EXPECT_FALSE(c->connected());
        EXPECT_EQ((co_await c->exec("SET", "tk:sentinel:k", "z")).code(), Errc::unavailable);
        EXPECT_NE(c->last_error().find("not a primary"), std::string::npos) << c->last_error();

        fake.answer = sentinel_names_primary(primary);
        CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 5s));
        EXPECT_EQ(c->node().port, primary);
        EXPECT_TRUE((co_await c->exec("SET", "tk:sentinel:k", "z")).ok());
      },
      30s);
}

// No sentinel answers (one refuses connections, one accepts and stays silent): commands fail at
// once with unavailable instead of waiting; a working sentinel later in the list is used.
TEST_F(RedisSentinel, UnreachableSentinelsFailFastAndTheNextOneIsAsked) {
  run(
      []() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        std::uint16_t refused_port = 0;
        {
          tcp::acceptor a(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
          refused_port = a.local_endpoint().port();
        }  // closed: connections to it are refused
        FakeRedis silent(ex);
        silent.answer.clear();  // accepts, never answers
        Endpoint ep = sentinel_endpoint();
        const auto working = ep.sentinels;
        ep.sentinels = {HostPort{"127.0.0.1", refused_port}, HostPort{"127.0.0.1", silent.port()}};
        auto c = Client::create(ex, ep, fast_options());
        auto sub = Subscriber::create(ex, ep, fast_options());
        StopOnExit<Client> stop{c};
        StopOnExit<Subscriber> stop_sub{sub};
        c->start();
        sub->start();
        // A whole connect attempt over: both sentinels asked (the subscriber asks them too).
        CO_ASSERT(co_await wait_until(
            [&] { return silent.connections >= 2 && !c->last_error().empty(); }, 5s));
        EXPECT_FALSE(c->connected());
        EXPECT_FALSE(sub->connected());
        const auto t0 = std::chrono::steady_clock::now();
        EXPECT_EQ((co_await c->exec("GET", "tk:sentinel:k")).code(), Errc::unavailable);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
        EXPECT_NE(c->last_error().find("no sentinel named a primary"), std::string::npos)
            << c->last_error();

        // The same two dead sentinels first, then the fixture's: the client gets through.
        Endpoint ep2 = ep;
        ep2.sentinels.insert(ep2.sentinels.end(), working.begin(), working.end());
        auto c2 = Client::create(ex, ep2, fast_options());
        StopOnExit<Client> stop2{c2};
        c2->start();
        CO_ASSERT(co_await wait_until([&] { return c2->connected(); }, 5s));
        EXPECT_EQ(c2->node().port, primary_port());
      },
      30s);
}

TEST_F(RedisSentinel, SubscriberResubscribesOnTheNewPrimary) {
  run(
      []() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        std::vector<std::string> got;
        auto sub = Subscriber::create(ex, sentinel_endpoint(), fast_options());
        StopOnExit<Subscriber> stop_sub{sub};
        sub->subscribe("tk:sentinel:ch");
        sub->on_message([&got](std::string_view, std::string_view m) { got.emplace_back(m); });
        sub->start();
        auto c = co_await connected_client(fast_options(), sentinel_endpoint());
        StopOnExit<Client> stop{c};
        CO_ASSERT(co_await wait_until([&] { return sub->connected() && c->connected(); }, 5s));
        CO_ASSERT((co_await c->exec("PUBLISH", "tk:sentinel:ch", "one")).ok());
        CO_ASSERT(co_await wait_until([&] { return got.size() == 1; }, 3s));

        const int new_port = co_await switch_to_new_primary("sentinel-kill-primary");
        CO_ASSERT(co_await write_until_ok(c, 5s));
        EXPECT_EQ(c->node().port, new_port);
        CO_ASSERT(
            co_await wait_until([&] { return sub->connected() && sub->reconnects() >= 1; }, 5s));
        auto n = co_await c->exec("PUBLISH", "tk:sentinel:ch", "two");
        CO_ASSERT(n.ok());
        EXPECT_EQ(n->integer, 1);  // the subscriber listens on the node that published
        CO_ASSERT(co_await wait_until([&] { return got.size() == 2; }, 3s));
        EXPECT_EQ(got[1], "two");
      },
      60s);
}

}  // namespace
}  // namespace tk::redis::testing
