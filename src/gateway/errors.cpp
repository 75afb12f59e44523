#include "gateway/errors.hpp"

#include <string>

#include "http/responses.hpp"

namespace tk::gateway {

namespace bhttp = boost::beast::http;

const std::error_category& category() {
  static const struct : std::error_category {
    const char* name() const noexcept override { return "gateway"; }
    std::string message(int e) const override {
      switch (static_cast<Errc>(e)) {
        case Errc::no_upstream:
          return "no API process available";
        case Errc::overloaded:
          return "API processes at their in-flight limit";
        case Errc::upstream_failed:
          return "the API process failed before answering";
        case Errc::upstream_timeout:
          return "the API process did not answer in time";
      }
      return "gateway error";
    }
  } cat;
  return cat;
}

http::Response to_response(Errc e) {
  switch (e) {
    case Errc::no_upstream:
    case Errc::overloaded: {
      auto res = http::error_response(bhttp::status::service_unavailable, "unavailable",
                                      "the service is busy or restarting, retry later");
      http::set_retry_after(res, 1);
      return res;
    }
    case Errc::upstream_failed:
      // Said plainly: a POST without an Idempotency-Key may have taken effect.
      return http::error_response(bhttp::status::bad_gateway, "bad_gateway",
                                  "the request failed in flight and may or may not have taken "
                                  "effect; check before repeating it");
    case Errc::upstream_timeout:
      return http::error_response(bhttp::status::gateway_timeout, "gateway_timeout",
                                  "the service did not answer in time");
  }
  return http::error_response(bhttp::status::internal_server_error, "internal", "internal error");
}

}  // namespace tk::gateway
