#include "common/result.hpp"

#include <gtest/gtest.h>

namespace {
enum class E { bad = 1 };
}
namespace std {
template <>
struct is_error_code_enum<E> : true_type {};
}  // namespace std
namespace {
const std::error_category& cat() {
  static struct : std::error_category {
    const char* name() const noexcept override { return "t"; }
    std::string message(int) const override { return "bad"; }
  } c;
  return c;
}
std::error_code make_error_code(E e) { return {static_cast<int>(e), cat()}; }

tk::Result<int> half(int x) {
  if (x % 2) return E::bad;
  return x / 2;
}
}  // namespace

TEST(Result, CarriesValueOrError) {
  auto a = half(4);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 2);
  auto b = half(3);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.code(), make_error_code(E::bad));
  tk::Status s = E::bad;
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(tk::Status{}.ok());
}
