#pragma once
// A drawn pre-queue as every process holds it in memory: each entry's position, and each
// account's entry (so a buyer joining again gets the same place). Built once per process when the
// sale opens, immutable afterwards, read by the status poll without a lock.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/ports/queue.hpp"

namespace tk::app {

struct PreQueueOrder {
  std::vector<std::int64_t> entries;     // ascending: the published list
  std::vector<std::uint32_t> positions;  // positions[i]: the position drawn for entries[i]
  std::vector<std::pair<std::int64_t, std::uint32_t>> by_account;  // (account_num, i), ascending
  std::string seed_hex;

  std::int64_t size() const { return static_cast<std::int64_t>(entries.size()); }
  // 0: not an entry of this pre-queue.
  std::int64_t position_of(std::int64_t entry) const;
  std::optional<std::int64_t> entry_of(std::int64_t account_num) const;

  // Draws the order (domain::shuffle_order over the entries, ascending): about 0.1 s per million
  // entries, so callers run it off the I/O threads.
  static PreQueueOrder draw(const PreQueueList& list);
};

// An entry number as published: 16 lowercase hex digits, so text order is number order.
std::string entry_id(std::int64_t entry);

}  // namespace tk::app
