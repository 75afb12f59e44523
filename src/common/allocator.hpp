// The memory allocator the process runs on, for the start-up log and the metrics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tk::allocator {

// "jemalloc <version>" when the executable was linked with jemalloc (release builds, see
// src/main/CMakeLists.txt), else "libc" (sanitizer builds keep the sanitizer's allocator).
std::string name();

// jemalloc's own figures, refreshed on each call (mallctl "epoch"); nothing under libc.
struct Stats {
  std::uint64_t allocated = 0;  // bytes in live allocations
  std::uint64_t resident = 0;   // bytes of the allocator's pages in physical memory
};
std::optional<Stats> stats();

}  // namespace tk::allocator
