// The waiting list on PostgreSQL. Positions come from a per-performance counter row
// (waitlist_heads), taken in the sign-up's transaction: a sign-up that rolls back leaves a hole,
// never a duplicate. One entry per account while it waits or holds an offer (a partial unique
// index); an account that left or whose offer expired may sign up again, at the back.
#include "infra/postgres/repos/repos.hpp"
#include "infra/postgres/repos/support.hpp"
#include "infra/postgres/transaction.hpp"

namespace tk::pgrepo {

using app::Errc;
using app::Task;
using app::WaitlistEntry;
using app::WaitlistState;
using pg::arg;

namespace {

// The columns entry_at reads, spliced into each statement at compile time. The state reads
// "bought" once the offered hold became a paid order (orders.hold_id is unique: one index probe).
#define TK_WAITLIST_COLUMNS                                                                      \
  "performance_id, position, account_id, seat_count, CASE WHEN state IN ('offered', 'expired') " \
  "AND EXISTS (SELECT 1 FROM orders o WHERE o.hold_id = waitlist_entries.hold_id AND "           \
  "o.status IN ('paid', 'refund_pending', 'refunded')) THEN 'bought' ELSE state END, "           \
  "COALESCE(hold_id, ''), COALESCE(access_expires_at_ms, 0)"

WaitlistState state_of(std::string_view s) {
  if (s == "offered") return WaitlistState::offered;
  if (s == "expired") return WaitlistState::expired;
  if (s == "left") return WaitlistState::left;
  if (s == "bought") return WaitlistState::bought;
  return WaitlistState::waiting;
}

WaitlistEntry entry_at(const pg::Rows& r, int i) {
  WaitlistEntry e;
  e.performance_id = std::string(r.text(i, 0));
  e.position = r.int64(i, 1);
  e.account_id = std::string(r.text(i, 2));
  e.seat_count = static_cast<int>(r.int64(i, 3));
  e.state = state_of(r.text(i, 4));
  e.hold_id = std::string(r.text(i, 5));
  e.access_expires_at = r.int64(i, 6);
  return e;
}

}  // namespace

Task<WaitlistEntry> Waitlist::join(std::string perf, std::string account_id, int seat_count) {
  auto r = co_await pg::transaction(
      *pool_, [&](pg::Connection& c) -> asio::awaitable<Result<WaitlistEntry>> {
        // The account's open entry first: signing up twice keeps the place.
        TK_CO_TRY(auto cur, co_await c.query("SELECT " TK_WAITLIST_COLUMNS
                                             " FROM waitlist_entries WHERE performance_id = "
                                             "$1 AND account_id = $2 AND state IN "
                                             "('waiting', 'offered')",
                                             P(arg(perf), arg(account_id))));
        if (!cur.empty()) co_return entry_at(cur, 0);
        TK_CO_TRY(auto head,
                  co_await c.query("INSERT INTO waitlist_heads AS h (performance_id, tail) "
                                   "SELECT id, 1 FROM performances WHERE id = $1 "
                                   "ON CONFLICT (performance_id) DO UPDATE SET tail = h.tail + 1 "
                                   "RETURNING tail",
                                   P(arg(perf))));
        if (head.empty()) co_return Errc::not_found;
        TK_CO_TRY(auto ins, co_await c.query(
                                "INSERT INTO waitlist_entries (performance_id, "
                                "position, account_id, seat_count) VALUES ($1, "
                                "$2, $3, $4) ON CONFLICT DO NOTHING RETURNING " TK_WAITLIST_COLUMNS,
                                P(arg(perf), arg(head.int64(0, 0)), arg(account_id),
                                  arg(std::int64_t{seat_count}))));
        // A concurrent sign-up of the same account won the unique index: retried by the caller.
        if (ins.empty()) co_return Errc::unavailable;
        auto e = entry_at(ins, 0);
        e.created = true;
        co_return e;
      });
  if (!r) co_return map_error(std::move(r).error());
  co_return std::move(*r);
}

Task<std::optional<WaitlistEntry>> Waitlist::find(std::string perf, std::string account_id) {
  PG_TRY(auto r, co_await pool_->query("SELECT " TK_WAITLIST_COLUMNS
                                       " FROM waitlist_entries WHERE performance_id = $1 AND "
                                       "account_id = $2 ORDER BY position DESC LIMIT 1",
                                       P(arg(perf), arg(account_id))));
  if (r.empty()) co_return std::optional<WaitlistEntry>{};
  co_return std::optional<WaitlistEntry>(entry_at(r, 0));
}

Task<std::optional<WaitlistEntry>> Waitlist::leave(std::string perf, std::string account_id) {
  // The row as it was before the update (FROM the same row, read before the change).
  PG_TRY(auto r, co_await pool_->query(
                     "UPDATE waitlist_entries w SET state = 'left' FROM waitlist_entries o "
                     "WHERE w.performance_id = $1 AND w.account_id = $2 AND w.state IN "
                     "('waiting', 'offered') AND o.performance_id = w.performance_id AND "
                     "o.position = w.position RETURNING o.performance_id, o.position, "
                     "o.account_id, o.seat_count, o.state, COALESCE(o.hold_id, ''), "
                     "COALESCE(o.access_expires_at_ms, 0)",
                     P(arg(perf), arg(account_id))));
  if (r.empty()) co_return std::optional<WaitlistEntry>{};
  co_return std::optional<WaitlistEntry>(entry_at(r, 0));
}

Task<std::vector<std::string>> Waitlist::open_performances() {
  PG_TRY(auto r, co_await pool_->query("SELECT DISTINCT performance_id FROM waitlist_entries "
                                       "WHERE state IN ('waiting', 'offered')",
                                       P()));
  std::vector<std::string> out;
  for (int i = 0; i < r.size(); ++i) out.emplace_back(r.text(i, 0));
  co_return out;
}

Task<std::int64_t> Waitlist::expire_offers(std::string perf, Millis now) {
  PG_TRY(auto r, co_await pool_->query(
                     "UPDATE waitlist_entries SET state = 'expired' WHERE performance_id = $1 AND "
                     "state = 'offered' AND access_expires_at_ms <= $2 RETURNING position",
                     P(arg(perf), arg(now))));
  co_return static_cast<std::int64_t>(r.size());
}

Task<std::vector<WaitlistEntry>> Waitlist::waiting(std::string perf, int limit) {
  PG_TRY(auto r, co_await pool_->query("SELECT " TK_WAITLIST_COLUMNS
                                       " FROM waitlist_entries WHERE performance_id = $1 AND "
                                       "state = 'waiting' ORDER BY position LIMIT $2",
                                       P(arg(perf), arg(std::int64_t{limit}))));
  std::vector<WaitlistEntry> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(entry_at(r, i));
  co_return out;
}

Task<bool> Waitlist::offer(std::string perf, std::int64_t position, std::string hold_id,
                           Millis access_expires_at) {
  // One statement: the offer and its e-mail's outbox message commit together.
  PG_TRY(auto r, co_await pool_->query(
                     "WITH o AS (UPDATE waitlist_entries SET state = 'offered', hold_id = $3, "
                     "access_expires_at_ms = $4, offered_at = now() WHERE performance_id = $1 AND "
                     "position = $2 AND state = 'waiting' RETURNING performance_id, position, "
                     "hold_id) INSERT INTO outbox (topic, payload) SELECT 'waitlist.offered', "
                     "jsonb_build_object('performance_id', performance_id, 'position', position, "
                     "'hold_id', hold_id) FROM o RETURNING id",
                     P(arg(perf), arg(position), arg(hold_id), arg(access_expires_at))));
  co_return !r.empty();
}

Task<void> Waitlist::withdraw_offer(std::string perf, std::int64_t position, std::string hold_id) {
  PG_TRY(auto r, co_await pool_->query(
                     "UPDATE waitlist_entries SET state = 'waiting', hold_id = NULL, "
                     "access_expires_at_ms = NULL, offered_at = NULL WHERE performance_id = $1 AND "
                     "position = $2 AND state = 'offered' AND hold_id = $3",
                     P(arg(perf), arg(position), arg(hold_id))));
  (void)r;
  co_return Status{};
}

Task<std::optional<app::WaitlistOfferMail>> Waitlist::offer_mail(std::string perf,
                                                                 std::int64_t position) {
  // The entry's columns first (entry_at reads 0-6), then the names the e-mail shows.
  PG_TRY(auto r, co_await pool_->query(
                     "WITH w AS (SELECT " TK_WAITLIST_COLUMNS
                     " FROM waitlist_entries WHERE performance_id = $1 AND position = $2) "
                     "SELECT w.*, a.email, a.name, e.title, v.name, "
                     "(extract(epoch from p.starts_at) * 1000)::bigint FROM w "
                     "JOIN accounts a ON a.id = w.account_id "
                     "JOIN performances p ON p.id = w.performance_id "
                     "JOIN events e ON e.id = p.event_id JOIN venues v ON v.id = p.venue_id",
                     P(arg(perf), arg(position))));
  if (r.empty()) co_return std::optional<app::WaitlistOfferMail>{};
  app::WaitlistOfferMail m;
  m.entry = entry_at(r, 0);
  m.email = std::string(r.text(0, 7));
  m.buyer_name = std::string(r.text(0, 8));
  m.event_title = std::string(r.text(0, 9));
  m.venue_name = std::string(r.text(0, 10));
  m.starts_at = r.int64(0, 11);
  co_return std::optional<app::WaitlistOfferMail>(std::move(m));
}

}  // namespace tk::pgrepo

#undef TK_WAITLIST_COLUMNS
