// Round trips, prepared statements, error mapping, pipelines: one real PostgreSQL.
#include <deque>
#include <limits>

#include "pg_test.hpp"

namespace tk::pg::testing {
namespace {

// Suite names start with "pg" so that `ctest -R pg` selects them.
using pgConnection = PgTest;

TEST_F(pgConnection, RoundTripWithParametersNullUnicodeAndAwkwardText) {
  auto pool = make_pool({.size = 1});
  const std::string unicode = "Zürich — 東京 🎫 ñ";
  const std::string awkward = "a\tb\\c'd\"e\n;-- $1 %s \x01\x7f end";
  const auto big = std::numeric_limits<std::int64_t>::max();
  const auto small = std::numeric_limits<std::int64_t>::min();
  auto r = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query(
        "SELECT $1::text AS u, $2::text AS a, $3::bigint AS big, $4::bigint AS small,"
        " $5::boolean AS yes, $6::text AS nothing, $7::bigint AS n, octet_length($1::text) AS len",
        args(unicode, awkward, big, small, true, null(), arg(std::optional<int>{})));
  });
  ASSERT_TRUE(r.ok()) << describe(r);
  const Rows& rows = r.value();
  ASSERT_EQ(rows.size(), 1);
  ASSERT_EQ(rows.columns(), 8);
  EXPECT_EQ(rows.text(0, rows.column("u")), unicode);
  EXPECT_EQ(rows.text(0, rows.column("a")), awkward);
  EXPECT_EQ(rows.int64(0, rows.column("big")), big);
  EXPECT_EQ(rows.int64(0, rows.column("small")), small);
  EXPECT_TRUE(rows.boolean(0, rows.column("yes")));
  EXPECT_TRUE(rows.is_null(0, rows.column("nothing")));
  EXPECT_FALSE(rows.opt_text(0, rows.column("nothing")).has_value());
  EXPECT_TRUE(rows.is_null(0, rows.column("n")));
  EXPECT_FALSE(rows.is_null(0, rows.column("u")));
  EXPECT_EQ(rows.int64(0, rows.column("len")), static_cast<std::int64_t>(unicode.size()));
  EXPECT_EQ(rows.column("missing"), -1);
}

TEST_F(pgConnection, BracedParameterListsCompileInsideCoAwait) {
  // GCC 12 rejects initializer_lists in co_await expressions; Params' constructor avoids them.
  auto pool = make_pool({.size = 1});
  auto r = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    const std::string s = "str";
    auto one = co_await pool->query("SELECT $1::text", {arg(s)});
    if (!one.ok() || one.value().text(0, 0) != "str") co_return Errc::query_failed;
    auto none = co_await pool->query("SELECT 1", {});
    if (!none.ok()) co_return none;
    std::vector<Param> v{arg(5)};
    auto vec = co_await pool->query("SELECT $1::int", v);
    if (!vec.ok() || vec.value().int64(0, 0) != 5) co_return Errc::query_failed;
    co_return co_await pool->query("SELECT $1::text, $2::bigint, $3::text",
                                   {arg("lit"), arg(7), null()});
  });
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.value().text(0, 0), "lit");
  EXPECT_EQ(r.value().int64(0, 1), 7);
  EXPECT_TRUE(r.value().is_null(0, 2));
}

TEST_F(pgConnection, AffectedRowsAndCommandTag) {
  script(
      "DROP TABLE IF EXISTS it_pg_affected; CREATE TABLE it_pg_affected (id bigint);"
      "INSERT INTO it_pg_affected SELECT generate_series(1, 5)");
  auto pool = make_pool({.size = 1});
  auto r = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("UPDATE it_pg_affected SET id = id + 10 WHERE id > $1", args(2));
  });
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.value().affected(), 3);
  EXPECT_EQ(r.value().command(), "UPDATE 3");
  EXPECT_EQ(r.value().size(), 0);
}

