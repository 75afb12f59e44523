#include "steps.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "checks.hpp"
#include "clock.hpp"

namespace loadgen {

namespace {

constexpr int kSetupTries = 600;  // admission polls may wait for several ticks

class Steps {
 public:
  Steps(Run& run, StepShared& sh, int shard, std::barrier<>& bar)
      : run_(run),
        o_(run.opt),
        sh_(sh),
        shard_(shard),
        T_(static_cast<std::size_t>(o_.threads)),
        bar_(bar),
        // Closed loop: one connection per request in flight, as the baselines' clients do.
        pool_(io_, run.ep,
              std::max<std::size_t>(
                  1, o_.connections.value_or(o_.mode == Mode::closed ? o_.concurrency : 256) / T_)),
        timer_(io_),
        rng_(o_.seed * 104729 + static_cast<std::uint64_t>(shard)) {}

  Result run() {
    switch (o_.scenario) {
      case Scenario::join:
        phase(run_.n, true, [this](std::size_t i, std::int64_t t, Done d) { join(i, t, true, d); });
        serial([this] { sample_redis(); });
        break;
      case Scenario::poll:
        setup_joins();
        serial([this] { sample_redis(); });
        if (!sh_.usable.empty()) {
          phase(o_.duration_s > 0 ? SIZE_MAX : sh_.usable.size(), true,
                [this](std::size_t i, std::int64_t t, Done d) {
                  poll(sh_.usable[i % sh_.usable.size()], t, d);
                });
        }
        break;
      case Scenario::hold:
      case Scenario::order:
        setup_joins();
        serial([this] { sample_redis(); });
        serial([this] {
          // Admit everyone fast; the queue settings are the script's otherwise.
          if (!o_.admin_token.empty()) {
            int n = static_cast<int>(std::min<std::size_t>(run_.n + 1000, 1u << 30));
            if (!patch_queue(o_, n, 50, n)) std::fprintf(stderr, "loadgen: queue PATCH failed\n");
          }
        });
        phase(sh_.usable.size(), false,
              [this](std::size_t i, std::int64_t t, Done d) { admit(sh_.usable[i], t, 0, d); });
        serial([this] { assign_seats(); });
        if (o_.scenario == Scenario::hold) {
          phase(sh_.usable.size(), true,
                [this](std::size_t j, std::int64_t t, Done d) { hold(j, t, true, 0, d); });
        } else {
          phase(sh_.usable.size(), false,
                [this](std::size_t j, std::int64_t t, Done d) { hold(j, t, false, 0, d); });
          serial([this] {
            std::erase_if(sh_.usable,
                          [&](std::uint32_t g) { return sh_.buyers[g].hold_id.empty(); });
            if (!o_.pg_url.empty()) run_.pg_before = pg_rows_written_settled(o_.pg_url);
          });
          phase(sh_.usable.size(), true,
                [this](std::size_t j, std::int64_t t, Done d) { order(j, t, d); });
        }
        break;
      case Scenario::flash:
        break;
    }
    res_.usable = static_cast<std::int64_t>(sh_.usable.size());
    return std::move(res_);
  }

 private:
  using Done = std::function<void()>;
  using Op = std::function<void(std::size_t item, std::int64_t intended, Done done)>;

  // Runs items i (i % threads == shard) of [0, items): closed (--concurrency in flight over all
  // threads) or, for a measured phase in open mode, one item every 1/--rate seconds. Every
  // thread enters and leaves together.
  void phase(std::size_t items, bool measured, Op op) {
    bar_.arrive_and_wait();
    op_ = std::move(op);
    items_ = items;
    next_ = static_cast<std::size_t>(shard_);
    inflight_ = 0;
    measured_ = measured;
    std::int64_t start = now_ns();
    phase_start_ = start;
    stop_at_ = measured && o_.duration_s > 0
                   ? start + static_cast<std::int64_t>(o_.duration_s * 1e9)
                   : kNever;
    open_ = measured && o_.mode == Mode::open;
    k_ = std::max<std::size_t>(1, o_.concurrency / T_);
    io_.restart();
    if (open_) {
      arrive();
    } else {
      refill();
    }
    io_.run();
    std::int64_t end = now_ns();
    if (measured) {
      res_.start_ns = std::min(res_.start_ns, start);
      res_.end_ns = std::max(res_.end_ns, end);
    } else {
      res_.setup_start_ns = std::min(res_.setup_start_ns, start);
      res_.setup_end_ns = std::max(res_.setup_end_ns, end);
    }
    bar_.arrive_and_wait();
  }

  // Thread 0 runs fn while the others wait (setup decisions shared by every thread).
  void serial(const std::function<void()>& fn) {
    bar_.arrive_and_wait();
    if (shard_ == 0) fn();
    bar_.arrive_and_wait();
  }

