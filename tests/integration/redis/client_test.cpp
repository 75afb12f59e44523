// Integration tests of tk::redis::Client against the fixture's real redis-server.
#include <algorithm>
#include <numeric>

#include "common/deadline.hpp"
#include "common/log.hpp"
#include "redis_test_util.hpp"

namespace tk::redis::testing {
namespace {

using Clock = std::chrono::steady_clock;

class RedisClient : public RedisTest {};

TEST_F(RedisClient, BasicCommandsAndReplyTypes) {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connected_client();
    StopOnExit<Client> stop{c};
    CO_ASSERT(c->connected());

    auto pong = co_await c->exec("PING");
    CO_ASSERT(pong.ok());
    EXPECT_TRUE(pong->is_status());
    EXPECT_EQ(pong->str, "PONG");

    // Binary-safe: NUL, CR/LF and '$' in keys and values.
    const std::string key("tk:t:bin\0key", 12);
    const std::string value("a\0b\r\n$3\r\nxyz", 12);
    auto set = co_await c->exec("SET", key, value);
    CO_ASSERT(set.ok());
    EXPECT_TRUE(set->is_ok());
    auto get = co_await c->exec("GET", key);
    CO_ASSERT(get.ok());
    EXPECT_TRUE(get->is_string());
    EXPECT_EQ(get->str, value);

    auto missing = co_await c->exec("GET", "tk:t:missing");
    CO_ASSERT(missing.ok());
    EXPECT_TRUE(missing->is_nil());

    std::vector<std::string> args{"INCRBY", "tk:t:n", "41"};  // the vector overload
    auto incr = co_await c->exec(std::move(args));
    CO_ASSERT(incr.ok());
    EXPECT_TRUE(incr->is_integer());
    EXPECT_EQ(incr->integer, 41);
    EXPECT_EQ(incr->to_int(), 41);

    CO_ASSERT((co_await c->exec("RPUSH", "tk:t:list", "x", "", "z")).ok());
    auto list = co_await c->exec("LRANGE", "tk:t:list", "0", "-1");
    CO_ASSERT(list.ok());
    EXPECT_EQ(*list, Reply::from_array({Reply::from_string("x"), Reply::from_string(""),
                                        Reply::from_string("z")}));
    auto empty = co_await c->exec("LRANGE", "tk:t:none", "0", "-1");
    CO_ASSERT(empty.ok());
    EXPECT_TRUE(empty->is_array());
    EXPECT_TRUE(empty->elements.empty());

    // A nested array with an error element: MULTI/EXEC keeps per-command errors as elements.
    CO_ASSERT((co_await c->exec("MULTI")).ok());
    CO_ASSERT((co_await c->exec("INCR", "tk:t:list")).ok());  // QUEUED
    CO_ASSERT((co_await c->exec("ECHO", "after")).ok());
    auto tx = co_await c->exec("EXEC");
    CO_ASSERT(tx.ok());
    CO_ASSERT(tx->is_array() && tx->elements.size() == 2);
    EXPECT_TRUE(tx->elements[0].is_error());
    EXPECT_EQ(tx->elements[1], Reply::from_string("after"));
    EXPECT_GE(c->commands(), 12u);
  });
}

TEST_F(RedisClient, ErrorReplyIsReplyErrorWithRedisText) {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connected_client();
    StopOnExit<Client> stop{c};
    CO_ASSERT(c->connected());
    CO_ASSERT((co_await c->exec("SET", "tk:t:s", "not-a-number")).ok());
    auto r = co_await c->exec("INCR", "tk:t:s");
    CO_ASSERT(!r.ok());
    EXPECT_EQ(r.code(), Errc::reply_error);
    EXPECT_NE(error_text(r.error()).find("not an integer"), std::string::npos)
        << error_text(r.error());
    auto unknown = co_await c->exec("NO-SUCH-COMMAND");
    EXPECT_EQ(unknown.code(), Errc::reply_error);
    // The connection stays usable and in step after errors.
    auto echo = co_await c->exec("ECHO", "still-fine");
    CO_ASSERT(echo.ok());
    EXPECT_EQ(echo->str, "still-fine");
    std::vector<std::string> empty_args;
    auto none = co_await c->exec(std::move(empty_args));
    EXPECT_EQ(none.code(), std::errc::invalid_argument);
  });
}

