#include "flash.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "checks.hpp"
#include "clock.hpp"
#include "scheduler.hpp"

namespace loadgen {

namespace {

constexpr int kMaxTries = 20;  // failures without Retry-After in a row on one step

enum class Phase : std::uint8_t { join, poll, sections, seats, hold, release, order, pay, done };
enum class Intent : std::uint8_t { buy, abandon, expire };

// Only while admitted: few buyers are at once, so these strings cost nothing at a million.
struct Purchase {
  std::string access;
  std::string section;  // `?section=...` chosen from the summary (empty: the whole map)
  std::vector<std::string> seats;
  std::string hold_id, order_id, idem_key;
  int hold_retries = 0;
  bool taken_used = false;
};

struct Buyer {
  std::string ticket;  // while waiting
  std::unique_ptr<Purchase> p;
  std::int64_t intended = 0;    // intended send time of the request in flight or scheduled
  std::int64_t step_first = 0;  // intended send time of the current step's first try
  Phase phase = Phase::join;
  Intent intent = Intent::buy;
  std::uint8_t want = 1;
  std::uint8_t tries = 0;  // tries of the current step so far (saturates)
  std::uint8_t fails = 0;  // of them, failures without a Retry-After, in a row
  bool with_taken = false;
  bool silent = false;  // goes away once it has a place (--p-silent)
};

// An `entry_id` (16 lowercase hex digits) as a number; 0 when absent or malformed.
std::uint64_t parse_entry(std::string_view s) {
  std::uint64_t v = 0;
  if (s.size() != 16) return 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() ? v : 0;
}

class Flash {
 public:
  Flash(Run& run, int shard)
      : run_(run),
        o_(run.opt),
        shard_(shard),
        pool_(io_, run.ep, std::max<std::size_t>(1, o_.connections.value_or(256) / o_.threads)),
        sched_(io_, [this](std::uint32_t k) { issue(k); }),
        arrivals_(io_),
        deadline_(io_),
        progress_(io_),
        rng_(o_.seed * 7919 + static_cast<std::uint64_t>(shard)) {
    for (std::size_t g = static_cast<std::size_t>(shard); g < run.n; g += o_.threads) {
      global_.push_back(static_cast<std::uint32_t>(g));
    }
    buyers_.resize(global_.size());
    double wsum = 0;
    for (double w : o_.seat_weights) wsum += w;
    int cap = std::max(1, run.perf.max_seats_per_order);
    for (std::size_t k = 0; k < buyers_.size(); ++k) {
      // Decisions come from (seed, global index): the same buyers behave the same at any -T.
      Rng r(o_.seed ^ (0x51ed27a3ULL * (global_[k] + 1)));
      auto& b = buyers_[k];
      double u = r.uniform() * wsum;
      int want = 4;
      for (int i = 0; i < 4; ++i) {
        if (u < o_.seat_weights[i]) {
          want = i + 1;
          break;
        }
        u -= o_.seat_weights[i];
      }
      b.want = static_cast<std::uint8_t>(std::min(want, cap));
      double x = r.uniform();
      b.intent = x < o_.p_abandon                 ? Intent::abandon
                 : x < o_.p_abandon + o_.p_expire ? Intent::expire
                                                  : Intent::buy;
      b.with_taken = r.uniform() < o_.p_taken;
      b.silent = r.uniform() < o_.p_silent;
      if (b.intent == Intent::buy && !b.silent) res_.demand_seats += b.want;
    }
  }

  Result run() {
    std::int64_t start = now_ns();
    res_.start_ns = start;
    if (buyers_.empty()) return std::move(res_);
    if (o_.mode == Mode::open) {
      next_arrival();
    } else {
      std::size_t k = std::max<std::size_t>(1, o_.concurrency / o_.threads);
      for (std::size_t i = 0; i < k && next_ < buyers_.size(); ++i) start_buyer(next_++, start);
    }
    deadline_.expires_after(
        std::chrono::milliseconds(static_cast<std::int64_t>(o_.timeout_s * 1000)));
    deadline_.async_wait([this](boost::system::error_code ec) {
      if (!ec) io_.stop();
    });
    if (shard_ == 0 && !o_.quiet) tick_progress();
    io_.run();
    for (auto& b : buyers_) {
      if (b.phase != Phase::done) ++res_.outcomes[static_cast<int>(Outcome::timeout)];
    }
    res_.end_ns = now_ns();
    return std::move(res_);
  }

