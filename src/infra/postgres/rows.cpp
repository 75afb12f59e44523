#include "infra/postgres/rows.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <cstring>

namespace tk::pg {

void Rows::Clear::operator()(pg_result* r) const { PQclear(r); }

Rows::Rows(pg_result* r) : res_(r) {}

int Rows::size() const { return res_ ? PQntuples(res_.get()) : 0; }

int Rows::columns() const { return res_ ? PQnfields(res_.get()) : 0; }

std::string_view Rows::text(int row, int col) const {
  if (!res_) return {};
  // PQgetlength, not strlen: a text value may legitimately be long; it cannot contain NUL.
  return {PQgetvalue(res_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

bool Rows::is_null(int row, int col) const {
  return !res_ || PQgetisnull(res_.get(), row, col) != 0;
}

std::int64_t Rows::int64(int row, int col) const {
  auto t = text(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

bool Rows::boolean(int row, int col) const { return text(row, col) == "t"; }

std::optional<std::string> Rows::opt_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return std::string(text(row, col));
}

std::optional<std::int64_t> Rows::opt_int64(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return int64(row, col);
}

std::int64_t Rows::affected() const {
  if (!res_) return 0;
  const char* t = PQcmdTuples(res_.get());
  std::int64_t v = 0;
  std::from_chars(t, t + std::strlen(t), v);
  return v;
}

int Rows::column(std::string_view name) const {
  // Not PQfnumber: it case-folds unquoted names and needs a NUL-terminated string.
  for (int c = 0, n = columns(); c < n; ++c) {
    if (name == PQfname(res_.get(), c)) return c;
  }
  return -1;
}

std::string_view Rows::command() const {
  return res_ ? std::string_view(PQcmdStatus(res_.get())) : std::string_view();
}

}  // namespace tk::pg
