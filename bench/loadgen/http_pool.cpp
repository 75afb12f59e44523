#include "http_pool.hpp"

#include <charconv>

#include "clock.hpp"

namespace loadgen {

namespace http = beast::http;

struct Pool::Conn {
  explicit Conn(asio::io_context& io) : sock(io) {}
  tcp::socket sock;
  beast::flat_buffer buf;
  std::optional<http::response_parser<http::string_body>> parser;
  Job job;
  bool open = false;
  bool reused = false;  // has served a request: a close now may be the server's idle timeout
  std::int64_t sent_ns = 0;
};

Pool::Pool(asio::io_context& io, tcp::endpoint ep, std::size_t connections) : io_(io), ep_(ep) {
  if (connections == 0) connections = 1;
  conns_.reserve(connections);
  free_.reserve(connections);
  for (std::size_t i = 0; i < connections; ++i) {
    conns_.push_back(std::make_unique<Conn>(io_));
    free_.push_back(conns_.back().get());
  }
}

Pool::~Pool() {
  for (auto& c : conns_) close(*c);
}

void Pool::submit(std::string request, Callback cb) {
  Job j{std::move(request), std::move(cb), now_ns()};
  if (free_.empty()) {
    queue_.push_back(std::move(j));
    return;
  }
  Conn* c = free_.back();
  free_.pop_back();
  start(*c, std::move(j));
}

void Pool::start(Conn& c, Job job) {
  c.job = std::move(job);
  if (c.open) {
    write(c);
  } else {
    connect(c);
  }
}

void Pool::connect(Conn& c) {
  ++connects_;
  c.sock.async_connect(ep_, [this, &c](beast::error_code ec) {
    if (ec) return fail(c, ec, false);
    beast::error_code ignored;
    c.sock.set_option(tcp::no_delay(true), ignored);
    c.open = true;
    c.reused = false;
    c.buf.clear();
    write(c);
  });
}

void Pool::write(Conn& c) {
  c.sent_ns = now_ns();
  asio::async_write(c.sock, asio::buffer(c.job.req), [this, &c](beast::error_code ec, std::size_t) {
    if (ec) return fail(c, ec, true);
    read(c);
  });
}

void Pool::read(Conn& c) {
  c.parser.emplace();
  c.parser->body_limit(512u << 20);  // seat maps of large venues are megabytes
  http::async_read(c.sock, c.buf, *c.parser, [this, &c](beast::error_code ec, std::size_t) {
    if (ec) return fail(c, ec, !c.parser->got_some());
    auto& res = c.parser->get();
    Reply r;
    r.submitted_ns = c.job.submitted_ns;
    r.status = static_cast<int>(res.result_int());
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      auto v = it->value();
      int s = -1;
      if (std::from_chars(v.data(), v.data() + v.size(), s).ec == std::errc()) r.retry_after = s;
    }
    bool keep = res.keep_alive();
    r.body = std::move(res.body());
    r.sent_ns = c.sent_ns;
    r.recv_ns = now_ns();
    finish(c, r, keep);
  });
}

void Pool::fail(Conn& c, beast::error_code ec, bool nothing_received) {
  bool stale = c.reused && nothing_received &&
               (ec == http::error::end_of_stream || ec == asio::error::eof ||
                ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
  close(c);
  // A keep-alive connection the server closed while idle: the request never reached it, so one
  // retry on a fresh connection is safe (the usual HTTP client rule).
  if (stale && !c.job.retried) {
    c.job.retried = true;
    connect(c);
    return;
  }
  Reply r;
  r.ec = ec;
  r.submitted_ns = c.job.submitted_ns;
  r.sent_ns = c.sent_ns;
  r.recv_ns = now_ns();
  finish(c, r, false);
}

void Pool::close(Conn& c) {
  beast::error_code ignored;
  if (c.sock.is_open()) {
    c.sock.shutdown(tcp::socket::shutdown_both, ignored);
    c.sock.close(ignored);
  }
  c.open = false;
  c.reused = false;
  c.buf.clear();
}

void Pool::finish(Conn& c, Reply& r, bool keep) {
  if (keep) {
    c.reused = true;
  } else {
    close(c);
  }
  Callback cb = std::move(c.job.cb);
  c.job = Job{};
  // The connection goes to the next waiting request before the callback may queue more: FIFO.
  if (!queue_.empty()) {
    Job next = std::move(queue_.front());
    queue_.pop_front();
    start(c, std::move(next));
  } else {
    free_.push_back(&c);
  }
  cb(r);
}

}  // namespace loadgen
