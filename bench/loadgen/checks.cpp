#include "checks.hpp"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace loadgen {

namespace {

using PgConn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using PgRes = std::unique_ptr<PGresult, decltype(&PQclear)>;

PgConn pg_connect(const std::string& url) {
  PgConn c(PQconnectdb(url.c_str()), &PQfinish);
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    throw std::runtime_error(std::string("PostgreSQL: ") +
                             (c ? PQerrorMessage(c.get()) : "out of memory"));
  }
  return c;
}

std::int64_t scalar(PGconn* c, const char* sql, const std::string* param = nullptr) {
  const char* v = param ? param->c_str() : nullptr;
  PgRes r(PQexecParams(c, sql, param ? 1 : 0, nullptr, &v, nullptr, nullptr, 0), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) {
    throw std::runtime_error(std::string("PostgreSQL: ") + PQerrorMessage(c) + " in: " + sql);
  }
  return PQgetisnull(r.get(), 0, 0) ? 0 : std::stoll(PQgetvalue(r.get(), 0, 0));
}

constexpr const char* kRowsWritten =
    "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables";

}  // namespace

std::optional<std::int64_t> pg_rows_written(const std::string& url) {
  try {
    auto c = pg_connect(url);
    return scalar(c.get(), kRowsWritten);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::int64_t> pg_rows_written_settled(const std::string& url) {
  try {
    auto c = pg_connect(url);
    // Each read is its own transaction: a snapshot of the statistics is taken per transaction.
    std::int64_t last = scalar(c.get(), kRowsWritten);
    for (int i = 0; i < 10; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1200));
      std::int64_t now = scalar(c.get(), kRowsWritten);
      if (now == last) return now;
      last = now;
    }
    return last;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

PgFindings pg_findings(const std::string& url, const std::string& perf) {
  auto c = pg_connect(url);
  PgFindings f;
  f.tickets = scalar(c.get(), "SELECT count(*) FROM tickets WHERE performance_id = $1", &perf);
  f.seats_sold_twice = scalar(c.get(),
                              "SELECT count(*) FROM (SELECT seat_id FROM tickets WHERE "
                              "performance_id = $1 GROUP BY seat_id HAVING count(*) > 1) d",
                              &perf);
  f.sold_rows = scalar(
      c.get(),
      "SELECT count(*) FROM performance_seats WHERE performance_id = $1 AND state = 'sold'", &perf);
  f.orders_paid = scalar(
      c.get(), "SELECT count(*) FROM orders WHERE performance_id = $1 AND status = 'paid'", &perf);
  f.paid_without_one_charge =
      scalar(c.get(),
             // One pass over the charges (a hash join), not one per paid order: the provider's
             // table is not indexed by order and holds every run's charges.
             "SELECT count(*) FROM orders o LEFT JOIN (SELECT order_ref, count(*) AS n FROM "
             "provider_charges WHERE status = 'charged' GROUP BY order_ref) c ON c.order_ref = "
             "o.id WHERE o.performance_id = $1 AND o.status = 'paid' AND COALESCE(c.n, 0) <> 1",
             &perf);
  constexpr const char* kInDoubt =
      "SELECT count(*) FROM provider_charges c JOIN orders o ON o.id = c.order_ref WHERE "
      "o.performance_id = $1 AND c.status = 'charged' AND o.status <> 'paid'";
  f.in_doubt_at_end = scalar(c.get(), kInDoubt, &perf);
  f.charges_without_paid_order = f.in_doubt_at_end;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 60 && f.charges_without_paid_order > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    f.charges_without_paid_order = scalar(c.get(), kInDoubt, &perf);
  }
  if (f.in_doubt_at_end > 0) {
    f.settle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  f.charges = scalar(c.get(),
                     "SELECT count(*) FROM provider_charges c JOIN orders o ON o.id = c.order_ref "
                     "WHERE o.performance_id = $1 AND c.status = 'charged'",
                     &perf);
  f.admission_ticks =
      scalar(c.get(), "SELECT count(*) FROM admission_ticks WHERE performance_id = $1", &perf);
  auto gap = [&](const char* q) {
    const std::string sql =
        std::string("SELECT percentile_disc(") + q +
        ") WITHIN GROUP (ORDER BY gap) FROM (SELECT admitted_at_ms - lag(admitted_at_ms) OVER "
        "(ORDER BY tick_seq) AS gap FROM admission_ticks WHERE performance_id = $1) g";
    return scalar(c.get(), sql.c_str(), &perf);
  };
  f.tick_gap_median_ms = gap("0.5");
  f.tick_gap_p90_ms = gap("0.9");
  return f;
}

std::int64_t pg_paid_orders_of(const std::string& url, const std::string& perf,
                               const std::vector<std::string>& account_ids) {
  if (account_ids.empty()) return 0;
  auto c = pg_connect(url);
  // A text[] literal; account ids are base64url with a prefix, quoted all the same.
  std::string ids = "{";
  for (std::size_t i = 0; i < account_ids.size(); ++i) {
    if (i) ids += ',';
    ids += '"' + account_ids[i] + '"';
  }
  ids += '}';
  const char* params[] = {perf.c_str(), ids.c_str()};
  PgRes r(PQexecParams(c.get(),
                       "SELECT count(*) FROM orders WHERE performance_id = $1 AND status = 'paid' "
                       "AND account_id = ANY($2::text[])",
                       2, nullptr, params, nullptr, nullptr, 0),
          &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) {
    throw std::runtime_error(std::string("PostgreSQL: ") + PQerrorMessage(c.get()));
  }
  return std::stoll(PQgetvalue(r.get(), 0, 0));
}

namespace {
using RedisConn = std::unique_ptr<redisContext, decltype(&redisFree)>;
using RedisReply = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

RedisConn redis_connect(const std::string& url) {
  // redis://[user:pass@]host:port[/db]; only host and port matter on loopback.
  std::string_view u = url;
  if (u.substr(0, 8) == "redis://") u.remove_prefix(8);
  if (auto at = u.rfind('@'); at != std::string_view::npos) u.remove_prefix(at + 1);
  if (auto s = u.find('/'); s != std::string_view::npos) u = u.substr(0, s);
  auto colon = u.rfind(':');
  std::string host(u.substr(0, colon));
  int port = colon == std::string_view::npos ? 6379 : std::stoi(std::string(u.substr(colon + 1)));
  timeval tv{5, 0};
  RedisConn c(redisConnectWithTimeout(host.c_str(), port, tv), &redisFree);
  if (c && c->err) c.reset();
  // Each command too: a Redis that stops answering ends the report's Redis figures, not the run.
  timeval command_tv{30, 0};
  if (c && redisSetTimeout(c.get(), command_tv) != REDIS_OK) c.reset();
  return c;
}
}  // namespace

std::optional<std::int64_t> redis_used_memory(const std::string& url) {
  auto c = redis_connect(url);
  if (!c) return std::nullopt;
  RedisReply guard(static_cast<redisReply*>(redisCommand(c.get(), "INFO memory")),
                   &freeReplyObject);
  const redisReply* r = guard.get();
  if (!r || r->type != REDIS_REPLY_STRING) return std::nullopt;
  std::string_view info(r->str, r->len);
  constexpr std::string_view kKey = "\nused_memory:";
  auto p = info.find(kKey);
  if (p == std::string_view::npos) return std::nullopt;
  return std::stoll(std::string(info.substr(p + kKey.size(), 24)));
}

std::optional<std::int64_t> redis_queue_bytes(const std::string& url, const std::string& perf) {
  auto c = redis_connect(url);
  if (!c) return std::nullopt;
  // The key names of src/infra/redis/stores/stores.hpp (Keys): q, a:<bucket>, seen, gone.
  const std::string tag = "{p:" + perf + "}";
  std::vector<std::string> keys = {tag + ":q", tag + ":seen", tag + ":gone"};
  const std::string match = tag + ":a:*";
  std::string cursor = "0";
  do {
    RedisReply r(static_cast<redisReply*>(redisCommand(c.get(), "SCAN %s MATCH %s COUNT 1000",
                                                       cursor.c_str(), match.c_str())),
                 &freeReplyObject);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return std::nullopt;
    cursor.assign(r->element[0]->str, r->element[0]->len);
    const redisReply* batch = r->element[1];
    for (std::size_t i = 0; i < batch->elements; ++i) {
      keys.emplace_back(batch->element[i]->str, batch->element[i]->len);
    }
  } while (cursor != "0");
  for (const auto& k : keys) {
    redisAppendCommand(c.get(), "MEMORY USAGE %b SAMPLES 0", k.data(), k.size());
  }
  std::int64_t total = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c.get(), &raw) != REDIS_OK) return std::nullopt;
    RedisReply r(static_cast<redisReply*>(raw), &freeReplyObject);
    if (r->type == REDIS_REPLY_INTEGER) total += r->integer;  // nil: a key that does not exist
  }
  return total;
}

}  // namespace loadgen
