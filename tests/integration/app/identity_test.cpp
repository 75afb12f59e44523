// Log-in capacity and sessions over the real PostgreSQL + Redis: unknown e-mails and busy
// addresses cannot take the password hasher from real log-ins, and sessions outlive a Redis flush.
#include <atomic>
#include <future>

#include "harness.hpp"

namespace tk::test {
namespace {

using app::Errc;

struct Account {
  std::string email;
  std::string password;
};

Account sign_up(Harness& h) {
  Account a{"id" + crypto::new_id("") + "@example.com", "password-123"};
  h.run([&]() -> asio::awaitable<int> {
    app::Identity id(h.deps);
    auto r = co_await id.sign_up(a.email, a.password, "Kim", "10.9.9.9");
    if (!r) Harness::expect_ok(r.error(), "sign up");
    co_return 0;
  });
  return a;
}

// A hasher with one thread whose thread the test holds, so every hash has to queue.
struct HeldHasher {
  HeldHasher(Harness& h, std::size_t max_queue) : h_(h) {
    crypto::PasswordOptions o;
    o.opslimit = crypto_pwhash_OPSLIMIT_MIN;
    o.memlimit = crypto_pwhash_MEMLIMIT_MIN;
    o.threads = 1;
    o.max_queue = max_queue;
    h.hasher = std::make_unique<crypto::PasswordHasher>(o);
    h.shared.hasher = h.hasher.get();
    auto f = gate.get_future().share();
    asio::co_spawn(
        h.io,
        [this, f]() -> asio::awaitable<void> {
          auto job = [this, f] {
            running = true;
            f.wait();
            return tk::Result<int>(0);
          };
          (void)co_await h_.hasher->pool().run(std::move(job));
          released = true;
        },
        asio::detached);
    until(h, [this] { return running.load(); });
  }
  ~HeldHasher() {
    if (!opened) gate.set_value();  // a failed test must not leave the pool's thread blocked
  }
  void release() {
    opened = true;
    gate.set_value();
    until(h_, [this] { return released; });
  }

