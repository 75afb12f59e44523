// Refunds against the real PostgreSQL, Redis and SMTP sink of the CTest fixture: the request's
// rules (owner, window, key replay, second key, checked-in tickets), the worker's consumer (one
// provider refund, seats back on sale, counters consistent, one refund e-mail), races with the
// door and with a second refund, resale of a refunded seat, and a consumer that dies between the
// provider refund and its commit.
#include <boost/asio.hpp>
#include <iostream>

#include "app/consumers.hpp"
#include "app/refunds.hpp"
#include "app/tickets.hpp"
#include "common/crypto/ticket_codes.hpp"
#include "infra/mail/smtp.hpp"
#include "integration/app/harness.hpp"
#include "support/mail_sink.hpp"

namespace tk::test {
namespace {

// Messages of one kind the sink accepted for an order.
int mails(const std::string& order_id, const std::string& kind) {
  int n = 0;
  for (const auto& m : sink_mails("X-Ticketing-Order", order_id)) {
    n += mail_header(m, "X-Ticketing-Kind") == kind;
  }
  return n;
}

// The service's wiring: Ed25519 ticket codes, the refund consumers, a dispatcher with no backoff.
struct Rig : Harness {
  Rig()
      : mailer(mail_options(), clock),
        refund(deps),
        refund_mail(*adapters->receipts, mailer, "tickets@example.com"),
        registry(*adapters->processed) {
    auto s = crypto::TicketCodeSigner::create(std::string(32, 'k'), "e1");
    if (!s) throw std::runtime_error("ticket signer");
    ticket_signer = std::make_unique<crypto::TicketCodeSigner>(std::move(*s));
    shared.ticket_signer = ticket_signer.get();
    registry.add(*adapters->receipt_ledger);
    registry.add(refund);
    registry.add(refund_mail);
    workers::BackgroundOptions o;
    o.outbox_retry = {8, 0, 0};
    bg = std::make_unique<workers::Background>(deps, *adapters->outbox, registry, o, &m);
    run([&]() -> asio::awaitable<bool> {
      co_return (co_await pool->query("DELETE FROM outbox")).ok();
    });
  }
  static mail::SmtpOptions mail_options() {
    mail::SmtpOptions o;
    o.url = env("TICKETING_SMTP_URL");
    o.from = "tickets@example.com";
    o.timeout = 5000ms;
    return o;
  }
  // Delivers every due outbox row until none is left (a refund writes a second row).
  void drain() {
    for (int i = 0; i < 10; ++i) {
      if (run([&] { return bg->dispatch_outbox_once(); }) == 0) return;
    }
  }
  std::int64_t scalar(const std::string& sql, const std::string& arg) {
    return run([&] { return count(*pool, sql, arg); });
  }

