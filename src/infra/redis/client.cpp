#include "infra/redis/client.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/deadline.hpp"
#include "common/log.hpp"
#include "common/supervisor.hpp"

namespace tk::redis {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using SteadyClock = std::chrono::steady_clock;

std::atomic<std::uint64_t> g_next_script_id{1};

// Single-writer counters: a relaxed load+store avoids a locked RMW on the hot path.
void bump(std::atomic<std::uint64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

std::string describe(const tk::Error& e) {
  std::string s = e.code.message();
  for (const char* k : {"reason", "redis"}) {
    if (auto it = e.details.find(k); it != e.details.end() && it->value().is_string()) {
      s += ": ";
      s += it->value().as_string();
    }
  }
  return s;
}

}  // namespace

Script::Script(std::string source, bool run_id_arg)
    : source_(std::move(source)),
      id_(g_next_script_id.fetch_add(1, std::memory_order_relaxed)),
      run_id_arg_(run_id_arg) {}

std::shared_ptr<Client> Client::create(asio::any_io_executor ex, Endpoint ep, Options opt) {
  return std::shared_ptr<Client>(new Client(std::move(ex), std::move(ep), opt));
}

Client::Client(asio::any_io_executor ex, Endpoint ep, Options opt)
    : ex_(std::move(ex)),
      ep_(std::move(ep)),
      opt_(opt),
      socket_(ex_),
      timeout_timer_(ex_),
      write_signal_(ex_),
      lost_signal_(ex_),
      backoff_timer_(ex_),
      watch_timer_(ex_) {}

Client::~Client() = default;

void Client::start() {
  asio::dispatch(ex_, [self = shared_from_this()] { self->do_start(); });
}

void Client::stop() {
  asio::dispatch(ex_, [self = shared_from_this()] { self->do_stop(); });
}

std::string Client::last_error() const {
  std::lock_guard lock(last_error_mu_);
  return last_error_;
}

HostPort Client::node() const {
  std::lock_guard lock(last_error_mu_);
  return node_;
}

void Client::set_last_error(std::string e) {
  std::lock_guard lock(last_error_mu_);
  last_error_ = std::move(e);
}

std::chrono::milliseconds Client::unanswered_for() const {
  const auto since = waiting_since_ns_.load(std::memory_order_relaxed);
  if (since == 0) return std::chrono::milliseconds(0);
  const auto now = SteadyClock::now().time_since_epoch().count();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      SteadyClock::duration(std::max<std::int64_t>(0, now - since)));
}

bool Client::healthy() const {
  if (!connected()) return false;
  return opt_.command_timeout.count() <= 0 || unanswered_for() < opt_.command_timeout;
}

void Client::set_waiting_since(SteadyClock::time_point t) {
  waiting_since_ns_.store(t == SteadyClock::time_point{} ? 0 : t.time_since_epoch().count(),
                          std::memory_order_relaxed);
}

// --- supervision ----------------------------------------------------------------------------

void Client::spawn(asio::awaitable<void> a, const char* name, std::uint64_t gen) {
  asio::co_spawn(ex_, std::move(a), [self = shared_from_this(), name, gen](std::exception_ptr e) {
    if (e) self->on_failure(name, gen, e);
  });
}

// An exception escaping one of the client's coroutines is a bug, but it must not leave the
// client silently half-dead (a reader gone means every later command times out): log it, count
// it, and start from a clean connection.
void Client::on_failure(const char* name, std::uint64_t gen, std::exception_ptr e) {
  const std::string what = describe_exception(e);
  bump(failures_);
  const HostPort at = node();
  log::error("redis client coroutine failed",
             {{"coroutine", name}, {"error", what}, {"host", at.host}, {"port", at.port}});
  if (std::string_view(name) == "run") {
    loop_alive_ = false;
    drop(conn_gen_, "internal error: " + what);
    if (running_) spawn(run(true), "run", 0);
    return;
  }
  drop(gen, "internal error: " + what);
}

void Client::do_start() {
  if (running_) return;
  running_ = true;
  ++run_gen_;
  // A run() loop still winding down from a stop() notices the new generation and starts over.
  if (!loop_alive_) spawn(run(false), "run", 0);
}

void Client::do_stop() {
  if (!running_) return;
  running_ = false;
  ++run_gen_;
  drop(conn_gen_, "stopped");
  boost::system::error_code ignored;
  socket_.close(ignored);  // aborts a connect or handshake in progress
  backoff_timer_.cancel();
  lost_signal_.cancel();
  timeout_timer_.cancel();
  timeout_armed_ = false;
  watch_timer_.cancel();
}

// --- connection lifecycle -------------------------------------------------------------------

