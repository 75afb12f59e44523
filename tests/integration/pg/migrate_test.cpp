// Migrations runner against its own scratch database (the shared test database may hold the
// project's real schema_migrations) with migration files written to a temporary folder.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "pg_test.hpp"

namespace tk::pg::testing {
namespace {

namespace fs = std::filesystem;

class pgMigrate : public PgTest {
 protected:
  void SetUp() override {
    script("DROP DATABASE IF EXISTS it_pg_migrate WITH (FORCE)");
    script("CREATE DATABASE it_pg_migrate");
    db_url_ = url_.substr(0, url_.rfind('/')) + "/it_pg_migrate";
    std::string tmpl = (fs::temp_directory_path() / "it_pg_mig_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void write(const std::string& name, const std::string& sql) {
    std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << sql;
  }
  std::shared_ptr<Pool> db_pool() { return make_pool({.conninfo = db_url_, .size = 2}); }
  tk::Status migrate_once() {
    auto pool = db_pool();
    return run([&] { return migrate(*pool, dir_.string()); });
  }
  Rows db_query(const std::string& sql) {
    auto pool = db_pool();
    auto r =
        run([&]() -> asio::awaitable<tk::Result<Rows>> { co_return co_await pool->query(sql); });
    if (!r.ok()) throw std::runtime_error("query failed: " + describe(r));
    return std::move(r).value();
  }

  std::string db_url_;
  fs::path dir_;
};

TEST_F(pgMigrate, AppliesInOrderOnceAndRecordsEachFile) {
  write("0002_fill.sql", "INSERT INTO things (name) VALUES ('a'), ('b');");
  write("0001_create.sql",
        "CREATE TABLE things (id serial PRIMARY KEY, name text NOT NULL);\n"
        "CREATE INDEX things_name ON things (name);\n");
  write("README.md", "not a migration");
  ASSERT_TRUE(migrate_once().ok());

  auto rows = db_query(
      "SELECT version, name, checksum, applied_at IS NOT NULL "
      "FROM schema_migrations ORDER BY version");
  ASSERT_EQ(rows.size(), 2);
  EXPECT_EQ(rows.int64(0, 0), 1);
  EXPECT_EQ(rows.text(0, 1), "create");
  EXPECT_EQ(rows.text(0, 2).size(), 64u);  // SHA-256, hex
  EXPECT_TRUE(rows.boolean(0, 3));
  EXPECT_EQ(rows.int64(1, 0), 2);
  EXPECT_EQ(rows.text(1, 1), "fill");
  EXPECT_EQ(db_query("SELECT count(*) FROM things").int64(0, 0), 2);

  // Running again is a no-op (0002 would insert two more rows).
  const std::string applied_at =
      std::string(db_query("SELECT max(applied_at)::text FROM schema_migrations").text(0, 0));
  ASSERT_TRUE(migrate_once().ok());
  EXPECT_EQ(db_query("SELECT count(*) FROM things").int64(0, 0), 2);
  EXPECT_EQ(db_query("SELECT max(applied_at)::text FROM schema_migrations").text(0, 0), applied_at);

  // A new file is applied on its own.
  write("0003_more.sql", "INSERT INTO things (name) VALUES ('c');");
  ASSERT_TRUE(migrate_once().ok());
  EXPECT_EQ(db_query("SELECT count(*) FROM things").int64(0, 0), 3);
  EXPECT_EQ(db_query("SELECT count(*) FROM schema_migrations").int64(0, 0), 3);
}

TEST_F(pgMigrate, ChangedAppliedFileIsRefused) {
  write("0001_create.sql", "CREATE TABLE things (id int);");
  ASSERT_TRUE(migrate_once().ok());
  write("0001_create.sql", "CREATE TABLE things (id bigint);");
  write("0002_next.sql", "CREATE TABLE later (id int);");
  auto st = migrate_once();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::bad_migration) << describe(st);
  EXPECT_EQ(st.error().details.at("migration").as_string(), "0001_create.sql");
  // Nothing after the changed file was applied.
  EXPECT_TRUE(db_query("SELECT to_regclass('later') IS NULL").boolean(0, 0));
}

TEST_F(pgMigrate, FailingFileIsRolledBackAndNotRecorded) {
  write("0001_ok.sql", "CREATE TABLE things (id int);");
  write("0002_broken.sql", "CREATE TABLE half (id int);\nINSERT INTO nowhere VALUES (1);");
  auto st = migrate_once();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::query_failed) << describe(st);
  EXPECT_EQ(st.error().details.at("migration").as_string(), "0002_broken.sql");
  EXPECT_EQ(db_query("SELECT count(*) FROM schema_migrations").int64(0, 0), 1);
  EXPECT_TRUE(db_query("SELECT to_regclass('half') IS NULL").boolean(0, 0));
  EXPECT_FALSE(db_query("SELECT to_regclass('things') IS NULL").boolean(0, 0));

