// Tickets after the sale on PostgreSQL: the door's first scan and e-ticket reads.
#include "infra/postgres/repos/repos.hpp"
#include "infra/postgres/repos/support.hpp"

namespace tk::pgrepo {

using app::Task;
using pg::arg;

namespace {
constexpr const char* kTicketCols =
    "t.id, t.order_id, o.account_id, t.performance_id, t.seat_id, t.code, t.status, "
    "COALESCE((extract(epoch from t.checked_in_at) * 1000)::bigint, 0)";

app::TicketInfo info_from(const pg::Rows& r, int i) {
  app::TicketInfo t;
  t.id = r.text(i, 0);
  t.order_id = r.text(i, 1);
  t.account_id = r.text(i, 2);
  t.performance_id = r.text(i, 3);
  t.seat_id = r.text(i, 4);
  t.code = r.text(i, 5);
  t.status = domain::parse_ticket_status(r.text(i, 6)).value_or(domain::TicketStatus::void_);
  t.checked_in_at = r.int64(i, 7);
  return t;
}
}  // namespace

Task<domain::ScanResult> Tickets::check_in(std::string ticket_id, Millis now) {
  // Row lock + re-check: of concurrent scans (any process, any connection) exactly one UPDATE
  // sees 'valid'; the others wait for it and then match nothing.
  PG_TRY(auto won,
         co_await pool_->query(
             "UPDATE tickets SET status = 'checked_in', checked_in_at = to_timestamp($2::float8 / "
             "1000) WHERE id = $1 AND status = 'valid' RETURNING performance_id, seat_id, "
             "(extract(epoch from checked_in_at) * 1000)::bigint",
             P(arg(ticket_id), arg(now))));
  domain::ScanResult r;
  if (won.size() == 1) {
    r.found = r.won = true;
    r.status = domain::TicketStatus::checked_in;
    r.performance_id = won.text(0, 0);
    r.seat_id = won.text(0, 1);
    r.checked_in_at = won.int64(0, 2);
    co_return r;
  }
  // A statement of its own: under READ COMMITTED it sees the winner's commit, where a CTE
  // beside the UPDATE would read the snapshot from before it (status 'valid', no time).
  PG_TRY(auto cur, co_await pool_->query(
                       "SELECT status, performance_id, seat_id, COALESCE((extract(epoch from "
                       "checked_in_at) * 1000)::bigint, 0) FROM tickets WHERE id = $1",
                       P(arg(ticket_id))));
  if (cur.size() == 0) co_return r;
  r.found = true;
  r.status = domain::parse_ticket_status(cur.text(0, 0)).value_or(domain::TicketStatus::void_);
  r.performance_id = cur.text(0, 1);
  r.seat_id = cur.text(0, 2);
  r.checked_in_at = cur.int64(0, 3);
  co_return r;
}

Task<std::optional<app::TicketInfo>> Tickets::find(std::string ticket_id) {
  PG_TRY(auto r, co_await pool_->query(std::string("SELECT ") + kTicketCols +
                                           " FROM tickets t JOIN orders o ON o.id = t.order_id "
                                           "WHERE t.id = $1",
                                       P(arg(ticket_id))));
  if (r.size() == 0) co_return std::optional<app::TicketInfo>{};
  co_return std::optional<app::TicketInfo>(info_from(r, 0));
}

Task<std::vector<app::TicketSheet>> Tickets::load_sheets(std::string where, std::string a) {
  PG_TRY(auto r,
         co_await pool_->query(
             std::string("SELECT ") + kTicketCols +
                 ", e.title, v.name, (extract(epoch from p.starts_at) * 1000)::bigint, "
                 "s.section, s.row_label, s.number, s.grade, COALESCE(g.price_cents, 0), "
                 "COALESCE(g.currency, o.currency), a.name, a.email "
                 "FROM tickets t JOIN orders o ON o.id = t.order_id "
                 "JOIN accounts a ON a.id = o.account_id "
                 "JOIN performances p ON p.id = t.performance_id "
                 "JOIN events e ON e.id = p.event_id JOIN venues v ON v.id = p.venue_id "
                 "JOIN venue_seats s ON s.id = t.seat_id "
                 "LEFT JOIN price_grades g ON g.performance_id = p.id AND g.grade = s.grade "
                 "WHERE " +
                 where + " ORDER BY s.ord",
             P(arg(a))));
  std::vector<app::TicketSheet> out;
  for (int i = 0; i < r.size(); ++i) {
    app::TicketSheet s;
    s.ticket = info_from(r, i);
    s.event_title = r.text(i, 8);
    s.venue_name = r.text(i, 9);
    s.starts_at = r.int64(i, 10);
    s.section = r.text(i, 11);
    s.row = r.text(i, 12);
    s.seat_number = static_cast<int>(r.int64(i, 13));
    s.grade = r.text(i, 14);
    s.price_cents = r.int64(i, 15);
    s.currency = r.text(i, 16);
    s.buyer_name = r.text(i, 17);
    s.buyer_email = r.text(i, 18);
    out.push_back(std::move(s));
  }
  co_return out;
}

Task<std::optional<app::TicketSheet>> Tickets::sheet(std::string ticket_id) {
  PG_TRY(auto v, co_await load_sheets("t.id = $1", ticket_id));
  if (v.empty()) co_return std::optional<app::TicketSheet>{};
  co_return std::optional<app::TicketSheet>(std::move(v.front()));
}

Task<std::vector<app::TicketSheet>> Tickets::sheets_for_order(std::string order_id) {
  co_return co_await load_sheets("t.order_id = $1", order_id);
}

}  // namespace tk::pgrepo
