#include "http/body_cache.hpp"

#include <sodium.h>

namespace tk::http {

const CachedBody* BodyCache::get(const std::string& key, Millis now, std::uint64_t version) const {
  auto it = map_.find(key);
  if (it == map_.end() || it->second.version != version || now >= it->second.fresh_until) {
    return nullptr;
  }
  return &it->second;
}

const CachedBody& BodyCache::put(const std::string& key, std::string body, Millis fresh_until,
                                 std::uint64_t version) {
  if (map_.size() >= max_ && !map_.count(key)) map_.clear();
  CachedBody& b = map_[key];
  b.etag = etag_of(body);
  b.body = std::move(body);
  b.fresh_until = fresh_until;
  b.version = version;
  return b;
}

std::string etag_of(std::string_view body) {
  unsigned char h[16];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                     nullptr, 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "\"";
  for (unsigned char c : h) {
    tag += kHex[c >> 4];
    tag += kHex[c & 0xf];
  }
  tag += '"';
  return tag;
}

bool if_none_match(std::string_view header, std::string_view etag) {
  auto opaque = [](std::string_view t) {
    if (t.substr(0, 2) == "W/") t.remove_prefix(2);
    return t;
  };
  std::string_view want = opaque(etag);
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header.remove_prefix(comma == std::string_view::npos ? header.size() : comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*" || (!item.empty() && opaque(item) == want)) return true;
  }
  return false;
}

Response cached_response(const Request& req, const CachedBody& b, std::string_view cache_control) {
  namespace bhttp = beast::http;
  auto inm = req.find(bhttp::field::if_none_match);
  bool not_modified = inm != req.end() && if_none_match(inm->value(), b.etag);
  Response res{not_modified ? bhttp::status::not_modified : bhttp::status::ok, 11};
  res.set(bhttp::field::etag, b.etag);
  res.set(bhttp::field::cache_control, cache_control);
  if (!not_modified) {
    res.set(bhttp::field::content_type, "application/json");
    res.body() = b.body;
  }
  res.prepare_payload();
  return res;
}

}  // namespace tk::http
