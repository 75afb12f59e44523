#include "domain/admission.hpp"

#include <gtest/gtest.h>

#include "domain/model.hpp"
#include "domain/rules.hpp"

using namespace tk::domain;

TEST(Admission, WaitAndRetryAfter) {
  EXPECT_EQ(estimated_wait_seconds(500, 100, 50), 5);  // measured rate wins
  EXPECT_EQ(estimated_wait_seconds(500, 0, 50), 10);   // falls back to configured rate
  EXPECT_EQ(retry_after_seconds(0, 0, 600, true), 1);
  EXPECT_EQ(retry_after_seconds(5, 1, 600, true), 1);            // near the front: poll often
  EXPECT_EQ(retry_after_seconds(5000, 200, 600, true), 50);      // a quarter of the expected wait
  EXPECT_EQ(retry_after_seconds(100000, 1000, 600, true), 120);  // far back: rarely, capped
  // The cap keeps four polls inside the access window, so a surprise admission is seen in time.
  EXPECT_EQ(retry_after_seconds(100000, 1000, 60, true), 15);
  EXPECT_EQ(retry_after_seconds(100000, 1000, 10, true), 2);
  // No admission rate (paused, not yet open): it may resume at any moment.
  EXPECT_EQ(retry_after_seconds(100000, 86400, 600, false), 30);
}

TEST(Rules, SeatSelectionShapeBeforeCount) {
  EXPECT_EQ(check_seat_selection({}, 4), RuleErrc::empty_selection);
  EXPECT_EQ(check_seat_selection({"a", "a"}, 1), RuleErrc::duplicate_seat);
  EXPECT_EQ(check_seat_selection({"a", "b", "c"}, 2), RuleErrc::too_many_seats);
  EXPECT_FALSE(check_seat_selection({"a", "b"}, 2));
  EXPECT_EQ(check_account_limit(3, 2, 4), RuleErrc::seat_limit_reached);
  EXPECT_FALSE(check_account_limit(2, 2, 4));
}

TEST(Rules, PaymentWindowNeedsProviderTimeoutPlusMargin) {
  EXPECT_EQ(check_payment_window(10'000, 4'000, 5'000, 2'000), RuleErrc::hold_expires_too_soon);
  EXPECT_FALSE(check_payment_window(20'000, 4'000, 5'000, 2'000));
}

TEST(States, SaleAndOrderStatus) {
  Performance p;
  p.seat_count = 10;
  p.sale_opens_at = 1000;
  EXPECT_EQ(effective_status(p, 999), SaleStatus::scheduled);
  EXPECT_EQ(effective_status(p, 1000), SaleStatus::on_sale);
  p.stored_status = SaleStatus::paused;
  EXPECT_EQ(effective_status(p, 5000), SaleStatus::paused);
  p.sold_count = 10;
  EXPECT_EQ(effective_status(p, 5000), SaleStatus::sold_out);
  p.stored_status = SaleStatus::closed;
  EXPECT_EQ(effective_status(p, 5000), SaleStatus::closed);
  Order o;
  o.expires_at = 2000;
  EXPECT_EQ(effective_status(o, 1999), OrderStatus::pending);
  EXPECT_EQ(effective_status(o, 2000), OrderStatus::expired);
  o.stored_status = OrderStatus::paid;
  EXPECT_EQ(effective_status(o, 9999), OrderStatus::paid);
}

TEST(Rules, Emails) {
  EXPECT_TRUE(plausible_email("kim@example.kr"));
  EXPECT_FALSE(plausible_email("kim@localhost"));
  EXPECT_FALSE(plausible_email("a b@example.com"));
  EXPECT_FALSE(plausible_email("@example.com"));
}

TEST(Presence, MarksAreSecondsThatWrapAfter18Hours) {
  EXPECT_EQ(presence_mark(0), 1);
  EXPECT_EQ(presence_mark(999), 1);
  EXPECT_EQ(presence_mark(1000), 2);
  EXPECT_EQ(presence_mark(65534'000), 65535);
  EXPECT_EQ(presence_mark(65535'000), 1) << "0 is kept for never marked";
  const tk::Millis now = 1'764'000'000'000;
  // The tick's arithmetic: seconds between two marks, modulo the period, across the wrap too.
  for (tk::Millis ago : {0, 1000, 11'000, 12'000, 13'000, 600'000}) {
    auto age = (presence_mark(now) - presence_mark(now - ago) + 65535) % 65535;
    EXPECT_EQ(age, ago / 1000) << ago;
  }
}

TEST(Presence, WindowAndPollCap) {
  EXPECT_EQ(presence_window_seconds(10), 12);
  EXPECT_EQ(presence_retry_cap(10), 3);
  EXPECT_EQ(presence_retry_cap(60), 20);
  EXPECT_EQ(presence_retry_cap(kMinPresenceTimeout), 3);
  // A ticket that polls as told is seen at least three times per timeout.
  for (int t = kMinPresenceTimeout; t <= kMaxPresenceTimeout; t += 7) {
    EXPECT_LE(3 * presence_retry_cap(t), t) << t;
    // A ticket polling as told is marked at most half a timeout before any moment.
    EXPECT_LE(presence_retry_cap(t) * 1000 + presence_poll_window_ms(t), t * 500 + 1000) << t;
  }
  EXPECT_EQ(presence_poll_window_ms(10), 1666);
  EXPECT_EQ(presence_poll_window_ms(60), 10000);
  EXPECT_EQ(presence_poll_window_ms(3600), 10000) << "at most 10 s";
}