TEST_F(RedisClient, ConcurrentExecsArePipelinedAndMatchedInOrder) {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connected_client();
    StopOnExit<Client> stop{c};
    CO_ASSERT(c->connected());
    auto ex = co_await asio::this_coro::executor;

    constexpr int kN = 1000;
    const auto writes0 = c->writes();
    const auto commands0 = c->commands();
    int finished = 0, wrong = 0;
    std::vector<int> order;  // completion order of the first command of each coroutine
    for (int i = 0; i < kN; ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> asio::awaitable<void> {
            auto echo = co_await c->exec("ECHO", "value-" + std::to_string(i));
            order.push_back(i);
            if (!echo || echo->str != "value-" + std::to_string(i)) ++wrong;
            auto incr = co_await c->exec("INCRBY", "tk:t:k" + std::to_string(i), i + 1);
            if (!incr || incr->integer != i + 1) ++wrong;
            ++finished;
          },
          asio::detached);
    }
    CO_ASSERT(co_await wait_until([&] { return finished == kN; }, 5s));
    EXPECT_EQ(wrong, 0);
    std::vector<int> expected(kN);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(order, expected);  // FIFO: replies complete callers in the order they were issued
    const auto writes = c->writes() - writes0;
    const auto commands = c->commands() - commands0;
    EXPECT_EQ(commands, 2u * kN);
    // Pipelining: 2,000 commands leave in far fewer writes than commands.
    EXPECT_LE(writes * 20, commands) << writes << " writes for " << commands << " commands";
  });
}

const Script kEchoIncr(R"(
  local n = redis.call('INCRBY', KEYS[1], ARGV[2])
  return {KEYS[1], ARGV[1], n, KEYS[2]}
)");
const Script kFails(R"(
  if ARGV[1] == 'soft' then return redis.error_reply('SEAT_TAKEN seat 12') end
  return redis.call('INCR', KEYS[1])
)");

TEST_F(RedisClient, EvalPassesKeysAndArgsAndMapsScriptErrors) {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connected_client();
    StopOnExit<Client> stop{c};
    CO_ASSERT(c->connected());
    auto r =
        co_await c->eval(kEchoIncr, arglist("tk:t:{p1}:a", "tk:t:{p1}:b"), arglist("hello", 5));
    CO_ASSERT(r.ok());
    EXPECT_EQ(*r, Reply::from_array({Reply::from_string("tk:t:{p1}:a"), Reply::from_string("hello"),
                                     Reply::from_int(5), Reply::from_string("tk:t:{p1}:b")}));
    r = co_await c->eval(kEchoIncr, arglist("tk:t:{p1}:a", "x"), arglist("again", 2));
    CO_ASSERT(r.ok());
    EXPECT_EQ(r->elements.at(2).integer, 7);

    auto soft = co_await c->eval(kFails, arglist("tk:t:f"), arglist("soft"));
    CO_ASSERT(!soft.ok());
    EXPECT_EQ(soft.code(), Errc::reply_error);
    EXPECT_EQ(error_text(soft.error()), "SEAT_TAKEN seat 12");

    CO_ASSERT((co_await c->exec("SET", "tk:t:f", "text")).ok());
    auto runtime = co_await c->eval(kFails, arglist("tk:t:f"), arglist("hard"));
    EXPECT_EQ(runtime.code(), Errc::reply_error);

    auto bad = co_await c->eval(Script("this is not lua"), {}, {});
    EXPECT_EQ(bad.code(), Errc::reply_error);
    EXPECT_NE(error_text(bad.error()).find("compil"), std::string::npos) << error_text(bad.error());
  });
}

