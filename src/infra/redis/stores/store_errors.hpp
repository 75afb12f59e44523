#pragma once
// Redis failures as the stores report them to the application.
#include "app/errors.hpp"
#include "common/result.hpp"
#include "infra/redis/errors.hpp"

namespace tk::redisstore {

// Redis failures are dependency failures for callers (503); Lua errors are bugs (500). A command
// that timed out or was in flight when the connection dropped may still have run: the error
// says so (details["outcome"] = "unknown") for callers that must clean up after it.
inline Error map_error(Error e) {
  if (e.code.category() == redis::category()) {
    bool bug = e.code == redis::Errc::reply_error || e.code == redis::Errc::protocol_error;
    if (e.code == redis::Errc::timeout || e.details.contains("in_flight")) {
      e.details["outcome"] = "unknown";
    }
    return Error{bug ? app::Errc::internal : app::Errc::unavailable, std::move(e.details)};
  }
  return e;
}

}  // namespace tk::redisstore
