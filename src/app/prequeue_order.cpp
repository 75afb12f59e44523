#include "app/prequeue_order.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/crypto/encoding.hpp"
#include "domain/prequeue_shuffle.hpp"

namespace tk::app {

std::int64_t PreQueueOrder::position_of(std::int64_t entry) const {
  auto it = std::lower_bound(entries.begin(), entries.end(), entry);
  if (it == entries.end() || *it != entry) return 0;
  return positions[static_cast<std::size_t>(it - entries.begin())];
}

std::optional<std::int64_t> PreQueueOrder::entry_of(std::int64_t account_num) const {
  auto it = std::lower_bound(by_account.begin(), by_account.end(),
                             std::pair<std::int64_t, std::uint32_t>{account_num, 0});
  if (it == by_account.end() || it->first != account_num) return std::nullopt;
  return entries[it->second];
}

PreQueueOrder PreQueueOrder::draw(const PreQueueList& list) {
  PreQueueOrder o;
  o.entries = list.entries;
  std::array<std::uint8_t, 32> seed{};
  std::memcpy(seed.data(), list.seed.data(), std::min(list.seed.size(), seed.size()));
  o.positions =
      domain::positions_by_index(domain::shuffle_order(seed, static_cast<std::uint32_t>(o.size())));
  o.by_account.reserve(list.account_nums.size());
  for (std::size_t i = 0; i < list.account_nums.size(); ++i) {
    o.by_account.emplace_back(list.account_nums[i], static_cast<std::uint32_t>(i));
  }
  std::sort(o.by_account.begin(), o.by_account.end());
  o.seed_hex = crypto::hex_encode(list.seed);
  return o;
}

std::string entry_id(std::int64_t entry) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  auto u = static_cast<std::uint64_t>(entry);
  for (int i = 15; i >= 0; --i, u >>= 4) out[static_cast<std::size_t>(i)] = kHex[u & 15];
  return out;
}

}  // namespace tk::app
