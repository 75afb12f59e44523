#pragma once
// A scripted fake Redis (or Sentinel) server for the client tests: server states a real one cannot
// be held in on demand (-LOADING, garbage on the wire, a sentinel naming a replica or silent).
#include <memory>
#include <string>
#include <vector>

#include "redis_test_util.hpp"

namespace tk::redis::testing {

// Accepts on an ephemeral loopback port and answers every chunk it reads with `answer` (nothing
// while it is empty). The acceptor, the sockets and the script live in a shared state that the
// accept and serve coroutines keep alive: a read that completed just before the fake went away
// is still handled after its destructor, and must not touch freed memory.
class FakeRedis {
  using tcp = asio::ip::tcp;
  struct State {
    explicit State(asio::any_io_executor ex)
        : acceptor(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
    tcp::acceptor acceptor;
    std::vector<std::shared_ptr<tcp::socket>> sockets;
    std::string answer = "+PONG\r\n";
    int connections = 0;
    bool closed = false;
  };

 public:
  explicit FakeRedis(asio::any_io_executor ex) : st_(std::make_shared<State>(ex)) {
    asio::co_spawn(ex, accept(st_), asio::detached);
  }
  ~FakeRedis() {
    st_->closed = true;
    boost::system::error_code ignored;
    st_->acceptor.close(ignored);
    for (auto& s : st_->sockets) s->close(ignored);
  }
  FakeRedis(const FakeRedis&) = delete;
  FakeRedis& operator=(const FakeRedis&) = delete;
  std::uint16_t port() const { return st_->acceptor.local_endpoint().port(); }

 private:
  std::shared_ptr<State> st_;

 public:
  std::string& answer = st_->answer;
  int& connections = st_->connections;

 private:
  static asio::awaitable<void> accept(std::shared_ptr<State> st) {
    for (;;) {
      auto [ec, s] = co_await st->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec || st->closed) co_return;
      ++st->connections;
      auto sock = std::make_shared<tcp::socket>(std::move(s));
      st->sockets.push_back(sock);
      asio::co_spawn(st->acceptor.get_executor(), serve(st, sock), asio::detached);
    }
  }
  static asio::awaitable<void> serve(std::shared_ptr<State> st, std::shared_ptr<tcp::socket> s) {
    std::vector<char> buf(4096);
    for (;;) {
      auto [ec, n] =
          co_await s->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (ec || st->closed) co_return;
      if (st->answer.empty()) continue;
      std::string a = st->answer;
      auto [wec, wn] =
          co_await asio::async_write(*s, asio::buffer(a), asio::as_tuple(asio::use_awaitable));
      if (wec || st->closed) co_return;
    }
  }
};

// What a sentinel answers a client's handshake (PING, then SENTINEL get-master-addr-by-name, both
// in one write): the primary is 127.0.0.1:port.
inline std::string sentinel_names_primary(int port) {
  const std::string p = std::to_string(port);
  return "+PONG\r\n*2\r\n$9\r\n127.0.0.1\r\n$" + std::to_string(p.size()) + "\r\n" + p + "\r\n";
}

}  // namespace tk::redis::testing