  Harness& h_;
  std::promise<void> gate;
  std::atomic<bool> running{false};
  bool opened = false;
  bool released = false;
};

// Log-ins whose results land in `out` (an error code; empty for success).
void spawn_log_in(Harness& h, std::string email, std::string password, std::string client,
                  std::optional<std::error_code>& out) {
  asio::co_spawn(
      h.io,
      [&h, &out, email = std::move(email), password = std::move(password),
       client = std::move(client)]() -> asio::awaitable<void> {
        app::Identity id(h.deps);
        auto r = co_await id.log_in(email, password, client);
        out = r.ok() ? std::error_code{} : r.error().code;
      },
      asio::detached);
}

// Two attackers' worth of log-ins for e-mails that do not exist, from many addresses, while the
// hasher is busy: none of them may take the queue slot a real log-in needs.
TEST(LogIn, AFloodOfUnknownEmailsDoesNotFailARealLogIn) {
  Harness h;
  auto acc = sign_up(h);
  HeldHasher held(h, /*max_queue=*/4);

  constexpr int kFlood = 40;
  std::vector<std::optional<std::error_code>> flood(kFlood);
  auto answered = [&] {
    int n = 0;
    for (auto& r : flood) n += r.has_value();
    return n;
  };
  // In batches the size of the PostgreSQL pool, so the e-mail look-ups are not shed: what is
  // measured is the hasher. After each batch every flood log-in so far has either been answered
  // or is waiting for the hasher.
  for (int i = 0; i < kFlood; ++i) {
    spawn_log_in(h, "nobody" + std::to_string(i) + "@example.com", "password-123",
                 "10.1.0." + std::to_string(i), flood[i]);
    if ((i + 1) % 8 != 0) continue;
    until(h, [&] {
      auto& pool = h.hasher->pool();
      return answered() + static_cast<int>(pool.queued() + pool.spare_in_flight()) == i + 1;
    });
  }
  EXPECT_LT(h.hasher->pool().queued(), 4u) << "unknown e-mails filled the real log-ins' queue";

  std::optional<std::error_code> real;
  spawn_log_in(h, acc.email, acc.password, "10.2.0.1", real);
  until(h, [&] { return real.has_value() || h.hasher->pool().queued() > 0; });
  held.release();
  until(h, [&] { return real.has_value() && answered() == kFlood; });
  EXPECT_FALSE(*real) << "the real log-in failed: " << real->message();
  for (int i = 0; i < kFlood; ++i) {
    EXPECT_EQ(*flood[i], Errc::unauthenticated) << i << ": " << flood[i]->message();
  }
}

// One address may have only so many hashes in flight; the next is refused at once (429), other
// addresses are not affected, and the address gets its slots back when its hashes finish.
TEST(LogIn, OneAddressIsRefusedPastItsHashesInFlight) {
  Harness h;
  auto acc = sign_up(h);
  app::InFlightLimit per_client(2);
  h.shared.hashes_per_client = &per_client;
  HeldHasher held(h, /*max_queue=*/8);

  std::vector<std::optional<std::error_code>> same(3);
  for (auto& r : same) spawn_log_in(h, acc.email, "wrong-password", "10.3.0.1", r);
  until(h, [&] { return same[2].has_value() && h.hasher->pool().queued() == 2; });
  EXPECT_EQ(*same[2], Errc::rate_limited);
  EXPECT_FALSE(same[0].has_value());
  EXPECT_FALSE(same[1].has_value());
  EXPECT_EQ(h.hasher->pool().queued(), 2u);

  std::optional<std::error_code> other;
  spawn_log_in(h, acc.email, acc.password, "10.3.0.2", other);
  until(h, [&] { return other.has_value() || h.hasher->pool().queued() == 3; });
  EXPECT_FALSE(other.has_value()) << "another address must get a slot";

  held.release();
  until(h, [&] { return same[0] && same[1] && other; });
  EXPECT_EQ(*same[0], Errc::unauthenticated);
  EXPECT_EQ(*same[1], Errc::unauthenticated);
  EXPECT_FALSE(*other) << other->message();
  EXPECT_EQ(per_client.keys(), 0u) << "every slot was given back";

  std::optional<std::error_code> again;
  spawn_log_in(h, acc.email, acc.password, "10.3.0.1", again);
  until(h, [&] { return again.has_value(); });
  EXPECT_FALSE(*again) << again->message();
}

std::string log_in_token(Harness& h, const Account& a) {
  return h.run([&]() -> asio::awaitable<std::string> {
    app::Identity id(h.deps);
    auto s = co_await id.log_in(a.email, a.password, "10.4.0.1");
    if (!s) Harness::expect_ok(s.error(), "log in");
    co_return s->token;
  });
}

Result<app::Principal> authenticate(Harness& h, const std::string& token) {
  return h.run([&]() -> asio::awaitable<Result<app::Principal>> {
    app::Identity id(h.deps);
    co_return co_await id.authenticate(token);
  });
}

// A Redis restart or flush must not send every buyer back to the log-in page at once.
TEST(Sessions, SurviveARedisFlushAndLogOutStillRevokes) {
  Harness h;
  auto acc = sign_up(h);
  auto token = log_in_token(h, acc);
  auto before = authenticate(h, token);
  ASSERT_TRUE(before.ok()) << before.error().code.message();

  flush_redis(h);
  auto after = authenticate(h, token);
  ASSERT_TRUE(after.ok()) << "the session did not survive the flush: "
                          << after.error().code.message();
  EXPECT_EQ(after->account_id, before->account_id);
  EXPECT_EQ(after->account_num, before->account_num);
  EXPECT_EQ(after->session_id, before->session_id);
  // The miss filled the cache again: the next check is one Redis read.
  auto cached = h.run([&]() -> asio::awaitable<std::string> {
    auto r = co_await h.rclient->exec("GET", "sess:" + before->session_id);
    co_return r && !r->is_nil() ? std::string(r->view()) : std::string();
  });
  EXPECT_EQ(cached.substr(0, before->account_id.size()), before->account_id);

  auto out = h.run([&]() -> asio::awaitable<Status> {
    app::Identity id(h.deps);
    co_return co_await id.log_out(*after);
  });
  ASSERT_TRUE(out.ok()) << out.error().code.message();
  auto revoked = authenticate(h, token);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(code_of(revoked.error()), Errc::unauthenticated);
  // The log-out outlives a flush as well: the record is gone, not only the cached copy.
  flush_redis(h);
  revoked = authenticate(h, token);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(code_of(revoked.error()), Errc::unauthenticated);
}

// A session that expired is refused from the record too, not only from the cache.
TEST(Sessions, AnExpiredSessionIsRefusedAfterAFlush) {
  Harness h;
  auto acc = sign_up(h);
  auto token = log_in_token(h, acc);
  flush_redis(h);
  h.clock.advance(h.shared.settings.session_ttl_ms + 1);
  auto r = authenticate(h, token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), Errc::unauthenticated);
}

// Sessions created before PostgreSQL kept them live only in Redis; their tokens keep working
// there (the token format did not change).
TEST(Sessions, ASessionKnownOnlyToRedisStillAuthenticates) {
  Harness h;
  auto acc = sign_up(h);
  auto who = authenticate(h, log_in_token(h, acc));
  ASSERT_TRUE(who.ok());
  std::string sid;
  auto token = crypto::new_session_token(*h.signer, &sid);
  const Millis expires = h.clock.now_ms() + 60'000;
  h.run([&]() -> asio::awaitable<int> {
    const std::string key = "sess:" + sid;
    const std::string value =
        who->account_id + "|" + std::to_string(who->account_num) + "|" + std::to_string(expires);
    auto r = co_await h.rclient->exec("SET", key, value, "PX", "60000");
    if (!r) Harness::expect_ok(r.error(), "SET");
    co_return 0;
  });
  auto r = authenticate(h, token);
  ASSERT_TRUE(r.ok()) << r.error().code.message();
  EXPECT_EQ(r->account_id, who->account_id);
}

}  // namespace
}  // namespace tk::test
