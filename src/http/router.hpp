#pragma once
// Method + path routing without regexes: patterns are split into segments once at add(), and a
// request path is matched segment by segment against the routes with the same segment count.
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/context.hpp"
#include "http/door.hpp"

namespace tk::http {

struct RouteMatch {
  beast::http::status status = beast::http::status::not_found;  // ok, not_found, method_not_allowed
  const Handler* handler = nullptr;                             // set when status == ok
  std::string_view route;  // pattern of the matched path (also set for 405); empty for 404
  std::string allow;       // for 405: the Allow header value, e.g. "GET, POST"
  bool deadline = false;   // the handler runs under the server's request deadline
  int door = -1;           // the route's class at the door (Router::add_door), -1: none
};

// Whether a route's handler runs under the request deadline (common/deadline.hpp). `none` is for
// handlers that never call PostgreSQL or Redis (health, metrics, the in-memory queue-status
// poll): they skip the extra coroutine the deadline takes.
enum class Budget { request, none };

// A route class with admission control of its own (door.hpp); each Server keeps one Door per
// class. Routes outside every class (health, metrics, operators' routes) are never refused at the
// door, nor are those of a class that only measures (DoorOptions::sheds false).
struct DoorClass {
  std::string name;  // metrics label
  DoorOptions options;
  std::vector<int> yields_to;  // classes whose standing queue closes this one too
  // Asked as a request of the class arrives, before the door: true refuses it at once (503 +
  // Retry-After), a class only measured too. For a backend that would refuse the request anyway
  // after it has spent round trips elsewhere (the PostgreSQL pool's shedding). Empty: none.
  std::function<bool()> full;
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Pattern: "/" followed by segments separated by "/"; a segment "{name}" captures exactly one
  // non-empty segment. A literal segment wins over a capture at the same position, so
  // "/v1/sessions/current" can coexist with "/v1/sessions/{id}". Throws std::invalid_argument on a
  // malformed pattern and std::logic_error on a duplicate (verb, pattern). Call before serving:
  // add() is not synchronised with match().
  void add(beast::http::verb v, std::string pattern, Handler h, Budget b = Budget::request,
           int door = -1);

  // Declares a route class at the door; its id is what add() takes. It yields to the classes
  // named (declared before it): their queue sheds this class first. Call before serving.
  int add_door(std::string name, DoorOptions opt, std::vector<int> yields_to = {},
               std::function<bool()> full = {});
  const std::vector<DoorClass>& doors() const { return doors_; }

  // `target` is the request target; a query string is ignored. Fills `params` on a match.
  RouteMatch match(beast::http::verb v, std::string_view target, PathParams& params) const;

  // Handler for GET/HEAD of paths no route matched outside /v1 (the web front-end's static files,
  // see http/static_files.hpp); matched with the route label "static". Call before serving.
  void set_fallback(Handler h);

  // Handler for every request no route matched, whatever its method and path (the gateway's
  // forwarder); matched with the route label `label` and run under the request deadline. Takes
  // precedence over set_fallback. Call before serving.
  void set_default(Handler h, std::string label);

  // Response for a failed match: 404 not_found, or 405 method_not_allowed with Allow.
  static Response error_for(const RouteMatch& m);

  std::size_t size() const;

 private:
  struct Route;
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<std::vector<const Route*>> by_segments_;  // index: segment count
  Handler fallback_;
  Handler default_;
  std::string default_label_;
  std::vector<DoorClass> doors_;
  RouteMatch match_routes(beast::http::verb v, std::string_view target, PathParams& params) const;
};

}  // namespace tk::http
