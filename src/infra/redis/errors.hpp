#pragma once
// Error codes of the Redis client (std::error_code enum, category "redis").
#include <string>
#include <system_error>

namespace tk::redis {

enum class Errc {
  unavailable = 1,  // not connected, or the connection dropped with the command in flight
  reply_error,      // Redis answered -ERR...; the text is in Error.details["redis"]
  protocol_error,   // malformed or unexpected reply
  timeout,          // no reply within Options::command_timeout (the late reply is discarded)
};

const std::error_category& category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tk::redis

template <>
struct std::is_error_code_enum<tk::redis::Errc> : std::true_type {};
