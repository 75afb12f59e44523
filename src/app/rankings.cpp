#include "app/rankings.hpp"

#include <boost/json.hpp>

#include "app/errors.hpp"

namespace tk::app {

Task<void> RankingConsumer::handle(const Message& m, int /*prior_attempts*/) {
  boost::system::error_code ec;
  auto v = boost::json::parse(m.payload, ec);
  const boost::json::object* o = !ec ? v.if_object() : nullptr;
  const boost::json::string* perf = nullptr;
  const boost::json::array* tickets = nullptr;
  if (o && o->if_contains("performance_id")) perf = o->at("performance_id").if_string();
  const char* list = m.topic == kOrderRefunded ? "seat_ids" : "ticket_ids";
  if (o && o->if_contains(list)) tickets = o->at(list).if_array();
  if (!perf || perf->empty() || !tickets) {
    Error e(Errc::invalid_field);
    e.details["reason"] = "payload without performance_id or its seats";
    co_return e;
  }
  const auto seats = static_cast<std::int64_t>(tickets->size());
  if (seats == 0) co_return Status{};
  TK_CO_TRY(auto p, co_await catalogue_.get_performance(std::string(*perf)));
  if (!p) {
    Error e(Errc::invalid_field);
    e.details["reason"] = "unknown performance";
    co_return e;
  }
  const std::int64_t sign = m.topic == kOrderRefunded ? -1 : 1;
  TK_CO_TRY(auto counted, co_await store_.add(m.id, p->event_id, sign * seats,
                                              domain::rank_bucket(clock_.now_ms()),
                                              domain::kRankBucketTtlMs, kRankMarkTtlMs));
  (void)counted;  // false: an earlier delivery counted it already
  co_return Status{};
}

Task<std::vector<RankedEvent>> Rankings::top(domain::RankWindow w) {
  auto buckets = domain::window_buckets(w, d_.now());
  TK_CO_TRY(auto top,
            co_await d_.ports.rankings->top(std::move(buckets), std::string(domain::to_string(w)),
                                            kRankingCacheMs, kRankingSize));
  std::vector<std::string> ids;
  for (const auto& [id, sold] : top)
    if (sold > 0) ids.push_back(id);
  std::vector<RankedEvent> out;
  if (ids.empty()) co_return out;
  TK_CO_TRY(auto events, co_await d_.ports.catalog->events_by_ids(ids, d_.now()));
  for (const auto& [id, sold] : top) {
    if (sold <= 0) continue;
    for (const auto& e : events) {
      if (e.id == id) {
        out.push_back({id, e.title, sold});
        break;
      }
    }
  }
  co_return out;
}

}  // namespace tk::app
