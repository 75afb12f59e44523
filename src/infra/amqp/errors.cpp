#include "infra/amqp/errors.hpp"

#include <string>

namespace tk::amqp {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "amqp"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::unavailable:
        return "message broker unavailable";
      case Errc::overloaded:
        return "message broker queue full";
      case Errc::nacked:
        return "message refused by the broker";
      case Errc::unroutable:
        return "message matched no queue";
      case Errc::timeout:
        return "message not confirmed in time";
      case Errc::channel_closed:
        return "channel closed by the broker";
      case Errc::stopped:
        return "message broker client stopped";
      case Errc::bad_endpoint:
        return "malformed amqp URL";
    }
    return "unknown amqp error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const Category c;
  return c;
}

}  // namespace tk::amqp
