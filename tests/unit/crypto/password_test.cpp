#include "common/crypto/password.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/crypto/blocking_pool.hpp"
#include "common/crypto/errors.hpp"

namespace tk::crypto {
namespace {

namespace asio = boost::asio;

PasswordOptions min_costs(int threads = 2, std::size_t max_queue = 256) {
  PasswordOptions o;
  o.opslimit = crypto_pwhash_OPSLIMIT_MIN;
  o.memlimit = crypto_pwhash_MEMLIMIT_MIN;
  o.threads = threads;
  o.max_queue = max_queue;
  return o;
}

// Runs one awaitable to completion on `io` (driven by this thread) and returns its value.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> a) {
  std::optional<T> out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(a)); }, asio::detached);
  io.restart();
  io.run();
  if (!out) throw std::runtime_error("awaitable did not complete");
  return std::move(*out);
}

// Drives `io` until pred() holds (or a generous deadline passes).
template <class Pred>
bool poll_until(asio::io_context& io, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(PasswordHasher, HashAndVerify) {
  asio::io_context io;
  PasswordHasher h(min_costs());
  auto hashed = run(io, h.hash("correct horse"));
  ASSERT_TRUE(hashed.ok());
  EXPECT_EQ(hashed->rfind("$argon2id$", 0), 0u) << *hashed;
  auto again = run(io, h.hash("correct horse"));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hashed, *again);  // salted

  auto yes = run(io, h.verify(*hashed, "correct horse"));
  ASSERT_TRUE(yes.ok());
  EXPECT_TRUE(*yes);
  auto no = run(io, h.verify(*hashed, "correct horsf"));
  ASSERT_TRUE(no.ok());
  EXPECT_FALSE(*no);
  auto empty = run(io, h.verify(*hashed, ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(*empty);
}

TEST(PasswordHasher, StoredHashThatIsNotArgon2id) {
  asio::io_context io;
  PasswordHasher h(min_costs());
  EXPECT_EQ(run(io, h.verify("", "pw")).code(), Errc::malformed);
  EXPECT_EQ(run(io, h.verify("plaintext", "pw")).code(), Errc::malformed);
  EXPECT_EQ(run(io, h.verify("$argon2i$v=19$m=8,t=1,p=1$xx$yy", "pw")).code(), Errc::malformed);
  EXPECT_EQ(run(io, h.verify("$argon2id$" + std::string(200, 'x'), "pw")).code(), Errc::malformed);
  auto garbled = run(io, h.verify("$argon2id$v=19$garbage", "pw"));
  ASSERT_TRUE(garbled.ok());
  EXPECT_FALSE(*garbled);
}

TEST(PasswordHasher, BurnCompletes) {
  asio::io_context io;
  PasswordHasher h(min_costs());
  EXPECT_TRUE(run(io, h.burn("whatever")).ok());
}

TEST(PasswordHasher, NeedsRehashWhenCostsChange) {
  asio::io_context io;
  PasswordHasher weak(min_costs());
  auto stored = run(io, weak.hash("pw"));
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(weak.needs_rehash(*stored));
  PasswordOptions stronger = min_costs();
  stronger.opslimit = 2;
  PasswordHasher strong(stronger);
  EXPECT_TRUE(strong.needs_rehash(*stored));
  EXPECT_TRUE(strong.needs_rehash("not a hash"));
}

TEST(PasswordHasher, RejectsCostsBelowMinimum) {
  PasswordOptions o = min_costs();
  o.opslimit = 0;
  EXPECT_THROW(PasswordHasher{o}, std::invalid_argument);
  o = min_costs();
  o.memlimit = 1024;
  EXPECT_THROW(PasswordHasher{o}, std::invalid_argument);
}

TEST(PasswordHasher, ManyConcurrentCoroutinesCompleteOnTheirExecutor) {
  asio::io_context io;
  PasswordHasher h(min_costs(2, 1000));
  const auto io_thread = std::this_thread::get_id();
  constexpr int kN = 300;
  std::atomic<int> matched{0}, wrong_thread{0};
  for (int i = 0; i < kN; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          const std::string pw = "password-" + std::to_string(i);
          auto stored = co_await h.hash(pw);
          if (std::this_thread::get_id() != io_thread) ++wrong_thread;
          if (!stored) co_return;
          auto ok = co_await h.verify(*stored, pw);
          auto bad = co_await h.verify(*stored, pw + "x");
          if (std::this_thread::get_id() != io_thread) ++wrong_thread;
          if (ok && *ok && bad && !*bad) ++matched;
        },
        asio::detached);
  }
  io.run();  // returns only once every coroutine finished (pool work keeps it alive)
  EXPECT_EQ(matched.load(), kN);
  EXPECT_EQ(wrong_thread.load(), 0);
}

