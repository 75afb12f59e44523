#pragma once
// Query-string parameters of a request target (Boost.URL: percent-decoding and the grammar of
// RFC 3986 done by a maintained parser rather than by hand).
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tk::http {

// The decoded value of `name` in `target` ("/path?a=1&b=x"), nullopt when absent. A target that
// does not parse, a repeated or empty parameter, or a value longer than `max_len` is
// invalid_field naming the parameter (400).
Result<std::optional<std::string>> query_param(std::string_view target, std::string_view name,
                                               std::size_t max_len = 200);

}  // namespace tk::http
