#pragma once
// Asynchronous Redis client: one TCP connection, automatic pipelining, reconnect with backoff.
//
// Threading: a Client lives on one executor (one io_context run by one thread: the service makes
// one Client per io_context). exec()/eval() must be called from coroutines running on that thread;
// the client is not thread-safe across executors. start(), stop(), connected(), reconnects() and
// the counters may be called from any thread.
#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "infra/redis/endpoint.hpp"
#include "infra/redis/errors.hpp"
#include "infra/redis/protocol.hpp"
#include "infra/redis/reply.hpp"

namespace tk::redis {

namespace asio = boost::asio;

// A Lua script known by its source. Clients load it with SCRIPT LOAD on first use and run it with
// EVALSHA. Immutable, so one Script (e.g. a static) may be shared by clients on many threads.
class Script {
 public:
  // `run_id_arg`: every call gets one more argument after the caller's, the run id of the
  // Redis process the call is sent to (ARGV[#ARGV]; see Client::run_id()).
  explicit Script(std::string source, bool run_id_arg = false);
  const std::string& source() const { return source_; }
  std::uint64_t id() const { return id_; }  // process-unique; clients key their SHA cache by it
  bool run_id_arg() const { return run_id_arg_; }

 private:
  std::string source_;
  std::uint64_t id_;
  bool run_id_arg_;
};

// Builds an argument vector (strings or integers), e.g. for eval's keys and args.
template <detail::ArgLike... A>
std::vector<std::string> arglist(const A&... a) {
  std::vector<std::string> v;
  v.reserve(sizeof...(A));
  (v.emplace_back(detail::Arg(a).view), ...);
  return v;
}

class Client : public std::enable_shared_from_this<Client> {
 public:
  static std::shared_ptr<Client> create(asio::any_io_executor ex, Endpoint ep, Options opt = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects in the background and keeps reconnecting with exponential backoff after drops.
  void start();
  // Closes the connection; pending and later commands fail with unavailable. start() may be
  // called again afterwards.
  void stop();
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  // Run id of the Redis process on the other end of the current connection, read once in the
  // handshake (INFO server): a restarted server has a new one. Empty before the first
  // connection or if the server does not report one. On the client's executor only.
  const std::string& run_id() const { return run_id_; }
  // Address of the node of the current (or last) connection: the configured one, or in Sentinel
  // mode the primary the sentinels named. Any thread.
  HostPort node() const;
  // How long the oldest command waiting for a reply has gone without any reply on the
  // connection (zero when nothing waits). Any thread.
  std::chrono::milliseconds unanswered_for() const;
  // Connected and answering: no command has waited longer than command_timeout without a reply.
  // What readiness reports; a stall past stall_timeout also drops the connection. Any thread.
  bool healthy() const;

  // Runs any command. A top-level error reply (-ERR, -WRONGTYPE...) is Errc::reply_error with the
  // text in Error.details["redis"]; errors nested in arrays stay Reply::Type::error elements.
  // Transient refusals (-LOADING, -BUSY, -MASTERDOWN, -TRYAGAIN, -CLUSTERDOWN) are unavailable.
  // In Sentinel mode a -READONLY reply (the node was demoted to a replica) is unavailable too and
  // drops the connection, so the next one goes to the primary the sentinels name.
  // Fails at once with unavailable while disconnected; if the connection drops with the command
  // in flight it fails with unavailable (its effect is unknown); timeout after command_timeout
  // (the command may still run), or sooner at the deadline of the request the calling coroutine
  // serves (common/deadline.hpp); past that deadline nothing is sent (unavailable).
  // Commands issued while a write is in flight are sent together in the next write (automatic
  // pipelining); replies are matched in FIFO order.
  asio::awaitable<tk::Result<Reply>> exec(std::vector<std::string> args);

  // Same, with the arguments given directly: strings, string_views, literals or integers, e.g.
  // co_await c->exec("HINCRBY", key, field, 1). Encodes from the arguments without building a
  // vector; they must stay alive until the result is awaited, so co_await the call at once.
  // Prefer this form in coroutines: GCC 12 rejects a braced list inside a co_await expression
  // ("array used as initializer"), so `co_await c->exec({"GET", k})` does not compile there.
  template <detail::ArgLike... A>
  requires(sizeof...(A) > 0) asio::awaitable<tk::Result<Reply>> exec(const A&... args) {
    const detail::Arg views[] = {detail::Arg(args)...};
    co_return co_await exec_args(std::span<const detail::Arg>(views));
  }

  // EVALSHA with keys and args. Loads the script on first use (SCRIPT LOAD) and, on NOSCRIPT
  // (Redis restarted or flushed), loads it again and retries once. Script errors are reply_error.
  // A script with run_id_arg() gets the run id of the connection the call is written to as its
  // last argument, taken when the call is queued on that connection.
  // In coroutines build keys/args with arglist(...) (see exec about GCC 12 and braced lists):
  // co_await c->eval(kJoin, arglist(queue_key, dedupe_key), arglist(account, now_ms)).
  asio::awaitable<tk::Result<Reply>> eval(const Script& s, std::vector<std::string> keys,
                                          std::vector<std::string> args);

  // Metrics.
  std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }
  std::uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }  // socket writes
  std::uint64_t commands() const { return commands_.load(std::memory_order_relaxed); }  // sent
  std::string last_error() const;  // why the last connect attempt or connection failed
  // Connections dropped because they stalled (stall_timeout) and commands refused because the
  // queues were full (max_pending, max_out_bytes).
  std::uint64_t stall_drops() const { return stall_drops_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  // Internal coroutines (connection loop, reader, writer, watchdog) that ended with an exception;
  // each is logged, and the connection is dropped and re-established.
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

#ifdef TK_TEST_HOOKS
  // Test builds only: the reader throws after its next read, as an unexpected bug would.
  void fail_next_read_for_test() { fail_next_read_ = true; }
#endif

 private:
  using Handler = asio::any_completion_handler<void(tk::Result<Reply>)>;
  struct Pending {
    Handler handler;  // empty once the caller got a timeout: the reply is then discarded
    std::chrono::steady_clock::time_point deadline;
  };
  struct ScriptEntry {
    std::string source;
    std::string sha;  // empty until loaded
  };

  Client(asio::any_io_executor ex, Endpoint ep, Options opt);

  asio::awaitable<tk::Result<Reply>> exec_args(std::span<const detail::Arg> args);
  template <class Encode>
  asio::awaitable<tk::Result<Reply>> request(Encode& encode);  // raw: error replies are values
  template <class Encode>
  void submit(Handler h, Encode& encode, std::chrono::steady_clock::time_point request_deadline);
  void complete(Handler h, tk::Result<Reply> r);

  asio::awaitable<void> run(bool after_failure);
  asio::awaitable<void> watchdog(std::uint64_t gen);
  // co_spawn with a completion that logs, counts and recovers from an escaped exception.
  void spawn(asio::awaitable<void> a, const char* name, std::uint64_t gen);
  void on_failure(const char* name, std::uint64_t gen, std::exception_ptr e);
  void set_waiting_since(std::chrono::steady_clock::time_point t);
  asio::awaitable<tk::Status> connect_once();
  asio::awaitable<void> reader(std::uint64_t gen);
  asio::awaitable<void> writer(std::uint64_t gen);
  void drop(std::uint64_t gen, std::string reason);  // connection `gen` is gone: fail in-flight
  void arm_timeout(std::chrono::steady_clock::time_point at);
  void on_timeout();
  void do_start();
  void do_stop();
  void set_last_error(std::string e);

  asio::any_io_executor ex_;
  Endpoint ep_;
  Options opt_;
  asio::ip::tcp::socket socket_;
  detail::Parser parser_;

  std::string out_;              // encoded commands not yet handed to a write
  std::deque<Pending> pending_;  // sent or queued, oldest first
  asio::steady_timer timeout_timer_;
  bool timeout_armed_ = false;
  std::chrono::steady_clock::time_point armed_at_{};  // while timeout_armed_
  asio::steady_timer write_signal_;                   // cancelled to wake the idle writer
  bool writer_idle_ = false;
  asio::steady_timer lost_signal_;  // cancelled to wake run() when the connection drops
  asio::steady_timer backoff_timer_;
  asio::steady_timer watch_timer_;
  std::chrono::steady_clock::time_point last_rx_{};  // last bytes read on the connection

  std::uint64_t conn_gen_ = 0;  // bumped on connect and on drop; stale coroutines compare it
  std::uint64_t run_gen_ = 0;   // bumped by start/stop so run() notices a stop
  bool running_ = false;
  bool loop_alive_ = false;
  std::unordered_map<std::uint64_t, ScriptEntry> scripts_;
  // Set by each handshake before the connection counts as connected; commands are encoded only
  // while connected and their unsent bytes are discarded with the connection, so an argument
  // taken from here at encoding time always names the server the command goes to.
  std::string run_id_;

  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> reconnects_{0}, writes_{0}, commands_{0};
  std::atomic<std::uint64_t> stall_drops_{0}, rejected_{0}, failures_{0};
  // steady_clock nanoseconds since the oldest waiting command started waiting for a reply
  // (queued into an idle connection, or the previous reply arrived); 0: nothing waits.
  std::atomic<std::int64_t> waiting_since_ns_{0};
#ifdef TK_TEST_HOOKS
  bool fail_next_read_ = false;
#endif
  mutable std::mutex last_error_mu_;  // last_error() and node() may be read from other threads
  std::string last_error_;
  HostPort node_;
};

}  // namespace tk::redis
