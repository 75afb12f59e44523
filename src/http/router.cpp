#include "http/router.hpp"

#include <array>
#include <boost/beast/http/field.hpp>
#include <stdexcept>
#include <utility>

#include "http/responses.hpp"

namespace tk::http {
namespace {

namespace bhttp = beast::http;

constexpr std::size_t kMaxSegments = 32;  // longer paths cannot match any route

struct Segment {
  std::string text;  // literal text, or the parameter name
  bool capture = false;
};

// Splits "/a/b/c" into {"a","b","c"}; "/" gives no segments. Returns false when the path does not
// start with '/' or has more than kMaxSegments segments.
template <class Out>
bool split_path(std::string_view path, Out& out, std::size_t& n) {
  n = 0;
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  if (path.empty()) return true;
  for (;;) {
    if (n == kMaxSegments) return false;
    auto pos = path.find('/');
    out[n++] = path.substr(0, pos);
    if (pos == std::string_view::npos) return true;
    path.remove_prefix(pos + 1);
  }
}

}  // namespace

struct Router::Route {
  std::string pattern;
  std::vector<Segment> segments;
  std::uint64_t literal_mask = 0;  // bit set per literal segment, first segment most significant
  struct Method {
    bhttp::verb verb;
    Handler handler;
    Budget budget;
    int door;
  };
  std::vector<Method> methods;
};

Router::Router() = default;
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

std::size_t Router::size() const { return routes_.size(); }

int Router::add_door(std::string name, DoorOptions opt, std::vector<int> yields_to,
                     std::function<bool()> full) {
  for (int y : yields_to) {
    if (y < 0 || y >= static_cast<int>(doors_.size())) {
      throw std::invalid_argument("door " + name + ": yields to an unknown door");
    }
  }
  doors_.push_back(DoorClass{std::move(name), opt, std::move(yields_to), std::move(full)});
  return static_cast<int>(doors_.size()) - 1;
}

void Router::add(bhttp::verb v, std::string pattern, Handler h, Budget b, int door) {
  if (!h) throw std::invalid_argument("route " + pattern + ": empty handler");
  if (door < -1 || door >= static_cast<int>(doors_.size())) {
    throw std::invalid_argument("route " + pattern + ": unknown door");
  }
  std::array<std::string_view, kMaxSegments> parts;
  std::size_t n = 0;
  if (!split_path(pattern, parts, n) || n > 63) {
    throw std::invalid_argument("route pattern must start with '/' and be short: " + pattern);
  }
  std::vector<Segment> segs;
  std::size_t captures = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::string_view p = parts[i];
    if (p.empty()) throw std::invalid_argument("empty segment in route pattern: " + pattern);
    if (p.front() == '{') {
      if (p.size() < 3 || p.back() != '}') {
        throw std::invalid_argument("bad capture in route pattern: " + pattern);
      }
      std::string_view name = p.substr(1, p.size() - 2);
      for (const auto& s : segs) {
        if (s.capture && s.text == name) {
          throw std::invalid_argument("duplicate capture in route pattern: " + pattern);
        }
      }
      segs.push_back({std::string(name), true});
      ++captures;
    } else {
      if (p.find_first_of("{}") != std::string_view::npos) {
        throw std::invalid_argument("braces inside a literal segment: " + pattern);
      }
      segs.push_back({std::string(p), false});
    }
  }
  if (captures > PathParams::kMax) throw std::invalid_argument("too many captures: " + pattern);

  // Same pattern (by segment shape and names) -> add the verb to the existing route.
  for (auto& r : routes_) {
    if (r->pattern != pattern) continue;
    for (const auto& method : r->methods) {
      if (method.verb == v) throw std::logic_error("duplicate route: " + pattern);
    }
    r->methods.push_back(Route::Method{v, std::move(h), b, door});
    return;
  }
  auto r = std::make_unique<Route>();
  r->pattern = std::move(pattern);
  r->segments = std::move(segs);
  for (std::size_t i = 0; i < n; ++i) {
    if (!r->segments[i].capture) r->literal_mask |= std::uint64_t{1} << (n - 1 - i);
  }
  r->methods.push_back(Route::Method{v, std::move(h), b, door});
  if (by_segments_.size() <= n) by_segments_.resize(n + 1);
  by_segments_[n].push_back(r.get());
  routes_.push_back(std::move(r));
}

