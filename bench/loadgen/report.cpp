#include "report.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>

namespace loadgen {

namespace json = boost::json;

void Result::merge(const Result& o) {
  stats.merge(o.stats);
  setup.merge(o.setup);
  for (std::size_t i = 0; i < outcomes.size(); ++i) outcomes[i] += o.outcomes[i];
  seats_sold += o.seats_sold;
  orders_paid += o.orders_paid;
  joins_created += o.joins_created;
  demand_seats += o.demand_seats;
  capacity_seen = std::max(capacity_seen, o.capacity_seen);
  first_join_ns = std::min(first_join_ns, o.first_join_ns);
  last_paid_ns = std::max(last_paid_ns, o.last_paid_ns);
  max_paid_position = std::max(max_paid_position, o.max_paid_position);
  prequeue_joins += o.prequeue_joins;
  position_changes += o.position_changes;
  unplaced += o.unplaced;
  silent.insert(silent.end(), o.silent.begin(), o.silent.end());
  passed_over.insert(passed_over.end(), o.passed_over.begin(), o.passed_over.end());
  start_ns = std::min(start_ns, o.start_ns);
  end_ns = std::max(end_ns, o.end_ns);
  setup_start_ns = std::min(setup_start_ns, o.setup_start_ns);
  setup_end_ns = std::max(setup_end_ns, o.setup_end_ns);
  items += o.items;
  usable = std::max(usable, o.usable);
}

Inversions count_inversions(const Run& run) {
  std::vector<std::uint32_t> idx;
  for (std::uint32_t i = 0; i < run.n; ++i) {
    if (run.position[i] > 0) idx.push_back(i);
  }
  std::sort(idx.begin(), idx.end(),
            [&](std::uint32_t a, std::uint32_t b) { return run.position[a] > run.position[b]; });
  std::vector<std::int64_t> times;
  Inversions inv;
  for (auto i : idx) {
    if (run.admitted_recv[i] != kNever) times.push_back(run.admitted_recv[i]);
    if (run.waiting_sent[i] != std::numeric_limits<std::int64_t>::min()) ++inv.waiting;
  }
  inv.admitted = static_cast<std::int64_t>(times.size());
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  std::vector<std::int64_t> fen(times.size() + 1, 0);
  auto add = [&](std::size_t p) {
    for (++p; p < fen.size(); p += p & (~p + 1)) ++fen[p];
  };
  auto below = [&](std::size_t n) {  // inserted values among the n smallest
    std::int64_t s = 0;
    for (; n > 0; n -= n & (~n + 1)) s += fen[n];
    return s;
  };
  for (std::size_t a = 0; a < idx.size();) {
    // Equal positions (should not happen) are not ordered against each other.
    std::size_t e = a;
    while (e < idx.size() && run.position[idx[e]] == run.position[idx[a]]) ++e;
    for (std::size_t k = a; k < e; ++k) {
      std::int64_t w = run.waiting_sent[idx[k]];
      if (w == std::numeric_limits<std::int64_t>::min()) continue;
      // Higher positions admitted (response received) strictly before this waiting poll was sent.
      auto n =
          static_cast<std::size_t>(std::lower_bound(times.begin(), times.end(), w) - times.begin());
      std::int64_t c = below(n);
      inv.pairs += c;
      if (c > 0) ++inv.buyers;
    }
    for (std::size_t k = a; k < e; ++k) {
      std::int64_t t = run.admitted_recv[idx[k]];
      if (t != kNever) {
        add(static_cast<std::size_t>(std::lower_bound(times.begin(), times.end(), t) -
                                     times.begin()));
      }
    }
    a = e;
  }
  return inv;
}

namespace {

double ms(std::int64_t us) { return static_cast<double>(us) / 1000.0; }
double secs(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

json::object step_json(const StepStats& s, double elapsed_s) {
  json::object errs;
  for (const auto& [k, v] : s.errors) errs[k] = v;
  return json::object{
      {"count", s.requests},
      {"ok", s.ok},
      {"req_per_s", elapsed_s > 0 ? static_cast<double>(s.requests) / elapsed_s : 0},
      {"p50_ms", ms(s.latency.quantile(0.50))},
      {"p90_ms", ms(s.latency.quantile(0.90))},
      {"p99_ms", ms(s.latency.quantile(0.99))},
      {"max_ms", ms(s.latency.max())},
      // Admission control: accepted work should stay fast, refusals come at once, and what a
      // buyer lives through is the time to success across the retries Retry-After asked for.
      {"refused", s.refused},
      {"accepted_p99_ms", ms(s.accepted.quantile(0.99))},
      {"refusal_p99_ms", ms(s.refusal.quantile(0.99))},
      {"to_success_p50_ms", ms(s.to_success.quantile(0.50))},
      {"to_success_p99_ms", ms(s.to_success.quantile(0.99))},
      // Where the time went: waiting in the client (its late timers, then a free connection),
      // and on the wire once sent.
      {"client_wait_p99_ms", ms(s.client_wait.quantile(0.99))},
      {"client_late_p99_ms", ms(s.client_late.quantile(0.99))},
      {"pool_wait_p99_ms", ms(s.pool_wait.quantile(0.99))},
      {"accepted_wire_p99_ms", ms(s.accepted_wire.quantile(0.99))},
      {"refusal_wire_p99_ms", ms(s.refusal_wire.quantile(0.99))},
      {"errors", std::move(errs)}};
}

void print_steps(const Stats& st, double elapsed_s, const char* title) {
  std::printf("%s\n%-8s %10s %10s %10s %8s %8s %8s %9s %9s %9s  errors\n", title, "step", "count",
              "ok", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "acc p99", "succ p99");
  for (int i = 0; i < static_cast<int>(Step::count); ++i) {
    const auto& s = st.steps[i];
    if (s.requests == 0) continue;
    std::printf("%-8s %10llu %10llu %10.1f %8.2f %8.2f %8.2f %9.2f %9.2f %9.2f ", kStepNames[i],
                static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.ok),
                elapsed_s > 0 ? static_cast<double>(s.requests) / elapsed_s : 0,
                ms(s.latency.quantile(0.5)), ms(s.latency.quantile(0.9)),
                ms(s.latency.quantile(0.99)), ms(s.latency.max()), ms(s.accepted.quantile(0.99)),
                ms(s.to_success.quantile(0.99)));
    bool first = true;
    for (const auto& [k, v] : s.errors) {
      std::printf("%s%s: %llu", first ? " " : ", ", k.c_str(), static_cast<unsigned long long>(v));
      first = false;
    }
    std::printf("\n");
  }
}

}  // namespace

int report(const Run& run, Findings& f) {
  const auto& o = run.opt;
  const auto& t = f.total;
  bool flash = o.scenario == Scenario::flash;
  double elapsed = t.end_ns > t.start_ns ? secs(t.end_ns - t.start_ns) : 0;
  json::object j{{"scenario", to_string(o.scenario)},
                 {"mode", o.mode == Mode::open ? "open" : "closed"},
                 {"rate", o.rate},
                 {"concurrency", o.concurrency},
                 {"threads", o.threads},
                 {"buyers", run.n},
                 {"performance", o.perf},
                 {"elapsed_s", elapsed}};
  std::printf("loadgen %s: %zu buyers, %s loop", to_string(o.scenario), run.n,
              o.mode == Mode::open ? "open" : "closed");
  if (o.mode == Mode::open) {
    std::printf(" at %.0f/s", o.rate);
  } else {
    std::printf(", %zu in flight", o.concurrency);
  }
  std::printf(", %d thread(s), %.2f s\n", o.threads, elapsed);

  if (!flash) {
    double setup = t.setup_end_ns > t.setup_start_ns ? secs(t.setup_end_ns - t.setup_start_ns) : 0;
    j["setup_s"] = setup;
    json::object ss;
    for (int i = 0; i < static_cast<int>(Step::count); ++i) {
      if (t.setup.steps[i].requests) ss[kStepNames[i]] = step_json(t.setup.steps[i], setup);
    }
    j["setup_steps"] = std::move(ss);
    if (setup > 0) print_steps(t.setup, setup, "setup (not measured):");
  }
  json::object steps;
  for (int i = 0; i < static_cast<int>(Step::count); ++i) {
    if (t.stats.steps[i].requests) steps[kStepNames[i]] = step_json(t.stats.steps[i], elapsed);
  }
  j["steps"] = std::move(steps);
  print_steps(t.stats, elapsed, flash ? "requests:" : "measured:");
  if (!flash) {
    j["operations"] = t.items;
    j["operations_per_s"] = elapsed > 0 ? static_cast<double>(t.items) / elapsed : 0;
    if (o.scenario == Scenario::order) {
      double r = elapsed > 0 ? static_cast<double>(t.orders_paid) / elapsed : 0;
      j["orders_paid"] = t.orders_paid;
      j["paid_orders_per_s"] = r;
      std::printf("paid orders: %lld, %.1f/s\n", static_cast<long long>(t.orders_paid), r);
    }
    if (o.scenario == Scenario::hold || o.scenario == Scenario::order) j["buyers_used"] = t.usable;
  }

  // Seats, sell-out time.
  std::int64_t capacity = run.perf.capacity.value_or(t.capacity_seen);
  std::int64_t sold_before = run.perf.sold.value_or(0);
  std::int64_t sold = f.pg ? f.pg->tickets : sold_before + t.seats_sold;
  j["capacity"] = capacity;
  j["seats_sold"] = sold;
  j["seats_sold_by_run"] = t.seats_sold;
  j["orders_paid"] = t.orders_paid;
  if (flash) {
    json::object out;
    for (int i = 0; i < static_cast<int>(Outcome::count); ++i) {
      if (t.outcomes[i]) out[kOutcomeNames[i]] = t.outcomes[i];
    }
    j["outcomes"] = out;
    j["demand_seats"] = t.demand_seats;
    std::printf("seats sold %lld of %lld (demand %lld seats); orders paid %lld\noutcomes:",
                static_cast<long long>(sold), static_cast<long long>(capacity),
                static_cast<long long>(t.demand_seats), static_cast<long long>(t.orders_paid));
    for (int i = 0; i < static_cast<int>(Outcome::count); ++i) {
      if (t.outcomes[i])
        std::printf(" %s %llu", kOutcomeNames[i], static_cast<unsigned long long>(t.outcomes[i]));
    }
    std::printf("\n");

    json::object so;
    bool sold_out = capacity > 0 && sold >= capacity;
    so["sold_out"] = sold_out;
    if (t.first_join_ns != kNever && t.last_paid_ns > 0) {
      double s = secs(t.last_paid_ns - t.first_join_ns);
      so[sold_out ? "time_to_sell_out_s" : "time_to_last_sale_s"] = s;
      // Positions that had to be admitted before the last sale, relative to this run's first.
      std::uint32_t first_pos = std::numeric_limits<std::uint32_t>::max();
      for (std::size_t i = 0; i < run.n; ++i) {
        if (run.position[i] > 0) first_pos = std::min(first_pos, run.position[i]);
      }
      std::int64_t needed = static_cast<std::int64_t>(t.max_paid_position) - first_pos + 1;
      so["positions_admitted_needed"] = needed;
      std::printf("%s %.2f s after the first join", sold_out ? "sold out" : "last sale", s);
      if (run.perf.admit_per_interval && run.perf.interval_ms && needed > 0) {
        double ticks = std::ceil(static_cast<double>(needed) / *run.perf.admit_per_interval);
        double min_s = ticks * *run.perf.interval_ms / 1000.0;
        so["admission_minimum_s"] = min_s;
        so["ratio_to_minimum"] = min_s > 0 ? s / min_s : 0;
        std::printf("; admission minimum for %lld positions at %d per %d ms: %.2f s (x%.2f)",
                    static_cast<long long>(needed), *run.perf.admit_per_interval,
                    *run.perf.interval_ms, min_s, min_s > 0 ? s / min_s : 0);
      }
      if (o.mode == Mode::open && needed > 0) {
        so["arrival_minimum_s"] = static_cast<double>(needed) / o.rate;
      }
      std::printf("\n");
    }
    j["sell_out"] = std::move(so);
    // Without a pre-queue positions are handed out at the join, so position order is join order.
    const char* order = run.perf.prequeue ? "position" : "join";
    j["inversions"] = json::object{{"pairs", f.inv.pairs},
                                   {"buyers", f.inv.buyers},
                                   {"order", order},
                                   {"buyers_told_waiting", f.inv.waiting},
                                   {"buyers_seen_admitted", f.inv.admitted},
                                   {"answers_without_position", t.unplaced},
                                   {"position_changes", t.position_changes}};
    std::printf(
        "admissions out of %s order: %lld inversions (%lld buyers), over %lld buyers told waiting "
        "and %lld seen admitted; %lld answers without a position, %lld changed positions\n",
        order, static_cast<long long>(f.inv.pairs), static_cast<long long>(f.inv.buyers),
        static_cast<long long>(f.inv.waiting), static_cast<long long>(f.inv.admitted),
        static_cast<long long>(t.unplaced), static_cast<long long>(t.position_changes));
    if (run.perf.prequeue) {
      j["prequeue"] = json::object{{"joins", t.prequeue_joins}};
      std::printf("pre-queue: %lld buyers joined before the opening\n",
                  static_cast<long long>(t.prequeue_joins));
    }
    if (f.presence) {
      const auto& p = *f.presence;
      json::object states;
      for (const auto& [k, v] : p.states) states[k] = v;
      json::object pj{{"timeout_s", run.perf.presence_timeout_s},
                      {"went_away", p.went_away},
                      {"went_away_states", std::move(states)},
                      {"passed_over_while_polling", p.passed_over},
                      {"abandoned", p.abandoned},
                      {"waited_s", p.waited_s}};
      if (p.abandoned_paid) pj["abandoned_paid_orders"] = *p.abandoned_paid;
      if (!p.error.empty()) pj["error"] = p.error;
      j["presence"] = std::move(pj);
      std::printf(
          "presence (timeout %d s): %lld buyers went away with a place; their places after the "
          "run (%.1f s wait):",
          run.perf.presence_timeout_s, static_cast<long long>(p.went_away), p.waited_s);
      for (const auto& [k, v] : p.states)
        std::printf(" %s %lld", k.c_str(), static_cast<long long>(v));
      std::printf("; %lld passed over while polling; abandoned %lld",
                  static_cast<long long>(p.passed_over), static_cast<long long>(p.abandoned));
      if (p.abandoned_paid) {
        std::printf(", paid orders among them %lld", static_cast<long long>(*p.abandoned_paid));
      }
      std::printf("\n");
      if (!p.error.empty()) std::printf("presence: %s\n", p.error.c_str());
    }
  }

  if (!o.pg_url.empty()) {
    json::object pg;
    if (f.pg) {
      pg["tickets"] = f.pg->tickets;
      pg["seats_sold_twice"] = f.pg->seats_sold_twice;
      pg["sold_fence_rows"] = f.pg->sold_rows;
      pg["orders_paid"] = f.pg->orders_paid;
      pg["charges"] = f.pg->charges;
      pg["paid_orders_without_exactly_one_charge"] = f.pg->paid_without_one_charge;
      pg["charges_without_paid_order"] = f.pg->charges_without_paid_order;
      pg["in_doubt_at_end"] = f.pg->in_doubt_at_end;
      pg["settle_s"] = f.pg->settle_s;
      pg["admission_ticks"] = f.pg->admission_ticks;
      pg["tick_gap_median_ms"] = f.pg->tick_gap_median_ms;
      pg["tick_gap_p90_ms"] = f.pg->tick_gap_p90_ms;
      if (f.pg->admission_ticks > 1) {
        std::printf("postgres: %lld admission ticks, %lld ms apart (median; p90 %lld ms)",
                    static_cast<long long>(f.pg->admission_ticks),
                    static_cast<long long>(f.pg->tick_gap_median_ms),
                    static_cast<long long>(f.pg->tick_gap_p90_ms));
        if (run.perf.interval_ms) {
          pg["interval_ms"] = *run.perf.interval_ms;
          std::printf(" for a %d ms interval", *run.perf.interval_ms);
        }
        std::printf("\n");
      }
      if (f.pg->in_doubt_at_end > 0) {
        std::printf(
            "postgres: %lld payments in doubt when the run ended (charged, sale not yet "
            "written); %lld left after %.0f s of reconciliation\n",
            static_cast<long long>(f.pg->in_doubt_at_end),
            static_cast<long long>(f.pg->charges_without_paid_order), f.pg->settle_s);
      }
      std::printf(
          "postgres: %lld tickets, seats sold twice %lld, paid orders %lld, charges %lld, paid "
          "orders with charges != 1: %lld, charges without a paid order: %lld\n",
          static_cast<long long>(f.pg->tickets), static_cast<long long>(f.pg->seats_sold_twice),
          static_cast<long long>(f.pg->orders_paid), static_cast<long long>(f.pg->charges),
          static_cast<long long>(f.pg->paid_without_one_charge),
          static_cast<long long>(f.pg->charges_without_paid_order));
    } else {
      pg["error"] = f.pg_error;
      std::printf("postgres: %s\n", f.pg_error.c_str());
    }
    if (run.pg_before && f.pg_after && t.orders_paid > 0) {
      std::int64_t d = *f.pg_after - *run.pg_before;
      double per = static_cast<double>(d) / static_cast<double>(t.orders_paid);
      pg["rows_written"] = d;
      pg["rows_written_per_paid_order"] = per;
      std::printf("postgres rows written (ins+upd+del, all tables): %lld, %.1f per paid order\n",
                  static_cast<long long>(d), per);
    }
    j["postgres"] = std::move(pg);
  }
  if (!o.redis_url.empty()) {
    json::object rd;
    if (run.redis_before) rd["used_memory_before"] = *run.redis_before;
    if (f.redis_after_joins) rd["used_memory_after_joins"] = *f.redis_after_joins;
    if (run.redis_before && f.redis_after_joins && t.joins_created > 0) {
      double per = static_cast<double>(*f.redis_after_joins - *run.redis_before) /
                   static_cast<double>(t.joins_created);
      rd["joins_created"] = t.joins_created;
      rd["bytes_per_waiting_buyer"] = per;
      std::printf("redis used_memory %lld -> %lld after %lld joins: %.1f bytes per waiting buyer\n",
                  static_cast<long long>(*run.redis_before),
                  static_cast<long long>(*f.redis_after_joins),
                  static_cast<long long>(t.joins_created), per);
    }
    if (f.redis_queue_bytes && t.joins_created > 0) {
      // used_memory above also counts the sale's keys written by the time of the last join; the
      // waiting room's own keys are what a waiting buyer costs.
      double per = static_cast<double>(*f.redis_queue_bytes) / static_cast<double>(t.joins_created);
      rd["queue_bytes"] = *f.redis_queue_bytes;
      rd["queue_bytes_per_waiting_buyer"] = per;
      std::printf(
          "redis waiting-room keys %lld bytes after %lld joins: %.1f bytes per waiting buyer\n",
          static_cast<long long>(*f.redis_queue_bytes), static_cast<long long>(t.joins_created),
          per);
    }
    j["redis"] = std::move(rd);
  }

  // Verdict.
  if (o.check) {
    std::int64_t available_at_start = capacity - sold_before;
    if (flash && t.demand_seats > available_at_start && sold != capacity) {
      f.failures.push_back("seats sold " + std::to_string(sold) + " != capacity " +
                           std::to_string(capacity) + " although demand (" +
                           std::to_string(t.demand_seats) + ") exceeded it");
    }
    if (flash && f.inv.pairs > 0) {
      f.failures.push_back(std::to_string(f.inv.pairs) + " admission inversions");
    }
    if (flash && t.unplaced > 0) {
      f.failures.push_back(std::to_string(t.unplaced) +
                           " waiting or admitted answers to buyers with no known position");
    }
    if (flash && t.position_changes > 0) {
      f.failures.push_back(std::to_string(t.position_changes) +
                           " answers naming another position or entry than the buyer's");
    }
    if (f.presence && !f.presence->error.empty()) {
      f.failures.push_back("presence check: " + f.presence->error);
    }
    if (f.presence && f.presence->abandoned_paid.value_or(0) > 0) {
      f.failures.push_back(std::to_string(*f.presence->abandoned_paid) +
                           " paid orders of buyers whose place was passed over");
    }
    if (!o.pg_url.empty()) {
      if (!f.pg) {
        f.failures.push_back("postgres checks failed: " + f.pg_error);
      } else {
        if (f.pg->seats_sold_twice > 0) {
          f.failures.push_back(std::to_string(f.pg->seats_sold_twice) + " seats sold twice");
        }
        if (f.pg->paid_without_one_charge > 0) {
          f.failures.push_back(std::to_string(f.pg->paid_without_one_charge) +
                               " paid orders with charges != 1");
        }
        if (f.pg->charges_without_paid_order > 0) {
          f.failures.push_back(std::to_string(f.pg->charges_without_paid_order) +
                               " charges without a paid order");
        }
        if (f.pg->sold_rows != f.pg->tickets) {
          f.failures.push_back("sold fence rows " + std::to_string(f.pg->sold_rows) +
                               " != tickets " + std::to_string(f.pg->tickets));
        }
      }
    }
    json::array fl;
    for (const auto& s : f.failures) fl.emplace_back(s);
    j["assert"] = json::object{{"ok", f.failures.empty()}, {"failures", std::move(fl)}};
    for (const auto& s : f.failures) std::printf("FAIL: %s\n", s.c_str());
    std::printf("assert: %s\n", f.failures.empty() ? "OK" : "FAILED");
  }
  std::fflush(stdout);
  if (!o.json_out.empty()) {
    std::ofstream out(o.json_out);
    out << json::serialize(j) << "\n";
    if (!out) {
      std::fprintf(stderr, "loadgen: cannot write %s\n", o.json_out.c_str());
      return 2;
    }
  }
  return f.failures.empty() ? 0 : 1;
}

}  // namespace loadgen
