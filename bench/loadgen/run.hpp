#pragma once
// What every thread of a run shares: options, buyers' tokens, the performance, per-buyer
// observations for the inversion check, live counters; and what each thread reports back.
#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin.hpp"
#include "api.hpp"
#include "http_pool.hpp"
#include "options.hpp"
#include "stats.hpp"
#include "tokens.hpp"

namespace loadgen {

inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// How a buyer's journey ended.
enum class Outcome : int {
  paid,
  abandoned,     // released the hold on purpose
  let_expire,    // let the hold run out on purpose
  sold_out,      // told sold_out (join, status, seat map or hold)
  closed,        // the sale was closed
  expired,       // admitted, but the access ran out
  gave_up,       // every hold attempt conflicted (--max-hold-retries)
  hold_expired,  // the hold ran out before the order or the payment
  declined,      // 402
  not_admitted,  // 403 on the seat map or a hold
  rejected,      // 401 or another 4xx the journey cannot continue from
  error,         // transport or 5xx after all retries
  timeout,       // still running at --timeout
  went_away,     // stopped polling once it had a place (--p-silent)
  passed_over,   // polled `abandoned`: the service passed its place over while it polled
  count
};
inline constexpr std::array<const char*, static_cast<int>(Outcome::count)> kOutcomeNames = {
    "paid",     "abandoned", "let_expire",   "sold_out",  "closed",
    "expired",  "gave_up",   "hold_expired", "declined",  "not_admitted",
    "rejected", "error",     "timeout",      "went_away", "passed_over"};

struct Run {
  Options opt;
  Tokens tokens;
  std::unique_ptr<Paths> paths;
  PerfInfo perf;
  tcp::endpoint ep;
  std::size_t n = 0;  // buyers
  std::int64_t t0 = 0;

  // Per buyer, written only by the thread that owns the buyer: position (0: none yet; from the
  // join, or for a pre-queue entrant from its first status after the draw), pre-queue entry id
  // (0: none), first time an `admitted` answer was received, last time a request answered
  // `waiting` was sent.
  std::vector<std::uint32_t> position;
  std::vector<std::uint64_t> entry;
  std::vector<std::int64_t> admitted_recv;
  std::vector<std::int64_t> waiting_sent;

  // Live counters (progress lines, the Redis "after the joins" sample).
  std::atomic<std::int64_t> joined{0}, admitted{0}, paid{0}, sold{0}, done{0};
  std::optional<std::int64_t> redis_before;
  std::optional<std::int64_t> pg_before;  // rows written before the (measured) sales
  std::atomic<std::int64_t> redis_after_joins{-1};

  // Owner thread of buyer i is i % threads; its local index is i / threads.
  int owner(std::size_t i) const { return static_cast<int>(i % opt.threads); }
};

struct Result {
  Stats stats;  // measured requests
  Stats setup;  // step scenarios: requests of the setup phases
  std::array<std::uint64_t, static_cast<int>(Outcome::count)> outcomes{};
  std::int64_t seats_sold = 0, orders_paid = 0, joins_created = 0, demand_seats = 0;
  std::int64_t capacity_seen = 0;  // seats on the largest seat map seen
  std::int64_t first_join_ns = kNever, last_paid_ns = 0;
  std::uint32_t max_paid_position = 0;
  std::int64_t prequeue_joins = 0;    // buyers whose join was answered `pre_queue`
  std::int64_t position_changes = 0;  // answers naming another position or entry than before
  std::int64_t unplaced = 0;          // `waiting` or `admitted` answers with no position known
  // Buyers who went away with a place (global index, queue ticket), polled once after the run,
  // and buyers told `abandoned` while they polled.
  std::vector<std::pair<std::uint32_t, std::string>> silent;
  std::vector<std::uint32_t> passed_over;
  std::int64_t start_ns = kNever, end_ns = 0;  // the measured phase
  std::int64_t setup_start_ns = kNever, setup_end_ns = 0;
  std::int64_t items = 0;   // step scenarios: operations completed in the measured phase
  std::int64_t usable = 0;  // hold/order: buyers prepared by the setup
  void merge(const Result& o);
};

}  // namespace loadgen
