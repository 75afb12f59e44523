#pragma once
// Where the broker is and how the clients behave towards it.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "infra/amqp/errors.hpp"

namespace tk::amqp {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";

  // amqp://[user[:password]@]host[:port][/vhost] (rabbitmq-c's parser; vhost percent-decoded).
  static tk::Result<Endpoint> parse(std::string_view url);
};

// Connection behaviour shared by publishers and consumers.
struct Options {
  std::chrono::milliseconds connect_timeout{5000};  // TCP connect + AMQP handshake
  std::chrono::milliseconds rpc_timeout{10000};     // declare, qos, consume, confirm.select
  std::chrono::milliseconds reconnect_min{100};     // backoff after a failed connect or a drop,
  std::chrono::milliseconds reconnect_max{5000};    // doubling up to this
  int heartbeat_s = 10;  // AMQP heartbeat: a silently dead connection is noticed in ~2x this
};

}  // namespace tk::amqp
