#pragma once
// Start-up schema migrations: db/migrations/NNNN_name.sql applied in version order.
#include <boost/asio/awaitable.hpp>
#include <string>

#include "common/result.hpp"
#include "infra/postgres/pool.hpp"

namespace tk::pg {

// The repository's db/migrations folder, as compiled into tk_pg (TK_MIGRATIONS_DIR).
std::string default_migrations_dir();

// Applies every NNNN_name.sql of DIR not yet recorded in schema_migrations(version, name,
// checksum, applied_at), each in its own transaction together with its record. Concurrent
// starters serialize on a session advisory lock, so exactly one applies each file. Fails with
// Errc::bad_migration when the folder is unreadable, a .sql file is misnamed or a version is
// duplicated, or an applied file's SHA-256 changed (edit a new migration instead); a failing
// file keeps the server's error code with details {"migration": file}. Files must not contain
// BEGIN/COMMIT nor statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY).
// Recorded versions without a file (a newer release ran first) are accepted.
asio::awaitable<tk::Status> migrate(Pool& pool, std::string dir = default_migrations_dir());

}  // namespace tk::pg