TEST_F(pgConnection, SameSqlIsPreparedOncePerConnection) {
  auto pool = make_pool({.size = 1});
  const std::string sql = "SELECT $1::bigint * 2 AS twice -- it_pg_prepared";
  auto r = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    for (int i = 0; i < 50; ++i) {
      auto q = co_await pool->query(sql, args(i));
      if (!q.ok()) co_return q;
      if (q.value().int64(0, 0) != 2 * i) co_return Errc::query_failed;
    }
    // Same connection (pool of one): its session lists the statements it prepared.
    co_return co_await pool->query(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", args(sql));
  });
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.value().int64(0, 0), 1);
  auto lease = run([&]() { return pool->acquire(); });
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease.value()->prepared_count(), 2u);  // the loop's SQL and the catalogue query
}

TEST_F(pgConnection, ConstraintViolationsMapToTheirCodes) {
  script(
      "DROP TABLE IF EXISTS it_pg_child; DROP TABLE IF EXISTS it_pg_parent;"
      "CREATE TABLE it_pg_parent (id bigint PRIMARY KEY, qty int CONSTRAINT it_pg_qty CHECK (qty "
      ">= 0));"
      "CREATE TABLE it_pg_child (parent bigint REFERENCES it_pg_parent(id));"
      "INSERT INTO it_pg_parent VALUES (1, 1)");
  auto pool = make_pool({.size = 2});
  auto insert = [&](std::int64_t id, int qty) {
    return run([&]() -> asio::awaitable<tk::Result<Rows>> {
      co_return co_await pool->query("INSERT INTO it_pg_parent (id, qty) VALUES ($1, $2)",
                                     args(id, qty));
    });
  };
  auto dup = insert(1, 1);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.code(), Errc::unique_violation) << describe(dup);
  EXPECT_EQ(dup.error().details.at("sqlstate").as_string(), "23505");
  EXPECT_EQ(dup.error().details.at("constraint").as_string(), "it_pg_parent_pkey");
  EXPECT_TRUE(dup.error().details.contains("pg"));

  auto neg = insert(2, -1);
  EXPECT_EQ(neg.code(), Errc::check_violation) << describe(neg);

  auto fk = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("INSERT INTO it_pg_child VALUES ($1)", args(99));
  });
  EXPECT_EQ(fk.code(), Errc::foreign_key_violation) << describe(fk);

  auto syntax = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("SELEC nonsense");
  });
  EXPECT_EQ(syntax.code(), Errc::query_failed) << describe(syntax);

  auto arity = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("SELECT $1::int + $2::int", args(1));
  });
  EXPECT_EQ(arity.code(), Errc::query_failed) << describe(arity);

  // After all these errors the pool's connections are still fine.
  auto ok = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("SELECT count(*) FROM it_pg_parent");
  });
  ASSERT_TRUE(ok.ok()) << describe(ok);
  EXPECT_EQ(ok.value().int64(0, 0), 1);
  EXPECT_EQ(pool->stats().discarded, 0u);
}

TEST_F(pgConnection, ExecScriptRunsSeveralStatementsAndStopsAtTheFirstError) {
  script("DROP TABLE IF EXISTS it_pg_script");
  auto pool = make_pool({.size = 1});
  auto st = run([&]() -> asio::awaitable<tk::Status> {
    auto lease = co_await pool->acquire();
    if (!lease.ok()) co_return std::move(lease).error();
    co_return co_await lease.value()->exec_script(
        "CREATE TABLE it_pg_script (id int UNIQUE); INSERT INTO it_pg_script VALUES (1);"
        "INSERT INTO it_pg_script VALUES (1); INSERT INTO it_pg_script VALUES (2);");
  });
  EXPECT_EQ(st.code(), Errc::unique_violation) << describe(st);
  // A multi-statement simple query is one implicit transaction: nothing stays.
  EXPECT_EQ(query("SELECT to_regclass('it_pg_script') IS NULL").boolean(0, 0), true);
}

