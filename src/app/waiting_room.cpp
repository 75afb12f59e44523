#include "app/waiting_room.hpp"

#include <algorithm>
#include <numeric>

#include "app/errors.hpp"
#include "common/crypto/encoding.hpp"
#include "common/crypto/password.hpp"
#include "common/crypto/tokens.hpp"
#include "common/log.hpp"
#include "domain/admission.hpp"
#include "domain/proof_of_work.hpp"

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
    case QueueState::pre_queue:
      return "pre_queue";
    case QueueState::abandoned:
      return "abandoned";
  }
  return "closed";
}

Task<std::shared_ptr<const LiveQueue>> WaitingRoom::live(const std::string& perf_id) {
  if (auto q = d_.shared->view->get(perf_id)) co_return q;
  co_return co_await refresh(perf_id);
}

Task<std::shared_ptr<const LiveQueue>> WaitingRoom::refresh(std::string perf_id, bool replace) {
  TK_CO_TRY(auto p, co_await d_.ports.catalog_writer->get_performance(perf_id));
  if (!p) co_return Errc::not_found;
  TK_CO_TRY(auto c, co_await d_.ports.queue->counters(perf_id));
  if (!c.loaded) {
    TK_CO_CHECK(co_await restore(*p));
    TK_CO_TRY(auto c2, co_await d_.ports.queue->counters(perf_id));
    c = std::move(c2);
  }
  publish(std::move(*p), std::move(c), replace);
  co_return d_.shared->view->get(perf_id);
}

void WaitingRoom::publish(domain::Performance p, QueueCounters c, bool replace) {
  auto q = std::make_shared<LiveQueue>();
  q->perf = std::move(p);
  // The ticker's list of live performances carries no price grades; they never change.
  if (q->perf.price_grades.empty()) {
    if (auto cur = d_.shared->view->get(q->perf.id)) q->perf.price_grades = cur->perf.price_grades;
  }
  q->serving = c.serving;
  q->tail = c.tail;
  q->seq = c.seq;
  q->expired_upto = c.expired_upto;
  q->ticks = std::move(c.ticks);
  q->gap = c.gap;
  q->claimed = std::move(c.claimed);
  q->left = std::move(c.left);
  if (replace) {
    d_.shared->view->replace(std::move(q));
  } else {
    d_.shared->view->put(std::move(q));
  }
}

Task<void> WaitingRoom::restore(const domain::Performance& p) {
  // Right after Redis came back every join and tick of the performance asks for this: they
  // share one round of it per thread.
  auto once = [this, &p] { return restore_once(p); };
  co_return co_await d_.flights->queue_restores.run(p.id, once);
}

Task<ClaimOutcome> WaitingRoom::claim_place(std::shared_ptr<const LiveQueue>& q,
                                            std::int64_t account_num, std::int64_t position,
                                            Millis issued_at) {
  const std::string perf_id = q->perf.id;  // a copy: `q` may be replaced below
  auto claimed = co_await d_.ports.queue->claim(perf_id, account_num, position, issued_at);
  if (claimed || claimed.error().code != Errc::not_found) co_return claimed;
  // Redis came back without the queue and this is its first request: restore it from
  // PostgreSQL, then claim, or a later join without the ticket would get a second place.
  TK_CO_CHECK(co_await restore(q->perf));
  if (auto repaired = d_.shared->view->get(perf_id)) q = std::move(repaired);
  co_return co_await d_.ports.queue->claim(perf_id, account_num, position, issued_at);
}

Task<void> WaitingRoom::restore_once(const domain::Performance& p) {
  TK_CO_TRY(auto snap, co_await d_.ports.ledger->load(
                           p.id, d_.now(), static_cast<Millis>(p.queue.access_ttl_seconds) * 1000));
  TK_CO_CHECK(co_await d_.ports.queue->restore(p.id, snap));
  // The view takes the repaired queue as it is now (its sequence may be lower than the view's,
  // and it may have a gap whose holders must claim their places when they show up). It keeps
  // its own copy of the performance: `p` may be the ticker's, older than an operator's change.
  TK_CO_TRY(auto c, co_await d_.ports.queue->counters(p.id));
  if (c.loaded) {
    auto cur = d_.shared->view->get(p.id);
    publish(cur ? cur->perf : p, std::move(c), true);
  }
  co_return Status{};
}

