#pragma once
// Shared bits of the PostgreSQL adapters: error mapping onto the contract and time conversion.
#include <random>
#include <string>
#include <vector>

#include "app/errors.hpp"
#include "common/result.hpp"
#include "infra/postgres/postgres.hpp"

namespace tk::pgrepo {

namespace asio = boost::asio;

// Infrastructure failures reach callers as `unavailable` (503) or `internal` (500); the server's
// text stays in the details for the log, never for clients.
inline Error map_error(Error e) {
  if (e.code.category() == pg::category()) {
    auto v = static_cast<pg::Errc>(e.code.value());
    bool down = v == pg::Errc::unavailable || v == pg::Errc::pool_timeout ||
                v == pg::Errc::serialization_failure || v == pg::Errc::deadlock ||
                v == pg::Errc::deadline_exceeded;
    return Error{down ? app::Errc::unavailable : app::Errc::internal, std::move(e.details)};
  }
  return e;
}

// A random one of a performance's 64 sales rows (see migration 0002): concurrent sales of one
// performance update different rows.
inline int sales_shard() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return static_cast<int>(rng() % 64);
}

// ms since epoch <-> timestamptz in SQL: to_timestamp($n::float8 / 1000), epoch_ms(col).
inline constexpr const char* kEpochMs = "(extract(epoch from %s) * 1000)::bigint";

// PostgreSQL text[] literal for a list of ids (ids are [A-Za-z0-9_~-], quoted anyway).
inline std::string text_array(const std::vector<std::string>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  s += '}';
  return s;
}

// Parses a text[] value produced by PostgreSQL for simple ids (no quoting needed).
inline std::vector<std::string> parse_text_array(std::string_view s) {
  std::vector<std::string> out;
  if (s.size() < 2) return out;
  s = s.substr(1, s.size() - 2);
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      continue;
    }
    if (c == ',' && !quoted) {
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (!s.empty()) out.push_back(std::move(cur));
  return out;
}

// Builds parameter lists without std::initializer_list: GCC 12 miscompiles braced lists of
// std::optional<std::string> inside co_await expressions ("array used as initializer").
template <class... A>
std::vector<pg::Param> P(A&&... a) {
  std::vector<pg::Param> v;
  v.reserve(sizeof...(a));
  (v.push_back(std::forward<A>(a)), ...);
  return v;
}

}  // namespace tk::pgrepo

// Like TK_CO_TRY, mapping PostgreSQL errors onto the contract on the way out.
#define PG_TRY(decl, expr)                                           \
  auto TK_CONCAT(r_, __LINE__) = (expr);                             \
  if (!TK_CONCAT(r_, __LINE__).ok())                                 \
    co_return map_error(std::move(TK_CONCAT(r_, __LINE__)).error()); \
  decl = std::move(TK_CONCAT(r_, __LINE__)).value()
