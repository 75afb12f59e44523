#pragma once
// A parsed RESP2 reply, as a plain value tree.
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tk::redis {

struct Reply {
  enum class Type { nil, integer, string, status, error, array };

  Type type = Type::nil;
  long long integer = 0;
  std::string str;  // bulk string, status text or error text
  std::vector<Reply> elements;

  bool is_nil() const { return type == Type::nil; }
  bool is_error() const { return type == Type::error; }
  bool is_integer() const { return type == Type::integer; }
  bool is_string() const { return type == Type::string; }  // bulk string
  bool is_status() const { return type == Type::status; }  // +OK, +PONG...
  bool is_array() const { return type == Type::array; }
  bool is_ok() const { return type == Type::status && str == "OK"; }

  // Text of a bulk string, status or error; empty for other types.
  std::string_view view() const { return str; }

  // Integer value of an integer reply or of a bulk string holding a decimal integer (Lua scripts
  // and HGET return numbers as strings); nullopt otherwise.
  std::optional<long long> to_int() const {
    if (type == Type::integer) return integer;
    if (type != Type::string && type != Type::status) return std::nullopt;
    long long v = 0;
    auto [p, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
    if (ec != std::errc{} || p != str.data() + str.size() || str.empty()) return std::nullopt;
    return v;
  }

  // Convenience constructors (tests, fakes).
  static Reply nil() { return {}; }
  static Reply from_int(long long v) { return {Type::integer, v, {}, {}}; }
  static Reply from_string(std::string s) { return {Type::string, 0, std::move(s), {}}; }
  static Reply from_status(std::string s) { return {Type::status, 0, std::move(s), {}}; }
  static Reply from_error(std::string s) { return {Type::error, 0, std::move(s), {}}; }
  static Reply from_array(std::vector<Reply> e) { return {Type::array, 0, {}, std::move(e)}; }

  friend bool operator==(const Reply&, const Reply&) = default;
};

}  // namespace tk::redis
