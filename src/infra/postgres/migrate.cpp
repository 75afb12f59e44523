#include "infra/postgres/migrate.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#ifndef TK_MIGRATIONS_DIR
#define TK_MIGRATIONS_DIR "db/migrations"
#endif

namespace tk::pg {

namespace {

// Any fixed number, the same in every release: it names the lock all starters queue on.
constexpr std::int64_t kMigrationLock = 0x746b5f6d696772;  // "tk_migr"

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";
constexpr std::string_view kSelectApplied =
    "SELECT version, name, checksum FROM schema_migrations ORDER BY version";
constexpr std::string_view kInsertApplied =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";

struct File {
  int version = 0;
  std::string file;  // e.g. 0001_init.sql
  std::string name;  // e.g. init
  std::string sql;
  std::string checksum;
};

tk::Error bad(std::string what, std::string file = {}) {
  boost::json::object d;
  d["pg"] = std::move(what);
  if (!file.empty()) d["migration"] = std::move(file);
  return tk::Error{make_error_code(Errc::bad_migration), std::move(d)};
}

std::string sha256_hex(std::string_view data) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[sizeof h * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return std::string(hex);
}

tk::Result<std::vector<File>> load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return bad("cannot read migrations folder " + dir + ": " + ec.message());
  std::vector<File> files;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return bad("cannot read migrations folder " + dir + ": " + ec.message());
    const std::string fname = it->path().filename().string();
    if (!fname.ends_with(".sql")) continue;  // README and the like
    // NNNN_name.sql; a misnamed .sql file is an error rather than silently skipped.
    const bool ok = fname.size() > 9 && fname[4] == '_' &&
                    std::all_of(fname.begin(), fname.begin() + 4,
                                [](unsigned char ch) { return std::isdigit(ch) != 0; });
    if (!ok) return bad("migration file name must be NNNN_name.sql", fname);
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) return bad("cannot read migration file", fname);
    File f;
    f.version = std::stoi(fname.substr(0, 4));
    f.file = fname;
    f.name = fname.substr(5, fname.size() - 9);
    f.sql = std::move(body).str();
    f.checksum = sha256_hex(f.sql);
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(),
            [](const File& a, const File& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (files[i].version == files[i - 1].version) {
      return bad("duplicate migration version " + files[i].file.substr(0, 4), files[i].file);
    }
  }
  return files;
}

tk::Error in_file(tk::Error e, const File& f) {
  e.details["migration"] = f.file;
  return e;
}

// Everything after the advisory lock is held.
asio::awaitable<tk::Status> apply_pending(Connection& c, const std::vector<File>& files) {
  if (auto s = co_await c.exec_script(kCreateTable); !s.ok()) co_return s;
  auto applied_rows = co_await c.query(kSelectApplied);
  if (!applied_rows.ok()) co_return std::move(applied_rows).error();
  const Rows& rows = applied_rows.value();
  std::map<std::int64_t, std::string> applied;  // version -> checksum
  for (int r = 0; r < rows.size(); ++r) applied[rows.int64(r, 0)] = std::string(rows.text(r, 2));

  for (const File& f : files) {
    if (auto a = applied.find(f.version); a != applied.end()) {
      if (a->second != f.checksum) {
        co_return bad("applied migration changed (checksum " + a->second + " recorded, file has " +
                          f.checksum + "); add a new migration instead",
                      f.file);
      }
      continue;
    }
    if (auto s = co_await c.exec_script("BEGIN"); !s.ok())
      co_return in_file(std::move(s).error(), f);
    auto run = co_await c.exec_script(f.sql);
    if (run.ok() && c.tx_status() != Connection::TxStatus::in_transaction) {
      // The file ended our transaction itself: its work may be committed without its record.
      co_return bad("migration must not contain transaction control (BEGIN/COMMIT)", f.file);
    }
    tk::Status step = run;
    if (step.ok()) {
      auto rec = co_await c.query(kInsertApplied, args(f.version, f.name, f.checksum));
      if (!rec.ok()) step = std::move(rec).error();
    }
    if (step.ok()) step = co_await c.exec_script("COMMIT");
    if (!step.ok()) {
      if (!c.broken()) {
        if (auto rb = co_await c.exec_script("ROLLBACK"); !rb.ok()) c.poison();
      }
      co_return in_file(std::move(step).error(), f);
    }
  }
  co_return tk::Status{};
}

}  // namespace

std::string default_migrations_dir() { return TK_MIGRATIONS_DIR; }

asio::awaitable<tk::Status> migrate(Pool& pool, std::string dir) {
  if (sodium_init() < 0) co_return bad("libsodium initialisation failed");
  auto files = load(dir);
  if (!files.ok()) co_return std::move(files).error();

  auto lease_r = co_await pool.acquire();
  if (!lease_r.ok()) co_return std::move(lease_r).error();
  auto lease = std::move(lease_r).value();
  Connection& c = *lease;
  // Migrations may legitimately run long (and wait for another starter), so no client-side
  // guard and no statement_timeout; lock_timeout bounds waiting for the lock and for DDL locks.
  const auto saved_io_timeout = c.io_timeout();
  c.set_io_timeout(std::chrono::milliseconds{0});
  const std::string lock =
      "SET statement_timeout = 0; SET lock_timeout = '60s'; "
      "SELECT pg_advisory_lock(" +
      std::to_string(kMigrationLock) + ")";
  auto st = co_await c.exec_script(lock);
  if (st.ok()) st = co_await apply_pending(c, files.value());
  if (!c.broken()) {
    // Session-level state must not leak into the pool: unlock and restore the session defaults.
    const std::string unlock = "SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) +
                               "); RESET statement_timeout; RESET lock_timeout";
    if (c.tx_status() != Connection::TxStatus::idle)
      c.poison();
    else if (auto u = co_await c.exec_script(unlock); !u.ok())
      c.poison();
  }
  c.set_io_timeout(saved_io_timeout);
  co_return st;
}

}  // namespace tk::pg
