#include "common/crypto/password.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "common/crypto/encoding.hpp"
#include "common/crypto/errors.hpp"

namespace tk::crypto {
namespace {

constexpr std::string_view kPrefix = "$argon2id$";

tk::Result<std::string> hash_now(std::string& password, unsigned long long ops, std::size_t mem) {
  char out[crypto_pwhash_STRBYTES];
  const int rc = crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                                       crypto_pwhash_ALG_ARGON2ID13);
  sodium_memzero(password.data(), password.size());  // do not leave plaintext in freed memory
  if (rc != 0) return Errc::overloaded;              // out of memory
  return std::string(out);
}

bool looks_like_argon2id(std::string_view s) {
  return s.size() < crypto_pwhash_STRBYTES && s.substr(0, kPrefix.size()) == kPrefix &&
         s.find('\0') == std::string_view::npos;
}

bool verify_now(const std::string& stored, std::string& password) {
  const bool ok = crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
  sodium_memzero(password.data(), password.size());
  return ok;
}

}  // namespace

PasswordHasher::PasswordHasher(PasswordOptions o)
    : opt_(o),
      pool_(o.threads, o.max_queue,
            o.max_burns > 0 ? o.max_burns : static_cast<std::size_t>(std::max(1, o.threads))) {
  init();
  if (o.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      o.memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
    throw std::invalid_argument("argon2id costs below the minimum");
  }
  std::string pw = random_bytes(16);
  const auto t0 = std::chrono::steady_clock::now();
  auto h = hash_now(pw, opt_.opslimit, opt_.memlimit);
  if (!h) throw std::runtime_error("argon2id: cannot compute the dummy hash (memory)");
  typical_us_ =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  dummy_ = std::move(h).value();
}

void PasswordHasher::record_hash_time(std::chrono::steady_clock::duration d) {
  // Moving average over about eight hashes; a lost update between threads is harmless.
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  const auto old = typical_us_.load(std::memory_order_relaxed);
  typical_us_.store(old + (us - old) / 8, std::memory_order_relaxed);
}

PasswordHasher::~PasswordHasher() = default;

boost::asio::awaitable<tk::Result<std::string>> PasswordHasher::hash(std::string password) {
  // Jobs are named locals, not prvalues inside co_await: GCC 12 bit-copies a closure (or any
  // aggregate with a std::string) passed as a prvalue there, freeing a pointer into our frame.
  auto job = [pw = std::move(password), ops = opt_.opslimit, mem = opt_.memlimit]() mutable {
    return hash_now(pw, ops, mem);
  };
  co_return co_await pool_.run(std::move(job));
}

boost::asio::awaitable<tk::Result<bool>> PasswordHasher::verify(std::string stored_hash,
                                                                std::string password) {
  if (!looks_like_argon2id(stored_hash)) {
    sodium_memzero(password.data(), password.size());
    co_return Errc::malformed;
  }
  auto job = [this, h = std::move(stored_hash), pw = std::move(password)]() mutable {
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = verify_now(h, pw);
    record_hash_time(std::chrono::steady_clock::now() - t0);
    return tk::Result<bool>(ok);
  };
  co_return co_await pool_.run(std::move(job));
}

boost::asio::awaitable<tk::Status> PasswordHasher::burn(std::string password) {
  if (pool_.saturated()) {  // what verify() would answer now
    sodium_memzero(password.data(), password.size());
    co_return Errc::overloaded;
  }
  // dummy_ outlives every job: pool_ is destroyed first and never runs a job after that.
  auto job = [this, pw = std::move(password)]() mutable {
    (void)verify_now(dummy_, pw);
    return tk::Status{};
  };
  auto burned = co_await pool_.run(std::move(job), BlockingPool::Lane::spare);
  if (burned) co_return burned;
  // Over the budget: as long as a hash takes, but on a timer, so a flood of unknown e-mails
  // costs no thread a real log-in could use.
  boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor, typical_hash_time());
  auto [ec] = co_await wait.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  (void)ec;
  co_return tk::Status{};
}

bool PasswordHasher::needs_rehash(std::string_view stored_hash) const {
  if (!looks_like_argon2id(stored_hash)) return true;
  const std::string s(stored_hash);
  return crypto_pwhash_str_needs_rehash(s.c_str(), opt_.opslimit, opt_.memlimit) != 0;
}

}  // namespace tk::crypto
