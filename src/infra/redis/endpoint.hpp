#pragma once
// Where and how to connect: Endpoint (parsed from a redis:// URL) and timing Options.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tk::redis {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

struct Endpoint {
  std::string host = "127.0.0.1";  // the data node (unused when `sentinels` is set)
  std::uint16_t port = 6379;
  std::string username;  // ACL user (Redis 6+); empty = AUTH with the password only
  std::string password;  // empty = no AUTH
  int db = 0;            // SELECT on connect when not 0

  // Redis Sentinel: when not empty, every (re)connect asks these in turn for the current primary
  // of `master_name` and connects there (username/password/db apply to that node).
  std::vector<HostPort> sentinels;
  std::string master_name;
  std::string sentinel_password;  // AUTH sent to the sentinels; empty = none

  // redis://[[user]:password@]host[:port][/db]; host may be [ipv6]. The password may be
  // percent-encoded.
  // redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/MASTER[/db]
  //   [?sentinel_password=PASSWORD]: sentinel port 26379 by default; user, password and db are
  //   the data node's; the sentinels' own password, if any, is the query parameter.
  // Fails with std::errc::invalid_argument.
  static tk::Result<Endpoint> parse(std::string_view url);
};

struct Options {
  std::chrono::milliseconds connect_timeout{1000};  // TCP connect + AUTH/SELECT/script loads
  // Sentinel mode: each sentinel asked for the primary gets this long (connect + answer) before
  // the next one is asked; short, so a dead sentinel costs little of a reconnect.
  std::chrono::milliseconds sentinel_timeout{300};
  std::chrono::milliseconds command_timeout{2000};  // per command; <= 0 disables
  std::chrono::milliseconds reconnect_min{50};      // backoff after a drop or failed connect
  std::chrono::milliseconds reconnect_max{2000};
  // A connection that has left a command unanswered this long (no reply at all meanwhile) is
  // dropped and re-established: a paused or stuck server, or a peer that vanished silently.
  // <= 0 disables.
  std::chrono::milliseconds stall_timeout{3000};
  // An idle connection that received nothing for this long sends a PING, so the stall rule also
  // catches a dead connection nobody is using. <= 0 disables.
  std::chrono::milliseconds ping_interval{1000};
  // Commands queued or awaiting a reply on one connection, and encoded bytes not yet written:
  // past either bound a command fails at once with unavailable instead of queueing.
  std::size_t max_pending = 65536;
  std::size_t max_out_bytes = 64u << 20;
};

}  // namespace tk::redis