TEST_F(RedisClient, EvalReloadsScriptAfterScriptFlush) {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connected_client();
    StopOnExit<Client> stop{c};
    CO_ASSERT(c->connected());
    const Script s("return ARGV[1] .. '!'");
    auto r = co_await c->eval(s, {}, arglist("one"));
    CO_ASSERT(r.ok());
    EXPECT_EQ(r->str, "one!");
    auto sha = co_await c->exec("SCRIPT", "LOAD", s.source());
    CO_ASSERT(sha.ok());

    CO_ASSERT((co_await c->exec("SCRIPT", "FLUSH")).ok());
    auto exists = co_await c->exec("SCRIPT", "EXISTS", sha->str);
    CO_ASSERT(exists.ok() && exists->elements.size() == 1);
    EXPECT_EQ(exists->elements[0].integer, 0);

    // Concurrent evals all hit NOSCRIPT; each reloads and retries once.
    int ok = 0;
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 20; ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> asio::awaitable<void> {
            auto r = co_await c->eval(s, {}, arglist(std::to_string(i)));
            if (r && r->str == std::to_string(i) + "!") ++ok;
          },
          asio::detached);
    }
    CO_ASSERT(co_await wait_until([&] { return ok == 20; }, 3s));
    exists = co_await c->exec("SCRIPT", "EXISTS", sha->str);
    CO_ASSERT(exists.ok());
    EXPECT_EQ(exists->elements.at(0).integer, 1);
  });
}

TEST_F(RedisClient, FailsFastWhileRedisIsDownAndRecoversByItself) {
  run(
      []() -> asio::awaitable<void> {
        auto c = co_await connected_client();
        StopOnExit<Client> stop{c};
        CO_ASSERT(c->connected());
        const Script s("return 'scripted'");
        CO_ASSERT((co_await c->eval(s, {}, {})).ok());
        const auto reconnects0 = c->reconnects();

        co_await servers("redis-stop");
        CO_ASSERT(co_await wait_until([&] { return !c->connected(); }, 2s));
        for (int i = 0; i < 3; ++i) {
          const auto t0 = Clock::now();
          auto r = co_await c->exec("PING");
          const auto took = Clock::now() - t0;
          EXPECT_EQ(r.code(), Errc::unavailable);
          EXPECT_LT(took, 100ms);  // no connect attempt or timeout on the way
          auto e = co_await c->eval(s, {}, {});
          EXPECT_EQ(e.code(), Errc::unavailable);
          co_await sleep(100ms);  // across several failed reconnect attempts
        }
        EXPECT_FALSE(c->last_error().empty());

        co_await servers("redis-start");
        CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 5s));
        EXPECT_EQ(c->reconnects(), reconnects0 + 1);
        auto pong = co_await c->exec("PING");
        CO_ASSERT(pong.ok());
        EXPECT_EQ(pong->str, "PONG");
        // The restarted Redis has an empty script cache: the handshake loaded the known script
        // again.
        auto sha = co_await c->exec("SCRIPT", "LOAD", s.source());
        CO_ASSERT(sha.ok());
        auto r = co_await c->eval(s, {}, {});
        CO_ASSERT(r.ok());
        EXPECT_EQ(r->str, "scripted");
      },
      20s);
}

