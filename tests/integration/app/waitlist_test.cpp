// The waiting list after sell-out: sign-ups only once nothing is free, offers in list order as
// holds of the seats that came back (first fit), offers that expire or are given up go to the
// next; the offer e-mail, sent once per offer and not for an offer gone by then; an offer paid
// for reads as bought. Real PostgreSQL + Redis + the fixture's SMTP sink, time through the
// ManualClock.
#include "app/waitlist.hpp"

#include "app/consumers.hpp"
#include "app/receipt_mail.hpp"
#include "app/waitlist_mail.hpp"
#include "harness.hpp"
#include "infra/mail/smtp.hpp"
#include "support/mail_sink.hpp"

namespace tk::test {
namespace {

using app::WaitlistState;

Result<app::WaitlistEntry> wl_join(Harness& h, const app::Principal& who,
                                   const domain::Performance& p, int count) {
  return h.run([&]() -> asio::awaitable<Result<app::WaitlistEntry>> {
    app::Waitlist list(h.deps);
    co_return co_await list.join(who, p.id, count);
  });
}

Result<app::WaitlistView> wl_mine(Harness& h, const app::Principal& who,
                                  const domain::Performance& p) {
  return h.run([&]() -> asio::awaitable<Result<app::WaitlistView>> {
    app::Waitlist list(h.deps);
    co_return co_await list.mine(who, p.id);
  });
}

int wl_round(Harness& h, const domain::Performance& p) {
  return h.run([&]() -> asio::awaitable<int> {
    app::Waitlist list(h.deps);
    auto r = co_await list.offer_round(p.id);
    if (!r) Harness::expect_ok(r.error(), "offer round");
    co_return *r;
  });
}

domain::Hold hold_seats(Harness& h, const app::Principal& who, const domain::Performance& p,
                        std::vector<std::string> seats) {
  auto access = h.run([&] { return h.admit(who, p); });
  return h.run([&]() -> asio::awaitable<domain::Hold> {
    app::Seats s(h.deps);
    auto held = co_await s.hold(who, access, p.id, seats);
    if (!held) Harness::expect_ok(held.error(), "hold");
    co_return *held;
  });
}

std::optional<domain::Hold> hold_of(Harness& h, const domain::Performance& p,
                                    const std::string& hold_id) {
  return h.run([&]() -> asio::awaitable<std::optional<domain::Hold>> {
    auto r = co_await h.adapters->holds->get(p.id, hold_id);
    if (!r) Harness::expect_ok(r.error(), "get hold");
    co_return *r;
  });
}

TEST(Waitlist, SeatsThatComeBackAreOfferedInListOrderAsHolds) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 4}); });  // access window 600 s
  auto seats = seat_ids(h, p);
  auto a = h.run([&] { return h.make_buyer(); });
  std::vector<app::Principal> w;
  for (int i = 0; i < 3; ++i) w.push_back(h.run([&] { return h.make_buyer(); }));

  // While a seat is free, the buyer holds it instead.
  auto early = wl_join(h, w[0], p, 2);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(code_of(early.error()), app::Errc::not_sold_out);
  auto all = hold_seats(h, a, p, seats);  // every seat held: nothing left to buy

  auto first = wl_join(h, w[0], p, 2);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->position, 1);
  auto again = wl_join(h, w[0], p, 2);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created) << "signing up twice keeps the place";
  EXPECT_EQ(again->position, 1);
  EXPECT_EQ(wl_join(h, w[1], p, 1)->position, 2);
  auto too_many = wl_join(h, w[2], p, 5);  // more than the seats per order
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(code_of(too_many.error()), app::Errc::out_of_range);
  EXPECT_EQ(wl_join(h, w[2], p, 3)->position, 3);
  auto stranger = wl_mine(h, a, p);
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(code_of(stranger.error()), app::Errc::not_on_waitlist);
  EXPECT_EQ(wl_round(h, p), 0) << "nothing came back yet";
  EXPECT_EQ(wl_mine(h, w[0], p)->entry.state, WaitlistState::waiting);

  // The four seats come back: 1 gets two, 2 gets one; 3 wants three and one is left.
  h.run([&]() -> asio::awaitable<int> {
    app::Seats s(h.deps);
    auto r = co_await s.release(a, all.id);
    if (!r) Harness::expect_ok(r.error(), "release");
    co_return 0;
  });
  EXPECT_EQ(wl_round(h, p), 2);
  auto o1 = wl_mine(h, w[0], p);
  ASSERT_TRUE(o1.ok());
  EXPECT_EQ(o1->entry.state, WaitlistState::offered);
  EXPECT_EQ(o1->entry.access_expires_at, h.clock.now_ms() + 600000);
  auto offered = crypto::decode_access_token(*h.signer, o1->access_token, h.clock.now_ms());
  ASSERT_TRUE(offered.ok()) << "the offer carries an access token";
  EXPECT_EQ(offered->account_id, w[0].account_id);
  auto held = hold_of(h, p, o1->entry.hold_id);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->account_id, w[0].account_id);
  EXPECT_EQ(held->seat_ids.size(), 2u);
  EXPECT_EQ(held->expires_at, o1->entry.access_expires_at) << "held for the whole offer";
  EXPECT_EQ(wl_mine(h, w[1], p)->entry.state, WaitlistState::offered);
  EXPECT_EQ(wl_mine(h, w[2], p)->entry.state, WaitlistState::waiting);
  // The offered hold is the buyer's to pay for.
  h.run([&]() -> asio::awaitable<int> {
    app::Orders o(h.deps);
    auto placed = co_await o.place(w[0], o1->entry.hold_id);
    if (!placed) Harness::expect_ok(placed.error(), "order from the offer");
    co_return 0;
  });

  // 2 gives its offer up: its seat is free at once, still not enough for 3.
  h.run([&]() -> asio::awaitable<int> {
    app::Waitlist list(h.deps);
    auto r = co_await list.leave(w[1], p.id);
    if (!r) Harness::expect_ok(r.error(), "leave");
    co_return 0;
  });
  EXPECT_EQ(code_of(wl_mine(h, w[1], p).error()), app::Errc::not_on_waitlist);
  EXPECT_EQ(wl_round(h, p), 0);

  // 1's offer runs out unpaid: its two seats and the free two go to 3.
  h.clock.advance(600000);
  EXPECT_EQ(wl_mine(h, w[0], p)->entry.state, WaitlistState::expired);
  EXPECT_EQ(wl_round(h, p), 1);
  auto o3 = wl_mine(h, w[2], p);
  ASSERT_EQ(o3->entry.state, WaitlistState::offered);
  EXPECT_EQ(hold_of(h, p, o3->entry.hold_id)->seat_ids.size(), 3u);
  // One seat is free again: the list takes no sign-up until someone holds it.
  auto refused = wl_join(h, w[0], p, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(code_of(refused.error()), app::Errc::not_sold_out);
  auto late = h.run([&] { return h.make_buyer(); });
  auto access = h.run([&] { return h.admit(late, p); });
  h.run([&]() -> asio::awaitable<int> {
    app::Seats s(h.deps);
    domain::BestAvailableRequest one;
    one.count = 1;
    auto held = co_await s.hold_best(late, access, p.id, one);
    if (!held) Harness::expect_ok(held.error(), "hold the last seat");
    co_return 0;
  });
  // 1 may sign up again, at the back.
  EXPECT_EQ(wl_join(h, w[0], p, 1)->position, 4);
}