  void launch(std::int64_t intended) {
    std::size_t i = next_;
    next_ += T_;
    ++inflight_;
    op_(i, intended, [this] {
      --inflight_;
      if (measured_) ++res_.items;
      if (!open_) refill();
    });
  }
  void refill() {
    while (inflight_ < k_ && next_ < items_ && now_ns() < stop_at_) launch(now_ns());
  }
  std::int64_t intended(std::size_t i) const {
    return phase_start_ + static_cast<std::int64_t>(static_cast<double>(i) * 1e9 / o_.rate);
  }
  void arrive() {
    std::int64_t now = now_ns();
    while (next_ < items_ && intended(next_) <= now && intended(next_) < stop_at_) {
      launch(intended(next_));
    }
    if (next_ >= items_ || intended(next_) >= stop_at_) return;
    timer_.expires_at(
        std::chrono::steady_clock::time_point(std::chrono::nanoseconds(intended(next_))));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) arrive();
    });
  }

  // One request; `fn` gets the reply after it is recorded under `step` (measured or setup).
  void call(Step step, bool measured, std::int64_t intended, std::string req,
            std::function<void(Reply&)> fn) {
    pool_.submit(std::move(req), [this, step, measured, intended, fn = std::move(fn)](Reply& r) {
      std::string detail;
      if (r.status == 0) {
        detail = r.ec.message();
      } else if (r.status >= 400) {
        detail = std::string(error_code(r.body));
      }
      (measured ? res_.stats : res_.setup)[step].record(
          r.status, detail, (r.recv_ns - intended) / 1000, -1, wire_us(r), pool_wait_us(r));
      fn(r);
    });
  }
  static bool retryable(const Reply& r) {
    return r.status == 0 || r.status == 429 || r.status >= 500;
  }
  void after(double seconds, std::function<void()> fn) {
    auto t = std::make_shared<asio::steady_timer>(io_);
    t->expires_after(std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6)));
    t->async_wait([t, fn = std::move(fn)](boost::system::error_code) { fn(); });
  }
  static double backoff(const Reply& r) { return r.retry_after > 0 ? r.retry_after : 0.2; }

  void join(std::size_t i, std::int64_t t, bool measured, Done d, int tries = 0) {
    const auto& P = *run_.paths;
    call(Step::join, measured, t,
         build_request("POST", P.queue, P.host, {{"Authorization", run_.tokens.bearer(i)}}),
         [this, i, measured, d, tries](Reply& r) {
           if (r.status == 200 || r.status == 201) {
             if (r.status == 201) ++res_.joins_created;
             sh_.buyers[i].ticket = std::string(json_str(r.body, "ticket"));
             run_.position[i] =
                 static_cast<std::uint32_t>(json_int(r.body, "position").value_or(0));
           } else if (!measured && retryable(r) && tries < 20) {
             return after(backoff(r), [=, this] { join(i, now_ns(), measured, d, tries + 1); });
           }
           d();
         });
  }

  void setup_joins() {
    phase(run_.n, false, [this](std::size_t i, std::int64_t t, Done d) { join(i, t, false, d); });
    serial([this] {
      for (std::uint32_t g = 0; g < run_.n; ++g) {
        if (!sh_.buyers[g].ticket.empty()) sh_.usable.push_back(g);
      }
    });
  }

  void sample_redis() {
    if (o_.redis_url.empty()) return;
    if (auto m = redis_used_memory(o_.redis_url)) run_.redis_after_joins = *m;
  }

  void poll(std::uint32_t g, std::int64_t t, Done d) {
    const auto& P = *run_.paths;
    call(Step::poll, true, t,
         build_request("GET", P.status, P.host, {{"Queue-Ticket", sh_.buyers[g].ticket}}),
         [d](Reply&) { d(); });
  }

  // Polls until admitted (setup): keeps the access token.
  void admit(std::uint32_t g, std::int64_t t, int tries, Done d) {
    const auto& P = *run_.paths;
    call(Step::poll, false, t,
         build_request("GET", P.status, P.host, {{"Queue-Ticket", sh_.buyers[g].ticket}}),
         [this, g, tries, d](Reply& r) {
           if (r.status == 200 && json_str(r.body, "state") == "admitted") {
             sh_.buyers[g].access = std::string(json_str(r.body, "access_token"));
             return d();
           }
           bool waiting = r.status == 200 && json_str(r.body, "state") == "waiting";
           if ((waiting || retryable(r)) && tries < kSetupTries) {
             // The per-ticket poll limit allows 5/s: never poll one ticket faster than 4/s.
             double s = r.retry_after > 0 ? r.retry_after * o_.poll_scale : 0.25;
             return after(std::clamp(s, 0.25, 1.0),
                          [=, this] { admit(g, now_ns(), tries + 1, d); });
           }
           d();
         });
  }

  // Thread 0, between phases: disjoint free seats for the admitted buyers.
  void assign_seats() {
    std::erase_if(sh_.usable, [&](std::uint32_t g) { return sh_.buyers[g].access.empty(); });
    if (sh_.usable.empty()) {
      sh_.setup_error = "no buyer was admitted";
      return;
    }
    auto g = sh_.usable.front();
    const auto& P = *run_.paths;
    auto r = blocking_request(o_, build_request("GET", P.seats, P.host,
                                                {{"Authorization", run_.tokens.bearer(g)},
                                                 {"Access-Token", sh_.buyers[g].access}}));
    if (r.status != 200) {
      sh_.setup_error = "seat map: " + std::to_string(r.status) + " " + r.body;
      sh_.usable.clear();
      return;
    }
    for_each_seat(r.body, [&](std::string_view id, std::string_view state) {
      if (state == "available") sh_.seat_ids.emplace_back(id);
    });
    for (std::size_t i = sh_.seat_ids.size(); i > 1; --i) {
      std::swap(sh_.seat_ids[i - 1], sh_.seat_ids[rng_.below(i)]);
    }
    sh_.seats_per = std::clamp(run_.perf.max_seats_per_order, 1, 4);
    std::size_t m = std::min(sh_.usable.size(), sh_.seat_ids.size() / sh_.seats_per);
    if (m < sh_.usable.size()) {
      std::fprintf(stderr, "loadgen: %zu free seats: %zu of %zu buyers hold %d each\n",
                   sh_.seat_ids.size(), m, sh_.usable.size(), sh_.seats_per);
    }
    sh_.usable.resize(m);
    res_.capacity_seen = static_cast<std::int64_t>(sh_.seat_ids.size());
  }

  void hold(std::size_t j, std::int64_t t, bool measured, int tries, Done d) {
    auto g = sh_.usable[j];
    std::vector<std::string> seats(
        sh_.seat_ids.begin() + static_cast<std::ptrdiff_t>(j * sh_.seats_per),
        sh_.seat_ids.begin() + static_cast<std::ptrdiff_t>((j + 1) * sh_.seats_per));
    const auto& P = *run_.paths;
    call(Step::hold, measured, t,
         build_request(
             "POST", P.holds, P.host,
             {{"Authorization", run_.tokens.bearer(g)}, {"Access-Token", sh_.buyers[g].access}},
             holds_body(seats)),
         [this, j, g, measured, tries, d](Reply& r) {
           if (r.status == 201) {
             sh_.buyers[g].hold_id = std::string(json_str(r.body, "hold_id"));
           } else if (!measured && retryable(r) && tries < 20) {
             return after(backoff(r), [=, this] { hold(j, now_ns(), measured, tries + 1, d); });
           }
           d();
         });
  }

  void order(std::size_t j, std::int64_t t, Done d) {
    auto g = sh_.usable[j];
    const auto& P = *run_.paths;
    call(Step::order, true, t,
         build_request("POST", "/v1/orders", P.host, {{"Authorization", run_.tokens.bearer(g)}},
                       "{\"hold_id\":\"" + sh_.buyers[g].hold_id + "\"}"),
         [this, g, d](Reply& r) {
           if (r.status != 200 && r.status != 201) return d();
           std::string id(json_str(r.body, "id"));
           std::string key = "lg" + std::to_string(o_.seed) + "-" +
                             std::to_string(run_.t0 % 1000000007) + "-" + std::to_string(g);
           const auto& P = *run_.paths;
           call(Step::pay, true, r.recv_ns,
                build_request("POST", "/v1/orders/" + id + "/payment", P.host,
                              {{"Authorization", run_.tokens.bearer(g)}, {"Idempotency-Key", key}},
                              "{\"method\":\"card\",\"card_token\":\"" + o_.card_token + "\"}"),
                [this, d](Reply& p) {
                  if (p.status == 200) {
                    ++res_.orders_paid;
                    res_.seats_sold += sh_.seats_per;
                    res_.last_paid_ns = std::max(res_.last_paid_ns, p.recv_ns);
                  }
                  d();
                });
         });
  }

  Run& run_;
  const Options& o_;
  StepShared& sh_;
  int shard_;
  std::size_t T_;
  std::barrier<>& bar_;
  asio::io_context io_;
  Pool pool_;
  asio::steady_timer timer_;
  Rng rng_;
  Result res_;
  Op op_;
  std::size_t items_ = 0, next_ = 0, inflight_ = 0, k_ = 1;
  std::int64_t phase_start_ = 0, stop_at_ = kNever;
  bool measured_ = false, open_ = false;
};

}  // namespace

Result run_steps(Run& run, StepShared& shared, int shard, std::barrier<>& barrier) {
  auto s = std::make_unique<Steps>(run, shared, shard, barrier);
  return s->run();
}

}  // namespace loadgen
