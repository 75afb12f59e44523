#pragma once
// Where and how to connect: Endpoint (parsed from a redis:// URL) and timing Options.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tk::redis {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;  // ACL user (Redis 6+); empty = AUTH with the password only
  std::string password;  // empty = no AUTH
  int db = 0;            // SELECT on connect when not 0

  // redis://[[user]:password@]host[:port][/db]; host may be [ipv6]. The password may be
  // percent-encoded. Fails with std::errc::invalid_argument.
  static tk::Result<Endpoint> parse(std::string_view url);
};

struct Options {
  std::chrono::milliseconds connect_timeout{1000};  // TCP connect + AUTH/SELECT/script loads
  std::chrono::milliseconds command_timeout{2000};  // per command; <= 0 disables
  std::chrono::milliseconds reconnect_min{50};      // backoff after a drop or failed connect
  std::chrono::milliseconds reconnect_max{2000};
};

}  // namespace tk::redis
