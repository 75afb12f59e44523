#pragma once
// Query parameters and results. Everything travels in PostgreSQL's text format: parameters are
// strings (or NULL), results are read as text and converted on access.
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

struct pg_result;  // libpq's PGresult, kept out of this header

namespace tk::pg {

// One query parameter in text format; std::nullopt is SQL NULL.
using Param = std::optional<std::string>;

inline Param null() { return std::nullopt; }
inline Param arg(std::string_view v) { return std::string(v); }
inline Param arg(const char* v) { return std::string(v); }  // else "x" would pick arg(bool)
inline Param arg(std::string v) { return v; }
inline Param arg(bool v) { return std::string(v ? "t" : "f"); }
template <std::integral T>
requires(!std::same_as<T, bool>) Param arg(T v) { return std::to_string(v); }
// Nullable values: arg(std::optional<std::int64_t>{}) is NULL.
template <class T>
Param arg(const std::optional<T>& v) {
  return v ? arg(*v) : null();
}

// args(1, "x", true, null()) -> std::vector<Param>: converts each value with arg().
template <class... A>
std::vector<Param> args(A&&... a) {
  std::vector<Param> v;
  v.reserve(sizeof...(A));
  (v.push_back(arg(std::forward<A>(a))), ...);
  return v;
}

// The parameters of one statement: a std::vector<Param> in all but name. It is a class so that
// `co_await pool.query(sql, {arg(1), arg(s), null()})` compiles: GCC 12 rejects a braced list
// that builds a std::initializer_list inside a co_await expression ("array used as
// initializer"), and the variadic constructor here builds no such list. Accepts a vector too.
class Params {
 public:
  Params() = default;
  Params(std::vector<Param> v) : v_(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  template <class... A>
  requires(sizeof...(A) > 0 && (std::is_convertible_v<A&&, Param> && ...))
      Params(A&&... a) {  // NOLINT(google-explicit-constructor)
    v_.reserve(sizeof...(A));
    (v_.emplace_back(std::forward<A>(a)), ...);
  }
  std::size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  const Param& operator[](std::size_t i) const { return v_[i]; }
  auto begin() const { return v_.begin(); }
  auto end() const { return v_.end(); }
  const std::vector<Param>& values() const { return v_; }

 private:
  std::vector<Param> v_;
};

// Owns one PGresult. Accessors take 0-based row/column indexes and do not range-check beyond
// what libpq does (out of range -> empty text); callers know their SQL's shape.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* r);

  int size() const;     // number of rows
  int columns() const;  // number of columns
  bool empty() const { return size() == 0; }

  std::string_view text(int row, int col) const;
  bool is_null(int row, int col) const;
  // Parses the text value; 0 for NULL or non-numeric text (use is_null to tell).
  std::int64_t int64(int row, int col) const;
  // PostgreSQL's text form of boolean is "t"/"f".
  bool boolean(int row, int col) const;
  std::optional<std::string> opt_text(int row, int col) const;
  std::optional<std::int64_t> opt_int64(int row, int col) const;

  // Rows affected by INSERT/UPDATE/DELETE (PQcmdTuples); 0 for other statements.
  std::int64_t affected() const;
  // Index of the column called NAME (exact match), or -1.
  int column(std::string_view name) const;
  // Command tag, e.g. "UPDATE 3".
  std::string_view command() const;

 private:
  struct Clear {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Clear> res_;
};

}  // namespace tk::pg