TEST_F(pgConnection, PipelineRunsABatchInOneRoundTripAllOrNothing) {
  script("DROP TABLE IF EXISTS it_pg_pipe; CREATE TABLE it_pg_pipe (id int PRIMARY KEY)");
  auto pool = make_pool({.size = 1});
  auto batch = [&](int a, int b) {
    return run([&]() -> asio::awaitable<tk::Result<std::vector<Rows>>> {
      auto lease = co_await pool->acquire();
      if (!lease.ok()) co_return std::move(lease).error();
      std::vector<Statement> st;
      st.push_back({"INSERT INTO it_pg_pipe VALUES ($1)", args(a)});
      st.push_back({"INSERT INTO it_pg_pipe VALUES ($1)", args(b)});
      st.push_back({"SELECT count(*) FROM it_pg_pipe", {}});
      co_return co_await lease.value()->pipeline(std::move(st));
    });
  };
  auto ok = batch(1, 2);
  ASSERT_TRUE(ok.ok()) << describe(ok);
  ASSERT_EQ(ok.value().size(), 3u);
  EXPECT_EQ(ok.value()[0].affected(), 1);
  EXPECT_EQ(ok.value()[2].int64(0, 0), 2);

  auto bad = batch(3, 1);  // 3 is fine, 1 is a duplicate: the whole batch rolls back
  EXPECT_EQ(bad.code(), Errc::unique_violation) << describe(bad);
  EXPECT_EQ(query("SELECT count(*) FROM it_pg_pipe").int64(0, 0), 2);

  // The connection is back in normal mode and reuses the statements the batch prepared.
  auto again = batch(4, 5);
  ASSERT_TRUE(again.ok()) << describe(again);
  EXPECT_EQ(again.value()[2].int64(0, 0), 4);
  EXPECT_EQ(pool->stats().discarded, 0u);
}

// A connection prepares at most 512 distinct SQL texts, however they are sent: past the bound a
// pipeline's new texts run unnamed (parsed each time), as query()'s do, and still answer right.
TEST_F(pgConnection, PipelinesKeepTheBoundOnPreparedStatements) {
  auto pool = make_pool({.size = 1});
  std::deque<std::string> texts;  // the SQL must outlive the calls
  auto text = [&](int i) -> std::string_view {
    texts.push_back("SELECT $1::int + " + std::to_string(i) + " -- it_pg_bound");
    return texts.back();
  };
  auto r = run([&]() -> asio::awaitable<tk::Result<std::vector<Rows>>> {
    auto lease = co_await pool->acquire();
    if (!lease.ok()) co_return std::move(lease).error();
    Connection& c = *lease.value();
    for (int i = 0; c.prepared_count() < 512; ++i) {
      auto q = co_await c.query(text(i), args(1));
      if (!q.ok()) co_return std::move(q).error();
    }
    std::vector<Statement> st;
    const std::string_view fresh = text(10'000);
    st.push_back({fresh, args(1)});
    st.push_back({text(10'001), args(2)});
    st.push_back({fresh, args(3)});          // the same new text twice in one batch
    st.push_back({texts.front(), args(4)});  // prepared before the bound was reached
    auto out = co_await c.pipeline(std::move(st));
    EXPECT_EQ(c.prepared_count(), 512u);
    co_return out;
  });
  ASSERT_TRUE(r.ok()) << describe(r);
  ASSERT_EQ(r.value().size(), 4u);
  EXPECT_EQ(r.value()[0].int64(0, 0), 10'001);
  EXPECT_EQ(r.value()[1].int64(0, 0), 10'003);
  EXPECT_EQ(r.value()[2].int64(0, 0), 10'003);
  EXPECT_EQ(r.value()[3].int64(0, 0), 4);
  EXPECT_EQ(pool->stats().discarded, 0u);
}

TEST_F(pgConnection, StatementTimeoutIsUnavailableButKeepsTheConnection) {
  auto pool = make_pool({.size = 1, .statement_timeout = 100ms});
  auto slow = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("SELECT pg_sleep(2)");
  });
  EXPECT_EQ(slow.code(), Errc::unavailable) << describe(slow);
  EXPECT_EQ(slow.error().details.at("sqlstate").as_string(), "57014");
  EXPECT_TRUE(pool->healthy());
  auto fast = run(
      [&]() -> asio::awaitable<tk::Result<Rows>> { co_return co_await pool->query("SELECT 1"); });
  EXPECT_TRUE(fast.ok()) << describe(fast);
  EXPECT_EQ(pool->stats().discarded, 0u);
}

TEST_F(pgConnection, ConnectionSettingsComeFromPoolOptions) {
  auto pool = make_pool({.size = 1, .statement_timeout = 1234ms, .application_name = "it_pg_app"});
  auto r = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query(
        "SELECT current_setting('statement_timeout'), current_setting('application_name'),"
        " current_setting('default_transaction_read_only')");
  });
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.value().text(0, 0), "1234ms");
  EXPECT_EQ(r.value().text(0, 1), "it_pg_app");
  EXPECT_EQ(r.value().text(0, 2), "off");
}

TEST_F(pgConnection, ReadOnlyPoolRefusesWrites) {
  script("DROP TABLE IF EXISTS it_pg_ro; CREATE TABLE it_pg_ro (id int)");
  auto pool = make_pool({.size = 1, .read_only = true});
  auto ins = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("INSERT INTO it_pg_ro VALUES ($1)", args(1));
  });
  EXPECT_EQ(ins.code(), Errc::read_only) << describe(ins);
  auto sel = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("SELECT count(*) FROM it_pg_ro");
  });
  ASSERT_TRUE(sel.ok()) << describe(sel);
  EXPECT_EQ(sel.value().int64(0, 0), 0);
}