TEST(Waitlist, AClosedSaleTakesNoSignUp) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 1}); });
  hold_seats(h, h.run([&] { return h.make_buyer(); }), p, seat_ids(h, p));
  set_sale_status(h, p, domain::SaleStatus::closed);
  auto r = wl_join(h, h.run([&] { return h.make_buyer(); }), p, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), app::Errc::sale_closed);
}

// The waitlist.offered messages the offers of `p` wrote to the outbox: (id, payload).
std::vector<std::pair<std::string, std::string>> offer_messages(Harness& h,
                                                                const domain::Performance& p) {
  return h.run([&]() -> asio::awaitable<std::vector<std::pair<std::string, std::string>>> {
    auto r = co_await h.pool->query(
        "SELECT id::text, payload::text FROM outbox WHERE topic = 'waitlist.offered' AND "
        "payload->>'performance_id' = $1 ORDER BY id",
        pg::Params(pg::arg(p.id)));
    if (!r) Harness::expect_ok(r.error(), "outbox");
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < r->size(); ++i) out.emplace_back(r->text(i, 0), r->text(i, 1));
    co_return out;
  });
}

// The service's wiring of the offer e-mail: SMTP to the fixture's sink, the registry's records.
struct MailRig {
  explicit MailRig(Harness& h)
      : mailer(options(), h.clock),
        consumer(*h.adapters->waitlist, mailer, *h.signer, h.clock, "tickets@example.com",
                 "https://tickets.example/"),
        registry(*h.adapters->processed) {
    registry.add(consumer);
  }
  static mail::SmtpOptions options() {
    mail::SmtpOptions o;
    o.url = env("TICKETING_SMTP_URL");
    o.from = "tickets@example.com";
    o.timeout = 5000ms;
    return o;
  }
  void deliver(Harness& h, const std::pair<std::string, std::string>& m) {
    h.run([&]() -> asio::awaitable<int> {
      auto r = co_await registry.dispatch(m.first, "waitlist.offered", m.second);
      if (!r) Harness::expect_ok(r.error(), "offer e-mail");
      co_return 0;
    });
  }
  mail::SmtpMailer mailer;
  app::WaitlistOfferMailConsumer consumer;
  app::ConsumerRegistry registry;
};

