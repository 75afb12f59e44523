// Query plans that matter during an on-sale, checked on the real PostgreSQL: a performance created
// just before its sale must not be priced by the planner as a one-row table, and the outbox
// claim must not read the sale's backlog.
#include <boost/json.hpp>

#include "harness.hpp"
#include "infra/postgres/transaction.hpp"

namespace tk::test {
namespace {

// The shape of the seat claim in infra/postgres/repos/orders.cpp (Orders::place): one probe per
// seat by primary key when the planner knows the performance; a scan of every seat of the
// performance when it thinks the performance has ~1 row.
std::string claim_plan(Harness& h, const std::string& perf, const std::vector<std::string>& seats) {
  return h.run([&]() -> asio::awaitable<std::string> {
    std::string arr = "{";
    for (std::size_t i = 0; i < seats.size(); ++i) arr += (i ? "," : "") + seats[i];
    arr += "}";
    pg::Params params(pg::arg(perf), pg::arg(arr));
    auto r = co_await h.pool->query(
        "EXPLAIN UPDATE performance_seats SET state = 'ordered', order_id = 'ord_plan' WHERE "
        "performance_id = $1 AND seat_id = ANY($2::text[]) AND state = 'available'",
        std::move(params));
    if (!r) throw std::runtime_error("explain failed");
    std::string plan;
    for (int i = 0; i < r->size(); ++i) plan += std::string(r->text(i, 0)) + "\n";
    co_return plan;
  });
}

std::vector<std::string> first_seats(Harness& h, const std::string& perf, int n) {
  return h.run([&]() -> asio::awaitable<std::vector<std::string>> {
    pg::Params params(pg::arg(perf), pg::arg(static_cast<std::int64_t>(n)));
    auto r = co_await h.pool->query(
        "SELECT seat_id FROM performance_seats WHERE performance_id = $1 ORDER BY seat_id LIMIT $2",
        std::move(params));
    if (!r) throw std::runtime_error("seats query failed");
    std::vector<std::string> out;
    for (int i = 0; i < r->size(); ++i) out.emplace_back(r->text(i, 0));
    co_return out;
  });
}

TEST(Plans, ANewPerformancesSeatsAreClaimedByIndexProbesNotAScanOfItsSeats) {
  Harness h;
  // Statistics that know the performances that exist now (as autovacuum would have them)...
  PerfSpec big;
  big.seats = 3000;
  h.run([&]() -> asio::awaitable<int> {
    co_await h.make_performance(big);
    co_await h.make_performance(big);
    auto a = co_await h.pool->query("ANALYZE performance_seats");
    if (!a) throw std::runtime_error("analyze failed");
    co_return 0;
  });
  // ...then a performance created just before its on-sale.
  auto p = h.run([&]() { return h.make_performance(big); });
  auto seats = first_seats(h, p.id, 2);
  ASSERT_EQ(seats.size(), 2u);
  auto plan = claim_plan(h, p.id, seats);
  // The seat list is part of the index condition: two probes, not 3,000 rows filtered.
  auto cond = plan.find("Index Cond:");
  ASSERT_NE(cond, std::string::npos) << plan;
  auto line_end = plan.find('\n', cond);
  EXPECT_NE(plan.substr(cond, line_end - cond).find("seat_id = ANY"), std::string::npos) << plan;
}

// The outbox claim (migration 0020) is a SQL function: its UPDATE is planned with the batch size
// unknown. A claim must cost the rows it takes, not a pass over every row waiting: in a sale the
// outbox holds tens of thousands of rows and the dispatchers claim without pause.
TEST(Plans, AnOutboxClaimReadsTheRowsItTakesNotTheBacklog) {
  Harness h;
  constexpr int kBacklog = 30000;
  auto blocks = h.run([&]() -> asio::awaitable<std::int64_t> {
    auto clear = co_await h.pool->query("DELETE FROM outbox");
    if (!clear) throw std::runtime_error("clear failed");
    auto ins = co_await h.pool->query(
        "INSERT INTO outbox (topic, payload) SELECT 'test.plan', jsonb_build_object('n', g) "
        "FROM generate_series(1, $1::int) g",
        pg::Params(pg::arg(static_cast<std::int64_t>(kBacklog))));
    if (!ins) throw std::runtime_error("insert failed");
    // Statistics that know the backlog, as autovacuum has them a while into a sale.
    auto a = co_await h.pool->query("ANALYZE outbox");
    if (!a) throw std::runtime_error("analyze failed");
    std::int64_t read = -1;
    // One connection: the first claim loads the function and the catalogue into the session;
    // the second is what every later claim of a dispatcher costs.
    auto tx = co_await pg::transaction(*h.pool, [&](pg::Connection& c) -> asio::awaitable<Status> {
      for (int i = 0; i < 2; ++i) {
        auto r = co_await c.query(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM outbox_claim(5, 30000)");
        if (!r) co_return std::move(r).error();
        const boost::json::value explain = boost::json::parse(r->text(0, 0));
        const auto& plan = explain.as_array().at(0).at("Plan");
        read = plan.at("Shared Hit Blocks").to_number<std::int64_t>() +
               plan.at("Shared Read Blocks").to_number<std::int64_t>();
      }
      co_return Status{};
    });
    if (!tx) throw std::runtime_error("claim failed");
    auto left = co_await h.pool->query("DELETE FROM outbox WHERE topic = 'test.plan'");
    if (!left) throw std::runtime_error("cleanup failed");
    co_return read;
  });
  // Measured: ~60 buffers by primary key; ~670 when the UPDATE scanned the outbox to join it
  // with the claimed ids (growing with the backlog).
  EXPECT_LT(blocks, 200) << "buffers read by one claim of 5 rows among " << kBacklog;
}

}  // namespace
}  // namespace tk::test
