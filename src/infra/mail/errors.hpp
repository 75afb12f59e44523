#pragma once
// Error codes of the SMTP sender. curl's and the server's text never leave the module except in
// Error.details for the log.
#include <system_error>

namespace tk::mail {

enum class Errc {
  unreachable = 1,    // cannot resolve or connect
  timed_out,          // connect or transfer took longer than its timeout
  connection_lost,    // sending or receiving failed mid-conversation
  refused_temporary,  // 4xx: try again later (greylisting, 451 local error, full mailbox)
  refused_permanent,  // 5xx: this message or recipient will never be accepted
  bad_address,        // a sender or recipient address we will not put on the wire
  overloaded,         // the sender's queue is full
  failed,             // any other curl failure
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }

// Whether a later try may succeed.
inline bool temporary(Errc e) { return e != Errc::refused_permanent && e != Errc::bad_address; }

}  // namespace tk::mail

template <>
struct std::is_error_code_enum<tk::mail::Errc> : std::true_type {};