  std::unique_ptr<crypto::TicketCodeSigner> ticket_signer;
  mail::SmtpMailer mailer;
  app::RefundConsumer refund;
  app::RefundMailConsumer refund_mail;
  app::ConsumerRegistry registry;
  metrics::Registry m;
  std::unique_ptr<workers::Background> bg;
};

struct Bought {
  Sale sale;
  domain::Order paid;
};

Bought buy_two(Rig& h) {
  Sale sale = order_two_seats(h);
  // The harness's show starts in 24 h, so the default window (starts_at - 24 h) is already over:
  // every test opens it for an hour and closes it itself where it needs to.
  h.run([&]() -> asio::awaitable<int> {
    app::Admin admin(h.deps);
    app::PerformanceChange ch;
    ch.refundable_until = h.clock.now_ms() + 3600 * 1000;
    auto p = co_await admin.update_performance(sale.order.performance_id, ch);
    if (!p) Harness::expect_ok(p.error(), "refund window");
    app::Payments pay(h.deps);
    app::PaymentRequest req{sale.order.id, "key-" + sale.order.id, "fp", "card", "tok_ok"};
    auto a = co_await pay.pay(sale.who, req);
    if (!a || a->status != 200) throw std::runtime_error("payment failed");
    co_return 0;
  });
  auto paid = h.run([&]() -> asio::awaitable<domain::Order> {
    app::Orders o(h.deps);
    auto got = co_await o.get(sale.who, sale.order.id);
    if (!got) Harness::expect_ok(got.error(), "order");
    co_return *got;
  });
  drop_catalogue_rows(h);
  return {sale, paid};
}

Result<app::RefundAccepted> ask(Rig& h, const app::Principal& who, const std::string& order,
                                const std::string& key) {
  return h.run([&]() -> asio::awaitable<Result<app::RefundAccepted>> {
    app::Refunds r(h.deps);
    co_return co_await r.request(who, order, key);
  });
}

// Named, never a braced temporary inside a co_await (GCC 12 destroys those twice).
const domain::Scanner kAdmin{true, ""};

Result<app::CheckedIn> scan(Rig& h, const std::string& code) {
  return h.run([&]() -> asio::awaitable<Result<app::CheckedIn>> {
    app::Tickets t(h.deps);
    co_return co_await t.check_in(kAdmin, code);
  });
}

app::PerformanceStats stats(Rig& h, const std::string& perf) {
  return h.run([&]() -> asio::awaitable<app::PerformanceStats> {
    app::Admin a(h.deps);
    auto s = co_await a.stats(perf);
    if (!s) Harness::expect_ok(s.error(), "stats");
    co_return *s;
  });
}

std::int64_t provider_refunds(Rig& h, const std::string& order) {
  return h.scalar("SELECT count(*) FROM provider_refunds WHERE refund_key = $1", order);
}

TEST(Refund, HappyPathRefundsOnceFreesSeatsVoidsTicketsAndMailsOnce) {
  Rig h;
  auto b = buy_two(h);
  const auto& o = b.paid;
  auto before = stats(h, o.performance_id);
  EXPECT_EQ(before.seats_sold, 2);

  auto a = ask(h, b.sale.who, o.id, "r-1");
  ASSERT_TRUE(a.ok()) << a.code().message();
  EXPECT_EQ(a->status, domain::OrderStatus::refund_pending);
  EXPECT_FALSE(a->replay);
  // Tickets void and order pending in the request's transaction; the seats stay sold until the
  // worker has given the money back.
  EXPECT_EQ(h.scalar("SELECT count(*) FROM tickets WHERE order_id = $1 AND status = 'void'", o.id),
            2);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM performance_seats WHERE order_id = $1 AND state = "
                     "'sold'",
                     o.id),
            2);
  EXPECT_EQ(provider_refunds(h, o.id), 0);
  // The same key again: the same answer, nothing written. Another key: already_refunded.
  auto again = ask(h, b.sale.who, o.id, "r-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replay);
  EXPECT_EQ(again->status, domain::OrderStatus::refund_pending);
  auto other = ask(h, b.sale.who, o.id, "r-2");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(code_of(other.error()), app::Errc::already_refunded);

  h.drain();
  EXPECT_EQ(provider_refunds(h, o.id), 1);
  EXPECT_EQ(h.scalar("SELECT amount_cents FROM provider_refunds WHERE refund_key = $1", o.id),
            o.total_cents);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM orders WHERE id = $1 AND status = 'refunded'", o.id), 1);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM performance_seats WHERE performance_id = $1 AND "
                     "state = 'available'",
                     o.performance_id),
            4);
  EXPECT_EQ(mails(o.id, "refund"), 1);
  // Counters: sold + held + available = capacity, the seats counted available again.
  auto after = stats(h, o.performance_id);
  EXPECT_EQ(after.seats_sold, 0);
  EXPECT_EQ(after.orders_paid, 0);
  EXPECT_EQ(after.seats_sold + after.seats_held + after.seats_available, 4);
  auto sold = h.run([&] { return h.adapters->holds->sold_counts(o.performance_id); });
  ASSERT_TRUE(sold.ok());
  EXPECT_EQ(sold->markers, 0);
  // The replay after completion answers with the order's status now.
  auto late = ask(h, b.sale.who, o.id, "r-1");
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->status, domain::OrderStatus::refunded);
  // A second delivery of every message changes nothing.
  h.drain();
  EXPECT_EQ(provider_refunds(h, o.id), 1);
  EXPECT_EQ(mails(o.id, "refund"), 1);
  EXPECT_EQ(stats(h, o.performance_id).seats_sold, 0);
}

