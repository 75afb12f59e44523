#pragma once
// Catalogue search: a derived index of events (title, venue, performer) rebuilt from the catalogue
// by a consumer of catalogue.changed, never inside the writing transaction.
#include <string>
#include <vector>

#include "app/async.hpp"

namespace tk::app {

// A parsed search query (see domain/search.hpp for how it is built from the user's text).
struct SearchQuery {
  std::string text;     // normalised (case-folded, trimmed, single spaces)
  std::string tsquery;  // prefix terms for to_tsquery('simple', ...); empty: no word terms
  std::string like;     // LIKE pattern for a substring match, wildcards escaped
};

class SearchIndex {
 public:
  virtual ~SearchIndex() = default;
  // Rebuilds the search document of one event from the catalogue (removes it when the event is
  // gone). Idempotent: it reads the current state, so repeats and reorderings converge.
  virtual Task<void> reindex(std::string event_id) = 0;
  // Ids of matching events, best first, at most `limit`.
  virtual Task<std::vector<std::string>> search(SearchQuery q, int limit) = 0;
};

}  // namespace tk::app
