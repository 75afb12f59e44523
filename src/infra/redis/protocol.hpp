#pragma once
// Internal building blocks shared by Client and Subscriber: RESP encoding, the hiredis-backed
// reply parser and the connect + handshake sequence. Not part of the public API.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <charconv>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/result.hpp"
#include "infra/redis/endpoint.hpp"
#include "infra/redis/reply.hpp"

struct redisReader;

namespace tk::redis::detail {

namespace asio = boost::asio;

// One command argument seen as bytes: strings are viewed (binary-safe), integers are formatted
// into the inline buffer. Not copyable: `view` may point into `buf`.
struct Arg {
  std::string_view view;
  char buf[24];

  Arg(std::string_view s) : view(s) {}    // NOLINT(google-explicit-constructor)
  Arg(const std::string& s) : view(s) {}  // NOLINT(google-explicit-constructor)
  Arg(const char* s) : view(s) {}         // NOLINT(google-explicit-constructor)
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char>)
      Arg(I v) {  // NOLINT(google-explicit-constructor)
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;  // 24 chars hold any 64-bit integer
    view = std::string_view(buf, static_cast<std::size_t>(p - buf));
  }
  Arg(const Arg&) = delete;
  Arg& operator=(const Arg&) = delete;
};

template <class A>
concept ArgLike = std::is_constructible_v<Arg, const A&>;

// Appends one command as a RESP array of bulk strings (binary-safe) to `out`.
void append_command(std::string& out, std::span<const std::string> args);
void append_command(std::string& out, std::initializer_list<std::string_view> args);
void append_command(std::string& out, std::span<const Arg> args);
// EVALSHA sha numkeys keys... args... without building an argument vector.
// `last`, when given, is one more argument after `args` (the connection's run id).
void append_evalsha(std::string& out, std::string_view sha, std::span<const std::string> keys,
                    std::span<const std::string> args, const std::string* last = nullptr);

// Incremental RESP2 parser on top of hiredis' redisReader that builds Reply trees directly
// (custom reply-object functions: no intermediate redisReply tree).
class Parser {
 public:
  Parser();
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  void reset();  // forget buffered bytes and any error (new connection)
  void feed(const char* data, std::size_t n);
  enum class Next { reply, need_more, error };
  Next next(Reply& out);  // on error, error() describes it
  std::string error() const;

 private:
  redisReader* r_ = nullptr;
};

// Resolves and connects `sock`, sets TCP_NODELAY, then runs AUTH/SELECT as configured and PING,
// followed by `extra` (pre-encoded commands expecting `extra_replies` replies), all within
// opt.connect_timeout. Returns the replies to `extra`. An error reply to AUTH/SELECT/PING (wrong
// password, -LOADING...) is unavailable with the text in details["redis"].
// With `run_id`, then reads INFO server and stores the server's run id there (empty if the reply
// has none); an error reply to INFO fails the handshake like one to PING.
// With ep.sentinels, first asks them in turn (opt.sentinel_timeout each) for the primary of
// ep.master_name, connects there, and adds ROLE to the handshake: a node that is not "master"
// fails it with unavailable. `node`, when given, receives the address connected to.
asio::awaitable<tk::Result<std::vector<Reply>>> open(asio::ip::tcp::socket& sock, Parser& parser,
                                                     const Endpoint& ep, const Options& opt,
                                                     std::string extra = {},
                                                     std::size_t extra_replies = 0,
                                                     std::string* run_id = nullptr,
                                                     HostPort* node = nullptr);

// The `run_id:` field of an INFO reply (empty if absent).
std::string parse_run_id(std::string_view info);

// Error for a top-level error reply, text in details["redis"]: Errc::reply_error, or
// Errc::unavailable for transient states where the command did not run (LOADING, BUSY,
// MASTERDOWN, TRYAGAIN, CLUSTERDOWN).
tk::Error reply_error(std::string_view text);

}  // namespace tk::redis::detail