std::vector<std::string> offer_mails(const domain::Performance& p, std::int64_t position) {
  std::vector<std::string> out;
  for (auto& m : sink_mails("X-Ticketing-Performance", p.id)) {
    if (mail_header(m, "X-Ticketing-Kind") == "waitlist-offer" &&
        mail_header(m, "X-Ticketing-Waitlist-Position") == std::to_string(position)) {
      out.push_back(std::move(m));
    }
  }
  return out;
}

void release_hold(Harness& h, const app::Principal& who, const std::string& hold_id) {
  h.run([&]() -> asio::awaitable<int> {
    app::Seats s(h.deps);
    auto r = co_await s.release(who, hold_id);
    if (!r) Harness::expect_ok(r.error(), "release");
    co_return 0;
  });
}

TEST(Waitlist, AnOfferIsMailedOnceWithItsDeadlineAndItsPageAndReadsBoughtOncePaid) {
  Harness h;
  MailRig rig(h);
  auto p = h.run([&] { return h.make_performance({.seats = 3}); });
  auto a = h.run([&] { return h.make_buyer(); });
  auto w1 = h.run([&] { return h.make_buyer(); });
  auto w2 = h.run([&] { return h.make_buyer(); });
  auto all = hold_seats(h, a, p, seat_ids(h, p));
  ASSERT_EQ(wl_join(h, w1, p, 2)->position, 1);
  ASSERT_EQ(wl_join(h, w2, p, 1)->position, 2);
  release_hold(h, a, all.id);
  ASSERT_EQ(wl_round(h, p), 2);
  auto o1 = wl_mine(h, w1, p);
  auto o2 = wl_mine(h, w2, p);
  ASSERT_EQ(o1->entry.state, WaitlistState::offered);
  ASSERT_EQ(o2->entry.state, WaitlistState::offered);

  // Each offer wrote its message with the offer itself.
  auto msgs = offer_messages(h, p);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_NE(msgs[0].second.find(o1->entry.hold_id), std::string::npos) << msgs[0].second;
  EXPECT_NE(msgs[1].second.find(o2->entry.hold_id), std::string::npos) << msgs[1].second;

  // Delivered twice (at least once): one e-mail, with the deadline and the page with the token.
  h.clock.advance(60000);
  rig.deliver(h, msgs[0]);
  rig.deliver(h, msgs[0]);
  auto got = offer_mails(p, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(mail_header(got[0], "Message-ID").find(o1->entry.hold_id), std::string::npos);
  auto text = mail_text(got[0]);
  EXPECT_NE(
      text.find("https://tickets.example/p/" + p.id + "/waitlist#access_token=" + o1->access_token),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("결제 기한: " + app::format_kst(o1->entry.access_expires_at) + " (약 9분"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("2 seats are held for you"), std::string::npos) << text;
  EXPECT_NE(text.find("about 9 minutes from now"), std::string::npos) << text;

  // An offer given up before its e-mail went out gets none.
  h.run([&]() -> asio::awaitable<int> {
    app::Waitlist list(h.deps);
    auto r = co_await list.leave(w2, p.id);
    if (!r) Harness::expect_ok(r.error(), "leave");
    co_return 0;
  });
  rig.deliver(h, msgs[1]);
  EXPECT_TRUE(offer_mails(p, 2).empty());

  // Paid for, the offer reads bought, also once its window is over.
  h.run([&]() -> asio::awaitable<int> {
    app::Orders o(h.deps);
    auto placed = co_await o.place(w1, o1->entry.hold_id);
    if (!placed) Harness::expect_ok(placed.error(), "order from the offer");
    app::Payments pay(h.deps);
    app::PaymentRequest req{placed->order.id, "key-" + placed->order.id, "fp", "card", "tok_ok"};
    auto paid = co_await pay.pay(w1, req);
    if (!paid || paid->status != 200) throw std::runtime_error("payment failed");
    co_return 0;
  });
  EXPECT_EQ(wl_mine(h, w1, p)->entry.state, WaitlistState::bought);
  h.clock.advance(600000);
  wl_round(h, p);
  EXPECT_EQ(wl_mine(h, w1, p)->entry.state, WaitlistState::bought);
}

}  // namespace
}  // namespace tk::test
