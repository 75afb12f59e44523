// Sessions on PostgreSQL (migration 0005): the record behind the Redis cache.
#include "infra/postgres/repos/repos.hpp"
#include "infra/postgres/repos/support.hpp"

namespace tk::pgrepo {

using app::Task;
using pg::arg;

Task<void> Sessions::create(std::string id, const domain::Session& s, Millis now) {
  // Two expired rows go per row added: the table stays near the number of live sessions
  // without a sweeper of its own.
  PG_TRY(auto r, co_await pool_->query(
                     "WITH gc AS (DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
                     "WHERE expires_at_ms <= $4 ORDER BY expires_at_ms LIMIT 2 "
                     "FOR UPDATE SKIP LOCKED)) "
                     "INSERT INTO sessions (id, account_id, expires_at_ms) VALUES ($1, $2, $3)",
                     P(arg(id), arg(s.account_id), arg(s.expires_at), arg(now))));
  (void)r;
  co_return Status{};
}

Task<std::optional<domain::Session>> Sessions::find(std::string id) {
  PG_TRY(auto r, co_await pool_->query(
                     "SELECT s.account_id, a.num, s.expires_at_ms FROM sessions s JOIN accounts a "
                     "ON a.id = s.account_id WHERE s.id = $1",
                     P(arg(id))));
  if (r.empty()) co_return std::optional<domain::Session>{};
  domain::Session out;
  out.account_id = std::string(r.text(0, 0));
  out.account_num = r.int64(0, 1);
  out.expires_at = r.int64(0, 2);
  co_return std::optional<domain::Session>(std::move(out));
}

Task<void> Sessions::remove(std::string id) {
  PG_TRY(auto r, co_await pool_->query("DELETE FROM sessions WHERE id = $1", P(arg(id))));
  (void)r;
  co_return Status{};
}

}  // namespace tk::pgrepo
