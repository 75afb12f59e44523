#pragma once
// PostgreSQL side of the waiting list after sell-out (app/waitlist.hpp has the rules).
#include <optional>
#include <string>
#include <vector>

#include "app/async.hpp"
#include "domain/model.hpp"

namespace tk::app {

// bought is never stored: an offered (or since expired) entry whose hold became an order that was
// paid reads as bought, so a payment needs no write to the list.
enum class WaitlistState { waiting, offered, expired, left, bought };
const char* to_string(WaitlistState s);

struct WaitlistEntry {
  std::string performance_id;
  std::int64_t position = 0;  // 1, 2, ... per performance, in sign-up order
  std::string account_id;
  int seat_count = 0;
  WaitlistState state = WaitlistState::waiting;
  std::string hold_id;           // offered: the hold of the offered seats
  Millis access_expires_at = 0;  // offered: the end of the offer (hold and access token)
  bool created = false;          // join: a new entry (false: the account's existing one)
};

// What the offer e-mail says, read when it is sent (the entry may have changed since the offer).
struct WaitlistOfferMail {
  WaitlistEntry entry;
  std::string email;
  std::string buyer_name;
  std::string event_title;
  std::string venue_name;
  Millis starts_at = 0;
};

class WaitlistRepo {
 public:
  virtual ~WaitlistRepo() = default;
  // A new entry at the back, or the account's entry still waiting or offered.
  virtual Task<WaitlistEntry> join(std::string perf, std::string account_id, int seat_count) = 0;
  // The account's latest entry of the performance (any state), if any.
  virtual Task<std::optional<WaitlistEntry>> find(std::string perf, std::string account_id) = 0;
  // The account's entry waiting or offered becomes `left`; the entry as it was (nullopt: none).
  virtual Task<std::optional<WaitlistEntry>> leave(std::string perf, std::string account_id) = 0;
  // Performances with an entry waiting or offered.
  virtual Task<std::vector<std::string>> open_performances() = 0;
  // Offers whose window ended (access_expires_at <= now) become expired.
  virtual Task<std::int64_t> expire_offers(std::string perf, Millis now) = 0;
  // The first `limit` entries still waiting, in list order.
  virtual Task<std::vector<WaitlistEntry>> waiting(std::string perf, int limit) = 0;
  // waiting -> offered with the hold and the window, and in the same transaction an outbox
  // message `waitlist.offered` ({"performance_id", "position", "hold_id"}) for the e-mail;
  // false if the entry no longer waits.
  virtual Task<bool> offer(std::string perf, std::int64_t position, std::string hold_id,
                           Millis access_expires_at) = 0;
  // offered -> waiting again (its hold could not be made): keeps the place in the list.
  virtual Task<void> withdraw_offer(std::string perf, std::int64_t position,
                                    std::string hold_id) = 0;
  // The entry at `position` with its account's address and the performance's names; nullopt if
  // there is no such entry.
  virtual Task<std::optional<WaitlistOfferMail>> offer_mail(std::string perf,
                                                            std::int64_t position) = 0;
};

}  // namespace tk::app