 private:
  std::size_t global(std::uint32_t k) const { return global_[k]; }
  Buyer& b(std::uint32_t k) { return buyers_[k]; }

  // Open loop: buyer g arrives at t0 + g / rate whatever happened before (no coordination).
  void next_arrival() {
    std::int64_t now = now_ns();
    while (next_ < buyers_.size()) {
      std::int64_t due = intended_arrival(next_);
      if (due > now) break;
      start_buyer(next_++, due);
    }
    if (next_ >= buyers_.size()) return;
    arrivals_.expires_at(
        std::chrono::steady_clock::time_point(std::chrono::nanoseconds(intended_arrival(next_))));
    arrivals_.async_wait([this](boost::system::error_code ec) {
      if (!ec) next_arrival();
    });
  }
  std::int64_t intended_arrival(std::size_t k) const {
    return run_.t0 + static_cast<std::int64_t>(static_cast<double>(global_[k]) * 1e9 / o_.rate);
  }

  void tick_progress() {
    progress_.expires_after(std::chrono::seconds(1));
    progress_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      std::fprintf(
          stderr,
          "[%6.1fs] joined %lld admitted %lld paid %lld seats %lld done %lld/%zu "
          "(pool queue %zu, sleeping %zu)\n",
          static_cast<double>(now_ns() - run_.t0) / 1e9, static_cast<long long>(run_.joined.load()),
          static_cast<long long>(run_.admitted.load()), static_cast<long long>(run_.paid.load()),
          static_cast<long long>(run_.sold.load()), static_cast<long long>(run_.done.load()),
          run_.n, pool_.waiting(), sched_.size());
      if (finished_ < buyers_.size()) tick_progress();
    });
  }

  void start_buyer(std::uint32_t k, std::int64_t intended) {
    b(k).intended = intended;
    b(k).phase = Phase::join;
    res_.first_join_ns = std::min(res_.first_join_ns, now_ns());
    issue(k);
  }

  // Every wait is spread over +-20%, as real clients' timers are: buyers answered in the same
  // millisecond (one admission tick, one Retry-After) would otherwise come back in lockstep and
  // arrive as one burst each second, queueing behind each other in the shared connections.
  void later(std::uint32_t k, double seconds) {
    seconds *= 0.8 + 0.4 * rng_.uniform();
    std::int64_t at = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
    b(k).intended = at;
    sched_.at(at, k);
  }
  void now(std::uint32_t k) {
    b(k).intended = now_ns();
    issue(k);
  }
  void go(std::uint32_t k, Phase p) {
    b(k).phase = p;
    b(k).tries = b(k).fails = 0;
    now(k);
  }

  // Sends the request of the buyer's current phase.
  void issue(std::uint32_t k) {
    auto& x = b(k);
    std::size_t g = global(k);
    auto bearer = run_.tokens.bearer(g);
    const auto& P = *run_.paths;
    switch (x.phase) {
      case Phase::join:
        // A retried join presents the ticket it may already hold: the same place, never a second.
        if (x.ticket.empty()) {
          send(k, Step::join, build_request("POST", P.queue, P.host, {{"Authorization", bearer}}));
        } else {
          send(k, Step::join,
               build_request("POST", P.queue, P.host,
                             {{"Authorization", bearer}, {"Queue-Ticket", x.ticket}}));
        }
        return;
      case Phase::poll:
        send(k, Step::poll, build_request("GET", P.status, P.host, {{"Queue-Ticket", x.ticket}}));
        return;
      case Phase::sections:
        send(k, Step::sections,
             build_request("GET", P.sections, P.host,
                           {{"Authorization", bearer}, {"Access-Token", x.p->access}}));
        return;
      case Phase::seats:
        send(k, Step::seats,
             build_request("GET", P.seats + x.p->section, P.host,
                           {{"Authorization", bearer}, {"Access-Token", x.p->access}}));
        return;
      case Phase::hold:
        send(k, Step::hold,
             build_request("POST", P.holds, P.host,
                           {{"Authorization", bearer}, {"Access-Token", x.p->access}},
                           holds_body(x.p->seats)));
        return;
      case Phase::release:
        send(k, Step::release,
             build_request("DELETE", "/v1/holds/" + x.p->hold_id, P.host,
                           {{"Authorization", bearer}}));
        return;
      case Phase::order:
        send(k, Step::order,
             build_request("POST", "/v1/orders", P.host, {{"Authorization", bearer}},
                           "{\"hold_id\":\"" + x.p->hold_id + "\"}"));
        return;
      case Phase::pay:
        send(k, Step::pay,
             build_request("POST", "/v1/orders/" + x.p->order_id + "/payment", P.host,
                           {{"Authorization", bearer}, {"Idempotency-Key", x.p->idem_key}},
                           "{\"method\":\"card\",\"card_token\":\"" + o_.card_token + "\"}"));
        return;
      case Phase::done:
        return;
    }
  }

