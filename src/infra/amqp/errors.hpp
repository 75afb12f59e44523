#pragma once
// Error codes of the AMQP adapter (std::error_code enum, category "amqp").
#include <system_error>

namespace tk::amqp {

enum class Errc {
  unavailable = 1,  // no connection to the broker (details["reason"] says why)
  overloaded,       // the bounded queue of the publisher is full: refused at once
  nacked,           // the broker refused the message (basic.nack, e.g. a full queue)
  unroutable,       // mandatory message matched no queue (basic.return)
  timeout,          // not confirmed within confirm_timeout / no delivery within next()'s timeout
  channel_closed,   // the broker closed the channel (details["code"], details["text"])
  stopped,          // stop() was called
  bad_endpoint,     // malformed amqp:// URL
};

const std::error_category& category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tk::amqp

template <>
struct std::is_error_code_enum<tk::amqp::Errc> : std::true_type {};
