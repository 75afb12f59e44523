#include "infra/redis/errors.hpp"

namespace tk::redis {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::unavailable:
        return "redis unavailable";
      case Errc::reply_error:
        return "redis error reply";
      case Errc::protocol_error:
        return "redis protocol error";
      case Errc::timeout:
        return "redis command timed out";
    }
    return "unknown redis error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const Category c;
  return c;
}

}  // namespace tk::redis
