#pragma once
// The public and operations routes' patterns (src/http/handlers, src/gateway), registered with
// handlers that are never called: the router's matching is what the HTTP targets exercise.
#include <boost/asio/awaitable.hpp>

#include "http/router.hpp"

namespace tk::fuzz {

inline const http::Router& routes() {
  namespace bhttp = boost::beast::http;
  static const http::Router r = [] {
    struct Route {
      bhttp::verb verb;
      const char* pattern;
    };
    static constexpr Route kRoutes[] = {
        {bhttp::verb::delete_, "/v1/holds/{hold_id}"},
        {bhttp::verb::delete_, "/v1/performances/{pid}/queue"},
        {bhttp::verb::delete_, "/v1/performances/{pid}/waitlist"},
        {bhttp::verb::delete_, "/v1/sessions/current"},
        {bhttp::verb::get, "/healthz"},
        {bhttp::verb::get, "/metrics"},
        {bhttp::verb::get, "/readyz"},
        {bhttp::verb::get, "/v1/admin/performances/{pid}"},
        {bhttp::verb::get, "/v1/admin/performances/{pid}/stats"},
        {bhttp::verb::get, "/v1/checkin/keys"},
        {bhttp::verb::get, "/v1/events"},
        {bhttp::verb::get, "/v1/events/{event_id}"},
        {bhttp::verb::get, "/v1/me"},
        {bhttp::verb::get, "/v1/me/orders"},
        {bhttp::verb::get, "/v1/orders/{order_id}"},
        {bhttp::verb::get, "/v1/performances/{pid}"},
        {bhttp::verb::get, "/v1/performances/{pid}/queue/status"},
        {bhttp::verb::get, "/v1/performances/{pid}/seats"},
        {bhttp::verb::get, "/v1/performances/{pid}/sections"},
        {bhttp::verb::get, "/v1/performances/{pid}/waitlist/me"},
        {bhttp::verb::get, "/v1/rankings"},
        {bhttp::verb::get, "/v1/tickets/{ticket_id}/pdf"},
        {bhttp::verb::get, "/v1/venues/{venue_id}/layout"},
        {bhttp::verb::patch, "/v1/admin/performances/{pid}"},
        {bhttp::verb::post, "/v1/accounts"},
        {bhttp::verb::post, "/v1/admin/checkin"},
        {bhttp::verb::post, "/v1/admin/events"},
        {bhttp::verb::post, "/v1/admin/events/{event_id}/performances"},
        {bhttp::verb::post, "/v1/admin/orders/{order_id}/refund"},
        {bhttp::verb::post, "/v1/admin/performances/{pid}/door-tokens"},
        {bhttp::verb::post, "/v1/admin/venues"},
        {bhttp::verb::post, "/v1/orders"},
        {bhttp::verb::post, "/v1/orders/{order_id}/payment"},
        {bhttp::verb::post, "/v1/orders/{order_id}/refund"},
        {bhttp::verb::post, "/v1/performances/{pid}/holds"},
        {bhttp::verb::post, "/v1/performances/{pid}/queue"},
        {bhttp::verb::post, "/v1/performances/{pid}/waitlist"},
        {bhttp::verb::post, "/v1/sessions"},
    };
    http::Router r;
    for (const auto& route : kRoutes) {
      r.add(route.verb, route.pattern,
            [](http::RequestContext&) -> boost::asio::awaitable<http::Response> { return {}; });
    }
    return r;
  }();
  return r;
}

}  // namespace tk::fuzz
