// Catalogue and accounts on PostgreSQL.
#include <map>

#include "common/crypto/encoding.hpp"
#include "common/log.hpp"
#include "infra/postgres/repos/repos.hpp"
#include "infra/postgres/repos/support.hpp"
#include "infra/postgres/transaction.hpp"

namespace tk::pgrepo {

using app::Errc;
using app::Task;
using pg::arg;

namespace {
constexpr const char* kAccountCols = "id, num, email, name, password_hash";

domain::Account account_from(const pg::Rows& r, int i) {
  return domain::Account{std::string(r.text(i, 0)), r.int64(i, 1), std::string(r.text(i, 2)),
                         std::string(r.text(i, 3)), std::string(r.text(i, 4))};
}

constexpr const char* kPerfCols =
    "id, event_id, venue_id, (extract(epoch from starts_at) * 1000)::bigint, "
    "(extract(epoch from sale_opens_at) * 1000)::bigint, status, max_seats_per_order, "
    "max_seats_per_account, hold_ttl_seconds, admit_per_interval, interval_ms, max_active, "
    "access_ttl_seconds, seat_count, (SELECT COALESCE(sum(sold), 0) FROM performance_sales s "
    "WHERE s.performance_id = performances.id), "
    "COALESCE((extract(epoch from refundable_until) * 1000)::bigint, 0), pow_difficulty, "
    "COALESCE((extract(epoch from queue_opens_at) * 1000)::bigint, 0), "
    "COALESCE(prequeue_size, -1), presence_timeout_seconds, idle_timeout_seconds";

// A fresh pre-queue seed (32 random bytes) in hex, for decode($n, 'hex'): every performance has
// one from its creation, so its commitment exists before any pre-queue could open.
std::string new_seed_hex() { return crypto::hex_encode(crypto::random_bytes(32)); }

domain::Performance perf_from(const pg::Rows& r, int i) {
  domain::Performance p;
  p.id = r.text(i, 0);
  p.event_id = r.text(i, 1);
  p.venue_id = r.text(i, 2);
  p.starts_at = r.int64(i, 3);
  p.sale_opens_at = r.int64(i, 4);
  p.stored_status = domain::parse_sale_status(r.text(i, 5)).value_or(domain::SaleStatus::closed);
  p.max_seats_per_order = static_cast<int>(r.int64(i, 6));
  p.max_seats_per_account = static_cast<int>(r.int64(i, 7));
  p.hold_ttl_seconds = static_cast<int>(r.int64(i, 8));
  p.queue.admit_per_interval = static_cast<int>(r.int64(i, 9));
  p.queue.interval_ms = static_cast<int>(r.int64(i, 10));
  p.queue.max_active = static_cast<int>(r.int64(i, 11));
  p.queue.access_ttl_seconds = static_cast<int>(r.int64(i, 12));
  p.seat_count = static_cast<int>(r.int64(i, 13));
  p.sold_count = static_cast<int>(r.int64(i, 14));
  p.refundable_until = r.int64(i, 15);
  p.queue.pow_difficulty = static_cast<int>(r.int64(i, 16));
  p.queue_opens_at = r.int64(i, 17);
  p.prequeue_size = r.int64(i, 18);
  p.queue.presence_timeout_seconds = static_cast<int>(r.int64(i, 19));
  p.queue.idle_timeout_seconds = static_cast<int>(r.int64(i, 20));
  return p;
}

Task<std::optional<domain::Performance>> load_performance(pg::Pool& pool, const std::string& id) {
  PG_TRY(auto r,
         co_await pool.query(
             std::string("SELECT ") + kPerfCols + " FROM performances WHERE id = $1", P(arg(id))));
  if (r.empty()) co_return std::optional<domain::Performance>{};
  auto p = perf_from(r, 0);
  PG_TRY(auto g, co_await pool.query("SELECT grade, price_cents, currency FROM price_grades "
                                     "WHERE performance_id = $1 ORDER BY price_cents DESC, grade",
                                     P(arg(id))));
  for (int i = 0; i < g.size(); ++i) {
    p.price_grades.push_back({std::string(g.text(i, 0)), g.int64(i, 1), std::string(g.text(i, 2))});
  }
  co_return std::optional<domain::Performance>(std::move(p));
}

// All events (ids unset) or those with the given ids, in creation order.
Task<std::vector<domain::Event>> load_events(pg::Pool& pool,
                                             const std::optional<std::vector<std::string>>& ids,
                                             Millis now) {
  std::string where = ids ? " WHERE e.id = ANY($1::text[])" : "";
  std::vector<pg::Param> params;
  if (ids) params.push_back(arg(text_array(*ids)));
  PG_TRY(auto er,
         co_await pool.query("SELECT e.id, e.title, v.id, v.name FROM events e JOIN venues v "
                             "ON v.id = e.venue_id" +
                                 where + " ORDER BY e.created_at, e.id",
                             params));
  std::vector<domain::Event> events;
  std::map<std::string, std::size_t> index;
  for (int i = 0; i < er.size(); ++i) {
    domain::Event e;
    e.id = er.text(i, 0);
    e.title = er.text(i, 1);
    e.venue_id = er.text(i, 2);
    e.venue_name = er.text(i, 3);
    index[e.id] = events.size();
    events.push_back(std::move(e));
  }
  if (events.empty()) co_return events;
  std::string pwhere = ids ? " WHERE event_id = ANY($1::text[])" : "";
  PG_TRY(auto pr, co_await pool.query(std::string("SELECT ") + kPerfCols + " FROM performances" +
                                          pwhere + " ORDER BY starts_at, id",
                                      params));
  for (int i = 0; i < pr.size(); ++i) {
    auto p = perf_from(pr, i);
    auto it = index.find(p.event_id);
    if (it == index.end()) continue;
    events[it->second].performances.push_back(
        {p.id, p.starts_at, p.sale_opens_at, domain::effective_status(p, now)});
  }
  co_return events;
}
}  // namespace

// ---- Accounts

Task<domain::Account> Accounts::create(std::string id, std::string email, std::string name,
                                       std::string password_hash) {
  auto r = co_await pool_->query(
      "INSERT INTO accounts (id, email, name, password_hash) VALUES ($1, $2, $3, $4) "
      "RETURNING id, num, email, name, password_hash",
      P(arg(id), arg(email), arg(name), arg(password_hash)));
  if (!r.ok()) {
    if (r.code() == pg::Errc::unique_violation) co_return Errc::email_taken;
    co_return map_error(std::move(r).error());
  }
  co_return account_from(*r, 0);
}

Task<std::optional<domain::Account>> Accounts::find_by_email(std::string email) {
  PG_TRY(auto r, co_await pool_->query(std::string("SELECT ") + kAccountCols +
                                           " FROM accounts WHERE lower(email) = lower($1)",
                                       P(arg(email))));
  if (r.empty()) co_return std::optional<domain::Account>{};
  co_return std::optional<domain::Account>(account_from(r, 0));
}

Task<std::optional<domain::Account>> Accounts::find_by_id(std::string id) {
  PG_TRY(auto r,
         co_await pool_->query(
             std::string("SELECT ") + kAccountCols + " FROM accounts WHERE id = $1", P(arg(id))));
  if (r.empty()) co_return std::optional<domain::Account>{};
  co_return std::optional<domain::Account>(account_from(r, 0));
}

// ---- Catalogue reads (read-only pool)

Task<std::vector<domain::Event>> CatalogReader::list_events(Millis now) {
  co_return co_await load_events(pool(), std::nullopt, now);
}

Task<std::optional<domain::Event>> CatalogReader::get_event(std::string id, Millis now) {
  std::optional<std::vector<std::string>> ids(std::in_place);
  ids->push_back(std::move(id));
  PG_TRY(auto v, co_await load_events(pool(), ids, now));
  if (v.empty()) co_return std::optional<domain::Event>{};
  co_return std::optional<domain::Event>(std::move(v.front()));
}

Task<std::vector<domain::Event>> CatalogReader::events_by_ids(std::vector<std::string> ids,
                                                              Millis now) {
  const std::optional<std::vector<std::string>> wanted(ids);
  PG_TRY(auto v, co_await load_events(pool(), wanted, now));
  std::map<std::string, std::size_t> at;
  for (std::size_t i = 0; i < v.size(); ++i) at[v[i].id] = i;
  std::vector<domain::Event> out;
  out.reserve(v.size());
  for (const auto& id : ids) {
    auto it = at.find(id);
    if (it != at.end()) out.push_back(std::move(v[it->second]));
  }
  co_return out;
}

Task<std::optional<domain::Performance>> CatalogReader::get_performance(std::string id) {
  co_return co_await load_performance(pool(), id);
}

Task<std::optional<domain::Venue>> CatalogReader::get_venue(std::string id) {
  pg::Pool& pool = this->pool();  // both reads from one server
  PG_TRY(auto v, co_await pool.query("SELECT id, name FROM venues WHERE id = $1", P(arg(id))));
  if (v.empty()) co_return std::optional<domain::Venue>{};
  domain::Venue venue{std::string(v.text(0, 0)), std::string(v.text(0, 1)), {}};
  PG_TRY(auto s,
         co_await pool.query("SELECT id, section, row_label, number, grade FROM venue_seats "
                             "WHERE venue_id = $1 ORDER BY ord",
                             P(arg(id))));
  venue.seats.reserve(static_cast<std::size_t>(s.size()));
  for (int i = 0; i < s.size(); ++i) {
    venue.seats.push_back({std::string(s.text(i, 0)), std::string(s.text(i, 1)),
                           std::string(s.text(i, 2)), static_cast<int>(s.int64(i, 3)),
                           std::string(s.text(i, 4))});
  }
  co_return std::optional<domain::Venue>(std::move(venue));
}

// ---- Catalogue writes (primary)

Task<domain::Venue> CatalogWriter::create_venue(std::string name,
                                                std::vector<app::NewSection> sections) {
  domain::Venue v;
  v.id = crypto::new_id("ven_");
  v.name = name;
  std::vector<std::string> ids, secs, rows, nums, grades, ords;
  for (const auto& s : sections) {
    for (const auto& r : s.rows) {
      for (int n = 1; n <= r.seats; ++n) {
        domain::SeatSpec seat{crypto::new_id("st_"), s.name, r.label, n, r.grade};
        ids.push_back(seat.id);
        secs.push_back(seat.section);
        rows.push_back(seat.row);
        nums.push_back(std::to_string(n));
        grades.push_back(seat.grade);
        ords.push_back(std::to_string(v.seats.size()));
        v.seats.push_back(std::move(seat));
      }
    }
  }
  auto params = P(arg(v.id), arg(text_array(ids)), arg(text_array(secs)), arg(text_array(rows)),
                  arg(text_array(nums)), arg(text_array(grades)), arg(text_array(ords)));
  auto n = static_cast<std::int64_t>(v.seats.size());
  auto r = co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Status> {
    TK_CO_CHECK(co_await c.query("INSERT INTO venues (id, name, seat_count) VALUES ($1, $2, $3)",
                                 P(arg(v.id), arg(name), arg(n))));
    TK_CO_CHECK(co_await c.query(
        "INSERT INTO venue_seats (id, venue_id, ord, section, row_label, number, grade) "
        "SELECT s.id, $1, s.ord, s.sec, s.row, s.num, s.grade FROM unnest($2::text[], $3::text[], "
        "$4::text[], $5::int[], $6::text[], $7::int[]) AS s(id, sec, row, num, grade, ord)",
        params));
    co_return Status{};
  });
  if (!r.ok()) co_return map_error(std::move(r).error());
  co_return v;
}

