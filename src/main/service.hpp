#pragma once
// Composition root: config -> pools -> infra -> app -> http. One Worker per core, each with its
// own io_context, PostgreSQL pools, Redis connection, router and SO_REUSEPORT listener
// (shared-nothing); the clock, signer, password hasher, queue view and limits are process-wide.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "main/config.hpp"

namespace tk::app {
class MessageHandler;
}

namespace tk::service {

class Service {
 public:
  explicit Service(Config c);
  ~Service();
  // Applies migrations (waiting for PostgreSQL up to `wait`), binds the listeners.
  Status prepare(std::chrono::seconds wait = std::chrono::seconds(60));
  // Runs until SIGTERM/SIGINT or stop(); then drains gracefully.
  void run();
  void stop();  // thread-safe: starts the graceful drain
  std::uint16_t port() const;
  std::uint16_t ops_port() const;  // the operations listener's bound port
  // Before prepare(): what the bus consumer (worker and all roles with TICKETING_AMQP_URL) hands
  // each message to; must outlive the service. Default: the receipt recorder.
  void set_message_handler(app::MessageHandler* h);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tk::service