  void send(std::uint32_t k, Step s, std::string req) {
    if (b(k).tries == 0) b(k).step_first = b(k).intended;  // retries keep the first try's time
    pool_.submit(std::move(req), [this, k, s](Reply& r) {
      auto& x = b(k);
      std::string detail;
      if (r.status == 0) {
        detail = r.ec.message();
      } else if (r.status >= 400) {
        detail = std::string(error_code(r.body));
      }
      res_.stats[s].record(r.status, detail, (r.recv_ns - x.intended) / 1000,
                           (r.recv_ns - x.step_first) / 1000, wire_us(r), pool_wait_us(r));
      switch (s) {
        case Step::join:
          return on_join(k, r);
        case Step::poll:
          return on_poll(k, r);
        case Step::sections:
          return on_sections(k, r);
        case Step::seats:
          return on_seats(k, r);
        case Step::hold:
          return on_hold(k, r);
        case Step::release:
          return on_release(k, r);
        case Step::order:
          return on_order(k, r);
        case Step::pay:
          return on_pay(k, r);
        case Step::count:
          return;
      }
    });
  }

  // Transport errors, 5xx, 429 and 503: the same request again later (Retry-After when given,
  // else exponential backoff). True when handled.
  bool retry(std::uint32_t k, const Reply& r) {
    if (r.status != 0 && r.status != 429 && r.status < 500) return false;
    auto& x = b(k);
    // A refusal that says when to come back is followed however often (as a buyer in a crowd
    // does); failures without one end the buyer after kMaxTries in a row.
    if (x.tries < 255) ++x.tries;
    if (r.retry_after <= 0 && ++x.fails > kMaxTries) {
      finish(k, Outcome::error);
      return true;
    }
    double s =
        r.retry_after > 0 ? r.retry_after : std::min(2.0, 0.05 * (1 << std::min<int>(x.tries, 6)));
    later(k, s);
    return true;
  }

  void saw_waiting(std::uint32_t k, const Reply& r) {
    auto& w = run_.waiting_sent[global(k)];
    w = std::max(w, r.sent_ns);
  }
  void saw_admitted(std::uint32_t k, const Reply& r) {
    auto& a = run_.admitted_recv[global(k)];
    a = std::min(a, r.recv_ns);
  }

  void on_join(std::uint32_t k, Reply& r) {
    if (retry(k, r)) return;
    auto& x = b(k);
    std::string_view code = error_code(r.body);
    if (r.status == 200 || r.status == 201) {
      if (r.status == 201) ++res_.joins_created;
      x.ticket = std::string(json_str(r.body, "ticket"));
      note_place(k, r.body);
      joined();
      auto state = json_str(r.body, "state");
      x.phase = Phase::poll;
      x.tries = x.fails = 0;
      if (state == "pre_queue") {
        // No position until the draw at the opening; Retry-After never points past it.
        ++res_.prequeue_joins;
        return later(k, (r.retry_after > 0 ? r.retry_after : o_.first_poll_s) * o_.poll_scale);
      }
      placed(k);
      if (state == "admitted") {
        saw_admitted(k, r);
        if (x.silent) return go_away(k);
        return now(k);  // the access token comes with the status
      }
      saw_waiting(k, r);
      if (x.silent) return go_away(k);
      // The join's Retry-After says when the place may have moved (far back: minutes).
      return later(k, (r.retry_after > 0 ? r.retry_after : o_.first_poll_s) * o_.poll_scale);
    }
    if (r.status == 422 && code == "sale_not_open") return later(k, 1.0);
    joined();
    if (r.status == 422 && code == "sold_out") return finish(k, Outcome::sold_out);
    if (r.status == 422 && code == "sale_closed") return finish(k, Outcome::closed);
    finish(k, Outcome::rejected);
  }

  // Counts buyers past their join; the last one samples Redis (memory per waiting buyer).
  void joined() {
    if (run_.joined.fetch_add(1) + 1 == static_cast<std::int64_t>(run_.n) &&
        !o_.redis_url.empty()) {
      if (auto m = redis_used_memory(o_.redis_url)) run_.redis_after_joins = *m;
    }
  }