asio::awaitable<void> Client::run(bool after_failure) {
  auto self = shared_from_this();
  loop_alive_ = true;
  auto backoff = opt_.reconnect_min;
  bool first = !after_failure;
  if (after_failure) {  // a loop that keeps failing must not spin
    backoff_timer_.expires_after(opt_.reconnect_max);
    co_await backoff_timer_.async_wait(kTuple);
  }
  while (running_) {
    const auto rg = run_gen_;
    auto st = co_await connect_once();
    if (rg != run_gen_) {  // stopped (and maybe restarted) meanwhile
      boost::system::error_code ignored;
      socket_.close(ignored);
      backoff = opt_.reconnect_min;
      continue;
    }
    if (st.ok()) {
      if (!first) bump(reconnects_);
      first = false;
      backoff = opt_.reconnect_min;
      const auto gen = ++conn_gen_;
      connected_.store(true, std::memory_order_relaxed);
      last_rx_ = SteadyClock::now();
      spawn(reader(gen), "reader", gen);
      spawn(writer(gen), "writer", gen);
      if (opt_.stall_timeout.count() > 0) spawn(watchdog(gen), "watchdog", gen);
      while (gen == conn_gen_) {
        lost_signal_.expires_at(SteadyClock::time_point::max());
        co_await lost_signal_.async_wait(kTuple);
      }
      if (rg != run_gen_) continue;
    } else {
      set_last_error(describe(st.error()));
    }
    // Even after a healthy connection drops, wait reconnect_min: a server that accepts and then
    // closes at once must not make this a hot loop.
    backoff_timer_.expires_after(backoff);
    co_await backoff_timer_.async_wait(kTuple);
    backoff = std::min(backoff * 2, opt_.reconnect_max);
  }
  loop_alive_ = false;
}

asio::awaitable<tk::Status> Client::connect_once() {
  // Known scripts are loaded again in the handshake, so EVALSHA works at once after a Redis
  // restart instead of costing every script a NOSCRIPT round trip.
  std::string extra;
  std::vector<ScriptEntry*> loading;
  for (auto& [id, e] : scripts_) {
    if (e.sha.empty()) continue;
    detail::append_command(extra, {"SCRIPT", "LOAD", e.source});
    loading.push_back(&e);  // unordered_map nodes are stable and never erased
  }
  std::string run_id;
  HostPort node;
  auto replies = co_await detail::open(socket_, parser_, ep_, opt_, std::move(extra),
                                       loading.size(), &run_id, &node);
  if (!replies) co_return std::move(replies).error();
  if (run_id.empty()) {
    log::warn("redis server reports no run id: restarts are not detected by it",
              {{"host", node.host}, {"port", node.port}});
  }
  if (!ep_.sentinels.empty() && (node.host != node_.host || node.port != node_.port)) {
    log::info("redis primary found through sentinel", {{"master", ep_.master_name},
                                                       {"host", node.host},
                                                       {"port", node.port},
                                                       {"run_id", run_id}});
  }
  {
    std::lock_guard lock(last_error_mu_);
    node_ = std::move(node);
  }
  run_id_ = std::move(run_id);
  for (std::size_t i = 0; i < loading.size(); ++i) {
    // An error here is left to eval()'s NOSCRIPT path.
    if ((*replies)[i].is_string()) loading[i]->sha = std::move((*replies)[i].str);
  }
  co_return tk::Status{};
}

void Client::drop(std::uint64_t gen, std::string reason) {
  if (gen != conn_gen_) return;  // a stale coroutine of an older connection
  ++conn_gen_;
  connected_.store(false, std::memory_order_relaxed);
  set_last_error(std::move(reason));
  boost::system::error_code ignored;
  socket_.close(ignored);
  out_.clear();
  parser_.reset();
  // Sent commands may or may not have run: the callers get unavailable and decide.
  auto pending = std::move(pending_);
  pending_.clear();
  set_waiting_since({});
  // `in_flight`: the command may have run (unlike a refusal while disconnected).
  for (auto& p : pending) {
    if (p.handler) {
      complete(std::move(p.handler), tk::Error{Errc::unavailable, {{"in_flight", true}}});
    }
  }
  writer_idle_ = false;
  write_signal_.cancel();
  lost_signal_.cancel();
  watch_timer_.cancel();
}