  // Fixed file: applied on the next start.
  write("0002_broken.sql", "CREATE TABLE half (id int);");
  EXPECT_TRUE(migrate_once().ok());
  EXPECT_EQ(db_query("SELECT count(*) FROM schema_migrations").int64(0, 0), 2);
}

TEST_F(pgMigrate, ConcurrentStartersApplyEachFileOnce) {
  write("0001_create.sql", "CREATE TABLE things (id serial PRIMARY KEY, name text);");
  write("0002_fill.sql", "SELECT pg_sleep(0.2); INSERT INTO things (name) VALUES ('once');");
  auto p1 = db_pool();
  auto p2 = db_pool();
  auto p3 = db_pool();
  tk::Status a, b, c;
  int done = 0;
  auto start = [&](Pool& p, tk::Status& out) -> asio::awaitable<void> {
    out = co_await migrate(p, dir_.string());
    ++done;
  };
  asio::co_spawn(io_, start(*p1, a), asio::detached);
  asio::co_spawn(io_, start(*p2, b), asio::detached);
  asio::co_spawn(io_, start(*p3, c), asio::detached);
  io_.restart();
  io_.run_for(30s);
  ASSERT_EQ(done, 3);
  EXPECT_TRUE(a.ok()) << describe(a);
  EXPECT_TRUE(b.ok()) << describe(b);
  EXPECT_TRUE(c.ok()) << describe(c);
  EXPECT_EQ(db_query("SELECT count(*) FROM things").int64(0, 0), 1);
  EXPECT_EQ(db_query("SELECT count(*) FROM schema_migrations").int64(0, 0), 2);
  // The lock was released and session settings restored on the pooled connections.
  EXPECT_EQ(db_query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").int64(0, 0), 0);
  auto setting = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await p1->query("SELECT current_setting('statement_timeout')");
  });
  ASSERT_TRUE(setting.ok());
  EXPECT_EQ(setting.value().text(0, 0), "5s");
}

TEST_F(pgMigrate, BadFolderOrNamesAreRefused) {
  auto pool = db_pool();
  auto missing = run([&] { return migrate(*pool, (dir_ / "nope").string()); });
  EXPECT_EQ(missing.code(), Errc::bad_migration);

  write("1_short.sql", "SELECT 1;");
  EXPECT_EQ(migrate_once().code(), Errc::bad_migration);
  fs::remove(dir_ / "1_short.sql");

  write("0001_a.sql", "SELECT 1;");
  write("0001_b.sql", "SELECT 2;");
  EXPECT_EQ(migrate_once().code(), Errc::bad_migration);
  fs::remove(dir_ / "0001_b.sql");

  write("0002_tx.sql", "COMMIT; CREATE TABLE sneaky (id int);");
  auto tx = migrate_once();
  EXPECT_EQ(tx.code(), Errc::bad_migration) << describe(tx);
}

TEST_F(pgMigrate, EmptyFolderCreatesOnlyTheTable) {
  ASSERT_TRUE(migrate_once().ok());
  EXPECT_EQ(db_query("SELECT count(*) FROM schema_migrations").int64(0, 0), 0);
}

}  // namespace
}  // namespace tk::pg::testing
