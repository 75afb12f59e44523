#pragma once
// Internal: one blocking rabbitmq-c connection, used only by the thread that owns it, and the
// eventfd that wakes that thread. Not part of the adapter's interface.
#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "infra/amqp/endpoint.hpp"
#include "infra/amqp/topology.hpp"

namespace tk::amqp::detail {

// Wakes a thread blocked in Connection::wait (eventfd).
class Waker {
 public:
  Waker();
  ~Waker();
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;
  void wake();
  void drain();
  int fd() const { return fd_; }

 private:
  int fd_;
};

// An error of Errc::unavailable with the reason in details["reason"].
tk::Error unavailable(std::string_view reason);
// Text of a failed rabbitmq-c RPC (library error, or the broker's close reason).
std::string rpc_error_text(const amqp_rpc_reply_t& r);

class Table;

class Connection {
 public:
  Connection();
  ~Connection();  // closes the socket (without the AMQP close handshake when it failed)
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // TCP connect, login, open `channels` channels numbered 1..channels.
  tk::Status open(const Endpoint& ep, const Options& opt, int channels);
  // Declares exchanges, queues and bindings on `channel`.
  tk::Status declare(const Topology& t, amqp_channel_t channel);
  // Checks the reply of the last synchronous RPC (declare, qos, consume, confirm.select).
  tk::Status check(const char* what);

  // Blocks until the socket is readable, `w` was woken, or `timeout` passed. Returns at once
  // when rabbitmq-c already buffers data.
  void wait(Waker& w, std::chrono::milliseconds timeout);
  // One frame if one can be had without blocking: AMQP_STATUS_OK, AMQP_STATUS_TIMEOUT (none
  // yet) or an error (the connection is gone). Also sends heartbeats when due.
  int poll_frame(amqp_frame_t& f);
  // Reads the content (header + body) following a basic.deliver/basic.return on `channel`.
  tk::Status read_content(amqp_channel_t channel, amqp_message_t& m);
  // The connection failed: the destructor then skips the close handshake.
  void mark_broken() { broken_ = true; }

  amqp_connection_state_t get() const { return conn_; }

 private:
  tk::Status check_reply(const amqp_rpc_reply_t& r, const char* what);
  static bool inequivalent_arguments(const amqp_rpc_reply_t& r);
  tk::Status replace_empty_queue(const std::string& name, Table& args, amqp_channel_t ch);

  amqp_connection_state_t conn_;
  int channels_ = 0;
  bool opened_ = false;
  bool broken_ = false;
};

// Owns the strings of an amqp_table_t built from key/value pairs.
class Table {
 public:
  void add(std::string key, std::string value);
  void add(std::string key, std::int64_t value);
  amqp_table_t get();

 private:
  struct Entry {
    std::string key;
    std::string str;
    std::int64_t num = 0;
    bool is_str = false;
  };
  std::vector<Entry> entries_;
  std::vector<amqp_table_entry_t> raw_;
};

// Header values of a received message: strings and integers (x-death counts are summed per
// queue by the consumer). Other field kinds are skipped.
std::map<std::string, std::string> string_headers(const amqp_table_t& t);
// Sum of x-death[].count for entries whose queue is `queue` (times it was dead-lettered from it).
std::int64_t death_count(const amqp_table_t& t, std::string_view queue);
// Integer header (e.g. x-delivery-count), or 0.
std::int64_t int_header(const amqp_table_t& t, std::string_view key);

inline amqp_bytes_t bytes(std::string_view s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}
inline std::string str(amqp_bytes_t b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

}  // namespace tk::amqp::detail
