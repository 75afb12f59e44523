#include "infra/redis/protocol.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "infra/redis/errors.hpp"

namespace tk::redis::detail {
namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

tk::Error unavailable(std::string reason) {
  return {Errc::unavailable, {{"reason", std::move(reason)}}};
}

}  // namespace

// --- open -----------------------------------------------------------------------------------

namespace {
// TCP keepalive: first probe after 10 s idle, then every 5 s; 3 unanswered probes close it.
tk::Status set_keepalive(asio::ip::tcp::socket& sock) {
  boost::system::error_code ec;
  sock.set_option(asio::socket_base::keep_alive(true), ec);
  if (ec) return unavailable("setsockopt SO_KEEPALIVE: " + ec.message());
  const int fd = sock.native_handle();
  const int idle = 10, interval = 5, count = 3;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count) != 0) {
    return unavailable("setsockopt TCP_KEEPIDLE");
  }
  return {};
}

// Connects to ep.host:ep.port and runs the handshake (see open()). `check_role`: the node must
// answer ROLE with "master", or the handshake fails with unavailable.
asio::awaitable<tk::Result<std::vector<Reply>>> open_node(asio::ip::tcp::socket& sock,
                                                          Parser& parser, const Endpoint& ep,
                                                          std::chrono::milliseconds timeout,
                                                          std::string extra,
                                                          std::size_t extra_replies,
                                                          std::string* run_id, bool check_role) {
  using tcp = asio::ip::tcp;
  boost::system::error_code ignored;
  sock.close(ignored);
  parser.reset();
  auto ex = sock.get_executor();

  // One deadline for the whole sequence: when it fires, closing the socket and cancelling the
  // resolver abort whatever step is in progress. `state` outlives this frame in the handler.
  struct State {
    bool done = false, timed_out = false;
  };
  auto state = std::make_shared<State>();
  tcp::resolver resolver(ex);
  asio::steady_timer timer(ex, timeout);
  timer.async_wait([state, &sock, &resolver](boost::system::error_code ec) {
    if (ec || state->done) return;
    state->timed_out = true;
    boost::system::error_code ig;
    sock.close(ig);
    resolver.cancel();
  });
  struct Finish {  // runs on every exit path, before `timer` and `resolver` are destroyed
    std::shared_ptr<State> s;
    asio::steady_timer& t;
    ~Finish() {
      s->done = true;
      t.cancel();
    }
  } finish{state, timer};
  auto failed = [&](const char* step, const boost::system::error_code& ec) {
    return unavailable(std::string(step) + ": " +
                       (state->timed_out ? std::string("connect timeout") : ec.message()));
  };

  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(ep.host, ec);
  if (!ec) {
    endpoints.emplace_back(addr, ep.port);
  } else {
    auto [rec, results] = co_await resolver.async_resolve(ep.host, std::to_string(ep.port), kTuple);
    if (rec || state->timed_out) co_return failed("resolve", rec);
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }

  ec = asio::error::host_not_found;
  for (const auto& e : endpoints) {
    sock.close(ignored);
    sock.open(e.protocol(), ec);
    if (ec) continue;
    std::tie(ec) = co_await sock.async_connect(e, kTuple);
    if (state->timed_out) co_return failed("connect", ec);
    if (!ec) break;
  }
  if (ec) co_return failed("connect", ec);
  // Small commands must leave at once: Nagle would add up to 40 ms to every pipeline flush.
  sock.set_option(tcp::no_delay(true), ec);
  if (ec) co_return failed("setsockopt", ec);
  // A peer that vanished without a FIN or RST (host down, cable pulled, NAT entry dropped) is
  // otherwise never noticed on an idle connection: probe it after 10 s of silence.
  if (auto st = set_keepalive(sock); !st) co_return st.error();

  // AUTH and SELECT as configured, then PING: a Redis still loading its dataset accepts
  // connections but answers -LOADING, and must count as not connected (503), not as up.
  std::string hs;
  std::vector<const char*> own;
  if (!ep.password.empty()) {
    if (ep.username.empty()) {
      append_command(hs, {"AUTH", ep.password});
    } else {
      append_command(hs, {"AUTH", ep.username, ep.password});
    }
    own.push_back("AUTH failed");
  }
  if (ep.db != 0) {
    append_command(hs, {"SELECT", std::to_string(ep.db)});
    own.push_back("SELECT failed");
  }
  append_command(hs, {"PING"});
  own.push_back("server not ready");
  // Sentinel mode: a sentinel may still name a primary that was demoted meanwhile; a replica
  // must not count as connected (writes would fail, reads could be stale).
  const std::size_t role_at = own.size();
  if (check_role) {
    append_command(hs, {"ROLE"});
    own.push_back("ROLE failed");
  }
  hs += extra;
  std::vector<Reply> replies;
  const std::size_t total = own.size() + extra_replies;

  auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(hs), kTuple);
  (void)wn;
  if (wec) co_return failed("handshake write", wec);
  replies.reserve(total);
  std::vector<char> buf(4096);
  while (replies.size() < total) {
    Reply r;
    switch (parser.next(r)) {
      case Parser::Next::reply:
        if (replies.size() < own.size() && r.is_error()) {
          auto err = unavailable(own[replies.size()]);
          err.details["redis"] = r.str;
          co_return err;
        }
        if (check_role && replies.size() == role_at &&
            !(r.is_array() && !r.elements.empty() && r.elements[0].str == "master")) {
          co_return unavailable(
              "not a primary (ROLE: " +
              (r.is_array() && !r.elements.empty() ? r.elements[0].str : std::string("?")) + ")");
        }
        replies.push_back(std::move(r));
        continue;
      case Parser::Next::error:
        co_return tk::Error{Errc::protocol_error, {{"reason", parser.error()}}};
      case Parser::Next::need_more:
        break;
    }
    auto [rec, n] = co_await sock.async_read_some(asio::buffer(buf), kTuple);
    if (rec) co_return failed("handshake read", rec);
    parser.feed(buf.data(), n);
  }
  replies.erase(replies.begin(), replies.begin() + static_cast<std::ptrdiff_t>(own.size()));
  if (run_id) {
    // A round trip of its own, after the rest: a server that answers the handshake but not
    // INFO the usual way (a proxy, a fake) still connects, with an empty run id.
    std::string info;
    append_command(info, {"INFO", "server"});
    auto [iec, in] = co_await asio::async_write(sock, asio::buffer(info), kTuple);
    (void)in;
    if (iec) co_return failed("handshake write", iec);
    for (;;) {
      Reply r;
      auto st = parser.next(r);
      if (st == Parser::Next::reply) {
        if (r.is_error()) {
          auto err = unavailable("INFO failed");
          err.details["redis"] = r.str;
          co_return err;
        }
        *run_id = r.is_string() ? parse_run_id(r.str) : std::string();
        break;
      }
      if (st == Parser::Next::error) {
        co_return tk::Error{Errc::protocol_error, {{"reason", parser.error()}}};
      }
      auto [rec, n] = co_await sock.async_read_some(asio::buffer(buf), kTuple);
      if (rec) co_return failed("handshake read", rec);
      parser.feed(buf.data(), n);
    }
  }
  co_return replies;
}