  void on_poll(std::uint32_t k, Reply& r) {
    if (retry(k, r)) return;
    auto& x = b(k);
    if (r.status != 200) return finish(k, Outcome::rejected);
    note_place(k, r.body);
    auto state = json_str(r.body, "state");
    if (state == "pre_queue") {
      x.tries = x.fails = 0;
      return later(k, (r.retry_after > 0 ? r.retry_after : 1) * o_.poll_scale);
    }
    if (state == "waiting") {
      placed(k);
      saw_waiting(k, r);
      if (x.silent) return go_away(k);
      x.tries = x.fails = 0;
      return later(k, (r.retry_after > 0 ? r.retry_after : 1) * o_.poll_scale);
    }
    if (state == "admitted") {
      placed(k);
      saw_admitted(k, r);
      ++run_.admitted;
      if (x.silent) return go_away(k);
      x.p = std::make_unique<Purchase>();
      x.p->access = std::string(json_str(r.body, "access_token"));
      std::string().swap(x.ticket);
      return go(k, first_seat_read());
    }
    if (state == "sold_out") return finish(k, Outcome::sold_out);
    if (state == "closed") return finish(k, Outcome::closed);
    if (state == "expired") return finish(k, Outcome::expired);
    if (state == "abandoned") {
      res_.passed_over.push_back(static_cast<std::uint32_t>(global(k)));
      return finish(k, Outcome::passed_over);
    }
    finish(k, Outcome::rejected);
  }

  // The place an answer names. A pre-queue entrant learns its drawn position from its first
  // status after the draw; every later answer must name the same position and entry.
  void note_place(std::uint32_t k, std::string_view body) {
    std::size_t g = global(k);
    if (auto e = parse_entry(json_str(body, "entry_id")); e != 0) {
      if (run_.entry[g] != 0 && run_.entry[g] != e) ++res_.position_changes;
      run_.entry[g] = e;
    }
    if (auto p = json_int(body, "position"); p && *p > 0) {
      auto pos = static_cast<std::uint32_t>(*p);
      if (run_.position[g] != 0 && run_.position[g] != pos) ++res_.position_changes;
      run_.position[g] = pos;
    }
  }
  // A buyer told `waiting` or `admitted` must know its position, or the order check would skip
  // it without a word.
  void placed(std::uint32_t k) {
    if (run_.position[global(k)] == 0) ++res_.unplaced;
  }

  // Closes the tab: no poll, no seat map, ever again. The ticket is kept to ask after the run
  // what became of the place.
  void go_away(std::uint32_t k) {
    res_.silent.emplace_back(static_cast<std::uint32_t>(global(k)), std::move(b(k).ticket));
    finish(k, Outcome::went_away);
  }

  // A stadium's whole map is megabytes: buyers read the section summary, then one section.
  Phase first_seat_read() const { return o_.whole_map ? Phase::seats : Phase::sections; }

  void on_sections(std::uint32_t k, Reply& r) {
    if (retry(k, r)) return;
    auto& x = b(k);
    if (r.status == 403) return finish(k, Outcome::not_admitted);
    if (r.status != 200) return finish(k, Outcome::rejected);
    auto pick = pick_section(r.body, x.want, rng_);
    res_.capacity_seen = std::max(res_.capacity_seen, pick.seats);
    if (pick.query.empty()) {
      if (pick.held == 0) return finish(k, Outcome::sold_out);  // every seat sold
      x.tries = x.fails = 0;
      return later(k, o_.seat_retry_s * o_.poll_scale);  // held seats may come back
    }
    x.p->section = std::move(pick.query);
    go(k, Phase::seats);
  }

  void on_seats(std::uint32_t k, Reply& r) {
    if (retry(k, r)) return;
    auto& x = b(k);
    if (r.status == 403) return finish(k, Outcome::not_admitted);
    if (r.status != 200) return finish(k, Outcome::rejected);
    bool deliberate = x.with_taken && !x.p->taken_used;
    auto pick = pick_seats(r.body, x.want, deliberate, rng_);
    if (x.p->section.empty()) {
      res_.capacity_seen = std::max<std::int64_t>(res_.capacity_seen, pick.available + pick.taken);
    }
    if (pick.seats.empty()) {
      // The section filled up since the summary: choose again from fresh counts.
      if (!x.p->section.empty()) return go(k, Phase::sections);
      if (pick.held == 0) return finish(k, Outcome::sold_out);  // every seat sold
      x.tries = x.fails = 0;
      return later(k, o_.seat_retry_s * o_.poll_scale);  // held seats may come back
    }
    if (pick.includes_taken) x.p->taken_used = true;
    x.p->seats = std::move(pick.seats);
    go(k, Phase::hold);
  }