TEST_F(RedisClient, KillWithCommandsInFlightFailsThemWithUnavailable) {
  run(
      []() -> asio::awaitable<void> {
        auto c = co_await connected_client();
        StopOnExit<Client> stop{c};
        CO_ASSERT(c->connected());
        // Park the writes so that the commands below stay in flight until the kill.
        CO_ASSERT((co_await c->exec("CLIENT", "PAUSE", 30000, "WRITE")).ok());
        constexpr int kN = 100;
        int done = 0, unavailable = 0;
        auto ex = co_await asio::this_coro::executor;
        for (int i = 0; i < kN; ++i) {
          asio::co_spawn(
              ex,
              [&, i]() -> asio::awaitable<void> {
                auto r = co_await c->exec("INCR", "tk:t:kill:" + std::to_string(i));
                if (r.code() == Errc::unavailable) ++unavailable;
                ++done;
              },
              asio::detached);
        }
        co_await sleep(50ms);
        EXPECT_EQ(done, 0);  // really in flight
        co_await servers("redis-kill");
        CO_ASSERT(co_await wait_until([&] { return done == kN; }, 2s));
        EXPECT_EQ(unavailable, kN);
        EXPECT_FALSE(c->connected());

        co_await servers("redis-start");
        CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 5s));
        auto r = co_await c->exec("ECHO", "back");
        CO_ASSERT(r.ok());
        EXPECT_EQ(r->str, "back");
      },
      20s);
}

std::string info_run_id(const Reply& info) { return detail::parse_run_id(info.str); }

// A script that asks for the run id gets the one of the server its call is written to: calls
// queued on a connection to a server that is then killed fail (never go to the next server with
// the old id), and after the restart every call carries the new server's id.
TEST_F(RedisClient, ScriptsGetTheRunIdOfTheServerTheyAreSentTo) {
  run(
      []() -> asio::awaitable<void> {
        auto c = co_await connected_client();
        StopOnExit<Client> stop{c};
        CO_ASSERT(c->connected());
        const Script s("return ARGV[#ARGV]", true);
        auto info = co_await c->exec("INFO", "server");
        CO_ASSERT(info.ok());
        const std::string first = info_run_id(*info);
        CO_ASSERT(first.size() == 40);
        EXPECT_EQ(c->run_id(), first);
        auto keys = arglist("k");
        auto args = arglist("a");
        auto r = co_await c->eval(s, keys, args);
        CO_ASSERT(r.ok());
        EXPECT_EQ(r->str, first);

        CO_ASSERT((co_await c->exec("CLIENT", "PAUSE", 30000, "WRITE")).ok());
        constexpr int kN = 20;
        int done = 0, unavailable = 0;
        auto ex = co_await asio::this_coro::executor;
        for (int i = 0; i < kN; ++i) {
          asio::co_spawn(
              ex,
              [&]() -> asio::awaitable<void> {
                auto k = arglist("k");
                auto a = arglist("a");
                auto e = co_await c->eval(s, k, a);
                if (e.code() == Errc::unavailable) ++unavailable;
                ++done;
              },
              asio::detached);
        }
        co_await sleep(50ms);
        EXPECT_EQ(done, 0);  // in flight on the connection to the first server
        co_await servers("redis-kill");
        co_await servers("redis-start");
        CO_ASSERT(co_await wait_until([&] { return done == kN; }, 5s));
        EXPECT_EQ(unavailable, kN);
        CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 5s));
        info = co_await c->exec("INFO", "server");
        CO_ASSERT(info.ok());
        const std::string second = info_run_id(*info);
        EXPECT_NE(second, first);
        EXPECT_EQ(c->run_id(), second);
        r = co_await c->eval(s, keys, args);
        CO_ASSERT(r.ok());
        EXPECT_EQ(r->str, second);
      },
      20s);
}