TEST(Refund, RefusedAfterTheWindowAndForOthersButTheOperatorMay) {
  Rig h;
  auto b = buy_two(h);
  const auto& o = b.paid;
  auto stranger = h.run([&] { return h.make_buyer(); });
  auto theirs = ask(h, stranger, o.id, "s-1");
  ASSERT_FALSE(theirs.ok());
  EXPECT_EQ(code_of(theirs.error()), app::Errc::not_found);
  EXPECT_EQ(code_of(ask(h, b.sale.who, "ord_nope", "s-1").error()), app::Errc::not_found);

  h.clock.advance(3600 * 1000);  // refundable_until reached (exclusive)
  auto late = ask(h, b.sale.who, o.id, "late-1");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(code_of(late.error()), app::Errc::not_refundable);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM tickets WHERE order_id = $1 AND status = 'valid'", o.id),
            2)
      << "a refusal changes nothing";
  EXPECT_EQ(h.scalar("SELECT count(*) FROM refunds WHERE order_id = $1", o.id), 0);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM outbox WHERE topic = 'order.refund_requested' AND "
                     "payload->>'order_id' = $1",
                     o.id),
            0);

  auto admin = h.run([&]() -> asio::awaitable<Result<app::RefundAccepted>> {
    app::Refunds r(h.deps);
    co_return co_await r.request_as_admin(o.id, "ops-1");
  });
  ASSERT_TRUE(admin.ok()) << admin.code().message();
  EXPECT_EQ(admin->status, domain::OrderStatus::refund_pending);
  EXPECT_EQ(
      h.scalar("SELECT count(*) FROM refunds WHERE order_id = $1 AND requested_by = 'admin'", o.id),
      1);
  h.drain();
  EXPECT_EQ(provider_refunds(h, o.id), 1);
}