Task<std::string> CatalogWriter::create_event(std::string title, std::string venue_id,
                                              std::string performer) {
  std::string id = crypto::new_id("evt_");
  // One statement, so one transaction: the event and its catalogue.changed message commit
  // together (the search index follows from the message).
  auto r = co_await pool_->query(
      "WITH e AS (INSERT INTO events (id, title, venue_id, performer) "
      "SELECT $1, $2, id, $4 FROM venues WHERE id = $3 RETURNING id) "
      "INSERT INTO outbox (topic, payload) SELECT 'catalogue.changed', "
      "jsonb_build_object('event_id', e.id) FROM e",
      P(arg(id), arg(title), arg(venue_id), arg(performer)));
  if (!r.ok()) co_return map_error(std::move(r).error());
  if (r->affected() != 1) co_return Errc::not_found;
  co_return id;
}

Task<void> CatalogWriter::create_performance(const domain::Performance& p) {
  // 0: NULL, the default rule (starts_at minus 24 h) follows later changes of starts_at.
  pg::Param refundable = p.refundable_until != 0 ? arg(p.refundable_until) : pg::null();
  pg::Param queue_opens = p.queue_opens_at != 0 ? arg(p.queue_opens_at) : pg::null();
  const std::string seed = new_seed_hex();
  std::vector<std::string> grades, prices, currencies;
  for (const auto& g : p.price_grades) {
    grades.push_back(g.grade);
    prices.push_back(std::to_string(g.price_cents));
    currencies.push_back(g.currency);
  }
  auto r = co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Status> {
    TK_CO_CHECK(co_await c.query(
        "INSERT INTO performances (id, event_id, venue_id, starts_at, sale_opens_at, status, "
        "max_seats_per_order, max_seats_per_account, hold_ttl_seconds, admit_per_interval, "
        "interval_ms, max_active, access_ttl_seconds, seat_count, refundable_until, "
        "pow_difficulty, queue_opens_at, queue_seed, presence_timeout_seconds, "
        "idle_timeout_seconds) VALUES ($1, $2, "
        "$3, to_timestamp($4::float8 / 1000), to_timestamp($5::float8 / 1000), 'scheduled', $6, "
        "$7, $8, $9, $10, $11, $12, $13, to_timestamp($14::float8 / 1000), $15, "
        "to_timestamp($16::float8 / 1000), decode($17, 'hex'), $18, $19)",
        P(arg(p.id), arg(p.event_id), arg(p.venue_id), arg(p.starts_at), arg(p.sale_opens_at),
          arg(p.max_seats_per_order), arg(p.max_seats_per_account), arg(p.hold_ttl_seconds),
          arg(p.queue.admit_per_interval), arg(p.queue.interval_ms), arg(p.queue.max_active),
          arg(p.queue.access_ttl_seconds), arg(p.seat_count), refundable,
          arg(p.queue.pow_difficulty), queue_opens, arg(seed),
          arg(p.queue.presence_timeout_seconds), arg(p.queue.idle_timeout_seconds))));
    TK_CO_CHECK(co_await c.query(
        "INSERT INTO price_grades (performance_id, grade, price_cents, currency) "
        "SELECT $1, g, pc, cur FROM unnest($2::text[], $3::bigint[], $4::text[]) AS t(g, pc, cur)",
        P(arg(p.id), arg(text_array(grades)), arg(text_array(prices)),
          arg(text_array(currencies)))));
    TK_CO_CHECK(
        co_await c.query("INSERT INTO performance_seats (performance_id, seat_id) "
                         "SELECT $1, id FROM venue_seats WHERE venue_id = $2",
                         P(arg(p.id), arg(p.venue_id))));
    TK_CO_CHECK(
        co_await c.query("INSERT INTO queue_state (performance_id, epoch_ms) VALUES ($1, "
                         "(extract(epoch from now()) * 1000)::bigint)",
                         P(arg(p.id))));
    co_return Status{};
  });
  if (!r.ok()) co_return map_error(std::move(r).error());
  // The new performance's seats are not in the planner's statistics until autovacuum gets to
  // them: with every known performance in the most-common-values list, the planner then expects
  // ~1 row for the new one and claims seats by scanning all of its rows (performance_id alone as
  // the index condition) instead of one index probe per seat — 300 ms an order instead of 0.1 ms
  // during the on-sale. ANALYZE samples a fixed number of rows, so this costs the same on a big
  // table; a failure only leaves it to autovacuum.
  auto a = co_await pool_->query("ANALYZE performance_seats");
  if (!a.ok()) log::warn("ANALYZE performance_seats failed", {{"performance", p.id}});
  co_return Status{};
}

