#include "common/allocator.hpp"

#include <cstddef>

// Weak: resolved to jemalloc's when the executable links it, null otherwise. No header needed,
// so the same object serves builds with and without jemalloc.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace tk::allocator {

std::string name() {
  if (mallctl == nullptr) return "libc";
  const char* version = nullptr;
  std::size_t len = sizeof version;
  if (mallctl("version", &version, &len, nullptr, 0) != 0 || version == nullptr) return "jemalloc";
  // "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c": the release is enough.
  std::string v(version);
  return "jemalloc " + v.substr(0, v.find('-'));
}

std::optional<Stats> stats() {
  if (mallctl == nullptr) return std::nullopt;
  // jemalloc caches its statistics; writing the epoch refreshes them.
  std::uint64_t epoch = 1;
  std::size_t len = sizeof epoch;
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) return std::nullopt;
  Stats s;
  std::size_t v = 0;
  len = sizeof v;
  if (mallctl("stats.allocated", &v, &len, nullptr, 0) != 0) return std::nullopt;
  s.allocated = v;
  len = sizeof v;
  if (mallctl("stats.resident", &v, &len, nullptr, 0) != 0) return std::nullopt;
  s.resident = v;
  return s;
}

}  // namespace tk::allocator
