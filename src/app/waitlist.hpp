#pragma once
// The waiting list after sell-out. A buyer signs up for a number of seats once nothing is left
// to buy; seats that come back (a refund, a hold that expired) are offered in list order: the
// offer loop holds them for the buyer (best available, one group) until the end of the offer
// window and gives an access token valid as long, so the buyer pays for the hold or picks other
// seats. An offer not paid in its window expires with its hold; the seats go to the next.
// The list lives in PostgreSQL; the seats' state, as for every hold, in Redis.
#include <optional>
#include <string>

#include "app/deps.hpp"
#include "app/identity.hpp"
#include "app/ports/waitlist.hpp"

namespace tk::app {

// The access token of an offered entry: the same on the waiting-list route and in the e-mail.
std::string offer_access_token(const crypto::Signer& signer, const WaitlistEntry& e);

struct WaitlistView {
  WaitlistEntry entry;
  std::string access_token;  // offered only
};

class Waitlist {
 public:
  explicit Waitlist(Deps d) : d_(d) {}
  // not_sold_out while a seat is free to hold; out_of_range for a count outside 1..the
  // performance's seats per order; sale_closed once the sale closed.
  Task<WaitlistEntry> join(const Principal& who, std::string perf_id, int seat_count);
  // not_on_waitlist: the account never signed up (or only left).
  Task<WaitlistView> mine(const Principal& who, std::string perf_id);
  // An offered entry's hold is released at once; not_on_waitlist if nothing is open.
  Task<void> leave(const Principal& who, std::string perf_id);
  // The offer loop's round for one performance: expires offers past their window, then offers
  // the seats free now to the entries in list order (the first whose count fits, then the
  // next). Returns the number of offers made.
  Task<int> offer_round(std::string perf_id);
  // Every performance with someone on its list (the background loop's once-a-second round).
  Task<int> offer_all();

 private:
  Deps d_;
};

}  // namespace tk::app
