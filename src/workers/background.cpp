#include "workers/background.hpp"

#include <algorithm>

#include "app/orders.hpp"
#include "app/seats.hpp"
#include "app/waiting_room.hpp"
#include "app/waitlist.hpp"
#include "common/log.hpp"
#include "common/trace.hpp"

namespace tk::workers {

namespace asio = boost::asio;

Background::~Background() = default;

void Background::start(asio::any_io_executor ex) {
  sup_ = std::make_unique<Supervisor>(ex, metrics_, o_.supervision);
  auto spawn = [&](const char* name, asio::awaitable<void> (Background::*fn)()) {
    sup_->spawn_loop(name, [this, fn] { return (this->*fn)(); });
  };
  if (o_.run_refresher) spawn("refresher", &Background::refresher);
  if (o_.run_ticker) spawn("ticker", &Background::ticker);
  if (o_.run_ticker) spawn("waitlist", &Background::waitlist);
  if (o_.run_presence) spawn("presence", &Background::presence);
  if (o_.run_dispatcher) {
    const int lanes = std::max(1, o_.bus ? o_.relay_lanes : o_.dispatch_lanes);
    for (int i = 0; i < lanes; ++i) spawn(o_.bus ? "relay" : "dispatcher", &Background::dispatcher);
  }
  if (o_.run_reconciler) spawn("reconciler", &Background::reconciler);
}

void Background::stop() {
  if (sup_) sup_->request_stop();
}

asio::awaitable<void> Background::close() {
  if (sup_) co_await sup_->close();
}

asio::awaitable<void> Background::pause(std::chrono::milliseconds d) {
  if (sup_) co_await sup_->sleep(d);
}

asio::awaitable<void> Background::tick_all_once() {
  app::WaitingRoom room(d_);
  auto live = live_;
  for (const auto& p : *live) {
    auto r = co_await room.tick(p);
    (void)r;  // a failed tick is retried on the next round
  }
}

namespace {
// Until the earliest tick due (the script's answer), at most `poll` (a new sale, an operator's
// change, a tick that failed) and at least 1 ms (a clock a hair behind the script's never spins).
std::chrono::milliseconds ticker_wait(Millis now, Millis due, std::chrono::milliseconds poll) {
  if (due <= 0) return poll;
  return std::clamp(std::chrono::milliseconds(due - now), std::chrono::milliseconds(1), poll);
}
}  // namespace

asio::awaitable<void> Background::ticker() {
  // The Redis script decides whether an interval has passed and says when the next one ends: the
  // ticker comes back then. Coming back at a polling period instead would stretch each interval
  // to the next poll after it (a 100 ms interval polled every 50 ms: 100 or 150 ms, more when
  // the round itself is slow).
  app::WaitingRoom room(d_);
  while (!stopping()) {
    round("ticker");
    auto live = live_;
    Millis due = 0;  // 0: nothing live
    for (const auto& p : *live) {
      auto r = co_await room.tick(p);
      // Unknown (a failed tick, a queue being repaired): the polling period.
      const Millis next = r && r->next_at > 0 ? r->next_at : d_.now() + o_.tick_poll.count();
      due = due == 0 ? next : std::min(due, next);
      if (r && metrics_ && r->kind == app::TickOutcome::Kind::ticked) {
        metrics::Labels l{{"performance", p.id}};
        metrics_->counter("hold_expiries_total", "Seat holds that ran out", l)
            .inc(static_cast<double>(r->holds_expired));
        metrics_->gauge("queue_active", "Admitted buyers still within their access window", l)
            .set(static_cast<double>(r->active));
        metrics_->counter("queue_admissions_total", "Buyers admitted from the waiting room", l)
            .inc(static_cast<double>(r->tick.to - r->tick.from));
        metrics_
            ->counter("queue_released_total",
                      "Admitted buyers whose place came back: access never used, or idle", l)
            .inc(static_cast<double>(r->released.size()));
        if (r->inventory_room >= 0) {
          metrics_
              ->gauge("queue_inventory_room",
                      "Admissions the unsold seats still allowed at the last tick", l)
              .set(static_cast<double>(r->inventory_room));
        }
      }
    }
    co_await pause(ticker_wait(d_.now(), due, o_.tick_poll));
  }
}

asio::awaitable<void> Background::presence() {
  app::WaitingRoom room(d_);
  while (!stopping()) {
    round("presence");
    auto r = co_await room.flush_presence();
    if (!r) {
      // The marks are kept for the next round; said once per failed round.
      log::warn("presence marks not written, retrying",
                {{"error", std::string(app::code_name(app::to_app(r.code())))}});
    }
    co_await pause(o_.presence_flush);
  }
}

asio::awaitable<void> Background::waitlist() {
  app::Waitlist list(d_);
  while (!stopping()) {
    round("waitlist");
    auto r = co_await list.offer_all();
    if (!r) {
      log::warn("waiting list offers not made, retrying",
                {{"error", std::string(app::code_name(app::to_app(r.error().code)))}});
    } else if (*r > 0 && metrics_) {
      metrics_
          ->counter("waitlist_offers_total",
                    "Offers made to the waiting list (seats held for a buyer)")
          .inc(static_cast<double>(*r));
    }
    co_await pause(o_.waitlist);
  }
}

asio::awaitable<void> Background::refresher() {
  app::WaitingRoom room(d_);
  while (!stopping()) {
    round("refresher");
    const auto read_at = d_.shared->view->changes();
    auto live = co_await d_.ports.catalog_writer->live_performances();
    if (live) {
      live_ = std::make_shared<const std::vector<domain::Performance>>(std::move(*live));
      auto current = live_;
      app::Seats seats(d_);
      for (const auto& p : *current) {
        d_.shared->view->update_perf(p, read_at);
        if (metrics_) {
          metrics_->gauge("seats_sold", "Seats sold (PostgreSQL)", {{"performance", p.id}})
              .set(static_cast<double>(p.sold_count));
          // Only the cheap count: counters() reads every held seat, too much once a second.
          auto h = co_await d_.ports.holds->holds_active(p.id, d_.now());
          if (h) {
            metrics_->gauge("holds_active", "Seat holds not yet expired", {{"performance", p.id}})
                .set(static_cast<double>(*h));
          }
        }
        // The smaller of this round's count and the last: a refund between them lowers it.
        auto [last, inserted] = sold_last_round_.try_emplace(p.id, p.sold_count);
        const std::int64_t settled = std::min<std::int64_t>(last->second, p.sold_count);
        last->second = p.sold_count;
        if (!inserted) {
          auto r = co_await seats.reconcile_markers(p.id, settled);
          using Repair = app::Seats::MarkerRepair;
          if (r && *r == Repair::reloaded) {
            log::warn("sold markers re-loaded from PostgreSQL", {{"performance", p.id}});
          } else if (r && *r == Repair::bitmap_rebuilt) {
            log::warn("sold seat bitmap rebuilt from the sold markers", {{"performance", p.id}});
          }
        }
      }
      std::erase_if(sold_last_round_, [&](const auto& kv) {
        return std::none_of(current->begin(), current->end(),
                            [&](const domain::Performance& p) { return p.id == kv.first; });
      });
    }
    if (metrics_ && o_.run_dispatcher) {
      auto pending = co_await outbox_.pending();
      if (pending) {
        metrics_->gauge("outbox_pending", "Outbox rows not yet delivered (or not yet confirmed)")
            .set(static_cast<double>(*pending));
      }
      if (o_.bus) {
        metrics_->gauge("outbox_publishing", "Outbox messages awaiting the broker's confirm")
            .set(static_cast<double>(o_.bus->in_flight()));
      }
    }
    // Counters for every performance this process serves polls for (missed pub/sub messages).
    for (const auto& id : d_.shared->view->known()) {
      auto r = co_await room.refresh(id);
      (void)r;
    }
    co_await pause(o_.refresh);
  }
}

asio::awaitable<int> Background::dispatch_outbox_once() {
  // Claimed rows are invisible to other dispatchers for the lease; a row whose delivery failed
  // comes back after its backoff (or the lease, if this process died), so each row is delivered
  // at least once and the consumers' records make the repeats harmless.
  // One row per claim: its consumers (a receipt renders PDFs and waits for SMTP, whose timeout the
  // configuration keeps below the lease) finish within the lease, so no other dispatcher starts
  // the same row meanwhile. Rows of a larger claim would wait their turn while their leases ran.
  auto rows = co_await outbox_.claim_due(1, o_.outbox_lease.count());
  if (!rows) co_return 0;
  if (rows->empty() && metrics_) {
    // When idle: parked rows as PostgreSQL counts them, so the gauge survives restarts and
    // covers every process.
    auto parked = co_await outbox_.parked();
    if (parked) {
      metrics_->gauge("outbox_parked", "Outbox messages parked (kept, no longer retried)")
          .set(static_cast<double>(*parked));
    }
  }
  for (const auto& row : *rows) {
    // The delivery is a span of the row's trace (a new trace for a row without one); the
    // consumers' own outbox rows continue it.
    const auto span = trace::Span::child_of(row.traceparent);
    auto r = co_await consumers_.dispatch(std::to_string(row.id), row.topic, row.payload,
                                          span.traceparent());
    if (r) {
      auto del = co_await outbox_.delivered(row.id);
      (void)del;  // not deleted: delivered again after the lease, every consumer skips it
      boost::json::object fields;
      fields["outbox_id"] = row.id;
      fields["topic"] = row.topic;
      fields["attempts"] = row.attempts;
      span.add_fields(fields);
      log::info("outbox message handled", fields);
      continue;
    }
    const bool park = app::should_park(o_.outbox_retry, row.attempts);
    const auto& e = r.error();
    std::string consumer = e.details.contains("consumer") && e.details.at("consumer").is_string()
                               ? std::string(e.details.at("consumer").as_string())
                               : std::string();
    auto f = co_await outbox_.failed(row.id, app::retry_delay(o_.outbox_retry, row.attempts),
                                     consumer + ": " + e.code.message(), park);
    (void)f;  // not recorded: the row is due again once its lease runs out
    if (metrics_) {
      metrics_
          ->counter("consumer_failures_total", "Consumer deliveries that failed (retried)",
                    {{"consumer", consumer}})
          .inc();
      if (park) {
        metrics_
            ->counter("outbox_parked_total", "Outbox messages parked after too many failures",
                      {{"topic", row.topic}})
            .inc();
      }
    }
    // Built by assignment: GCC 12 frees braced-list temporaries early inside coroutines.
    boost::json::object fields;
    fields["outbox_id"] = row.id;
    fields["topic"] = row.topic;
    fields["attempts"] = row.attempts;
    fields["consumer"] = consumer;
    fields["error"] = e.code.message();
    span.add_fields(fields);
    if (park) {
      log::error("outbox message parked", fields);
    } else {
      log::warn("outbox message failed, retrying", fields);
    }
  }
  co_return static_cast<int>(rows->size());
}

asio::awaitable<int> Background::relay_outbox_once() {
  // While the broker is down nothing is claimed: the rows wait in PostgreSQL, where they are
  // safe, rather than in the publisher's memory.
  if (!o_.bus->ready()) co_return 0;
  auto rows = co_await outbox_.claim_due(o_.outbox_batch, o_.outbox_lease.count());
  if (!rows || rows->empty()) co_return 0;
  auto confirmed = co_await o_.bus->publish(*rows);
  // Only what the broker confirmed leaves the outbox; the rest is claimed again after the lease.
  std::vector<std::int64_t> done;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    if (confirmed[i]) done.push_back((*rows)[i].id);
  }
  if (done.empty()) co_return 0;
  auto del = co_await outbox_.delivered_all(done);
  if (!del) co_return 0;  // deleted later: the rows are published again, consumers dedupe
  if (metrics_) {
    metrics_->counter("outbox_relayed_total", "Outbox rows published and confirmed by the broker")
        .inc(static_cast<double>(done.size()));
  }
  co_return static_cast<int>(done.size());
}

asio::awaitable<void> Background::dispatcher() {
  while (!stopping()) {
    round("dispatcher");
    int n = o_.bus ? co_await relay_outbox_once() : co_await dispatch_outbox_once();
    if (n == 0) co_await pause(o_.outbox_poll);
  }
}

asio::awaitable<void> Background::reconciler() {
  app::Payments payments(d_);
  while (!stopping()) {
    round("reconciler");
    auto r = co_await payments.reconcile(50);
    if (r && *r > 0) log::info("payments reconciled", {{"count", std::to_string(*r)}});
    auto e = co_await d_.ports.orders->expire_due(d_.now(), 500);
    (void)e;
    co_await pause(o_.reconcile);
  }
}

}  // namespace tk::workers