namespace {
// Place, expected wait and next poll of a waiting position.
void fill_wait(QueueStatus& s, const LiveQueue& q, std::int64_t position, domain::SaleStatus sale,
               Millis now) {
  s.ahead = q.ahead_of(position);
  double configured = q.perf.queue.interval_ms > 0
                          ? q.perf.queue.admit_per_interval * 1000.0 / q.perf.queue.interval_ms
                          : 0;
  double measured = q.admission_rate(now);
  if (sale == domain::SaleStatus::paused || sale == domain::SaleStatus::scheduled) configured = 0;
  s.estimated_wait_seconds = domain::estimated_wait_seconds(s.ahead, measured, configured);
  s.retry_after_seconds =
      domain::retry_after_seconds(s.ahead, s.estimated_wait_seconds,
                                  q.perf.queue.access_ttl_seconds, measured > 0 || configured > 0);
  if (q.perf.queue.presence_timeout_seconds > 0) {
    s.retry_after_seconds = std::min(
        s.retry_after_seconds, domain::presence_retry_cap(q.perf.queue.presence_timeout_seconds));
  }
}
}  // namespace

Task<PowChallenge> WaitingRoom::challenge(const Principal& who, std::string perf_id) {
  TK_CO_TRY(auto q, co_await live(perf_id));
  PowChallenge c;
  c.difficulty = q->perf.queue.pow_difficulty;
  c.expires_at = d_.now() + kPowChallengeTtlMs;
  c.challenge = crypto::encode(*d_.shared->signer,
                               crypto::PowChallenge{crypto::new_id("pow_"), perf_id, who.account_id,
                                                    c.difficulty, c.expires_at});
  co_return c;
}

Task<void> WaitingRoom::check_proof(const Principal& who, const domain::Performance& p,
                                    const std::optional<JoinProof>& proof, Millis now) {
  if (!proof) co_return Errc::challenge_required;
  auto c = crypto::decode_pow_challenge(*d_.shared->signer, proof->challenge, now);
  if (!c || c->performance_id != p.id || c->account_id != who.account_id) {
    co_return Errc::challenge_invalid;
  }
  // The current difficulty: one raised meanwhile refuses easier work done before.
  if (!domain::pow_solved(proof->challenge, proof->nonce, p.queue.pow_difficulty)) {
    co_return Errc::challenge_invalid;
  }
  TK_CO_TRY(bool first, co_await d_.ports.queue->use_challenge(p.id, c->id, now, c->expires_at));
  if (!first) co_return Errc::challenge_invalid;
  co_return Status{};
}

namespace {
// A pre-queue ticket polls again when the sale opens, and at least every 30 s before.
int prequeue_retry(const domain::Performance& p, Millis now) {
  const Millis left = p.sale_opens_at - now;
  return static_cast<int>(std::clamp<Millis>((left + 999) / 1000, 1, 30));
}
}  // namespace

Task<std::optional<JoinResult>> WaitingRoom::join_prequeue(const Principal& who, const LiveQueue& q,
                                                           std::string_view presented,
                                                           const std::optional<JoinProof>& proof,
                                                           Millis now) {
  const std::string& perf_id = q.perf.id;
  // Issued at 0: the same account gets the very same ticket again.
  auto answer = [&](std::int64_t entry, bool created) {
    JoinResult r;
    r.ticket = crypto::encode(*d_.shared->signer,
                              crypto::QueueTicket{perf_id, 0, who.account_id, 0, entry});
    r.state = QueueState::pre_queue;
    r.created = created;
    r.entry = entry;
    r.retry_after_seconds = prequeue_retry(q.perf, now);
    return r;
  };
  if (!presented.empty()) {
    auto t = crypto::decode_queue_ticket(*d_.shared->signer, presented);
    if (t && t->performance_id == perf_id && t->account_id == who.account_id && t->entry > 0) {
      co_return std::optional<JoinResult>(answer(t->entry, false));
    }
  }
  if (q.perf.queue.pow_difficulty > 0) TK_CO_CHECK(co_await check_proof(who, q.perf, proof, now));
  TK_CO_TRY(auto j,
            co_await d_.ports.prequeue->join(perf_id, who.account_id, who.account_num, now));
  // Closed by a process whose clock reached the opening first: join behind the pre-queue.
  if (j.closed) co_return std::optional<JoinResult>{};
  co_return std::optional<JoinResult>(answer(j.entry, j.created));
}

