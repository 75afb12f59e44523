#include "infra/mail/errors.hpp"

#include <string>

namespace tk::mail {

namespace {
class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tk.mail"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::unreachable:
        return "mail server unreachable";
      case Errc::timed_out:
        return "mail server timed out";
      case Errc::connection_lost:
        return "connection to the mail server lost";
      case Errc::refused_temporary:
        return "mail server refused the message for now";
      case Errc::refused_permanent:
        return "mail server refused the message";
      case Errc::bad_address:
        return "invalid e-mail address";
      case Errc::overloaded:
        return "mail queue full";
      case Errc::failed:
        return "sending mail failed";
    }
    return "unknown mail error";
  }
};
}  // namespace

const std::error_category& category() {
  static const Category c;
  return c;
}

}  // namespace tk::mail