TEST(Refund, UnpaidOrCheckedInOrdersAreNotRefundable) {
  Rig h;
  auto b = buy_two(h);
  ASSERT_TRUE(scan(h, b.paid.tickets[0].code).ok());
  auto r = ask(h, b.sale.who, b.paid.id, "c-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), app::Errc::not_refundable);
  EXPECT_EQ(
      h.scalar("SELECT count(*) FROM tickets WHERE order_id = $1 AND status = 'valid'", b.paid.id),
      1);

  Sale pending = order_two_seats(h);
  auto p = ask(h, pending.who, pending.order.id, "p-1");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(code_of(p.error()), app::Errc::not_refundable);
}

// The door and a refund of the same ticket at once, many times: exactly one of them wins each
// time, and the loser is told why (void ticket / not refundable).
TEST(Refund, RefundAndCheckInOfOneTicketHaveExactlyOneWinner) {
  Rig h;
  int refunds_won = 0, scans_won = 0;
  for (int round = 0; round < 20; ++round) {
    auto b = buy_two(h);
    Result<app::RefundAccepted> refund = app::Errc::internal;
    Result<app::CheckedIn> in = app::Errc::internal;
    h.run([&]() -> asio::awaitable<int> {
      auto ex = co_await asio::this_coro::executor;
      int done = 0;
      asio::co_spawn(
          ex,
          [&]() -> asio::awaitable<void> {
            // A different head start each round, so the scan lands before, inside and after
            // the refund's transaction across the rounds.
            asio::steady_timer wait(ex, std::chrono::microseconds((round * 397) % 4000));
            co_await wait.async_wait(asio::use_awaitable);
            app::Tickets t(h.deps);
            in = co_await t.check_in(kAdmin, b.paid.tickets[round % 2].code);
            ++done;
          },
          asio::detached);
      asio::co_spawn(
          ex,
          [&]() -> asio::awaitable<void> {
            app::Refunds r(h.deps);
            refund = co_await r.request(b.sale.who, b.paid.id, "race");
            ++done;
          },
          asio::detached);
      while (done < 2) co_await Harness::sleep(1ms);
      co_return 0;
    });
    ASSERT_NE(refund.ok(), in.ok()) << "round " << round;
    if (refund.ok()) {
      ++refunds_won;
      EXPECT_EQ(code_of(in.error()), app::Errc::invalid_field);
      EXPECT_EQ(in.error().details.at("reason").as_string(), "ticket_void");
      EXPECT_EQ(h.scalar("SELECT count(*) FROM tickets WHERE order_id = $1 AND status = 'void'",
                         b.paid.id),
                2);
    } else {
      ++scans_won;
      EXPECT_EQ(code_of(refund.error()), app::Errc::not_refundable);
      EXPECT_EQ(h.scalar("SELECT count(*) FROM tickets WHERE order_id = $1 AND status = "
                         "'checked_in'",
                         b.paid.id),
                1);
      EXPECT_EQ(
          h.scalar("SELECT count(*) FROM orders WHERE id = $1 AND status = 'paid'", b.paid.id), 1);
    }
  }
  std::cout << "refund won " << refunds_won << ", check-in won " << scans_won << "\n";
}

// Two refunds of one order with different keys, and the consumer run twice at once on its
// message: one acceptance, one provider refund, the seats freed once.
TEST(Refund, ParallelRefundsOfOneOrderRefundOnce) {
  Rig h;
  for (int round = 0; round < 5; ++round) {
    auto b = buy_two(h);
    std::vector<Result<app::RefundAccepted>> results;
    h.run([&]() -> asio::awaitable<int> {
      auto ex = co_await asio::this_coro::executor;
      for (int i = 0; i < 4; ++i) {
        asio::co_spawn(
            ex,
            [&, i]() -> asio::awaitable<void> {
              app::Refunds r(h.deps);
              const std::string key = "k" + std::to_string(i);
              results.push_back(co_await r.request(b.sale.who, b.paid.id, key));
            },
            asio::detached);
      }
      while (results.size() < 4) co_await Harness::sleep(1ms);
      co_return 0;
    });
    int accepted = 0;
    for (auto& r : results) {
      if (r.ok()) {
        ++accepted;
      } else {
        EXPECT_EQ(code_of(r.error()), app::Errc::already_refunded);
      }
    }
    EXPECT_EQ(accepted, 1);
    auto rows = h.run([&]() -> asio::awaitable<std::vector<app::OutboxRow>> {
      auto r = co_await h.adapters->outbox->claim_due(10, 0);
      co_return *r;
    });
    ASSERT_EQ(rows.size(), 2u);  // order.paid, order.refund_requested
    const auto& req = rows[1];
    ASSERT_EQ(req.topic, "order.refund_requested");
    // Two workers handle the same message at the same moment (a redelivery racing the first).
    int done = 0;
    h.run([&]() -> asio::awaitable<int> {
      auto ex = co_await asio::this_coro::executor;
      for (int i = 0; i < 2; ++i) {
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
              const app::Message msg{std::to_string(req.id), req.topic, req.payload};
              auto r = co_await h.refund.handle(msg, 0);
              EXPECT_TRUE(r.ok()) << r.code().message();
              ++done;
            },
            asio::detached);
      }
      while (done < 2) co_await Harness::sleep(1ms);
      co_return 0;
    });
    EXPECT_EQ(provider_refunds(h, b.paid.id), 1);
    auto s = stats(h, b.paid.performance_id);
    EXPECT_EQ(s.seats_sold, 0) << "seats returned once, not twice";
    EXPECT_EQ(s.seats_available, 4);
    EXPECT_EQ(h.scalar("SELECT count(*) FROM outbox WHERE topic = 'order.refunded' AND "
                       "payload->>'order_id' = $1",
                       b.paid.id),
              1);
    h.run([&]() -> asio::awaitable<bool> {
      co_return (co_await h.pool->query("DELETE FROM outbox")).ok();
    });
  }
}

