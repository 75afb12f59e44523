#pragma once
// Encoded bodies of public reads with their ETag, kept per io_context (no locking) so a popular
// catalogue read costs neither a PostgreSQL round trip nor a JSON encoding per request.
// Freshness is bounded twice: by time (`fresh_until`, the service clock) and by a version the
// operator's own changes bump, so this process's writes show at once.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"
#include "http/context.hpp"

namespace tk::http {

struct CachedBody {
  std::string body;
  std::string etag;  // strong validator: a hash of the body, quoted
  Millis fresh_until = 0;
  std::uint64_t version = 0;
};

class BodyCache {
 public:
  // Over `max_entries` the cache starts again empty: it holds few keys, and a flood of unknown
  // ones (only found ids are kept) must not grow it without bound.
  BodyCache() = default;
  explicit BodyCache(std::size_t max_entries) : max_(max_entries) {}
  // The entry for `key` when built under `version` and still fresh at `now`; null otherwise.
  const CachedBody* get(const std::string& key, Millis now, std::uint64_t version) const;
  // Stores and returns the entry (valid until the next put).
  const CachedBody& put(const std::string& key, std::string body, Millis fresh_until,
                        std::uint64_t version);
  std::size_t size() const { return map_.size(); }

 private:
  std::size_t max_ = 1024;
  std::unordered_map<std::string, CachedBody> map_;
};

// "\"<32 hex digits>\"": the same body gives the same tag in every process behind a balancer.
std::string etag_of(std::string_view body);

// RFC 9110 If-None-Match: a list of entity tags or "*", compared weakly (W/ prefixes ignored).
bool if_none_match(std::string_view header, std::string_view etag);

// 200 with the body, or 304 without it when the request's If-None-Match holds the tag; both with
// ETag and Cache-Control.
Response cached_response(const Request& req, const CachedBody& b, std::string_view cache_control);

}  // namespace tk::http