// Asks the sentinels in turn for the primary of ep.master_name; each gets `timeout`.
asio::awaitable<tk::Result<HostPort>> ask_sentinels(const asio::any_io_executor& ex,
                                                    const Endpoint& ep,
                                                    std::chrono::milliseconds timeout) {
  std::string last = "no sentinel configured";
  for (const auto& s : ep.sentinels) {
    asio::ip::tcp::socket sock(ex);
    Parser parser;
    Endpoint sentinel;
    sentinel.host = s.host;
    sentinel.port = s.port;
    sentinel.password = ep.sentinel_password;
    std::string query;
    append_command(query, {"SENTINEL", "get-master-addr-by-name", ep.master_name});
    auto r =
        co_await open_node(sock, parser, sentinel, timeout, std::move(query), 1, nullptr, false);
    boost::system::error_code ignored;
    sock.close(ignored);
    const std::string who = s.host + ":" + std::to_string(s.port);
    if (!r) {
      const auto& d = r.error().details;
      auto it = d.find("reason");
      last = who + ": " +
             (it != d.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                       : r.error().code.message());
      continue;
    }
    const Reply& a = (*r)[0];
    std::uint16_t port = 0;
    if (a.is_array() && a.elements.size() == 2 && a.elements[0].is_string() &&
        !a.elements[0].str.empty()) {
      auto v = a.elements[1].to_int();
      if (v && *v > 0 && *v <= 65535) port = static_cast<std::uint16_t>(*v);
    }
    if (port == 0) {
      // nil: this sentinel does not monitor the name (a wrong name, or a sentinel still
      // starting); an error: e.g. -NOAUTH. Ask the next one.
      last = who + ": " + (a.is_error() ? a.str : std::string("master name unknown"));
      continue;
    }
    co_return HostPort{a.elements[0].str, port};
  }
  co_return unavailable("no sentinel named a primary (" + last + ")");
}

}  // namespace

asio::awaitable<tk::Result<std::vector<Reply>>> open(asio::ip::tcp::socket& sock, Parser& parser,
                                                     const Endpoint& ep, const Options& opt,
                                                     std::string extra, std::size_t extra_replies,
                                                     std::string* run_id, HostPort* node) {
  if (ep.sentinels.empty()) {
    if (node) *node = HostPort{ep.host, ep.port};
    co_return co_await open_node(sock, parser, ep, opt.connect_timeout, std::move(extra),
                                 extra_replies, run_id, false);
  }
  boost::system::error_code ignored;
  sock.close(ignored);
  auto primary = co_await ask_sentinels(sock.get_executor(), ep, opt.sentinel_timeout);
  if (!primary) co_return std::move(primary).error();
  Endpoint target = ep;
  target.sentinels.clear();
  target.host = primary->host;
  target.port = primary->port;
  if (node) *node = *primary;
  // ROLE is checked in the same handshake as everything else, so the run id read after it is
  // the run id of the very node that was verified to be the primary.
  co_return co_await open_node(sock, parser, target, opt.connect_timeout, std::move(extra),
                               extra_replies, run_id, true);
}

}  // namespace tk::redis::detail