// Drops a connection whose oldest waiting command had no reply for stall_timeout, and keeps an
// idle connection probed with PING so that rule also covers a connection nobody uses. Timed-out
// commands alone would leave a stuck connection in use (their late replies are still awaited).
asio::awaitable<void> Client::watchdog(std::uint64_t gen) {
  auto self = shared_from_this();
  using std::chrono::milliseconds;
  auto tick = opt_.stall_timeout / 4;
  if (opt_.ping_interval.count() > 0) tick = std::min(tick, opt_.ping_interval / 2);
  tick = std::clamp<milliseconds>(tick, milliseconds(10), milliseconds(250));
  auto last_ping = SteadyClock::now();
  while (gen == conn_gen_) {
    watch_timer_.expires_after(tick);
    co_await watch_timer_.async_wait(kTuple);
    if (gen != conn_gen_) co_return;
    const auto now = SteadyClock::now();
    const auto waiting = unanswered_for();
    if (waiting.count() > 0 && waiting >= opt_.stall_timeout) {
      bump(stall_drops_);
      log::warn("redis connection stalled; reconnecting",
                {{"unanswered_ms", waiting.count()}, {"pending", pending_.size()}});
      drop(gen, "no reply for " + std::to_string(waiting.count()) + " ms");
      co_return;
    }
    if (waiting.count() == 0 && opt_.ping_interval.count() > 0 &&
        now - last_rx_ >= opt_.ping_interval && now - last_ping >= opt_.ping_interval) {
      last_ping = now;
      auto encode = [](std::string& out) { detail::append_command(out, {"PING"}); };
      submit(Handler([](tk::Result<Reply>) {}), encode, SteadyClock::time_point::max());
    }
  }
}

asio::awaitable<void> Client::reader(std::uint64_t gen) {
  auto self = shared_from_this();
  std::vector<char> buf(64 * 1024);
  Reply reply;
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), kTuple);
    if (gen != conn_gen_) co_return;
    if (ec) {
      drop(gen, ec == asio::error::eof ? "connection closed by server" : ec.message());
      co_return;
    }
#ifdef TK_TEST_HOOKS
    if (fail_next_read_) {
      fail_next_read_ = false;
      throw std::runtime_error("injected reader failure");
    }
#endif
    last_rx_ = SteadyClock::now();
    parser_.feed(buf.data(), n);
    for (;;) {
      auto st = parser_.next(reply);
      if (st == detail::Parser::Next::need_more) break;
      if (st == detail::Parser::Next::error) {
        drop(gen, "protocol error: " + parser_.error());
        co_return;
      }
      if (pending_.empty()) {
        drop(gen, "protocol error: reply without a command");
        co_return;
      }
      Handler h = std::move(pending_.front().handler);
      pending_.pop_front();
      // The next command's wait for an answer starts now: Redis is answering.
      set_waiting_since(pending_.empty() ? SteadyClock::time_point{} : last_rx_);
      if (!ep_.sentinels.empty() && reply.is_error() && reply.str.starts_with("READONLY ")) {
        // The primary was demoted under this connection (a failover that did not close it): the
        // write did not run. Fail it like a refusal and find the primary again; the commands
        // behind it fail with unavailable (in_flight) when the connection drops.
        if (h) {
          complete(std::move(h),
                   tk::Error{Errc::unavailable,
                             {{"reason", "node is a replica"}, {"redis", reply.str}}});
        }
        drop(gen, "node is a replica (READONLY): asking the sentinels again");
        co_return;
      }
      if (!h) continue;  // its caller already got a timeout: drop the late reply
      complete(std::move(h), std::move(reply));
      reply = Reply{};
    }
  }
}

asio::awaitable<void> Client::writer(std::uint64_t gen) {
  auto self = shared_from_this();
  std::string buf;  // swapped with out_: both keep their capacity, no per-write allocation
  while (gen == conn_gen_) {
    if (out_.empty()) {
      writer_idle_ = true;
      write_signal_.expires_at(SteadyClock::time_point::max());
      co_await write_signal_.async_wait(kTuple);
      continue;
    }
    // Everything queued since the last write goes out in one write: automatic pipelining.
    buf.swap(out_);
    bump(writes_);
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(buf), kTuple);
    (void)n;
    buf.clear();
    if (gen != conn_gen_) co_return;
    if (ec) {
      drop(gen, "write: " + ec.message());
      co_return;
    }
  }
}

// --- commands -------------------------------------------------------------------------------

void Client::complete(Handler h, tk::Result<Reply> r) {
  // Always via post: resuming the caller inline would run its code inside the reader loop.
  auto hex = asio::get_associated_executor(h, ex_);
  asio::post(ex_,
             asio::bind_executor(std::move(hex), [h = std::move(h), r = std::move(r)]() mutable {
               std::move(h)(std::move(r));
             }));
}

