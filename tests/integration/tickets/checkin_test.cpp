// Tickets after the sale against the real PostgreSQL and Redis of the CTest fixture: Ed25519
// codes at payment, ticket status on orders, the first scan decided in PostgreSQL across two
// processes, door-token scope, void tickets, and e-ticket PDFs for their owner only.
#include <set>

#include "app/tickets.hpp"
#include "common/crypto/ticket_codes.hpp"
#include "integration/app/harness.hpp"

namespace tk::test {
namespace {

// The service's wiring: Ed25519 codes from a configured seed.
struct TicketHarness : Harness {
  TicketHarness() {
    auto s = crypto::TicketCodeSigner::create(std::string(32, 'k'), "e1");
    if (!s) throw std::runtime_error("ticket signer");
    ticket_signer = std::make_unique<crypto::TicketCodeSigner>(std::move(*s));
    shared.ticket_signer = ticket_signer.get();
  }
  std::unique_ptr<crypto::TicketCodeSigner> ticket_signer;
};

struct Bought {
  Sale sale;
  domain::Order paid;
};

Bought buy_two(Harness& h) {
  Sale sale = order_two_seats(h);
  h.run([&]() -> asio::awaitable<int> {
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
  return {sale, paid};
}

Result<app::CheckedIn> scan(Harness& h, const app::Deps& d, const domain::Scanner& who,
                            const std::string& code) {
  return h.run([&]() -> asio::awaitable<Result<app::CheckedIn>> {
    app::Tickets t(d);
    co_return co_await t.check_in(who, code);
  });
}

const domain::Scanner kAdmin{true, ""};

TEST(CheckIn, FirstScanWinsLaterScansSeeItsTime) {
  TicketHarness h;
  auto b = buy_two(h);
  ASSERT_EQ(b.paid.tickets.size(), 2u);
  const auto& t = b.paid.tickets[0];
  EXPECT_TRUE(crypto::is_ed25519_code(t.code));
  EXPECT_EQ(t.status, domain::TicketStatus::valid);
  EXPECT_EQ(t.checked_in_at, 0);

  auto first = scan(h, h.deps, kAdmin, t.code);
  ASSERT_TRUE(first.ok()) << first.code().message();
  EXPECT_EQ(first->ticket_id, t.id);
  EXPECT_EQ(first->seat_id, t.seat_id);
  EXPECT_EQ(first->performance_id, b.paid.performance_id);
  EXPECT_EQ(first->checked_in_at, h.clock.now_ms());

  h.clock.advance(5000);
  auto second = scan(h, h.deps, kAdmin, t.code);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(code_of(second.error()), app::Errc::already_checked_in);
  EXPECT_EQ(second.error().details.at("checked_in_at").as_int64(), first->checked_in_at);

  // The order shows it; the other ticket is untouched.
  auto again = h.run([&]() -> asio::awaitable<domain::Order> {
    app::Orders o(h.deps);
    co_return *co_await o.get(b.sale.who, b.paid.id);
  });
  for (const auto& x : again.tickets) {
    if (x.id == t.id) {
      EXPECT_EQ(x.status, domain::TicketStatus::checked_in);
      EXPECT_EQ(x.checked_in_at, first->checked_in_at);
    } else {
      EXPECT_EQ(x.status, domain::TicketStatus::valid);
    }
  }
}

// Many scanners at once, half of them in a second process with its own connections: PostgreSQL
// lets exactly one through; everyone else is told when that one happened.
TEST(CheckIn, ConcurrentScansFromTwoProcessesAdmitOnce) {
  TicketHarness h;
  auto b = buy_two(h);
  const std::string code = b.paid.tickets[1].code;

  service::AdapterOptions o;
  o.pg_url = env("TICKETING_PG_URL");
  o.pg_pool_size = 8;
  o.redis = *redis::Endpoint::parse(env("TICKETING_REDIS_URL"));
  auto second = service::Adapters::create(h.io.get_executor(), o);
  app::Shared shared2(h.shared);
  app::Flights flights2;
  app::Deps d2{second->ports(), &shared2, &flights2};

  constexpr int kScans = 40;
  std::vector<Result<app::CheckedIn>> results;
  h.run([&]() -> asio::awaitable<int> {
    int done = 0;
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < kScans; ++i) {
      const app::Deps& d = i % 2 ? d2 : h.deps;
      asio::co_spawn(
          ex,
          [&, d]() -> asio::awaitable<void> {
            app::Tickets t(d);
            results.push_back(co_await t.check_in(kAdmin, code));
            ++done;
          },
          asio::detached);
    }
    while (done < kScans) co_await Harness::sleep(5ms);
    co_return 0;
  });
  second->stop();
  h.io.run_for(200ms);  // let the second process's connections close
  int admitted = 0, already = 0;
  std::set<std::int64_t> times;
  Millis winner_at = 0;
  for (auto& r : results) {
    if (r.ok()) {
      ++admitted;
      winner_at = r->checked_in_at;
    } else {
      ASSERT_EQ(code_of(r.error()), app::Errc::already_checked_in) << r.code().message();
      ++already;
      times.insert(r.error().details.at("checked_in_at").as_int64());
    }
  }
  EXPECT_EQ(admitted, 1);
  EXPECT_EQ(already, kScans - 1);
  ASSERT_EQ(times.size(), 1u);  // every loser saw the winner's time, never a blank
  EXPECT_EQ(*times.begin(), winner_at);
  EXPECT_EQ(h.run([&] {
              return count(*h.pool,
                           "SELECT count(*) FROM tickets WHERE id = $1 AND status = 'checked_in'",
                           b.paid.tickets[1].id);
            }),
            1);
}

TEST(CheckIn, DoorTokensCodesAndVoidTickets) {
  TicketHarness h;
  auto b = buy_two(h);
  auto other = buy_two(h);  // another performance
  app::Tickets tickets(h.deps);

  auto pass = h.run([&]() -> asio::awaitable<Result<app::DoorPass>> {
    app::Tickets t(h.deps);
    co_return co_await t.issue_door_token(b.paid.performance_id, 3600 * 1000);
  });
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->expires_at, h.clock.now_ms() + 3600 * 1000);
  auto door = tickets.door_scanner(pass->token);
  ASSERT_TRUE(door.ok());
  EXPECT_EQ(door->performance_id, b.paid.performance_id);

  // Another performance's ticket: 403, and nothing is written.
  auto wrong = scan(h, h.deps, *door, other.paid.tickets[0].code);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(code_of(wrong.error()), app::Errc::forbidden);
  EXPECT_EQ(h.run([&] {
              return count(*h.pool, "SELECT count(*) FROM tickets WHERE id = $1 AND status = 'valid'",
                           other.paid.tickets[0].id);
            }),
            1);
  EXPECT_TRUE(scan(h, h.deps, *door, b.paid.tickets[0].code).ok());

  // Forged or altered codes do not verify: 404.
  std::string altered = b.paid.tickets[1].code;
  altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
  auto bad = scan(h, h.deps, kAdmin, altered);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(code_of(bad.error()), app::Errc::not_found);
  EXPECT_EQ(code_of(scan(h, h.deps, kAdmin, "not-a-code").error()), app::Errc::not_found);
  // A genuine code for a ticket that was never sold: 404 as well.
  const std::string phantom = h.ticket_signer->sign(
      {"tkt_neverissued000000000000", b.paid.performance_id, b.paid.tickets[0].seat_id});
  EXPECT_EQ(code_of(scan(h, h.deps, kAdmin, phantom).error()), app::Errc::not_found);

  // A void (refunded) ticket: 422 invalid_field, reason ticket_void.
  h.run([&]() -> asio::awaitable<int> {
    auto p = pg::Params(pg::arg(b.paid.tickets[1].id));
    auto r = co_await h.pool->query("UPDATE tickets SET status = 'void' WHERE id = $1", std::move(p));
    if (!r) throw std::runtime_error("void");
    co_return 0;
  });
  auto v = scan(h, h.deps, kAdmin, b.paid.tickets[1].code);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(code_of(v.error()), app::Errc::invalid_field);
  EXPECT_EQ(v.error().details.at("reason").as_string(), "ticket_void");

  // The door token expires.
  h.clock.advance(3600 * 1000);
  EXPECT_EQ(code_of(tickets.door_scanner(pass->token).error()), app::Errc::unauthenticated);
  EXPECT_EQ(code_of(tickets.door_scanner("forged").error()), app::Errc::unauthenticated);
}

// Orders paid before Ed25519 codes carry MAC-signed codes: they still check in.
TEST(CheckIn, EarlierMacCodesStillCheckIn) {
  Harness h;  // no ticket signer: codes as before
  auto b = buy_two(h);
  EXPECT_FALSE(crypto::is_ed25519_code(b.paid.tickets[0].code));
  auto s = crypto::TicketCodeSigner::create(std::string(32, 'k'), "e1");
  ASSERT_TRUE(s.ok());
  h.shared.ticket_signer = &*s;  // the upgraded service
  EXPECT_TRUE(scan(h, h.deps, kAdmin, b.paid.tickets[0].code).ok());
}

TEST(ETickets, PdfForTheOwnerOnly) {
  TicketHarness h;
  auto b = buy_two(h);
  const auto& t = b.paid.tickets[0];
  auto doc = h.run([&]() -> asio::awaitable<Result<app::Document>> {
    app::Tickets tickets(h.deps);
    co_return co_await tickets.pdf(b.sale.who, t.id);
  });
  ASSERT_TRUE(doc.ok()) << doc.code().message();
  EXPECT_EQ(doc->content_type, "application/pdf");
  EXPECT_EQ(doc->filename, "ticket-" + t.id + ".pdf");
  EXPECT_EQ(doc->data.substr(0, 5), "%PDF-");

  auto stranger = h.run([&] { return h.make_buyer(); });
  for (const std::string& id : {t.id, std::string("tkt_unknown")}) {
    auto r = h.run([&]() -> asio::awaitable<Result<app::Document>> {
      app::Tickets tickets(h.deps);
      co_return co_await tickets.pdf(stranger, id);
    });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(code_of(r.error()), app::Errc::not_found);
  }

  // The mail consumer's view: one PDF per ticket; void ones only when asked.
  auto docs = h.run([&]() -> asio::awaitable<Result<std::vector<app::Document>>> {
    co_return co_await h.deps.ports.ticket_documents->for_order(b.paid.id);
  });
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  h.run([&]() -> asio::awaitable<int> {
    auto p = pg::Params(pg::arg(t.id));
    auto r = co_await h.pool->query("UPDATE tickets SET status = 'void' WHERE id = $1", std::move(p));
    if (!r) throw std::runtime_error("void");
    co_return 0;
  });
  auto left = h.run([&]() -> asio::awaitable<Result<std::vector<app::Document>>> {
    co_return co_await h.deps.ports.ticket_documents->for_order(b.paid.id);
  });
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 1u);
  auto all = h.run([&]() -> asio::awaitable<Result<std::vector<app::Document>>> {
    co_return co_await h.deps.ports.ticket_documents->for_order(b.paid.id, true);
  });
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

}  // namespace
}  // namespace tk::test
