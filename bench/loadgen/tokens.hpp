#pragma once
// Session tokens of the pre-seeded buyers, packed in one arena: at a million buyers a string per
// token would cost an allocation and ~32 bytes of overhead each.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loadgen {

class Tokens {
 public:
  // Reads up to `max` lines `<account_num> <account_id> <session_token>`; throws on I/O errors.
  void load(const std::string& path, std::size_t max);
  std::size_t size() const { return off_.empty() ? 0 : off_.size() - 1; }
  std::string_view session(std::size_t i) const {
    return std::string_view(arena_).substr(off_[i], off_[i + 1] - 7 - off_[i]);
  }
  // "Bearer <token>" ready for the Authorization header.
  std::string_view bearer(std::size_t i) const {
    return std::string_view(arena_).substr(off_[i] - 7, off_[i + 1] - off_[i]);
  }

 private:
  std::string arena_;               // "Bearer <token>" back to back; off_ points past "Bearer "
  std::vector<std::uint64_t> off_;  // off_[i + 1] - 7: end of token i
};

// The account ids of buyers `idx` (numbered as Tokens::load numbers them), read again from the
// file: only the few checks after a run need them, so the arena does not keep them.
std::vector<std::string> account_ids(const std::string& path, const std::vector<std::size_t>& idx);

}  // namespace loadgen