Task<JoinResult> WaitingRoom::join(const Principal& who, std::string perf_id,
                                   std::string_view presented, std::optional<JoinProof> proof) {
  TK_CO_TRY(auto q, co_await live(perf_id));
  Millis now = d_.now();
  // The pre-queue was closed by a process whose clock reached the opening first: the sale is
  // open, and the proof (if any) was spent on the attempt.
  bool closed_early = false;
  if (domain::in_prequeue(q->perf, now)) {
    TK_CO_TRY(auto pre, co_await join_prequeue(who, *q, presented, proof, now));
    if (pre) co_return std::move(*pre);
    closed_early = true;
  }
  switch (domain::effective_status(q->perf, now)) {
    case domain::SaleStatus::scheduled:
      if (!closed_early) co_return Errc::sale_not_open;
      break;
    case domain::SaleStatus::closed:
      co_return Errc::sale_closed;
    case domain::SaleStatus::sold_out:
      co_return Errc::sold_out;
    default:
      break;
  }
  // A drawn pre-queue holds positions 1..size: its entrants keep theirs, others come after.
  std::shared_ptr<const PreQueueOrder> pre;
  if (closed_early || domain::prequeue_due(q->perf, now)) {
    TK_CO_TRY(auto order, co_await prequeue_order(perf_id));
    pre = std::move(order);
    if (auto drawn = d_.shared->view->get(perf_id)) q = std::move(drawn);
  }
  const auto& signer = *d_.shared->signer;
  // The first poll is due when the place might have moved: a buyer far back waits minutes.
  auto result = [&](std::string ticket, std::int64_t pos, bool created, std::int64_t entry) {
    JoinResult r{std::move(ticket), pos, QueueState::admitted, created, 1, entry};
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
      const std::int64_t pos = t->entry > 0 ? (pre ? pre->position_of(t->entry) : 0) : t->position;
      if (pos > 0) {
        // The holder showed up: a gap position is claimed, and an account entry Redis lost is
        // put back so a later join without the ticket finds this place. A claim that could not
        // be made (Redis not answering, the queue not restored yet) is refused, not answered
        // with the place: a join without the ticket after that answer would get a second place.
        // The holder keeps the ticket and retries (503 + Retry-After).
        auto claimed = co_await claim_place(q, who.account_num, pos, t->issued_at);
        if (!claimed.ok()) {
          if (claimed.error().code == Errc::not_found) co_return Errc::unavailable;
          co_return std::move(claimed).error();
        }
        if (*claimed == ClaimOutcome::waiting) {
          // Passed over before its holder came: a coming tick admits it.
          co_return JoinResult{
              std::string(presented), pos, QueueState::waiting, false, 1, t->entry};
        }
        if (q->gap.contains(pos)) d_.shared->view->add_claim(perf_id, pos);
        co_return result(std::string(presented), pos, false, t->entry);
      }
    }
  }
  if (pre) {
    if (auto e = pre->entry_of(who.account_num)) {
      auto ticket = crypto::encode(signer, crypto::QueueTicket{perf_id, 0, who.account_id, 0, *e});
      co_return result(std::move(ticket), pre->position_of(*e), false, *e);
    }
  }
  if (q->perf.queue.pow_difficulty > 0 && !closed_early) {
    TK_CO_CHECK(co_await check_proof(who, q->perf, proof, now));
  }
  const std::int64_t floor = pre ? pre->size() : 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::int64_t mark =
        q->perf.queue.presence_timeout_seconds > 0 ? domain::presence_mark(now) : 0;
    TK_CO_TRY(auto j, co_await d_.ports.queue->join(perf_id, who.account_num, now, floor, mark));
    switch (j.kind) {
      case JoinOutcome::Kind::created:
      case JoinOutcome::Kind::existing: {
        auto ticket = crypto::encode(
            signer, crypto::QueueTicket{perf_id, j.position, who.account_id, j.issued_at});
        co_return result(std::move(ticket), j.position, j.kind == JoinOutcome::Kind::created, 0);
      }
      case JoinOutcome::Kind::not_loaded:
        TK_CO_CHECK(co_await restore(q->perf));
        if (auto repaired = d_.shared->view->get(perf_id)) q = std::move(repaired);
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

Task<std::shared_ptr<const PreQueueOrder>> WaitingRoom::prequeue_order(const std::string& perf_id) {
  if (auto q = d_.shared->view->get(perf_id); q && q->pre) co_return q->pre;
  auto once = [this, &perf_id] { return draw_prequeue(perf_id); };
  co_return co_await d_.flights->prequeue_draws.run(perf_id, once);
}

Task<std::shared_ptr<const PreQueueOrder>> WaitingRoom::draw_prequeue(std::string perf_id) {
  TK_CO_TRY(auto list, co_await d_.ports.prequeue->close(perf_id));
  // Another I/O thread may have drawn it meanwhile.
  if (auto q = d_.shared->view->get(perf_id); q && q->pre) co_return q->pre;
  auto draw = [l = std::move(list)]() -> Result<std::shared_ptr<const PreQueueOrder>> {
    return std::shared_ptr<const PreQueueOrder>(
        std::make_shared<PreQueueOrder>(PreQueueOrder::draw(l)));
  };
  // About 0.1 s per million entries: on the CPU pool, not on an I/O thread serving polls.
  std::shared_ptr<const PreQueueOrder> order;
  if (d_.shared->hasher != nullptr) {
    TK_CO_TRY(auto drawn, co_await d_.shared->hasher->pool().run(std::move(draw)));
    order = std::move(drawn);
  } else {
    TK_CO_TRY(auto drawn, draw());
    order = std::move(drawn);
  }
  if (!d_.shared->view->get(perf_id)) (void)co_await live(perf_id);
  d_.shared->view->set_prequeue(perf_id, order);
  auto q = d_.shared->view->get(perf_id);
  if (q && q->perf.queue.presence_timeout_seconds > 0 && order->size() > 0) {
    // Presence: every drawn place counts as seen at the opening, so an entrant who closed the
    // tab is passed over one timeout later, and one who polls keeps the place. Best effort: a
    // place left unmarked counts as present. The mark is the second before: a mark in the second
    // of an admission counts as a use of the access token (the no-show rule), and the first
    // batches are admitted in the second of the draw.
    std::vector<std::int64_t> drawn(static_cast<std::size_t>(order->size()));
    std::iota(drawn.begin(), drawn.end(), std::int64_t{1});
    const Millis now = d_.now();
    auto marked = co_await d_.ports.queue->mark_seen(perf_id, std::move(drawn),
                                                     domain::presence_mark(now - 1000), now);
    if (!marked) log::warn("pre-queue places not marked seen", {{"performance", perf_id}});
  }
  if (q && q->pre) co_return q->pre;
  co_return order;
}

Task<Fairness> WaitingRoom::fairness(std::string perf_id) {
  TK_CO_TRY(auto f, co_await d_.ports.prequeue->fairness(std::move(perf_id)));
  co_return Fairness{std::move(f.seed_commitment), std::move(f.seed), f.size};
}

Task<std::shared_ptr<const PreQueueOrder>> WaitingRoom::drawn_entries(std::string perf_id) {
  TK_CO_TRY(auto q, co_await live(perf_id));
  if (q->perf.queue_opens_at == 0) co_return Errc::not_found;
  if (!domain::prequeue_due(q->perf, d_.now())) co_return std::shared_ptr<const PreQueueOrder>{};
  co_return co_await prequeue_order(perf_id);
}

namespace {
// The answer to a poll from one snapshot of the queue. `ends` is the end of the access window of
// the ticket's position, fixed when it was admitted (nullopt: unknown or long expired).
QueueStatus status_from(const LiveQueue& q, const crypto::Signer& signer,
                        const crypto::QueueTicketView& t, std::optional<Millis> ends, Millis now) {
  QueueStatus s;
  s.position = t.position;
  s.entry = t.entry;
  auto sale = domain::effective_status(q.perf, now);
  if (sale == domain::SaleStatus::closed) {
    s.state = QueueState::closed;
    s.retry_after_seconds = 30;
    return s;
  }
  if (t.position <= q.serving) {
    if (ends && now < *ends) {
      s.state = QueueState::admitted;
      s.access_expires_at = *ends;
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

// A place given up or passed over as abandoned: nothing to wait for; the holder may join again.
QueueStatus abandoned_status(std::int64_t position, std::int64_t entry) {
  QueueStatus s;
  s.state = QueueState::abandoned;
  s.position = position;
  s.entry = entry;
  s.retry_after_seconds = 30;
  return s;
}

// A late holder of a gap position the ticks passed over: first in line for the next tick.
QueueStatus late_status(const LiveQueue& q, std::int64_t position, Millis now) {
  QueueStatus s;
  s.position = position;
  s.state = QueueState::waiting;
  fill_wait(s, q, q.serving + 1, domain::effective_status(q.perf, now), now);
  return s;
}

// A pre-queue ticket before the draw: no position yet, the wait is the time to the opening.
QueueStatus prequeue_status(const LiveQueue& q, std::int64_t entry, Millis now) {
  QueueStatus s;
  s.entry = entry;
  if (domain::effective_status(q.perf, now) == domain::SaleStatus::closed) {
    s.state = QueueState::closed;
    s.retry_after_seconds = 30;
    return s;
  }
  s.state = QueueState::pre_queue;
  s.estimated_wait_seconds = std::max<Millis>(0, (q.perf.sale_opens_at - now + 999) / 1000);
  s.retry_after_seconds = prequeue_retry(q.perf, now);
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
  const Millis now = d_.now();
  if (t->entry > 0) {
    // A pre-queue ticket: its position is the drawn one; before the draw it has none.
    if (!q->pre) {
      if (domain::prequeue_due(q->perf, now)) return std::nullopt;  // the cold path draws
      return Result<QueueStatus>(prequeue_status(*q, t->entry, now));
    }
    t->position = q->pre->position_of(t->entry);
    // Signed by this service but not in the draw: the entry left the pre-queue.
    if (t->position == 0) return Result<QueueStatus>(abandoned_status(0, t->entry));
  }
  // A gap position's holder shows up for the first time: the cold path claims it.
  if (q->unclaimed(t->position) && t->position > q->expired_upto) return std::nullopt;
  if (q->has_left(t->position)) return Result<QueueStatus>(abandoned_status(t->position, t->entry));
  std::optional<Millis> ends;
  if (t->position <= q->serving) {
    auto tick = q->admitted_by(t->position);
    // Admitted, but the tick is not in this process's view (e.g. it just started), or the tick
    // passed over places given up or abandoned (the store knows which): cold path.
    if (!tick && t->position > q->expired_upto) return std::nullopt;
    if (tick && tick->abandoned > 0) return std::nullopt;
    if (tick) ends = q->access_expires_at(*tick);
  } else {
    note_presence(*q, t->position, now);
  }
  return Result<QueueStatus>(status_from(*q, *d_.shared->signer, *t, ends, now));
}

Task<QueueStatus> WaitingRoom::status(std::string perf_id, std::string_view ticket) {
  if (auto fast = status_now(perf_id, ticket)) co_return std::move(*fast);
  // Cold path: the view is loaded, the pre-queue drawn, or the ledger asked for a tick this
  // process has not seen. Once per performance or per missing tick: the view keeps the result.
  crypto::TokenFields storage;
  auto t = crypto::decode_queue_ticket(*d_.shared->signer, ticket, storage);
  if (!t) co_return Errc::invalid_ticket;
  TK_CO_TRY(auto q, co_await live(perf_id));  // `t` views into `storage`, not the request
  if (t->entry > 0) {
    if (!domain::prequeue_due(q->perf, d_.now())) {
      co_return prequeue_status(*q, t->entry, d_.now());
    }
    TK_CO_TRY(auto order, co_await prequeue_order(perf_id));
    t->position = order->position_of(t->entry);
    if (t->position == 0) co_return abandoned_status(0, t->entry);
    if (auto drawn = d_.shared->view->get(perf_id)) q = std::move(drawn);
  }
  if (q->has_left(t->position)) co_return abandoned_status(t->position, t->entry);
  if (t->position > q->serving) note_presence(*q, t->position, d_.now());
  if (q->unclaimed(t->position) && t->position > q->expired_upto) {
    TK_CO_TRY(auto claimed, co_await claim_place(q, -1, t->position, 0));
    if (claimed == ClaimOutcome::waiting) {
      auto s = late_status(*q, t->position, d_.now());
      s.entry = t->entry;
      co_return s;
    }
    d_.shared->view->add_claim(perf_id, t->position);
  }
  std::optional<Millis> ends;
  if (t->position <= q->serving) {
    auto tick = q->admitted_by(t->position);
    if (!tick && t->position > q->expired_upto) {
      TK_CO_TRY(auto rec, co_await d_.ports.ledger->tick_for_position(perf_id, t->position));
      tick = rec;
      (void)co_await refresh(perf_id);
    }
    if (t->position > q->expired_upto && (!tick || tick->abandoned > 0)) {
      TK_CO_TRY(bool gone, co_await d_.ports.queue->gone(perf_id, t->position));
      if (gone) co_return abandoned_status(t->position, t->entry);
    }
    if (tick) ends = q->access_expires_at(*tick);
  }
  co_return status_from(*q, *d_.shared->signer, *t, ends, d_.now());
}

void WaitingRoom::note_presence(const LiveQueue& q, std::int64_t position, Millis now) {
  if (q.perf.queue.presence_timeout_seconds > 0 && d_.shared->presence != nullptr) {
    d_.shared->presence->note_poll(
        q.perf.id, position, now,
        domain::presence_poll_window_ms(q.perf.queue.presence_timeout_seconds));
  }
}

Task<void> WaitingRoom::leave(std::string perf_id, std::string_view ticket) {
  crypto::TokenFields storage;
  auto t = crypto::decode_queue_ticket(*d_.shared->signer, ticket, storage);
  if (!t || t->performance_id != perf_id) co_return Errc::invalid_ticket;
  TK_CO_TRY(auto q, co_await live(perf_id));
  std::int64_t position = t->position;
  if (t->entry > 0) {
    // Before the draw the entry leaves the list; after it, the drawn position is given up.
    TK_CO_TRY(bool left, co_await d_.ports.prequeue->leave(perf_id, t->entry));
    if (left) co_return Status{};
    TK_CO_TRY(auto order, co_await prequeue_order(perf_id));
    position = order->position_of(t->entry);
    if (position == 0) co_return Status{};  // left before the draw
  }
  auto r = co_await d_.ports.queue->leave(perf_id, position);
  if (!r && r.error().code == Errc::not_found) {
    // Redis came back without the queue: restore it from PostgreSQL, then leave.
    TK_CO_CHECK(co_await restore(q->perf));
    r = co_await d_.ports.queue->leave(perf_id, position);
  }
  if (!r) co_return std::move(r).error();
  // This process answers the ticket's polls as abandoned at once (others by the message).
  d_.shared->view->add_left(perf_id, position);
  co_return Status{};
}

Task<void> WaitingRoom::flush_presence() {
  if (d_.shared->presence == nullptr) co_return Status{};
  const Millis now = d_.now();
  const std::int64_t mark = domain::presence_mark(now);
  auto batches = d_.shared->presence->take(now);
  // Performances with presence or an idle timeout that nobody used this second still get fresh
  // marks.
  for (const auto& id : d_.shared->view->known()) {
    auto q = d_.shared->view->get(id);
    if (!q || !domain::keeps_marks(q->perf.queue)) continue;
    if (std::none_of(batches.begin(), batches.end(), [&](const auto& b) { return b.perf == id; })) {
      batches.push_back(PresenceMarks::Batch{id, {}});
    }
  }
  Status first;
  for (auto& b : batches) {
    auto r = co_await d_.ports.queue->mark_seen(b.perf, b.positions, mark, now);
    if (!r) {
      // Kept for the next round: a buyer who polled is never taken for gone because Redis was
      // unreachable for a moment.
      d_.shared->presence->put_back(std::move(b));
      if (first) first = std::move(r).error();
    }
  }
  co_return first;
}

Task<TickOutcome> WaitingRoom::tick(const domain::Performance& p) {
  // Ticks Redis admitted while PostgreSQL was unreachable are recorded first, in order.
  while (!unrecorded_.empty()) {
    auto& [perf, t, tail] = unrecorded_.front();
    TK_CO_CHECK(co_await d_.ports.ledger->record_tick(perf, t, tail));
    unrecorded_.erase(unrecorded_.begin());
  }
  TK_CO_CHECK(co_await record_holes());
  TK_CO_TRY(auto q, co_await live(p.id));
  Millis now = d_.now();
  // `p` comes from the ticker's list, reloaded once a second; the view has an operator's change
  // in this process at once. A sale admits only while both say it is on sale, so a pause stops
  // admissions from the next tick on (a resume may wait for the list).
  auto sale = domain::effective_status(p, now);
  if (sale == domain::SaleStatus::on_sale) sale = domain::effective_status(q->perf, now);
  TickParams tp;
  tp.now = now;
  tp.interval_ms = p.queue.interval_ms;
  tp.admit_per_interval = p.queue.admit_per_interval;
  tp.max_active = p.queue.max_active;
  tp.access_ttl_ms = static_cast<Millis>(p.queue.access_ttl_seconds) * 1000;
  // Only an open sale admits; a paused one still runs the tick for expiry bookkeeping.
  tp.paused = sale != domain::SaleStatus::on_sale;
  // Compare-and-set on the sequence this process has seen: with a stale view it admits nobody.
  tp.expected_seq = q->seq;
  tp.seat_count = p.seat_count;
  tp.sold_floor = std::max(p.sold_count, q->perf.sold_count);
  tp.inventory_percent = d_.shared->settings.admission_inventory_percent;
  // The view has an operator's change of the presence and idle timeouts in this process at once.
  if (const int timeout = q->perf.queue.presence_timeout_seconds; timeout > 0) {
    tp.presence_window_s = domain::presence_window_seconds(timeout);
  }
  if (const int timeout = q->perf.queue.idle_timeout_seconds; timeout > 0) {
    tp.idle_window_s = domain::idle_window_seconds(timeout);
  }
  if (domain::keeps_marks(q->perf.queue)) tp.presence_mark = domain::presence_mark(now);
  // The sale opened over a pre-queue: it is drawn before anyone is admitted, and its positions
  // 1..size hold the tail up.
  if (domain::prequeue_due(q->perf, now) || domain::prequeue_due(p, now)) {
    TK_CO_TRY(auto order, co_await prequeue_order(p.id));
    tp.tail_floor = order->size();
  }
  TK_CO_TRY(auto out, co_await d_.ports.queue->tick(p.id, tp));
  if (out.kind == TickOutcome::Kind::not_loaded) {
    TK_CO_CHECK(co_await restore(p));
    co_return out;
  }
  if (out.kind == TickOutcome::Kind::skipped) {
    if (out.seq != tp.expected_seq) {
      // Redis behind this process's view lost ticks: repair it from PostgreSQL (the restore
      // script does nothing if Redis knows all PostgreSQL recorded). Then take Redis's state.
      if (out.seq < tp.expected_seq) {
        TK_CO_CHECK(co_await restore(p));
      } else {
        TK_CO_CHECK(co_await refresh(p.id, true));
      }
      out.next_at = 0;  // the repaired view's tick decides
    }
    co_return out;
  }
  out.tick.admit_limit = tp.admit_per_interval;
  out.tick.interval_ms = tp.interval_ms;
  // Published too; this process's polls answer abandoned without waiting for the message.
  if (!out.released.empty()) d_.shared->view->add_left(p.id, out.released);
  if (out.tick.to > out.tick.from) {
    d_.shared->view->apply_tick(p.id, out.tick, out.tail, now, out.gap);
  }
  // Recorded after Redis admitted: PostgreSQL keeps the high-water marks Redis resumes from.
  auto rec = co_await d_.ports.ledger->record_tick(p.id, out.tick, out.tail);
  if (!rec) {
    if (out.tick.to > out.tick.from || !out.tick.late_admitted.empty()) {
      unrecorded_.emplace_back(p.id, out.tick, out.tail);
    }
    co_return out;
  }
  // Bounded: a hole is only found by a tick that Redis admitted, and each is settled by the next
  // successful round of record_holes; past the bound, the older holes are the ones kept.
  if (out.tick.to > out.tick.from && rec->recorded_below < out.tick.from &&
      holes_.size() < kMaxHoles) {
    holes_.emplace_back(p.id, rec->recorded_below, out.tick.from);
    (void)co_await record_holes();  // else at the next tick
  }
  if (behind(p.id, *rec, out)) {
    log::warn("waiting room behind PostgreSQL: Redis lost writes, repairing",
              {{"performance", p.id}});
    TK_CO_CHECK(co_await restore(p));
  }
  co_return out;
}

Task<void> WaitingRoom::record_holes() {
  // Redis keeps every tick whose access window is open, far longer than a process takes to die
  // between Redis admitting and PostgreSQL recording: the missing ones are among them.
  while (!holes_.empty()) {
    auto [perf, from, to] = holes_.front();
    TK_CO_TRY(auto c, co_await d_.ports.queue->counters(perf));
    int n = 0;
    for (auto t : c.ticks) {
      if (t.from < from || t.to > to || t.to <= t.from) continue;
      // The gap places it admitted: claimed ones of its range (its late admissions are not
      // known here: a later loss makes those holders wait for one more tick, never less).
      t.gap = c.gap;
      for (auto pos : c.claimed) {
        if (pos > t.from && pos <= t.to && c.gap.contains(pos)) t.gap_admitted.push_back(pos);
      }
      TK_CO_CHECK(co_await d_.ports.ledger->record_tick(perf, t, 0));
      ++n;
    }
    log::warn("admission ticks recorded late: their process died or was slow to record them",
              {{"performance", perf}, {"from", from}, {"to", to}, {"ticks", n}});
    holes_.erase(holes_.begin());
  }
  co_return Status{};
}

Task<std::vector<AuditEntry>> WaitingRoom::admission_log(std::string perf_id, std::int64_t after) {
  co_return co_await d_.ports.ledger->audit(std::move(perf_id), after, kAdmissionLogPage);
}

bool WaitingRoom::behind(const std::string& perf, const LedgerMarks& m, const TickOutcome& out) {
  // Redis lost acknowledged writes (its last second of AOF) if PostgreSQL recorded more than it
  // knows. A reservation is written to PostgreSQL just before Redis hears of it, so a reserved
  // bound ahead of Redis counts only when this process sees it twice in a row.
  if (m.seq > out.seq || m.tail > out.tail || m.serving > out.serving) return true;
  auto it = std::find_if(hwm_seen_.begin(), hwm_seen_.end(),
                         [&](const auto& e) { return e.first == perf; });
  if (m.tail_reserved <= out.hwm) {
    if (it != hwm_seen_.end()) hwm_seen_.erase(it);
    return false;
  }
  if (it != hwm_seen_.end() && out.hwm < it->second) {
    hwm_seen_.erase(it);
    return true;
  }
  if (it == hwm_seen_.end()) {
    hwm_seen_.emplace_back(perf, m.tail_reserved);
  } else {
    it->second = m.tail_reserved;
  }
  return false;
}

}  // namespace tk::app
