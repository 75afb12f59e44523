// Query plans that matter during an on-sale, checked on the real PostgreSQL: a performance created
// just before its sale must not be priced by the planner as a one-row table.
#include "harness.hpp"

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

}  // namespace
}  // namespace tk::test
