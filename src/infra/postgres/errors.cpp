#include "infra/postgres/errors.hpp"

#include <string>

namespace tk::pg {

namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tk.pg"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::unavailable:
        return "database unavailable";
      case Errc::pool_timeout:
        return "timed out waiting for a database connection";
      case Errc::unique_violation:
        return "unique violation";
      case Errc::foreign_key_violation:
        return "foreign key violation";
      case Errc::check_violation:
        return "check violation";
      case Errc::serialization_failure:
        return "serialization failure";
      case Errc::deadlock:
        return "deadlock detected";
      case Errc::query_failed:
        return "query failed";
      case Errc::read_only:
        return "read-only transaction";
      case Errc::bad_migration:
        return "bad migration";
      case Errc::deadline_exceeded:
        return "the request's deadline passed";
    }
    return "unknown pg error";
  }
};

}  // namespace

const std::error_category& category() {
  static const Category c;
  return c;
}

Errc errc_from_sqlstate(std::string_view s) {
  if (s == "23505") return Errc::unique_violation;
  if (s == "23503") return Errc::foreign_key_violation;
  if (s == "23514") return Errc::check_violation;
  if (s == "40001") return Errc::serialization_failure;
  if (s == "40P01") return Errc::deadlock;
  if (s == "25006") return Errc::read_only;
  if (s == "57014") return Errc::unavailable;   // statement_timeout / cancel: overloaded server
  if (s == "08P01") return Errc::query_failed;  // protocol violation, e.g. wrong parameter count
  if (s.size() == 5 && (s.starts_with("08") || s.starts_with("53") || s.starts_with("57P"))) {
    return Errc::unavailable;
  }
  return Errc::query_failed;
}

}  // namespace tk::pg