void Router::set_fallback(Handler h) { fallback_ = std::move(h); }

void Router::set_default(Handler h, std::string label) {
  default_ = std::move(h);
  default_label_ = std::move(label);
}

RouteMatch Router::match(bhttp::verb v, std::string_view target, PathParams& params) const {
  RouteMatch m = match_routes(v, target, params);
  if (m.status != bhttp::status::ok && default_) {
    m = RouteMatch{};
    m.status = bhttp::status::ok;
    m.handler = &default_;
    m.route = default_label_;
    m.deadline = true;
    return m;
  }
  if (m.status != bhttp::status::not_found || !fallback_) return m;
  if (v != bhttp::verb::get && v != bhttp::verb::head) return m;
  std::string_view path = target.substr(0, target.find('?'));
  // The API answers its own 404s, and so do the operations endpoints asked on a listener that
  // does not serve them: never the app's page with a 200.
  if (path == "/v1" || path.starts_with("/v1/")) return m;
  if (path == "/metrics" || path == "/healthz" || path == "/readyz") return m;
  m.status = bhttp::status::ok;
  m.handler = &fallback_;
  m.route = "static";
  return m;
}

RouteMatch Router::match_routes(bhttp::verb v, std::string_view target, PathParams& params) const {
  RouteMatch m;
  params.clear();
  std::string_view path = target.substr(0, target.find('?'));
  std::array<std::string_view, kMaxSegments> parts;
  std::size_t n = 0;
  if (!split_path(path, parts, n) || n >= by_segments_.size()) return m;

  const Route* best = nullptr;       // most specific path match that has the verb
  const Route* best_path = nullptr;  // most specific path match at all (for the 405 label)
  const Route::Method* handler = nullptr;
  for (const Route* r : by_segments_[n]) {
    bool ok = true;
    for (std::size_t i = 0; i < n && ok; ++i) {
      const Segment& s = r->segments[i];
      ok = s.capture ? !parts[i].empty() : s.text == parts[i];
    }
    if (!ok) continue;
    if (!best_path || r->literal_mask > best_path->literal_mask) best_path = r;
    for (const auto& method : r->methods) {
      if (method.verb == v && (!best || r->literal_mask > best->literal_mask)) {
        best = r;
        handler = &method;
      }
    }
  }
  if (best) {
    for (std::size_t i = 0; i < n; ++i) {
      if (best->segments[i].capture) params.push(best->segments[i].text, parts[i]);
    }
    m.status = bhttp::status::ok;
    m.handler = &handler->handler;
    m.deadline = handler->budget == Budget::request;
    m.door = handler->door;
    m.route = best->pattern;
    return m;
  }
  if (!best_path) return m;
  // The path exists under other verbs: collect them all for Allow (rare path, may allocate).
  m.status = bhttp::status::method_not_allowed;
  m.route = best_path->pattern;
  std::vector<bhttp::verb> verbs;
  for (const Route* r : by_segments_[n]) {
    bool ok = true;
    for (std::size_t i = 0; i < n && ok; ++i) {
      const Segment& s = r->segments[i];
      ok = s.capture ? !parts[i].empty() : s.text == parts[i];
    }
    if (!ok) continue;
    for (const auto& mv : r->methods) {
      bool seen = false;
      for (auto x : verbs) seen = seen || x == mv.verb;
      if (!seen) verbs.push_back(mv.verb);
    }
  }
  for (auto x : verbs) {
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += bhttp::to_string(x);
  }
  return m;
}

Response Router::error_for(const RouteMatch& m) {
  if (m.status == bhttp::status::method_not_allowed) {
    boost::json::object details;
    details["allow"] = m.allow;
    Response res = error_response(bhttp::status::method_not_allowed, "method_not_allowed",
                                  "method not allowed for this path", std::move(details));
    res.set(bhttp::field::allow, m.allow);
    return res;
  }
  return error_response(bhttp::status::not_found, "not_found", "no such path");
}

}  // namespace tk::http
