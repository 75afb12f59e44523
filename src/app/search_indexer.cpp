#include "app/search_indexer.hpp"

#include <boost/json.hpp>

#include "app/errors.hpp"

namespace tk::app {

Task<void> SearchIndexer::handle(const Message& m, int /*prior_attempts*/) {
  boost::system::error_code ec;
  auto v = boost::json::parse(m.payload, ec);
  const boost::json::string* id = nullptr;
  if (!ec && v.is_object() && v.as_object().if_contains("event_id"))
    id = v.as_object().at("event_id").if_string();
  if (!id || id->empty()) {
    Error e(Errc::invalid_field);
    e.details["reason"] = "payload without event_id";
    co_return e;
  }
  co_return co_await index_.reindex(std::string(*id));
}

}  // namespace tk::app
