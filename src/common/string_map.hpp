#pragma once
// Hash maps keyed by std::string that accept a std::string_view lookup without building a
// string (transparent hashing): hot paths look up by views into the request.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tk {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

}  // namespace tk
