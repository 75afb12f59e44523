#include "app/waiting_room.hpp"

#include "app/errors.hpp"
#include "common/crypto/tokens.hpp"
#include "domain/admission.hpp"

namespace tk::app {

const char* to_string(QueueState s) {
  switch (s) {
    case QueueState::waiting:
      return "waiting";
    case QueueState::admitted:
      return "admitted";
    case QueueState::expired:
      return "expired";
    case QueueState::sold_out:
      return "sold_out";
    case QueueState::closed:
      return "closed";
  }
  return "closed";
}

Task<std::shared_ptr<const LiveQueue>> WaitingRoom::live(const std::string& perf_id) {
  if (auto q = d_.shared->view->get(perf_id)) co_return q;
  co_return co_await refresh(perf_id);
}

Task<std::shared_ptr<const LiveQueue>> WaitingRoom::refresh(std::string perf_id) {
  TK_CO_TRY(auto p, co_await d_.ports.catalog_writer->get_performance(perf_id));
  if (!p) co_return Errc::not_found;
  TK_CO_TRY(auto c, co_await d_.ports.queue->counters(perf_id));
  if (!c.loaded) {
    TK_CO_CHECK(co_await restore(*p));
    TK_CO_TRY(auto c2, co_await d_.ports.queue->counters(perf_id));
    c = std::move(c2);
  }
  auto q = std::make_shared<LiveQueue>();
  q->perf = std::move(*p);
  q->serving = c.serving;
  q->tail = c.tail;
  q->seq = c.seq;
  q->expired_upto = c.expired_upto;
  q->ticks = std::move(c.ticks);
  d_.shared->view->put(q);
  co_return d_.shared->view->get(perf_id);
}

Task<void> WaitingRoom::restore(const domain::Performance& p) {
  TK_CO_TRY(auto snap, co_await d_.ports.ledger->load(
                           p.id, d_.now(), static_cast<Millis>(p.queue.access_ttl_seconds) * 1000));
  co_return co_await d_.ports.queue->restore(p.id, std::move(snap));
}

namespace {
// Place, expected wait and next poll of a waiting position.
void fill_wait(QueueStatus& s, const LiveQueue& q, std::int64_t position, domain::SaleStatus sale,
               Millis now) {
  s.ahead = domain::ahead_of(position, q.serving);
  double configured = q.perf.queue.interval_ms > 0
                          ? q.perf.queue.admit_per_interval * 1000.0 / q.perf.queue.interval_ms
                          : 0;
  double measured = q.admission_rate(now);
  if (sale == domain::SaleStatus::paused || sale == domain::SaleStatus::scheduled) configured = 0;
  s.estimated_wait_seconds = domain::estimated_wait_seconds(s.ahead, measured, configured);
  s.retry_after_seconds =
      domain::retry_after_seconds(s.ahead, s.estimated_wait_seconds,
                                  q.perf.queue.access_ttl_seconds, measured > 0 || configured > 0);
}
}  // namespace

Task<JoinResult> WaitingRoom::join(const Principal& who, std::string perf_id,
                                   std::string_view presented) {
  TK_CO_TRY(auto q, co_await live(perf_id));
  Millis now = d_.now();
  switch (domain::effective_status(q->perf, now)) {
    case domain::SaleStatus::scheduled:
      co_return Errc::sale_not_open;
    case domain::SaleStatus::closed:
      co_return Errc::sale_closed;
    case domain::SaleStatus::sold_out:
      co_return Errc::sold_out;
    default:
      break;
  }
  const auto& signer = *d_.shared->signer;
  // The first poll is due when the place might have moved: a buyer far back waits minutes.
  auto result = [&](std::string ticket, std::int64_t pos, bool created) {
    JoinResult r{std::move(ticket), pos, QueueState::admitted, created, 1};
    if (pos > q->serving) {
      QueueStatus s;
      fill_wait(s, *q, pos, domain::effective_status(q->perf, now), now);
      r.state = QueueState::waiting;
      r.retry_after_seconds = s.retry_after_seconds;
    }
    return r;
  };
  if (!presented.empty()) {
    auto t = crypto::decode_queue_ticket(signer, presented);
    if (t && t->performance_id == perf_id && t->account_id == who.account_id) {
      co_return result(std::string(presented), t->position, false);
    }
  }
  for (int attempt = 0; attempt < 4; ++attempt) {
    TK_CO_TRY(auto j, co_await d_.ports.queue->join(perf_id, who.account_num, now));
    switch (j.kind) {
      case JoinOutcome::Kind::created:
      case JoinOutcome::Kind::existing: {
        auto ticket = crypto::encode(
            signer, crypto::QueueTicket{perf_id, j.position, who.account_id, j.issued_at});
        co_return result(std::move(ticket), j.position, j.kind == JoinOutcome::Kind::created);
      }
      case JoinOutcome::Kind::not_loaded:
        TK_CO_CHECK(co_await restore(q->perf));
        break;
      case JoinOutcome::Kind::need_reserve: {
        TK_CO_TRY(auto hwm, co_await d_.ports.ledger->reserve(
                                perf_id, j.hwm, d_.shared->settings.queue_reserve_block));
        TK_CO_CHECK(co_await d_.ports.queue->raise_hwm(perf_id, hwm));
        break;
      }
    }
  }
  co_return Errc::unavailable;
}

namespace {
// The answer to a poll from one snapshot of the queue. `at` is the admission time of the
// ticket's position when it is admitted (nullopt: unknown or outside the access window).
QueueStatus status_from(const LiveQueue& q, const crypto::Signer& signer,
                        const crypto::QueueTicketView& t, std::optional<Millis> at, Millis now) {
  QueueStatus s;
  s.position = t.position;
  auto sale = domain::effective_status(q.perf, now);
  if (sale == domain::SaleStatus::closed) {
    s.state = QueueState::closed;
    s.retry_after_seconds = 30;
    return s;
  }
  if (t.position <= q.serving) {
    Millis ttl = static_cast<Millis>(q.perf.queue.access_ttl_seconds) * 1000;
    if (at && now < *at + ttl) {
      s.state = QueueState::admitted;
      s.access_expires_at = *at + ttl;
      crypto::AccessToken tok{q.perf.id, std::string(t.account_id), t.position,
                              s.access_expires_at};
      s.access_token = crypto::encode(signer, tok);
      s.retry_after_seconds = 5;
    } else {
      s.state = QueueState::expired;
      s.retry_after_seconds = 30;
    }
    return s;
  }
  if (sale == domain::SaleStatus::sold_out) {
    s.state = QueueState::sold_out;
    s.retry_after_seconds = 30;
    return s;
  }
  s.state = QueueState::waiting;
  fill_wait(s, q, t.position, sale, now);
  return s;
}
}  // namespace

std::optional<Result<QueueStatus>> WaitingRoom::status_now(std::string_view perf_id,
                                                           std::string_view ticket) {
  crypto::TokenFields storage;
  auto t = crypto::decode_queue_ticket(*d_.shared->signer, ticket, storage);
  if (!t || t->performance_id != perf_id) return Result<QueueStatus>(Errc::invalid_ticket);
  auto q = d_.shared->view->get(perf_id);
  if (!q) return std::nullopt;
  std::optional<Millis> at;
  if (t->position <= q->serving) {
    at = q->admitted_at(t->position);
    // Admitted, but the tick is not in this process's view (e.g. it just started): cold path.
    if (!at && t->position > q->expired_upto) return std::nullopt;
  }
  return Result<QueueStatus>(status_from(*q, *d_.shared->signer, *t, at, d_.now()));
}

Task<QueueStatus> WaitingRoom::status(std::string perf_id, std::string_view ticket) {
  if (auto fast = status_now(perf_id, ticket)) co_return std::move(*fast);
  // Cold path: the view is loaded, or the ledger asked for a tick this process has not seen.
  // Once per performance or per missing tick, since the view is refreshed right after.
  crypto::TokenFields storage;
  auto t = crypto::decode_queue_ticket(*d_.shared->signer, ticket, storage);
  if (!t) co_return Errc::invalid_ticket;
  TK_CO_TRY(auto q, co_await live(perf_id));  // `t` views into `storage`, not the request
  std::optional<Millis> at;
  if (t->position <= q->serving) {
    at = q->admitted_at(t->position);
    if (!at && t->position > q->expired_upto) {
      TK_CO_TRY(auto rec, co_await d_.ports.ledger->tick_for_position(perf_id, t->position));
      if (rec) at = rec->admitted_at;
      (void)co_await refresh(perf_id);
    }
  }
  co_return status_from(*q, *d_.shared->signer, *t, at, d_.now());
}

Task<TickOutcome> WaitingRoom::tick(const domain::Performance& p) {
  // Ticks Redis admitted while PostgreSQL was unreachable are recorded first, in order.
  while (!unrecorded_.empty()) {
    auto& [perf, t, tail] = unrecorded_.front();
    TK_CO_CHECK(co_await d_.ports.ledger->record_tick(perf, t, tail));
    unrecorded_.erase(unrecorded_.begin());
  }
  Millis now = d_.now();
  auto sale = domain::effective_status(p, now);
  TickParams tp;
  tp.now = now;
  tp.interval_ms = p.queue.interval_ms;
  tp.admit_per_interval = p.queue.admit_per_interval;
  tp.max_active = p.queue.max_active;
  tp.access_ttl_ms = static_cast<Millis>(p.queue.access_ttl_seconds) * 1000;
  // Only an open sale admits; a paused one still runs the tick for expiry bookkeeping.
  tp.paused = sale != domain::SaleStatus::on_sale;
  TK_CO_TRY(auto out, co_await d_.ports.queue->tick(p.id, tp));
  if (out.kind == TickOutcome::Kind::not_loaded) {
    TK_CO_CHECK(co_await restore(p));
    co_return out;
  }
  if (out.kind == TickOutcome::Kind::ticked && out.tick.to > out.tick.from) {
    d_.shared->view->apply_tick(p.id, out.tick, out.tail, now);
    // Recorded after Redis admitted: PostgreSQL keeps the high-water marks Redis resumes from.
    auto rec = co_await d_.ports.ledger->record_tick(p.id, out.tick, out.tail);
    if (!rec) unrecorded_.emplace_back(p.id, out.tick, out.tail);
  }
  co_return out;
}

}  // namespace tk::app