  void on_hold(std::uint32_t k, Reply& r) {
    if (retry(k, r)) return;
    auto& x = b(k);
    auto code = error_code(r.body);
    if (r.status == 201) {
      x.p->hold_id = std::string(json_str(r.body, "hold_id"));
      if (x.intent == Intent::abandon) return go(k, Phase::release);
      if (x.intent == Intent::expire) return finish(k, Outcome::let_expire);
      return go(k, Phase::order);
    }
    if (r.status == 409 && code == "seats_unavailable") {
      if (++x.p->hold_retries > o_.max_hold_retries) return finish(k, Outcome::gave_up);
      return go(k, Phase::seats);  // a fresh map of the same section, new picks
    }
    if (r.status == 403) return finish(k, Outcome::not_admitted);
    if (r.status == 422 && code == "sold_out") return finish(k, Outcome::sold_out);
    if (r.status == 422 && code == "seat_limit_reached") return finish(k, Outcome::gave_up);
    finish(k, Outcome::rejected);
  }

  void on_release(std::uint32_t k, Reply& r) {
    if (retry(k, r)) return;
    finish(k, r.status == 204 ? Outcome::abandoned : Outcome::rejected);
  }

  void on_order(std::uint32_t k, Reply& r) {
    if (retry(k, r)) return;
    auto& x = b(k);
    if (r.status == 200 || r.status == 201) {
      x.p->order_id = std::string(json_str(r.body, "id"));
      // One key per order for every attempt: a retried payment can never charge twice.
      x.p->idem_key = "lg" + std::to_string(o_.seed) + "-" + std::to_string(run_.t0 % 1000000007) +
                      "-" + std::to_string(global(k));
      return go(k, Phase::pay);
    }
    if (r.status == 409 && error_code(r.body) == "hold_expired") {
      return finish(k, Outcome::hold_expired);
    }
    finish(k, Outcome::rejected);
  }

  void on_pay(std::uint32_t k, Reply& r) {
    if (retry(k, r)) return;
    auto& x = b(k);
    auto code = error_code(r.body);
    if (r.status == 200) {
      auto n = static_cast<std::int64_t>(x.p->seats.size());
      res_.seats_sold += n;
      ++res_.orders_paid;
      res_.last_paid_ns = std::max(res_.last_paid_ns, r.recv_ns);
      res_.max_paid_position = std::max(res_.max_paid_position, run_.position[global(k)]);
      run_.sold += n;
      ++run_.paid;
      return finish(k, Outcome::paid);
    }
    if (r.status == 409 && code == "idempotency_in_progress") {
      if (x.tries < 255) ++x.tries;
      if (++x.fails > kMaxTries) return finish(k, Outcome::error);
      return later(k, 0.2);  // the first attempt is still running: ask again, same key
    }
    if (r.status == 409 && code == "hold_expired") return finish(k, Outcome::hold_expired);
    if (r.status == 402) return finish(k, Outcome::declined);
    finish(k, Outcome::rejected);
  }

  void finish(std::uint32_t k, Outcome out) {
    auto& x = b(k);
    if (x.phase == Phase::done) return;
    x.phase = Phase::done;
    x.p.reset();
    std::string().swap(x.ticket);
    ++res_.outcomes[static_cast<int>(out)];
    ++run_.done;
    ++finished_;
    if (o_.mode == Mode::closed && next_ < buyers_.size()) start_buyer(next_++, now_ns());
    if (finished_ == buyers_.size()) {
      // Nothing left to do: let io_context::run return.
      deadline_.cancel();
      arrivals_.cancel();
      progress_.cancel();
      sched_.clear();
    }
  }

  Run& run_;
  const Options& o_;
  int shard_;
  asio::io_context io_;
  Pool pool_;
  Scheduler sched_;
  asio::steady_timer arrivals_, deadline_, progress_;
  Rng rng_;
  std::vector<std::uint32_t> global_;
  std::vector<Buyer> buyers_;
  std::size_t next_ = 0, finished_ = 0;
  Result res_;
};

}  // namespace

Result run_flash(Run& run, int shard) {
  auto f = std::make_unique<Flash>(run, shard);
  return f->run();
}

}  // namespace loadgen