// No fixed timing windows: a WRITE pause blocks the INCRs (and everything queued behind them on
// the same connection) until the test lifts it explicitly from a second client, so the only
// timing assumption is that the UNPAUSE round trip takes less than command_timeout.
TEST_F(RedisClient, TimedOutCommandsDoNotShiftLaterReplies) {
  run(
      []() -> asio::awaitable<void> {
        Options o = fast_options();
        o.command_timeout = 500ms;
        auto c = co_await connected_client(o);
        StopOnExit<Client> stop{c};
        auto admin = co_await connected_client();
        StopOnExit<Client> stop_admin{admin};
        CO_ASSERT(c->connected() && admin->connected());
        CO_ASSERT((co_await admin->exec("CLIENT", "PAUSE", 30000, "WRITE")).ok());

        const auto t0 = Clock::now();
        auto first = co_await c->exec("INCR", "tk:t:stale");
        const auto took = Clock::now() - t0;
        EXPECT_EQ(first.code(), Errc::timeout);
        EXPECT_GE(took, o.command_timeout - 10ms);
        EXPECT_LT(took, o.command_timeout + 1500ms);
        // More stale commands, issued at different moments, all time out while the pause holds.
        int timeouts = 0;
        auto ex = co_await asio::this_coro::executor;
        for (int i = 0; i < 10; ++i) {
          asio::co_spawn(
              ex,
              [&]() -> asio::awaitable<void> {
                auto r = co_await c->exec("INCR", "tk:t:stale");
                if (r.code() == Errc::timeout) ++timeouts;
              },
              asio::detached);
          co_await sleep(10ms);
        }
        CO_ASSERT(co_await wait_until([&] { return timeouts == 10; }, 10s));

        // Queued behind the 11 stale INCRs: it must get its own reply, not a stale integer.
        bool fresh_done = false;
        tk::Result<Reply> fresh = Errc::protocol_error;
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
              fresh = co_await c->exec("ECHO", "fresh");
              fresh_done = true;
            },
            asio::detached);
        co_await sleep(20ms);
        EXPECT_FALSE(fresh_done);  // really queued behind the paused writes
        CO_ASSERT((co_await admin->exec("CLIENT", "UNPAUSE")).ok());
        CO_ASSERT(co_await wait_until([&] { return fresh_done; }, 10s));
        CO_ASSERT(fresh.ok());
        EXPECT_EQ(fresh->str, "fresh");
        for (int i = 0; i < 5; ++i) {
          auto r = co_await c->exec("ECHO", "fresh-" + std::to_string(i));
          CO_ASSERT(r.ok());
          EXPECT_EQ(r->str, "fresh-" + std::to_string(i));
        }
        auto stale = co_await c->exec("GET", "tk:t:stale");
        CO_ASSERT(stale.ok());
        EXPECT_EQ(stale->to_int(), 11);  // the timed-out commands did run: timeout != not executed
        EXPECT_TRUE(c->connected());
        EXPECT_EQ(c->reconnects(), 0u);  // stale replies were consumed, not treated as a desync
      },
      30s);
}