// A writer's connection that meets a read-only refusal is on a node that is no longer the primary
// (a failed-over primary back as a replica refuses writes with 25006 on a live connection): the
// write is `unavailable` (503, retried later), the connection is dropped so the pool connects
// afresh, and the pool counts as not reaching the database.
TEST_F(pgConnection, AReadOnlyRefusalOnAWriterDropsTheConnectionAsUnavailable) {
  script("DROP TABLE IF EXISTS it_pg_demoted; CREATE TABLE it_pg_demoted (id int)");
  auto pool = make_pool({.size = 1});
  auto ins = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      // What a standby does to every transaction, in one: the session can no longer write.
      auto set = co_await c.query("SET TRANSACTION READ ONLY");
      if (!set.ok()) co_return std::move(set).error();
      auto r = co_await c.query("INSERT INTO it_pg_demoted VALUES (1)");
      if (!r.ok()) co_return std::move(r).error();
      co_return tk::Status{};
    });
  });
  ASSERT_FALSE(ins.ok());
  EXPECT_EQ(ins.code(), Errc::unavailable) << describe(ins);
  EXPECT_EQ(ins.error().details.at("sqlstate").as_string(), "25006");
  EXPECT_EQ(pool->stats().discarded, 1u);
  auto again = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("INSERT INTO it_pg_demoted VALUES (2)");
  });
  EXPECT_TRUE(again.ok()) << describe(again);
}

TEST_F(pgConnection, UnreachableServerFailsFastWithUnavailable) {
  // A port nobody listens on (the fixture's port + 1 is not guaranteed free; use a closed one).
  auto pool = make_pool({.conninfo = "postgresql://postgres@127.0.0.1:1/none", .size = 2});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(
      [&]() -> asio::awaitable<tk::Result<Rows>> { co_return co_await pool->query("SELECT 1"); });
  EXPECT_EQ(r.code(), Errc::unavailable) << describe(r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_FALSE(pool->healthy());
  // Within the backoff the pool does not even try.
  auto again = run(
      [&]() -> asio::awaitable<tk::Result<Rows>> { co_return co_await pool->query("SELECT 1"); });
  EXPECT_EQ(again.code(), Errc::unavailable);
  EXPECT_EQ(pool->stats().connects, 1u);
}

}  // namespace
}  // namespace tk::pg::testing
