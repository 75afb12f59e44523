#pragma once
// What thin handlers share: the one place app errors become HTTP statuses, strict JSON field
// readers (400 on wrong types), RFC 3339 time, bearer tokens and in-process rate limits.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "app/errors.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "http/context.hpp"
#include "http/rate_limiter.hpp"
#include "http/responses.hpp"

namespace tk::http {

beast::http::status status_of(app::Errc e);
// Never leaks infrastructure text: details are kept only for contract codes that define them.
Response error_to_response(const Error& e);
Response error_to_response(app::Errc e, boost::json::object details = {});

std::string rfc3339(Millis ms);
// Appends the decimal digits of `v` (for bodies written by hand on hot paths).
void append_int(std::string& out, std::int64_t v);
std::optional<Millis> parse_rfc3339(std::string_view s);

std::string_view bearer_token(const Request& req);
bool constant_time_equal(std::string_view a, std::string_view b);

// Reads a JSON object body (one place for every route): malformed_json when it is not JSON,
// invalid_field when a key occurs twice in one object or the document is not an object.
Result<boost::json::object> parse_object(const Request& req);

// Field readers: a missing required field, a wrong type or an empty string is invalid_field.
Result<std::string> str_field(const boost::json::object& o, std::string_view name,
                              std::size_t max_len = 1000);
Result<std::optional<std::string>> opt_str_field(const boost::json::object& o,
                                                 std::string_view name, std::size_t max_len = 1000);
Result<std::optional<std::int64_t>> opt_int_field(const boost::json::object& o,
                                                  std::string_view name);
Result<std::int64_t> int_field(const boost::json::object& o, std::string_view name);
Result<const boost::json::array*> array_field(const boost::json::object& o, std::string_view name);
Error invalid(std::string_view field, std::string_view reason);

}  // namespace tk::http
