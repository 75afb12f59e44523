#include "http/responses.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <string>

namespace tk::http {

Response json_response(beast::http::status s, const boost::json::value& body, unsigned version,
                       bool keep_alive) {
  Response res{s, version};
  res.set(beast::http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

Response error_response(beast::http::status s, std::string_view code, std::string_view message,
                        boost::json::object details) {
  boost::json::object err;
  err["code"] = code;
  err["message"] = message;
  err["details"] = std::move(details);
  boost::json::object body;
  body["error"] = std::move(err);
  return json_response(s, body);
}

void set_retry_after(Response& res, long seconds) {
  res.set(beast::http::field::retry_after, std::to_string(seconds < 1 ? 1 : seconds));
}

}  // namespace tk::http