TEST(PasswordHasher, FullQueueAnswersOverloaded) {
  asio::io_context io;
  PasswordHasher h(min_costs(/*threads=*/1, /*max_queue=*/2));
  // Occupy the only pool thread, so every further call has to queue.
  std::promise<void> gate;
  auto gate_f = gate.get_future().share();
  std::atomic<bool> blocker_running{false};
  std::optional<tk::Result<int>> blocker;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        blocker.emplace(co_await h.pool().run([&] {
          blocker_running = true;
          gate_f.wait();
          return tk::Result<int>(7);
        }));
      },
      asio::detached);
  ASSERT_TRUE(poll_until(io, [&] { return blocker_running.load(); }));

  constexpr int kCalls = 6;
  std::vector<std::optional<std::error_code>> results(kCalls);
  std::optional<tk::Status> burned;
  for (int i = 0; i < kCalls; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          auto r = co_await h.hash("pw" + std::to_string(i));
          results[i] = r.code();
        },
        asio::detached);
  }
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { burned.emplace(co_await h.burn("pw")); },
      asio::detached);
  // Two calls fit in the queue; the rest complete at once, without waiting for the pool.
  ASSERT_TRUE(poll_until(io, [&] {
    int done = 0;
    for (auto& r : results) done += r.has_value();
    return done == kCalls - 2 && burned.has_value();
  }));
  EXPECT_EQ(h.pool().queued(), 2u);
  for (int i = 2; i < kCalls; ++i) {
    ASSERT_TRUE(results[i].has_value()) << i;
    EXPECT_EQ(*results[i], Errc::overloaded) << i;
  }
  EXPECT_EQ(burned->code(), Errc::overloaded);

  gate.set_value();
  io.restart();
  io.run();
  ASSERT_TRUE(blocker.has_value());
  EXPECT_EQ(**blocker, 7);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(results[i].has_value());
    EXPECT_FALSE(*results[i]) << i << ": " << results[i]->message();  // queued ones succeeded
  }
}

TEST(BlockingPool, RunsOffTheCallerThreadAndResumesOnIt) {
  asio::io_context io;
  BlockingPool pool(2, 8);
  const auto io_thread = std::this_thread::get_id();
  std::thread::id job_thread, resumed_thread;
  auto r = run(io, [&]() -> asio::awaitable<tk::Result<int>> {
    auto v = co_await pool.run([&] {
      job_thread = std::this_thread::get_id();
      return tk::Result<int>(41);
    });
    resumed_thread = std::this_thread::get_id();
    co_return *v + 1;
  }());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  EXPECT_NE(job_thread, io_thread);
  EXPECT_EQ(resumed_thread, io_thread);
}

TEST(BlockingPool, ExceptionsBecomeOverloaded) {
  asio::io_context io;
  BlockingPool pool(1, 8);
  auto r = run(io, pool.run([]() -> tk::Result<int> { throw std::bad_alloc(); }));
  EXPECT_EQ(r.code(), Errc::overloaded);
}

TEST(BlockingPool, DestructionCompletesQueuedCallsAsOverloaded) {
  asio::io_context io;
  std::optional<tk::Result<int>> first, queued;
  std::promise<void> gate;
  auto gate_f = gate.get_future().share();
  std::atomic<bool> running{false};
  {
    BlockingPool pool(1, 4);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          first.emplace(co_await pool.run([&] {
            running = true;
            gate_f.wait();
            return tk::Result<int>(1);
          }));
        },
        asio::detached);
    ASSERT_TRUE(poll_until(io, [&] { return running.load(); }));
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          queued.emplace(co_await pool.run([] { return tk::Result<int>(2); }));
        },
        asio::detached);
    ASSERT_TRUE(poll_until(io, [&] { return pool.queued() == 1; }));
    std::thread opener([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      gate.set_value();
    });
    opener.detach();
    // ~BlockingPool: waits for the running job, abandons the queued one.
  }
  io.restart();
  io.run();
  ASSERT_TRUE(first && queued);
  EXPECT_EQ(**first, 1);
  EXPECT_EQ(queued->code(), Errc::overloaded);
}

// Spare work (dummy hashes for unknown e-mails) has a budget of its own, never takes a normal
// job's queue slot, and runs only when no normal job waits.
TEST(BlockingPool, SpareLaneHasItsOwnBudgetAndYieldsToNormalJobs) {
  asio::io_context io;
  BlockingPool pool(/*threads=*/1, /*max_queue=*/1, /*max_spare=*/1);
  std::promise<void> gate;
  auto gate_f = gate.get_future().share();
  std::atomic<bool> running{false};
  std::optional<tk::Result<int>> blocker, spare1, spare2, normal;
  std::mutex mu;
  std::vector<char> ran;
  auto record = [&](char c) {
    std::lock_guard lk(mu);
    ran.push_back(c);
  };
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        blocker.emplace(co_await pool.run([&] {
          running = true;
          gate_f.wait();
          return tk::Result<int>(0);
        }));
      },
      asio::detached);
  ASSERT_TRUE(poll_until(io, [&] { return running.load(); }));
  auto spawn = [&](std::optional<tk::Result<int>>& out, char tag, BlockingPool::Lane lane) {
    asio::co_spawn(
        io,
        [&, tag, lane]() -> asio::awaitable<void> {
          auto job = [&, tag] {
            record(tag);
            return tk::Result<int>(1);
          };
          out.emplace(co_await pool.run(std::move(job), lane));
        },
        asio::detached);
  };
  spawn(spare1, 'S', BlockingPool::Lane::spare);
  spawn(spare2, 's', BlockingPool::Lane::spare);
  spawn(normal, 'N', BlockingPool::Lane::normal);
  ASSERT_TRUE(poll_until(io, [&] { return spare2.has_value(); }));
  EXPECT_EQ(spare2->code(), Errc::overloaded) << "over the spare budget";
  EXPECT_EQ(pool.spare_in_flight(), 1u);
  EXPECT_EQ(pool.queued(), 1u) << "the spare job did not take the normal slot";
  EXPECT_TRUE(pool.saturated());

  gate.set_value();
  ASSERT_TRUE(poll_until(io, [&] { return spare1.has_value() && normal.has_value(); }));
  EXPECT_TRUE(spare1->ok());
  EXPECT_TRUE(normal->ok());
  EXPECT_EQ(ran, (std::vector<char>{'N', 'S'})) << "the normal job waited behind spare work";
  EXPECT_EQ(pool.spare_in_flight(), 0u);
}

}  // namespace
}  // namespace tk::crypto
