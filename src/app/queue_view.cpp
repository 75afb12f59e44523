#include "app/queue_view.hpp"

#include <algorithm>
#include <mutex>

namespace tk::app {

std::optional<AdmissionTick> LiveQueue::admitted_by(std::int64_t position) const {
  // Ticks are ordered by position ranges; binary search the one containing the position.
  auto it = std::lower_bound(ticks.begin(), ticks.end(), position,
                             [](const AdmissionTick& t, std::int64_t p) { return t.to < p; });
  if (it != ticks.end() && it->from < position && position <= it->to) return *it;
  return std::nullopt;
}

Millis LiveQueue::access_expires_at(const AdmissionTick& t) const {
  if (t.expires_at > 0) return t.expires_at;
  return t.admitted_at + static_cast<Millis>(perf.queue.access_ttl_seconds) * 1000;
}

bool LiveQueue::unclaimed(std::int64_t position) const {
  return gap.contains(position) && !std::binary_search(claimed.begin(), claimed.end(), position);
}

bool LiveQueue::has_left(std::int64_t position) const {
  return std::binary_search(left.begin(), left.end(), position);
}

std::int64_t LiveQueue::ahead_of(std::int64_t position) const {
  std::int64_t ahead = std::max<std::int64_t>(0, position - serving - 1);
  // Unclaimed gap positions in (serving, position) are passed over for free.
  std::int64_t lo = std::max(serving, gap.from), hi = std::min(position - 1, gap.to);
  if (hi > lo) {
    auto claimed_in = std::upper_bound(claimed.begin(), claimed.end(), hi) -
                      std::upper_bound(claimed.begin(), claimed.end(), lo);
    ahead -= (hi - lo) - claimed_in;
  }
  // Places given up in (serving, position) take no slot either (unclaimed gap ones are counted
  // out above already).
  auto first = std::upper_bound(left.begin(), left.end(), serving);
  auto last = std::lower_bound(first, left.end(), position);
  ahead -= last - first;
  if (hi > lo) {
    for (auto it = std::upper_bound(first, last, lo); it != last && *it <= hi; ++it) {
      if (unclaimed(*it)) ++ahead;
    }
  }
  return std::max<std::int64_t>(0, ahead);
}

double LiveQueue::admission_rate(Millis now) const {
  constexpr Millis kWindow = 30000;
  std::int64_t admitted = 0;
  Millis oldest = now;
  for (auto it = ticks.rbegin(); it != ticks.rend() && now - it->admitted_at <= kWindow; ++it) {
    admitted += it->to - it->from;
    oldest = it->admitted_at;
  }
  if (admitted == 0) return 0;
  Millis span = std::max<Millis>(now - oldest, perf.queue.interval_ms);
  return static_cast<double>(admitted) * 1000.0 / static_cast<double>(span);
}

std::shared_ptr<const LiveQueue> QueueView::get(std::string_view perf) const {
  std::shared_lock lk(mu_);
  auto it = map_.find(perf);
  return it == map_.end() ? nullptr : it->second;
}

namespace {
// A snapshot built from the stores lacks the drawn pre-queue this process already holds.
std::shared_ptr<const LiveQueue> with_pre(const std::shared_ptr<const LiveQueue>& slot,
                                          std::shared_ptr<const LiveQueue> q) {
  if (!slot || !slot->pre || q->pre) return q;
  auto next = std::make_shared<LiveQueue>(*q);
  next->pre = slot->pre;
  return next;
}
}  // namespace

void QueueView::put(std::shared_ptr<const LiveQueue> q) {
  std::unique_lock lk(mu_);
  auto& slot = map_[q->perf.id];
  // Never move serving backwards because of an older snapshot.
  if (slot && slot->seq > q->seq) {
    auto merged = std::make_shared<LiveQueue>(*slot);
    merged->perf = q->perf;
    merged->tail = std::max(slot->tail, q->tail);
    merged->gap = q->gap;
    merged->claimed = q->claimed;
    merged->left = q->left;
    slot = std::move(merged);
    return;
  }
  slot = with_pre(slot, std::move(q));
}

void QueueView::replace(std::shared_ptr<const LiveQueue> q) {
  std::unique_lock lk(mu_);
  auto& slot = map_[q->perf.id];
  slot = with_pre(slot, std::move(q));
}

void QueueView::set_prequeue(const std::string& perf, std::shared_ptr<const PreQueueOrder> order) {
  std::unique_lock lk(mu_);
  auto it = map_.find(perf);
  if (it == map_.end() || !it->second || it->second->pre) return;
  auto next = std::make_shared<LiveQueue>(*it->second);
  next->pre = std::move(order);
  it->second = std::move(next);
}

void QueueView::add_claim(const std::string& perf, std::int64_t position) {
  std::unique_lock lk(mu_);
  auto it = map_.find(perf);
  if (it == map_.end() || !it->second || !it->second->unclaimed(position)) return;
  auto next = std::make_shared<LiveQueue>(*it->second);
  next->claimed.insert(std::upper_bound(next->claimed.begin(), next->claimed.end(), position),
                       position);
  it->second = std::move(next);
}

void QueueView::add_left(std::string_view perf, std::span<const std::int64_t> positions) {
  std::unique_lock lk(mu_);
  auto it = map_.find(perf);
  if (it == map_.end() || !it->second) return;
  const auto& cur = *it->second;
  // Known already, or with its access window over anyway: nothing to add.
  auto fresh = [&](std::int64_t p) { return p > cur.expired_upto && !cur.has_left(p); };
  if (std::none_of(positions.begin(), positions.end(), fresh)) return;
  auto next = std::make_shared<LiveQueue>(cur);
  for (auto p : positions) {
    if (fresh(p) && !next->has_left(p)) {
      next->left.insert(std::upper_bound(next->left.begin(), next->left.end(), p), p);
    }
  }
  it->second = std::move(next);
}

void QueueView::apply_tick(const std::string& perf, const AdmissionTick& t, std::int64_t tail,
                           Millis now, QueueGap gap) {
  std::unique_lock lk(mu_);
  auto it = map_.find(perf);
  if (it == map_.end() || !it->second) return;  // unknown: loaded on first use
  const auto& cur = *it->second;
  if (t.seq <= cur.seq) return;
  auto next = std::make_shared<LiveQueue>(cur);
  next->seq = t.seq;
  next->serving = std::max(cur.serving, t.to);
  next->tail = std::max(cur.tail, tail);
  if (gap.to > gap.from && (gap.from != cur.gap.from || gap.to != cur.gap.to)) {
    next->gap = gap;
    std::erase_if(next->claimed, [&](std::int64_t p) { return !gap.contains(p); });
  }
  if (t.to > t.from) next->ticks.push_back(t);
  // Windows leave in tick order, as in the tick script.
  while (!next->ticks.empty() && next->access_expires_at(next->ticks.front()) <= now) {
    next->expired_upto = std::max(next->expired_upto, next->ticks.front().to);
    next->ticks.erase(next->ticks.begin());
  }
  std::erase_if(next->left, [&](std::int64_t p) { return p <= next->expired_upto; });
  it->second = std::move(next);
}

void QueueView::update_perf(const domain::Performance& p) {
  std::unique_lock lk(mu_);
  changed_at_[p.id] = ++changes_;
  set_perf(p);
}

void QueueView::update_perf(const domain::Performance& p, std::uint64_t read_at) {
  std::unique_lock lk(mu_);
  if (auto c = changed_at_.find(p.id); c != changed_at_.end() && c->second > read_at) return;
  set_perf(p);
}

void QueueView::mark_sold_out(std::string_view perf) {
  std::unique_lock lk(mu_);
  auto it = map_.find(perf);
  if (it == map_.end() || !it->second) return;
  const auto& cur = *it->second;
  changed_at_[cur.perf.id] = ++changes_;
  if (cur.perf.seat_count <= 0 || cur.perf.sold_count >= cur.perf.seat_count) return;
  auto next = std::make_shared<LiveQueue>(cur);
  next->perf.sold_count = next->perf.seat_count;
  it->second = std::move(next);
}

std::uint64_t QueueView::changes() const {
  std::shared_lock lk(mu_);
  return changes_;
}

void QueueView::set_perf(const domain::Performance& p) {
  auto it = map_.find(p.id);
  if (it == map_.end() || !it->second) return;
  auto next = std::make_shared<LiveQueue>(*it->second);
  // Price grades never change once a performance exists, and the refresher's list of live
  // performances does not carry them: keep the ones loaded with the view.
  auto grades = std::move(next->perf.price_grades);
  next->perf = p;
  if (next->perf.price_grades.empty()) next->perf.price_grades = std::move(grades);
  it->second = std::move(next);
}

std::vector<std::string> QueueView::known() const {
  std::shared_lock lk(mu_);
  std::vector<std::string> out;
  out.reserve(map_.size());
  for (const auto& [k, v] : map_) out.push_back(k);
  return out;
}

}  // namespace tk::app
