// Bench-only bulk seeding: N buyer accounts (one precomputed argon2id hash shared by all) in
// PostgreSQL and N logged-in sessions in Redis, so a load test starts with a crowd that is
// already signed in, as a real on-sale does. Signing in 1M buyers through the API would spend
// ~20 core-hours in argon2id, which measures nothing useful.
//
// Off unless explicitly enabled: it is a separate program (never linked into the service) and it
// refuses to run without TICKETING_BENCH_SEED=1. It reads the service's configuration
// (TICKETING_PG_URL, TICKETING_REDIS_URL, TICKETING_SECRET, TICKETING_CONFIG) because the session
// tokens it writes must verify under the service's key.
//
// Output: one line per buyer, `<account_num> <account_id> <session_token>`, in account order.
// Idempotent per prefix: accounts that exist are reused and get fresh sessions.
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <sodium.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "common/crypto/keyring.hpp"
#include "common/crypto/signer.hpp"
#include "common/crypto/tokens.hpp"
#include "infra/redis/endpoint.hpp"
#include "main/config.hpp"

namespace {

constexpr const char* kPassword = "bench-password";
constexpr long long kSessionTtlMs = 24LL * 3600 * 1000;
constexpr std::size_t kBatch = 20000;  // rows per INSERT / commands per Redis pipeline flush

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "seed: " << msg << "\n";
  std::exit(1);
}

struct Args {
  long long count = 0;
  std::string out;
  std::string prefix = "bench";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + k);
      return argv[++i];
    };
    if (k == "--count") {
      a.count = std::atoll(next().c_str());
    } else if (k == "--out") {
      a.out = next();
    } else if (k == "--prefix") {
      a.prefix = next();
    } else {
      die("usage: seed --count N --out FILE [--prefix NAME]   (needs TICKETING_BENCH_SEED=1)");
    }
  }
  if (a.count <= 0 || a.count > 10'000'000) die("--count must be 1..10000000");
  if (a.out.empty()) die("--out is required");
  for (char c : a.prefix) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') die("--prefix: [A-Za-z0-9-]");
  }
  if (a.prefix.empty() || a.prefix.size() > 16) die("--prefix: 1..16 characters");
  return a;
}

using PgConn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using PgRes = std::unique_ptr<PGresult, decltype(&PQclear)>;

