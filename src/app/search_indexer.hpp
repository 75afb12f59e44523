#pragma once
// The consumer that keeps the catalogue search index up to date.
#include <string>
#include <vector>

#include "app/ports/consumers.hpp"
#include "app/ports/search.hpp"

namespace tk::app {

inline constexpr const char* kCatalogueChanged = "catalogue.changed";

// Consumer "search_index" of catalogue.changed {"event_id"}: rebuilds that event's document from
// the catalogue as it is now, so a repeated or late message only rebuilds it again.
class SearchIndexer final : public Consumer {
 public:
  explicit SearchIndexer(SearchIndex& index) : index_(index) {}
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& topics() const override { return topics_; }
  Task<void> handle(const Message& m, int prior_attempts) override;

 private:
  SearchIndex& index_;
  std::string name_ = "search_index";
  std::vector<std::string> topics_ = {kCatalogueChanged};
};

}  // namespace tk::app