TEST_F(RedisClient, RequestDeadlineEndsTheWaitEarlyAndPastItNothingIsSent) {
  run(
      []() -> asio::awaitable<void> {
        Options o = fast_options();
        o.command_timeout = 30s;  // only the request deadline can end the waits below in time
        auto c = co_await connected_client(o);
        StopOnExit<Client> stop{c};
        auto admin = co_await connected_client();
        StopOnExit<Client> stop_admin{admin};
        CO_ASSERT(c->connected() && admin->connected());
        auto ex = co_await asio::this_coro::executor;

        // Already past its deadline: refused without being sent, known not to have run.
        const auto sent_before = c->commands();
        tk::Result<Reply> expired = Errc::protocol_error;
        co_await asio::co_spawn(
            tk::with_deadline(ex, Clock::now() - 1ms),
            [&]() -> asio::awaitable<void> { expired = co_await c->exec("INCR", "tk:t:dl"); },
            asio::use_awaitable);
        EXPECT_EQ(expired.code(), Errc::unavailable);
        EXPECT_EQ(c->commands(), sent_before);

        CO_ASSERT((co_await admin->exec("CLIENT", "PAUSE", 30000, "WRITE")).ok());
        // An older command without a deadline, then one under a 200 ms deadline, then another
        // without: the middle one expires first, out of send order.
        bool first_done = false, last_done = false, bounded_done = false;
        tk::Result<Reply> first = Errc::protocol_error, last = Errc::protocol_error;
        tk::Result<Reply> bounded = Errc::protocol_error;
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
              first = co_await c->exec("INCR", "tk:t:dl");
              first_done = true;
            },
            asio::detached);
        asio::co_spawn(
            tk::with_deadline(ex, Clock::now() + 200ms),
            [&]() -> asio::awaitable<void> {
              bounded = co_await c->exec("INCR", "tk:t:dl");
              bounded_done = true;
            },
            asio::detached);
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
              last = co_await c->exec("ECHO", "last");
              last_done = true;
            },
            asio::detached);
        CO_ASSERT(co_await wait_until([&] { return bounded_done; }, 5s));
        EXPECT_EQ(bounded.code(), Errc::timeout);
        EXPECT_FALSE(first_done);  // still waiting: the pause holds
        EXPECT_FALSE(last_done);

        CO_ASSERT((co_await admin->exec("CLIENT", "UNPAUSE")).ok());
        CO_ASSERT(co_await wait_until([&] { return first_done && last_done; }, 5s));
        CO_ASSERT(first.ok() && last.ok());
        EXPECT_EQ(first->to_int(), 1);
        EXPECT_EQ(last->str, "last");  // the expired command's late reply was consumed, not shifted
        auto v = co_await c->exec("GET", "tk:t:dl");
        CO_ASSERT(v.ok());
        EXPECT_EQ(v->to_int(), 2);  // the timed-out one did run; the refused one did not
        EXPECT_EQ(c->reconnects(), 0u);
      },
      30s);
}

TEST_F(RedisClient, StopFailsPendingCommandsAndLaterOnes) {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connected_client();
    CO_ASSERT(c->connected());
    // A WRITE pause keeps the INCR in flight however slow the machine; TearDown lifts it.
    CO_ASSERT((co_await c->exec("CLIENT", "PAUSE", 30000, "WRITE")).ok());
    bool done = false;
    tk::Result<Reply> pending = Errc::protocol_error;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          pending = co_await c->exec("INCR", "tk:t:paused");
          done = true;
        },
        asio::detached);
    co_await sleep(30ms);
    c->stop();
    CO_ASSERT(co_await wait_until([&] { return done; }, 1s));
    EXPECT_EQ(pending.code(), Errc::unavailable);
    EXPECT_FALSE(c->connected());
    EXPECT_EQ((co_await c->exec("PING")).code(), Errc::unavailable);
    // And it can be started again.
    c->start();
    CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 5s));
    c->stop();
  });
}

TEST_F(RedisClient, SelectsTheDatabaseFromTheUrl) {
  run([]() -> asio::awaitable<void> {
    Endpoint ep5 = endpoint();
    ep5.db = 5;
    auto c5 = co_await connected_client(fast_options(), ep5);
    StopOnExit<Client> stop5{c5};
    auto c0 = co_await connected_client();
    StopOnExit<Client> stop0{c0};
    CO_ASSERT(c5->connected() && c0->connected());
    CO_ASSERT((co_await c5->exec("SET", "tk:t:db", "five")).ok());
    auto in5 = co_await c5->exec("GET", "tk:t:db");
    auto in0 = co_await c0->exec("GET", "tk:t:db");
    CO_ASSERT(in5.ok() && in0.ok());
    EXPECT_EQ(in5->str, "five");
    EXPECT_TRUE(in0->is_nil());
  });
}

TEST_F(RedisClient, FailedAuthKeepsItDisconnected) {
  run([]() -> asio::awaitable<void> {
    Endpoint ep = endpoint();
    ep.password = "wrong";  // the test Redis has no password: AUTH is an error
    auto c = Client::create(co_await asio::this_coro::executor, ep, fast_options());
    StopOnExit<Client> stop{c};
    c->start();
    co_await sleep(300ms);
    EXPECT_FALSE(c->connected());
    EXPECT_EQ((co_await c->exec("PING")).code(), Errc::unavailable);
    EXPECT_NE(c->last_error().find("AUTH"), std::string::npos) << c->last_error();
  });
}

