// The PostgreSQL client on the Patroni fixture (two nodes, synchronous replication): the pool
// follows a failover through the multi-host URL, a COMMIT cut off by the primary's death is
// "outcome unknown", readiness survives a short failover, and catalogue reads use the replica
// only while it has replayed what the primary wrote.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "infra/postgres/postgres.hpp"
#include "infra/postgres/repos/repos.hpp"

namespace tk::pg::testing {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string patroni_dir() {
  const char* d = std::getenv("TK_TEST_PATRONI_DIR");
  if (d == nullptr) throw std::runtime_error("TK_TEST_PATRONI_DIR unset (patroni fixture)");
  return d;
}

// KEY from the fixture's env file (values may be single-quoted: the URLs hold '&').
std::string penv(const std::string& key) {
  std::ifstream in(patroni_dir() + "/env");
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || line.substr(0, eq) != key) continue;
    auto v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
    return v;
  }
  throw std::runtime_error("key " + key + " missing in the patroni env");
}

void patroni(const std::string& cmd) {
  const std::string c =
      std::string(TK_SOURCE_DIR) + "/tests/support/servers.sh " + cmd + " " + patroni_dir();
  if (std::system(c.c_str()) != 0) throw std::runtime_error("servers.sh failed: " + cmd);
}

class Patroni : public ::testing::Test {
 public:
  template <class T>
  T run(std::function<asio::awaitable<T>()> f, std::chrono::seconds limit = 60s) {
    std::optional<T> out;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.emplace(co_await f()); }, asio::detached);
    io_.restart();
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!out && std::chrono::steady_clock::now() < until) io_.run_for(50ms);
    if (!out) throw std::runtime_error("timed out");
    return std::move(*out);
  }
  tk::Result<Rows> q(Pool& p, std::string_view sql) {
    return run<tk::Result<Rows>>(
        [&]() -> asio::awaitable<tk::Result<Rows>> { co_return co_await p.query(sql); });
  }
  void pause(std::chrono::milliseconds d) {
    asio::steady_timer t(io_, d);
    run<bool>([&]() -> asio::awaitable<bool> {
      co_await t.async_wait(asio::use_awaitable);
      co_return true;
    });
  }
  std::shared_ptr<Pool> pool(const std::string& url, bool read_only = false, int size = 2) {
    PoolOptions o;
    o.conninfo = url;
    o.size = size;
    o.read_only = read_only;
    o.unhealthy_after = 3000ms;
    o.reconnect_backoff_max = 200ms;
    return Pool::create(io_.get_executor(), o);
  }
  asio::io_context io_;
};

