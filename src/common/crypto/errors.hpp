#pragma once
// Errors of the crypto module. Only http/ maps them to statuses: every token failure is a 401/403
// (the codes below exist for logs and tests, never to tell a client why a token was refused);
// `overloaded` is a 503.
#include <system_error>

namespace tk::crypto {

enum class Errc {
  malformed = 1,  // not a token of ours at all (syntax, size, framing) or a bad configuration value
  bad_signature,  // well-formed but the MAC does not match: forged or altered
  wrong_purpose,  // a genuine token of another purpose (e.g. a queue ticket used as access token)
  unknown_key,    // key id not configured (rotated out, or never ours)
  expired,        // genuine but past its expiry at the caller's `now`
  weak_secret,    // a configured master secret is too short or too uniform
  overloaded,     // the password-hashing pool queue is full (or shutting down): answer 503
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

}  // namespace tk::crypto

template <>
struct std::is_error_code_enum<tk::crypto::Errc> : std::true_type {};