Task<std::optional<domain::Performance>> CatalogWriter::update_performance(
    std::string id, app::PerformanceChange c) {
  auto opt_int = [](const std::optional<int>& v) { return v ? arg(*v) : pg::null(); };
  auto opt_ms = [](const std::optional<Millis>& v) { return v ? arg(*v) : pg::null(); };
  // Parameters are built before the co_await (GCC 12 and conditional temporaries in coroutines).
  pg::Param status = c.status ? arg(domain::to_string(*c.status)) : pg::null();
  auto params =
      P(arg(id), status, opt_int(c.admit_per_interval), opt_int(c.interval_ms),
        opt_int(c.max_active), opt_int(c.access_ttl_seconds), opt_ms(c.starts_at),
        opt_ms(c.sale_opens_at), opt_int(c.max_seats_per_order), opt_int(c.max_seats_per_account),
        opt_int(c.hold_ttl_seconds), opt_ms(c.refundable_until), arg(c.reset_refundable_until),
        opt_int(c.pow_difficulty), opt_ms(c.queue_opens_at), arg(c.reset_queue_opens_at),
        arg(new_seed_hex()), opt_int(c.presence_timeout_seconds), opt_int(c.idle_timeout_seconds));
  PG_TRY(auto r, co_await pool_->query(
                     "UPDATE performances SET status = COALESCE($2, status), "
                     "admit_per_interval = COALESCE($3::int, admit_per_interval), "
                     "interval_ms = COALESCE($4::int, interval_ms), "
                     "max_active = COALESCE($5::int, max_active), "
                     "access_ttl_seconds = COALESCE($6::int, access_ttl_seconds), "
                     "starts_at = COALESCE(to_timestamp($7::float8 / 1000), starts_at), "
                     "sale_opens_at = COALESCE(to_timestamp($8::float8 / 1000), sale_opens_at), "
                     "max_seats_per_order = COALESCE($9::int, max_seats_per_order), "
                     "max_seats_per_account = COALESCE($10::int, max_seats_per_account), "
                     "hold_ttl_seconds = COALESCE($11::int, hold_ttl_seconds), "
                     "refundable_until = CASE WHEN $13::boolean THEN NULL ELSE COALESCE("
                     "to_timestamp($12::float8 / 1000), refundable_until) END, "
                     "pow_difficulty = COALESCE($14::int, pow_difficulty), "
                     "queue_opens_at = CASE WHEN $16::boolean THEN NULL ELSE COALESCE("
                     "to_timestamp($15::float8 / 1000), queue_opens_at) END, "
                     "queue_seed = COALESCE(queue_seed, decode($17, 'hex')), "
                     "presence_timeout_seconds = COALESCE($18::int, presence_timeout_seconds), "
                     "idle_timeout_seconds = COALESCE($19::int, idle_timeout_seconds), "
                     "settings_version = settings_version + 1 WHERE id = $1",
                     std::move(params)));
  if (r.affected() != 1) co_return std::optional<domain::Performance>{};
  co_return co_await load_performance(*pool_, id);
}

Task<std::optional<domain::Performance>> CatalogWriter::get_performance(std::string id) {
  co_return co_await load_performance(*pool_, id);
}

Task<std::optional<std::string>> CatalogWriter::event_venue(std::string event_id) {
  PG_TRY(auto r,
         co_await pool_->query("SELECT venue_id FROM events WHERE id = $1", P(arg(event_id))));
  if (r.empty()) co_return std::optional<std::string>{};
  co_return std::optional<std::string>(std::string(r.text(0, 0)));
}

Task<std::vector<domain::Performance>> CatalogWriter::live_performances() {
  PG_TRY(auto r, co_await pool_->query(std::string("SELECT ") + kPerfCols +
                                       " FROM performances WHERE status <> 'closed'"));
  std::vector<domain::Performance> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(perf_from(r, i));
  co_return out;
}

}  // namespace tk::pgrepo