TEST_F(Patroni, CatalogueReadsUseTheReplicaOnlyWhileItIsFresh) {
  auto primary = pool(penv("TICKETING_PG_URL"));
  // One connection, checked to be on the standby below: prefer-standby lands on the primary when
  // the standby refuses a connection for a moment, and a second connection there would answer
  // every freshness check with "fresh" (reads on the primary are).
  auto replica = pool(penv("TICKETING_PG_READ_URL"), true, 1);
  ASSERT_TRUE(run<tk::Status>([&] { return migrate(*primary); }).ok());
  auto where = q(*replica, "SELECT pg_is_in_recovery()");
  ASSERT_TRUE(where.ok());
  ASSERT_TRUE(where.value().boolean(0, 0)) << "the read URL prefers the standby";
  auto fresh = [&] { return run<bool>([&] { return replica_fresh(*primary, *replica, 500ms); }); };
  EXPECT_TRUE(fresh());

  // The replica stops applying WAL (it still receives and confirms it: commits go on). Outside
  // maintenance mode Patroni resumes a paused replay on its next loop, so maintenance goes first.
  patroni("patroni-maintenance-on");
  struct Maintenance {
    ~Maintenance() {
      try {
        patroni("patroni-maintenance-off");
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    }
  } maintenance;
  ASSERT_TRUE(q(*replica, "SELECT pg_wal_replay_pause()").ok());
  // A pause is a request: replay stops at its next record, so wait until it says "paused".
  bool paused = false;
  for (int i = 0; i < 100 && !paused; ++i) {
    auto st = q(*replica, "SELECT pg_get_wal_replay_pause_state()");
    ASSERT_TRUE(st.ok());
    paused = st.value().text(0, 0) == "paused";
    if (!paused) pause(50ms);
  }
  ASSERT_TRUE(paused) << "the replica did not pause its replay";
  struct Resume {
    Patroni* t;
    std::shared_ptr<Pool> p;
    ~Resume() { (void)t->q(*p, "SELECT pg_wal_replay_resume()"); }
  } resume{this, replica};
  pgrepo::CatalogWriter writer(primary);
  auto venue = run<tk::Result<domain::Venue>>([&] {
    std::vector<app::NewSection> sections{{"S", {{"A", 2, "R"}}}};
    return writer.create_venue("Replica Hall", sections);
  });
  ASSERT_TRUE(venue.ok());
  EXPECT_FALSE(fresh()) << "the replica has not replayed the venue";

  auto verdict = std::make_shared<ReplicaFreshness>();
  pgrepo::CatalogReader reader(replica, primary, verdict);
  auto get = [&] {
    return run<tk::Result<std::optional<domain::Venue>>>(
        [&] { return reader.get_venue(venue.value().id); });
  };
  verdict->set(false);  // stale: the primary answers, with the venue
  auto from_primary = get();
  ASSERT_TRUE(from_primary.ok());
  EXPECT_TRUE(from_primary.value().has_value());
  verdict->set(true);  // (wrongly) fresh: the lagging replica answers, without it
  auto from_replica = get();
  ASSERT_TRUE(from_replica.ok());
  EXPECT_FALSE(from_replica.value().has_value());

  ASSERT_TRUE(q(*replica, "SELECT pg_wal_replay_resume()").ok());
  EXPECT_TRUE(fresh());
  auto caught_up = get();
  ASSERT_TRUE(caught_up.ok());
  EXPECT_TRUE(caught_up.value().has_value());
}

TEST_F(Patroni, PoolFollowsAFailoverAndACutOffCommitIsUnknown) {
  auto p = pool(penv("TICKETING_PG_URL"));
  auto replica = pool(penv("TICKETING_PG_READ_URL"), true);
  ASSERT_TRUE(q(*p, "CREATE TABLE IF NOT EXISTS failover_probe (id text PRIMARY KEY)").ok());
  auto before = q(*p, "SELECT inet_server_port()");
  ASSERT_TRUE(before.ok());
  const auto old_port = before.value().int64(0, 0);

  // Hold the COMMIT in its wait for the synchronous standby: stop the replica's WAL receiver.
  auto wr = q(*replica, "SELECT pid FROM pg_stat_wal_receiver");
  ASSERT_TRUE(wr.ok() && wr.value().size() == 1);
  const auto receiver = std::to_string(wr.value().int64(0, 0));
  ASSERT_EQ(std::system(("kill -STOP " + receiver).c_str()), 0);
  bool resumed = false;
  auto resume = [&] {
    if (!resumed) (void)std::system(("kill -CONT " + receiver).c_str());
    resumed = true;
  };

  std::optional<tk::Status> committed;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        committed = co_await transaction(*p, [](Connection& c) -> asio::awaitable<tk::Status> {
          auto r = co_await c.query("INSERT INTO failover_probe VALUES (gen_random_uuid())");
          if (!r.ok()) co_return std::move(r).error();
          co_return tk::Status{};
        });
      },
      asio::detached);
  io_.restart();
  io_.run_for(1s);
  ASSERT_FALSE(committed) << "COMMIT should wait for the stopped synchronous standby";

  // Kill the primary; resume the receiver before Patroni's TTL lets the replica be promoted.
  std::thread killer([] { patroni("patroni-kill-primary"); });
  const auto t0 = std::chrono::steady_clock::now();
  while (!committed && std::chrono::steady_clock::now() - t0 < 10s) io_.run_for(50ms);
  resume();
  ASSERT_TRUE(committed);
  EXPECT_EQ(committed->code(), Errc::unavailable);
  const auto* commit = committed->error().details.if_contains("commit");
  ASSERT_NE(commit, nullptr) << "a cut-off COMMIT must say its outcome is unknown";
  EXPECT_EQ(commit->as_string(), "unknown");

  // While no primary answers: still healthy for unhealthy_after (3 s), then not; the same pool
  // finds the new primary through the multi-host URL without being told.
  bool healthy_while_failing = false, unhealthy_later = false;
  std::optional<std::int64_t> new_port;
  std::optional<std::chrono::steady_clock::time_point> first_failure;
  while (std::chrono::steady_clock::now() - t0 < 60s) {
    auto r = q(*p, "SELECT inet_server_port() FROM (SELECT pg_current_xact_id()) x");
    if (r.ok()) {
      new_port = r.value().int64(0, 0);
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!first_failure) first_failure = now;
    if (now - *first_failure < 2s && p->healthy()) healthy_while_failing = true;
    if (now - *first_failure > 3500ms && !p->healthy()) unhealthy_later = true;
    pause(200ms);
  }
  killer.join();
  ASSERT_TRUE(new_port) << "no writable primary through the pool";
  EXPECT_NE(*new_port, old_port);
  EXPECT_TRUE(p->healthy());
  EXPECT_TRUE(healthy_while_failing);
  EXPECT_TRUE(unhealthy_later);

  patroni("patroni-restore");
}

}  // namespace
}  // namespace tk::pg::testing
