#pragma once
// Bounds the calls in flight per key (a client address) across threads: a caller holds a Permit
// while its work runs and gives the slot back when the permit goes. Used for password hashing,
// so one address cannot fill the hasher's queue that every log-in shares.
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace tk::app {

class InFlightLimit {
 public:
  class Permit {
   public:
    Permit(Permit&& o) noexcept
        : owner_(std::exchange(o.owner_, nullptr)), key_(std::move(o.key_)) {}
    Permit& operator=(Permit&&) = delete;
    Permit(const Permit&) = delete;
    ~Permit() {
      if (owner_ != nullptr) owner_->release(key_);
    }

   private:
    friend class InFlightLimit;
    Permit(InFlightLimit* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    InFlightLimit* owner_;
    std::string key_;
  };

  // per_key < 1 is taken as 1.
  explicit InFlightLimit(int per_key) : per_key_(per_key < 1 ? 1 : per_key) {}
  InFlightLimit(const InFlightLimit&) = delete;
  InFlightLimit& operator=(const InFlightLimit&) = delete;

  // nullopt when `key` already has per_key calls in flight.
  std::optional<Permit> try_acquire(std::string_view key) {
    std::lock_guard lk(mu_);
    auto [it, added] = in_flight_.try_emplace(std::string(key), 0);
    if (it->second >= per_key_) return std::nullopt;
    ++it->second;
    return Permit(this, it->first);
  }

  // Keys with calls in flight (entries are dropped when their count returns to zero).
  std::size_t keys() const {
    std::lock_guard lk(mu_);
    return in_flight_.size();
  }

 private:
  void release(const std::string& key) {
    std::lock_guard lk(mu_);
    auto it = in_flight_.find(key);
    if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
  }

  const int per_key_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> in_flight_;
};

}  // namespace tk::app
