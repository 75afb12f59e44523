#pragma once
// Strict JSON for request bodies. Boost.JSON keeps the last of duplicate keys, so
// {"seat_ids": [...], "seat_ids": [...]} would silently mean something other than what a proxy,
// a log reader or another parser sees; the contract refuses such bodies with 400 instead.
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace tk::http {

struct JsonBody {
  boost::json::value value;
  bool malformed = false;                // not JSON at all
  std::optional<std::string> duplicate;  // a key that occurs twice in one object
};

// Parses `text`; on success `value` holds the document and neither flag is set.
JsonBody parse_json_body(std::string_view text);

}  // namespace tk::http
