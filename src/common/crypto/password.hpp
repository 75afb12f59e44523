#pragma once
// argon2id password hashing on a bounded pool of its own threads, never on an I/O thread.
#include <sodium.h>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/crypto/blocking_pool.hpp"
#include "common/result.hpp"

namespace tk::crypto {

// Costs come from configuration. The default is libsodium's INTERACTIVE level (64 MiB, 2 passes:
// ~70 ms a hash on one core here), meant for online logins; MODERATE (256 MiB, ~530 ms) would cap
// two threads at ~4 hashes/s, far below the 1,000 sign-ups a minute the API promises. Tests and
// benchmarks use crypto_pwhash_OPSLIMIT_MIN / crypto_pwhash_MEMLIMIT_MIN. Peak memory is about
// threads * memlimit.
// The queue bounds how long a log-in may wait for a thread: max_queue / threads hashes, about
// 1.1 s at the INTERACTIVE cost with the default of 16 per thread.
struct PasswordOptions {
  unsigned long long opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  std::size_t memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  int threads = 2;
  std::size_t max_queue = 32;
  // Dummy hashes for unknown e-mails queued or running at once (0: one per thread). Past it,
  // burn() waits as long as a hash takes without computing one.
  std::size_t max_burns = 0;
};

class PasswordHasher {
 public:
  // Computes the dummy hash used by burn() with the same costs, so it blocks for one hash.
  // Throws std::invalid_argument for costs below argon2id's minimum.
  explicit PasswordHasher(PasswordOptions o);
  ~PasswordHasher();  // joins the pool; queued calls complete with Errc::overloaded
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // Runs on the pool, resumes the caller on its own executor. Errc::overloaded when the queue
  // is full (answer 503) or libsodium could not get the memory.
  boost::asio::awaitable<tk::Result<std::string>> hash(std::string password);
  // true/false for match/mismatch; Errc::malformed when stored_hash is not an argon2id string.
  boost::asio::awaitable<tk::Result<bool>> verify(std::string stored_hash, std::string password);
  // For logins with an unknown e-mail, so that their timing matches a wrong password: verifies
  // against a fixed dummy hash in the pool's spare lane (it never takes a real log-in's queue
  // slot and runs only on a thread no real log-in waits for). Over the dummy-hash budget it
  // waits as long as a recent hash took, on a timer, without using a thread. Returns overloaded
  // when verify() would (the queue is full), so the caller answers 503 in both cases and the
  // status does not reveal which e-mails exist either.
  boost::asio::awaitable<tk::Status> burn(std::string password);

  // A recent verification's duration (moving average), what burn() waits when over budget.
  std::chrono::microseconds typical_hash_time() const {
    return std::chrono::microseconds(typical_us_.load(std::memory_order_relaxed));
  }

  // True when stored_hash was made with other costs (or another algorithm): rehash it after a
  // successful login. Cheap; runs inline.
  bool needs_rehash(std::string_view stored_hash) const;

  BlockingPool& pool() { return pool_; }  // for metrics (queue depth) and tests

 private:
  void record_hash_time(std::chrono::steady_clock::duration d);

  PasswordOptions opt_;
  std::string dummy_;
  std::atomic<std::int64_t> typical_us_{0};
  BlockingPool pool_;  // last member: destroyed (joined) first, while the others are still alive
};

}  // namespace tk::crypto