TEST_F(RedisClient, ConnectionRefusedRetriesWithBackoff) {
  run(
      []() -> asio::awaitable<void> {
        co_await servers("redis-stop");
        auto c = Client::create(co_await asio::this_coro::executor, endpoint(), fast_options());
        StopOnExit<Client> stop{c};
        c->start();
        co_await sleep(200ms);
        EXPECT_FALSE(c->connected());
        EXPECT_EQ((co_await c->exec("PING")).code(), Errc::unavailable);
        co_await servers("redis-start");
        CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 5s));
        EXPECT_EQ(c->reconnects(), 0u);  // the first successful connect is not a reconnect
        CO_ASSERT((co_await c->exec("PING")).ok());
      },
      20s);
}

// Readiness follows whether Redis answers, not only whether the socket is open: a paused server
// keeps the connection but leaves commands unanswered.
TEST_F(RedisClient, NotHealthyWhileACommandGoesUnansweredPastTheTimeout) {
  run(
      []() -> asio::awaitable<void> {
        Options o = fast_options();
        o.command_timeout = 200ms;
        o.stall_timeout = 0ms;  // keep the connection: only the health signal is under test
        auto c = co_await connected_client(o);
        StopOnExit<Client> stop{c};
        auto admin = co_await connected_client();
        StopOnExit<Client> stop_admin{admin};
        CO_ASSERT(c->connected() && admin->connected());
        EXPECT_TRUE(c->healthy());
        CO_ASSERT((co_await admin->exec("CLIENT", "PAUSE", 30000, "WRITE")).ok());
        auto r = co_await c->exec("INCR", "tk:t:health");
        EXPECT_EQ(r.code(), Errc::timeout);
        EXPECT_TRUE(c->connected());
        EXPECT_FALSE(c->healthy());
        CO_ASSERT((co_await admin->exec("CLIENT", "UNPAUSE")).ok());
        // The late reply arrives: answering again, on the same connection.
        CO_ASSERT(co_await wait_until([&] { return c->healthy(); }, 5s));
        EXPECT_EQ(c->unanswered_for().count(), 0);
        EXPECT_EQ(c->reconnects(), 0u);
      },
      20s);
}

#ifdef TK_TEST_HOOKS
// An exception escaping the reader (a bug) must not leave a client whose commands all time out:
// it is logged, counted, and the connection is re-established.
TEST_F(RedisClient, ReaderFailureIsLoggedCountedAndRecovered) {
  std::vector<std::string> lines;
  tk::log::set_sink([&](std::string_view l) { lines.emplace_back(l); });
  run(
      []() -> asio::awaitable<void> {
        auto c = co_await connected_client();
        StopOnExit<Client> stop{c};
        CO_ASSERT(c->connected());
        c->fail_next_read_for_test();
        const auto t0 = Clock::now();
        auto r = co_await c->exec("PING");
        EXPECT_EQ(r.code(), Errc::unavailable);  // dropped with it in flight, not a timeout
        EXPECT_LT(Clock::now() - t0, 1s);
        EXPECT_EQ(c->failures(), 1u);
        CO_ASSERT(co_await wait_until([&] { return c->connected(); }, 3s));
        auto echo = co_await c->exec("ECHO", "after");
        CO_ASSERT(echo.ok());
        EXPECT_EQ(echo->str, "after");
        EXPECT_EQ(c->reconnects(), 1u);
      },
      20s);
  tk::log::set_sink(nullptr);
  const bool logged = std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("redis client coroutine failed") != std::string::npos &&
           l.find("injected reader failure") != std::string::npos &&
           l.find("\"reader\"") != std::string::npos;
  });
  EXPECT_TRUE(logged);
}
#endif

}  // namespace
}  // namespace tk::redis::testing