template <class Encode>
void Client::submit(Handler h, Encode& encode, SteadyClock::time_point request_deadline) {
  if (!connected_.load(std::memory_order_relaxed)) {
    complete(std::move(h), Errc::unavailable);  // fail fast: the service answers 503
    return;
  }
  // A server that stopped answering must not make the queues (and the callers' frames behind
  // them) grow without bound: past the bounds, fail fast like a disconnected client.
  if (pending_.size() >= opt_.max_pending || out_.size() >= opt_.max_out_bytes) {
    bump(rejected_);
    complete(std::move(h), tk::Error{Errc::unavailable, {{"reason", "redis queue full"}}});
    return;
  }
  // The sooner of the command timeout and the deadline of the request it serves (carried by the
  // caller's executor). A request already past its deadline sends nothing.
  const auto now = SteadyClock::now();
  auto deadline = request_deadline;
  if (opt_.command_timeout.count() > 0) deadline = std::min(deadline, now + opt_.command_timeout);
  if (deadline <= now) {
    // Not sent, so known not to have run (unlike a timeout): unavailable.
    complete(std::move(h), tk::Error{Errc::unavailable, {{"reason", "request deadline passed"}}});
    return;
  }
  if (pending_.empty()) set_waiting_since(now);
  encode(out_);
  bump(commands_);
  pending_.push_back(Pending{std::move(h), deadline});
  if (deadline != SteadyClock::time_point::max() && (!timeout_armed_ || deadline < armed_at_)) {
    arm_timeout(deadline);
  }
  if (writer_idle_) {
    writer_idle_ = false;
    write_signal_.cancel();
  }
}

// Returns the operation's awaitable directly (no coroutine frame of its own). `encode` runs at
// initiation, when the caller has suspended; it is an lvalue of the caller's frame.
template <class Encode>
asio::awaitable<tk::Result<Reply>> Client::request(Encode& encode) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(tk::Result<Reply>)>(
      [this, &encode](auto handler) {
        // Read before type erasure: the handler's executor is the calling coroutine's.
        const auto deadline = deadline_of(asio::get_associated_executor(handler, ex_));
        submit(Handler(std::move(handler)), encode, deadline);
      },
      asio::use_awaitable);
}

// One timer for all commands, armed at the soonest deadline. Commands without a request
// deadline expire in the order they were sent; one serving a request may expire before older
// ones, so an expiry scans the queue (it runs once per deadline reached, not per command).
void Client::arm_timeout(SteadyClock::time_point at) {
  timeout_armed_ = true;
  armed_at_ = at;
  // Re-arming cancels the previous wait; its handler sees operation_aborted and does nothing.
  timeout_timer_.expires_at(at);
  timeout_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->on_timeout();
  });
}

void Client::on_timeout() {
  timeout_armed_ = false;
  const auto now = SteadyClock::now();
  auto next = SteadyClock::time_point::max();
  for (auto& p : pending_) {
    if (!p.handler) continue;
    if (p.deadline <= now) {
      // The entry stays queued (empty handler) so its late reply is consumed in FIFO order.
      complete(std::move(p.handler), Errc::timeout);
      p.handler = nullptr;
    } else {
      next = std::min(next, p.deadline);
    }
  }
  if (next != SteadyClock::time_point::max()) arm_timeout(next);
}

asio::awaitable<tk::Result<Reply>> Client::exec(std::vector<std::string> args) {
  if (args.empty()) co_return std::make_error_code(std::errc::invalid_argument);
  auto encode = [&args](std::string& out) { detail::append_command(out, args); };
  auto r = co_await request(encode);
  if (r && r->is_error()) co_return detail::reply_error(r->str);
  co_return r;
}

asio::awaitable<tk::Result<Reply>> Client::exec_args(std::span<const detail::Arg> args) {
  auto encode = [args](std::string& out) { detail::append_command(out, args); };
  auto r = co_await request(encode);
  if (r && r->is_error()) co_return detail::reply_error(r->str);
  co_return r;
}

asio::awaitable<tk::Result<Reply>> Client::eval(const Script& s, std::vector<std::string> keys,
                                                std::vector<std::string> args) {
  auto [it, inserted] = scripts_.try_emplace(s.id());
  ScriptEntry& e = it->second;  // node-based map: stays valid across co_await
  if (inserted) e.source = s.source();
  for (int attempt = 0;; ++attempt) {
    if (e.sha.empty() || attempt > 0) {
      // Concurrent first uses may each load the script; SCRIPT LOAD is idempotent.
      auto load = [&e](std::string& out) {
        detail::append_command(out, {"SCRIPT", "LOAD", e.source});
      };
      auto loaded = co_await request(load);
      if (!loaded) co_return loaded;
      if (loaded->is_error()) co_return detail::reply_error(loaded->str);
      if (!loaded->is_string()) co_return Errc::protocol_error;
      e.sha = std::move(loaded->str);
    }
    // Runs when the call is queued on the current connection: run_id_ is that connection's.
    const bool with_run_id = s.run_id_arg();
    auto evalsha = [&](std::string& out) {
      detail::append_evalsha(out, e.sha, keys, args, with_run_id ? &run_id_ : nullptr);
    };
    auto r = co_await request(evalsha);
    if (!r || !r->is_error()) co_return r;
    if (attempt == 0 && r->str.starts_with("NOSCRIPT")) continue;
    co_return detail::reply_error(r->str);
  }
}

}  // namespace tk::redis