TEST(Refund, RefundedSeatsSellAgainAndTheOldCodeIsRefusedAtTheDoor) {
  Rig h;
  auto b = buy_two(h);
  ASSERT_TRUE(ask(h, b.sale.who, b.paid.id, "resell").ok());
  h.drain();
  // Another buyer holds and buys exactly those seats.
  auto perf = h.run([&]() -> asio::awaitable<domain::Performance> {
    co_return **co_await h.catalog_w->get_performance(b.paid.performance_id);
  });
  auto buyer = h.run([&] { return h.make_buyer(); });
  auto access = h.run([&] { return h.admit(buyer, perf); });
  auto order = h.run([&]() -> asio::awaitable<domain::Order> {
    app::Seats s(h.deps);
    auto hold = co_await s.hold(buyer, access, perf.id, b.paid.seat_ids);
    if (!hold) Harness::expect_ok(hold.error(), "hold of refunded seats");
    app::Orders o(h.deps);
    auto placed = co_await o.place(buyer, hold->id);
    if (!placed) Harness::expect_ok(placed.error(), "order of refunded seats");
    app::Payments pay(h.deps);
    app::PaymentRequest req{placed->order.id, "again", "fp", "card", "tok_ok"};
    auto a = co_await pay.pay(buyer, req);
    if (!a || a->status != 200) throw std::runtime_error("second payment failed");
    co_return *co_await o.get(buyer, placed->order.id);
  });
  ASSERT_EQ(order.tickets.size(), 2u);
  EXPECT_EQ(stats(h, perf.id).seats_sold, 2);
  auto old = scan(h, b.paid.tickets[0].code);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(code_of(old.error()), app::Errc::invalid_field);
  EXPECT_EQ(old.error().details.at("reason").as_string(), "ticket_void");
  EXPECT_TRUE(scan(h, order.tickets[0].code).ok());
  // A late repeat of the first refund's message leaves the new sale's markers alone.
  auto rerun = h.run([&]() -> asio::awaitable<Status> {
    const app::Message msg{"late", "order.refund_requested",
                           "{\"order_id\": \"" + b.paid.id + "\"}"};
    co_return co_await h.refund.handle(msg, 1);
  });
  EXPECT_TRUE(rerun.ok());
  auto sold = h.run([&] { return h.adapters->holds->sold_counts(perf.id); });
  ASSERT_TRUE(sold.ok());
  EXPECT_EQ(sold->markers, 2);
  EXPECT_EQ(provider_refunds(h, b.paid.id), 1);
}

// The consumer dies after the provider refunded and before its commit (here: the commit fails);
// the redelivery finds the provider's refund by the order id instead of refunding again.
class FailingComplete final : public app::RefundRepo {
 public:
  explicit FailingComplete(app::RefundRepo& real) : r_(real) {}
  app::Task<app::RefundAccepted> request(const app::RefundRequest& q) override {
    return r_.request(q);
  }
  app::Task<std::optional<app::RefundWork>> work(std::string id) override {
    return r_.work(std::move(id));
  }
  app::Task<bool> complete(std::string, std::string, std::string, std::string, Millis) override {
    ++calls;
    co_return app::Errc::unavailable;
  }
  app::Task<std::vector<std::string>> unsold(std::string p, std::vector<std::string> s) override {
    return r_.unsold(std::move(p), std::move(s));
  }
  int calls = 0;

 private:
  app::RefundRepo& r_;
};

TEST(Refund, ConsumerInterruptedBetweenProviderAndCommitStillRefundsOnce) {
  Rig h;
  auto b = buy_two(h);
  ASSERT_TRUE(ask(h, b.sale.who, b.paid.id, "crash").ok());
  auto rows = h.run([&]() -> asio::awaitable<std::vector<app::OutboxRow>> {
    auto r = co_await h.adapters->outbox->claim_due(10, 0);
    co_return *r;
  });
  ASSERT_EQ(rows.size(), 2u);
  app::Message msg{std::to_string(rows[1].id), rows[1].topic, rows[1].payload};
  FailingComplete failing(*h.adapters->refunds);
  app::Deps broken = h.deps;
  broken.ports.refunds = &failing;
  app::RefundConsumer dying(broken);
  auto first = h.run([&] { return dying.handle(msg, 0); });
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(failing.calls, 1);
  EXPECT_EQ(provider_refunds(h, b.paid.id), 1) << "the provider refunded before the crash";
  EXPECT_EQ(h.scalar("SELECT count(*) FROM orders WHERE id = $1 AND status = 'refund_pending'",
                     b.paid.id),
            1);
  // The redelivery, through the registry as the dispatcher would.
  auto second = h.run([&] { return h.registry.dispatch(msg.id, msg.topic, msg.payload); });
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(provider_refunds(h, b.paid.id), 1);
  EXPECT_EQ(
      h.scalar("SELECT count(*) FROM orders WHERE id = $1 AND status = 'refunded'", b.paid.id), 1);
  EXPECT_EQ(stats(h, b.paid.performance_id).seats_sold, 0);
}

}  // namespace
}  // namespace tk::test
