#include "common/crypto/errors.hpp"

#include <string>

namespace tk::crypto {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tk.crypto"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::malformed:
        return "malformed token or value";
      case Errc::bad_signature:
        return "bad signature";
      case Errc::wrong_purpose:
        return "token of another purpose";
      case Errc::unknown_key:
        return "unknown key id";
      case Errc::expired:
        return "token expired";
      case Errc::weak_secret:
        return "secret too weak";
      case Errc::overloaded:
        return "password hashing overloaded";
    }
    return "unknown crypto error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category c;
  return c;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace tk::crypto
