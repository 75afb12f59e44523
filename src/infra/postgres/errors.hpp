#pragma once
// Error codes of the PostgreSQL client. Callers branch on these (e.g. unique_violation -> 409,
// unavailable/pool_timeout -> 503); the server's own text goes to Error.details for logs only.
#include <string_view>
#include <system_error>

namespace tk::pg {

enum class Errc {
  unavailable = 1,        // cannot reach the server, connection lost, server shutting down
  pool_timeout,           // no pooled connection became free within acquire_timeout
  unique_violation,       // 23505
  foreign_key_violation,  // 23503
  check_violation,        // 23514
  serialization_failure,  // 40001 (retryable)
  deadlock,               // 40P01 (retryable)
  query_failed,           // any other server or protocol error
  read_only,              // 25006 on a read-only pool (on a writer's connection: unavailable)
  bad_migration,          // migration files unreadable/misnamed or an applied file was changed
  // The request's deadline (common/deadline.hpp) passed: before the call was sent, while it
  // waited for a pooled connection, or while it ran (the connection is then discarded: its
  // state is unknown; a COMMIT cut off this way has an unknown outcome).
  deadline_exceeded,
};

const std::error_category& category();

inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }

// Maps a five-character SQLSTATE to our codes. Connection-class states (08xxx but 08P01),
// admin/crash shutdown (57P0x), resource exhaustion (53xxx) and statement timeouts (57014) become
// `unavailable`: they say "the database cannot serve now", which callers answer with 503.
Errc errc_from_sqlstate(std::string_view sqlstate);

}  // namespace tk::pg

template <>
struct std::is_error_code_enum<tk::pg::Errc> : std::true_type {};
