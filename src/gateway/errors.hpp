#pragma once
// The gateway's own failures, and the one place they become HTTP answers (the API's codes go
// through http/handlers/support.*; these never reach an API process).
#include <system_error>

#include "http/context.hpp"

namespace tk::gateway {

enum class Errc {
  no_upstream = 1,   // no healthy API process to send the request to: 503 + Retry-After
  overloaded,        // every healthy API process has its in-flight bound reached: 503
  upstream_failed,   // the API process failed after the request left, and it may not be sent
                     // again (no Idempotency-Key on a POST): 502, its effect unknown
  upstream_timeout,  // the request's deadline passed waiting for the API process: 504
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }

http::Response to_response(Errc e);

}  // namespace tk::gateway

template <>
struct std::is_error_code_enum<tk::gateway::Errc> : std::true_type {};