PgRes exec(PGconn* c, const char* sql, const std::vector<std::string>& params) {
  std::vector<const char*> vals;
  for (const auto& p : params) vals.push_back(p.c_str());
  PgRes r(PQexecParams(c, sql, static_cast<int>(vals.size()), nullptr, vals.data(), nullptr,
                       nullptr, 0),
          &PQclear);
  auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    die(std::string("PostgreSQL: ") + PQresultErrorMessage(r.get()));
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const char* enabled = std::getenv("TICKETING_BENCH_SEED");
  if (!enabled || std::string(enabled) != "1") {
    die("refusing to run: bench-only tool, set TICKETING_BENCH_SEED=1 to enable it");
  }
  Args args = parse(argc, argv);
  if (sodium_init() < 0) die("libsodium init failed");
  auto cfg = tk::service::load_config();
  if (!cfg) die("configuration: " + cfg.error().code.message());

  std::vector<std::pair<std::string, std::string>> secrets{{cfg->secret_kid, cfg->secret}};
  auto ring = tk::crypto::KeyRing::create(secrets, cfg->secret_kid);
  if (!ring) die("TICKETING_SECRET: " + ring.error().code.message());
  tk::crypto::Signer signer(std::move(*ring));

  // One hash for every account, at the minimum argon2id cost: the accounts can log in with
  // kPassword, and nobody pays a hash per account.
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, kPassword, std::strlen(kPassword), crypto_pwhash_OPSLIMIT_MIN,
                        crypto_pwhash_MEMLIMIT_MIN) != 0) {
    die("argon2id hash failed");
  }

  auto t0 = std::chrono::steady_clock::now();
  PgConn pg(PQconnectdb(cfg->pg_url.c_str()), &PQfinish);
  if (PQstatus(pg.get()) != CONNECTION_OK) die("cannot connect to PostgreSQL");

  // Generated in the database: a batch of rows costs one round trip. ON CONFLICT makes a second
  // run with the same prefix reuse its accounts.
  const char* insert_sql =
      "INSERT INTO accounts (id, email, name, password_hash) "
      "SELECT 'acc_' || $1 || '_' || lpad(i::text, 8, '0'), $1 || '-' || i || '@bench.invalid', "
      "'Bench buyer ' || i, $2 FROM generate_series($3::bigint, $4::bigint) AS i "
      "ON CONFLICT DO NOTHING";
  for (long long from = 1; from <= args.count; from += kBatch) {
    long long to = std::min<long long>(args.count, from + kBatch - 1);
    exec(pg.get(), insert_sql, {args.prefix, hash, std::to_string(from), std::to_string(to)});
  }
  auto rows = exec(pg.get(),
                   "SELECT num, id FROM accounts WHERE id LIKE 'acc\\_' || $1 || '\\_%' "
                   "AND email LIKE $1 || '-%@bench.invalid' ORDER BY num LIMIT $2",
                   {args.prefix, std::to_string(args.count)});
  int n = PQntuples(rows.get());
  if (n != args.count)
    die("expected " + std::to_string(args.count) + " accounts, found " + std::to_string(n) +
        " (another prefix collides?)");

  auto ep = tk::redis::Endpoint::parse(cfg->redis_url);
  if (!ep) die("TICKETING_REDIS_URL is not a redis:// URL");
  std::unique_ptr<redisContext, decltype(&redisFree)> rc(redisConnect(ep->host.c_str(), ep->port),
                                                         &redisFree);
  if (!rc || rc->err) die("cannot connect to Redis");
  auto reply_ok = [&](const char* what) {
    void* r = nullptr;
    if (redisGetReply(rc.get(), &r) != REDIS_OK || !r) die(std::string("Redis: ") + what);
    auto* rep = static_cast<redisReply*>(r);
    bool bad = rep->type == REDIS_REPLY_ERROR;
    freeReplyObject(rep);
    if (bad) die(std::string("Redis refused ") + what);
  };
  if (!ep->password.empty()) {
    if (ep->username.empty()) {
      redisAppendCommand(rc.get(), "AUTH %s", ep->password.c_str());
    } else {
      redisAppendCommand(rc.get(), "AUTH %s %s", ep->username.c_str(), ep->password.c_str());
    }
    reply_ok("AUTH");
  }
  if (ep->db != 0) {
    redisAppendCommand(rc.get(), "SELECT %d", ep->db);
    reply_ok("SELECT");
  }

  std::ofstream out(args.out, std::ios::trunc);
  if (!out) die("cannot write " + args.out);
  long long expires = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() +
                      kSessionTtlMs;
  std::string ttl = std::to_string(kSessionTtlMs);
  std::size_t pending = 0;
  for (int i = 0; i < n; ++i) {
    std::string num = PQgetvalue(rows.get(), i, 0), id = PQgetvalue(rows.get(), i, 1), sid;
    std::string token = tk::crypto::new_session_token(signer, &sid);
    // The value format of the service's session store (infra/redis/stores: Sessions::put).
    std::string key = "sess:" + sid, val = id + "|" + num + "|" + std::to_string(expires);
    redisAppendCommand(rc.get(), "SET %b %b PX %s", key.data(), key.size(), val.data(), val.size(),
                       ttl.c_str());
    out << num << ' ' << id << ' ' << token << '\n';
    if (++pending == kBatch) {
      for (; pending > 0; --pending) reply_ok("SET");
    }
  }
  for (; pending > 0; --pending) reply_ok("SET");
  out.close();
  if (!out) die("write failed: " + args.out);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("seed: %d buyers (accounts + sessions) in %.1f s -> %s\n", n, secs, args.out.c_str());
  return 0;
}
