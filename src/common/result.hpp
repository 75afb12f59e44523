#pragma once
// A small result type: a value or an Error (std::error_code + optional JSON details).
// Every module reports failures through its own std::error_code enum; only http/ maps them to
// HTTP statuses.
#include <boost/json/object.hpp>
#include <cassert>
#include <system_error>
#include <utility>
#include <variant>

namespace tk {

struct Error {
  std::error_code code;
  boost::json::object details{};  // e.g. {"seat_ids": [...]} for seats_unavailable

  Error() = default;
  Error(std::error_code c) : code(c) {}  // NOLINT(google-explicit-constructor): ergonomic returns
  template <class E, class = std::enable_if_t<std::is_error_code_enum_v<E>>>
  Error(E e) : code(make_error_code(e)) {}  // NOLINT(google-explicit-constructor)
  Error(std::error_code c, boost::json::object d) : code(c), details(std::move(d)) {}
};

template <class T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}            // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}        // NOLINT
  Result(std::error_code c) : v_(std::in_place_index<1>, Error{c}) {}  // NOLINT
  template <class E, class = std::enable_if_t<std::is_error_code_enum_v<E>>>
  Result(E e) : v_(std::in_place_index<1>, Error{make_error_code(e)}) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }
  std::error_code code() const { return ok() ? std::error_code{} : error().code; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  Result() = default;
  Result(Error e) : err_(std::move(e)), failed_(true) {}                 // NOLINT
  Result(std::error_code c) : err_{c}, failed_(static_cast<bool>(c)) {}  // NOLINT
  template <class E, class = std::enable_if_t<std::is_error_code_enum_v<E>>>
  Result(E e) : err_{make_error_code(e)}, failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& {
    assert(!ok());
    return err_;
  }
  Error&& error() && {
    assert(!ok());
    return std::move(err_);
  }
  std::error_code code() const { return ok() ? std::error_code{} : err_.code; }

 private:
  Error err_{};
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace tk

// Propagate an error from a Result-returning coroutine: TK_CO_TRY(auto x, co_await f());
#define TK_CONCAT_(a, b) a##b
#define TK_CONCAT(a, b) TK_CONCAT_(a, b)
#define TK_CO_TRY_IMPL(tmp, decl, expr)            \
  auto tmp = (expr);                               \
  if (!tmp.ok()) co_return std::move(tmp).error(); \
  decl = std::move(tmp).value()
#define TK_CO_TRY(decl, expr) TK_CO_TRY_IMPL(TK_CONCAT(tk_try_, __LINE__), decl, expr)
#define TK_CO_CHECK(expr)                                    \
  do {                                                       \
    auto tk_chk_ = (expr);                                   \
    if (!tk_chk_.ok()) co_return std::move(tk_chk_).error(); \
  } while (0)
