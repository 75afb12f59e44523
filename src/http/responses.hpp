#pragma once
// JSON response builders shared by the server and every handler. Error bodies follow API.md:
//   {"error": {"code": "snake_case_code", "message": "human text", "details": {...}}}
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "http/context.hpp"

namespace tk::http {

// Content-Type: application/json and Content-Length set. The server overrides version and
// keep-alive to match the request, so handlers may ignore those two arguments.
Response json_response(beast::http::status s, const boost::json::value& body, unsigned version = 11,
                       bool keep_alive = true);

Response error_response(beast::http::status s, std::string_view code, std::string_view message,
                        boost::json::object details = {});

// Sets Retry-After (whole seconds, at least 1) as 429 and 503 require.
void set_retry_after(Response& res, long seconds);

}  // namespace tk::http
