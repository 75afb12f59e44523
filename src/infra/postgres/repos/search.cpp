// Catalogue search documents on PostgreSQL (migration 0010: event_search, event_search_refresh).
#include "infra/postgres/repos/repos.hpp"
#include "infra/postgres/repos/support.hpp"

namespace tk::pgrepo {

using app::Task;
using pg::arg;

Task<void> SearchIndex::reindex(std::string event_id) {
  PG_TRY(auto r, co_await pool_->query("SELECT event_search_refresh($1)", P(arg(event_id))));
  (void)r;
  co_return Status{};
}

// Matches: every word of the query as a word or word prefix (tsvector, any language whose words
// are separated by spaces, Hangul included), or the whole query as a substring of the normalised
// text (a Korean word inside a compound, a part of a word). Ranking: where the words hit (title >
// performer > venue), then how much of the text the query covers (trigram word similarity; zero
// for Hangul under a C-locale database), then a substring of the title over one elsewhere.
Task<std::vector<std::string>> SearchIndex::search(app::SearchQuery q, int limit) {
  pg::Param tsq = q.tsquery.empty() ? pg::null() : arg(q.tsquery);
  auto params = P(arg(q.text), tsq, arg(q.like), arg(static_cast<std::int64_t>(limit)));
  PG_TRY(auto r,
         co_await pool_->query(
             "WITH q AS (SELECT search_normalize($1) AS t, "
             "to_tsquery('simple', search_normalize($2)) AS tq, "
             "search_normalize($3) AS pattern) "
             "SELECT s.event_id FROM event_search s, q "
             // Spelled out rather than through q, so the planner folds them into constants and
             // may use the GIN indexes (a NULL tsquery matches nothing).
             "WHERE s.document @@ to_tsquery('simple', search_normalize($2)) "
             "OR s.normalized LIKE search_normalize($3) ESCAPE '\\' "
             "ORDER BY COALESCE(ts_rank(s.document, q.tq), 0) "
             "+ 0.5 * word_similarity(q.t, s.normalized) "
             "+ CASE WHEN s.title_norm LIKE q.pattern ESCAPE '\\' THEN 0.3 ELSE 0 END DESC, "
             "s.event_id LIMIT $4",
             std::move(params)));
  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) ids.emplace_back(r.text(i, 0));
  co_return ids;
}

}  // namespace tk::pgrepo
