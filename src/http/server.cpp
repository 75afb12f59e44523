#include "http/server.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <list>
#include <optional>
#include <random>
#include <unordered_map>

#include "common/deadline.hpp"
#include "common/log.hpp"
#include "common/trace.hpp"
#include "http/access_log.hpp"
#include "http/deadline.hpp"
#include "http/wire.hpp"

namespace tk::http {
namespace {

namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Route labels for requests no pattern matched; constants so cardinality stays bounded.
constexpr std::string_view kUnmatched = "unmatched";
constexpr std::string_view kInvalid = "invalid";  // rejected before routing (400/413/431)

constexpr std::size_t kReadChunk = 4096;
// A connection's buffer grows to fit a large body; give the memory back once it is idle so 10k
// keep-alive connections do not each pin 80 KiB.
constexpr std::size_t kShrinkAbove = 16 * 1024;
// After an error response (or Connection: close) we stop sending, then read and discard what the
// client is still sending for a short while: closing with unread data makes the kernel send RST,
// which can destroy the response before the client reads it.
constexpr auto kLinger = 500ms;
constexpr std::size_t kLingerBytes = 256 * 1024;
// Rejections in flight per server; past it, over-cap connections are closed without a response
// so a flood cannot grow memory.
constexpr std::size_t kMaxRejecting = 64;

std::string_view method_label(bhttp::verb v) {
  // Unknown methods would put client-chosen strings into label values.
  if (v == bhttp::verb::unknown) return "OTHER";
  return std::string_view(bhttp::to_string(v));
}

struct MetricKey {
  const void* route;  // data() of the route label: patterns live in the Router, others static
  bhttp::verb method;
  unsigned status;  // for the duration histograms: 1 refused, 0 served
  bool operator==(const MetricKey&) const = default;
};
struct MetricKeyHash {
  std::size_t operator()(const MetricKey& k) const {
    auto h = std::hash<const void*>{}(k.route);
    h ^= (static_cast<std::size_t>(k.method) << 20) + k.status + 0x9e3779b97f4a7c15ULL + (h << 6) +
         (h >> 2);
    return h;
  }
};

struct Conn {
  tcp::socket* sock;
  bool idle = false;    // waiting for the first byte of the next request
  bool closed = false;  // closed by drain()
};

void log_task_failure(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    tk::log::error("http connection task failed", {{"error", ex.what()}});
  } catch (...) {
    tk::log::error("http connection task failed", {{"error", "unknown exception"}});
  }
}

// Stop sending, read and discard until the client closes (bounded in time and bytes), close.
asio::awaitable<void> lingering_close(tcp::socket& sock, Deadline& deadline) {
  boost::system::error_code ec;
  sock.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    deadline.expire_after(kLinger);
    char sink[4096];
    std::size_t total = 0;
    while (total < kLingerBytes) {
      auto [rec, n] = co_await sock.async_read_some(asio::buffer(sink), kTuple);
      if (rec) break;
      total += n;
    }
  }
  sock.close(ec);
}

// Writes as much as the socket takes now, without suspending (the common case for a small
// response); `wire` keeps what is left for the caller to await.
template <class Buffers>
void write_now(tcp::socket& sock, beast::buffers_suffix<Buffers>& wire,
               boost::system::error_code& ec) {
  wire.consume(sock.write_some(wire, ec));
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec = {};
  }
}

}  // namespace

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string generate_request_id() {
  // Per-thread generator: no lock on the hot path; 64 random bits make collisions across
  // processes negligible for log correlation.
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t v = rng();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) id[static_cast<std::size_t>(i)] = kHex[v & 0xf];
  return id;
}

struct Server::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor e, ServerOptions o, const Router& r, metrics::Registry& m,
       std::shared_ptr<ConnectionLimiter> lim)
      : ex(e),
        opt(std::move(o)),
        router(r),
        reg(m),
        limiter(lim ? std::move(lim) : std::make_shared<ConnectionLimiter>(opt.max_connections)),
        acceptor(e),
        access_log(opt.access_log),
        open_gauge(m.gauge("http_open_connections", "Open client HTTP connections")),
        rejected_total(m.counter("http_connections_rejected_total",
                                 "Client connections refused at the connection cap")),
        accept_errors(m.counter("http_accept_errors_total", "Failed accept() calls")) {}

  asio::any_io_executor ex;
  ServerOptions opt;
  const Router& router;
  metrics::Registry& reg;
  std::shared_ptr<ConnectionLimiter> limiter;
  tcp::acceptor acceptor;
  std::atomic<std::uint16_t> bound_port{0};
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> open{0};
  // Everything below is touched only on `ex`.
  std::list<Conn> conns;
  // Set while drain() waits: woken when the last connection leaves `conns`.
  asio::steady_timer* drain_waiter = nullptr;
  std::size_t rejecting = 0;
  AccessLog access_log;
  metrics::Gauge& open_gauge;
  metrics::Counter& rejected_total;
  metrics::Counter& accept_errors;
  // Registry lookups lock and allocate: resolve each (route, method, status) once per server.
  std::unordered_map<MetricKey, metrics::Counter*, MetricKeyHash> counters;
  std::unordered_map<MetricKey, metrics::Histogram*, MetricKeyHash> durations;
  // One per Router door class (built in start(), when every route is in).
  struct DoorState {
    Door door;
    metrics::Counter* refused;           // null for a class that refuses nothing
    std::vector<std::size_t> yields_to;  // indices into doors
    std::function<bool()> full;          // DoorClass::full
  };
  std::vector<DoorState> doors;

  // Owns one slot of the connection cap; parameters of a coroutine are destroyed with its frame,
  // so the slot is released even when the io_context is destroyed before the session runs.
  struct Slot {
    std::shared_ptr<Impl> impl;
    explicit Slot(std::shared_ptr<Impl> i) : impl(std::move(i)) {
      impl->open.fetch_add(1, std::memory_order_relaxed);
      impl->open_gauge.inc();
    }
    Slot(Slot&& o) noexcept = default;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (!impl) return;
      impl->open.fetch_sub(1, std::memory_order_relaxed);
      impl->open_gauge.dec();
      impl->limiter->release();
    }
  };

  void close_acceptor() {
    boost::system::error_code ec;
    acceptor.close(ec);
  }

  void record(std::string_view route, bhttp::verb method, unsigned status, double seconds) {
    MetricKey ck{route.data(), method, status};
    auto c = counters.find(ck);
    if (c == counters.end()) {
      auto& counter = reg.counter("http_requests_total", "HTTP requests by route, method, status",
                                  {{"route", std::string(route)},
                                   {"method", std::string(method_label(method))},
                                   {"status", std::to_string(status)}});
      c = counters.emplace(ck, &counter).first;
    }
    c->second->inc();
    // Refusals (429, 503: come back after Retry-After) apart from answers: under load they are
    // the fast majority, and mixed in they would hide the served requests' tail.
    const bool refused = status == 429 || status == 503;
    MetricKey hk{route.data(), method, refused ? 1u : 0u};
    auto h = durations.find(hk);
    if (h == durations.end()) {
      auto& hist =
          reg.histogram("http_request_duration_seconds",
                        "HTTP request latency from the request fully read to the response written",
                        {{"route", std::string(route)},
                         {"method", std::string(method_label(method))},
                         {"outcome", refused ? "refused" : "served"}});
      h = durations.emplace(hk, &hist).first;
    }
    h->second->observe(seconds);
  }

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self);
  static asio::awaitable<void> session(Slot slot, tcp::socket sock);
  static asio::awaitable<void> reject(std::shared_ptr<Impl> self, tcp::socket sock);
};

asio::awaitable<void> Server::Impl::accept_loop(std::shared_ptr<Impl> self) {
  Impl& s = *self;
  asio::steady_timer backoff(s.ex);
  while (s.acceptor.is_open()) {
    auto [ec, sock] = co_await s.acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !s.acceptor.is_open()) break;
      // EMFILE/ENFILE and friends: back off instead of spinning on a full descriptor table.
      s.accept_errors.inc();
      tk::log::warn("http accept failed", {{"error", ec.message()}});
      backoff.expires_after(50ms);
      co_await backoff.async_wait(kTuple);
      continue;
    }
    if (!s.limiter->try_acquire()) {
      s.rejected_total.inc();
      if (s.rejecting < kMaxRejecting) {
        asio::co_spawn(s.ex, reject(self, std::move(sock)), log_task_failure);
      } else {
        boost::system::error_code ignored;
        sock.close(ignored);
      }
      continue;
    }
    asio::co_spawn(s.ex, session(Slot(self), std::move(sock)), log_task_failure);
  }
}

asio::awaitable<void> Server::Impl::reject(std::shared_ptr<Impl> self, tcp::socket sock) {
  ++self->rejecting;
  struct Done {
    Impl& s;
    ~Done() { --s.rejecting; }
  } done{*self};
  Deadline deadline(self->ex, sock);
  Response res = error_response(bhttp::status::service_unavailable, "unavailable",
                                "server is at its connection limit, retry later");
  set_retry_after(res, 1);
  res.keep_alive(false);
  res.set("X-Request-Id", generate_request_id());
  deadline.expire_after(1s);
  auto [ec, n] = co_await bhttp::async_write(sock, res, kTuple);
  if (ec) {
    sock.close(ec);
    co_return;
  }
  co_await lingering_close(sock, deadline);
}

asio::awaitable<void> Server::Impl::session(Slot slot, tcp::socket sock) {
  Impl& s = *slot.impl;
  boost::system::error_code ec;
  sock.set_option(tcp::no_delay(true), ec);
  asio::ip::address remote;  // the connection's client: the peer, or what its PROXY header says
  asio::ip::address remote_of_text;  // the address remote_text holds (access log)
  std::string remote_text;
  if (auto ep = sock.remote_endpoint(ec); !ec) remote = normalized(ep.address());
  const TrustedProxies* trusted = s.opt.trusted_proxies && !s.opt.trusted_proxies->empty()
                                      ? s.opt.trusted_proxies.get()
                                      : nullptr;
  const bool expect_proxy_header = trusted && s.opt.proxy_protocol && trusted->contains(remote);
  // Non-blocking for the synchronous write attempt (write_now); Asio's own operations are
  // unaffected.
  sock.non_blocking(true, ec);
  if (ec) {
    co_return;
  }
  Deadline deadline(s.ex, sock);
  auto self_it = s.conns.insert(s.conns.end(), Conn{&sock});
  struct Unlist {
    Impl& s;
    std::list<Conn>::iterator it;
    ~Unlist() {
      s.conns.erase(it);
      if (s.conns.empty() && s.drain_waiter) s.drain_waiter->cancel();
    }
  } unlist{s, self_it};
  Conn& conn = *self_it;

  beast::flat_buffer buffer;
  std::string head;  // response head, its capacity reused across keep-alive requests
  std::optional<bhttp::request_parser<bhttp::string_body>> parser;
  bool linger = false;  // close gracefully (we answered) rather than abruptly
  if (expect_proxy_header) {
    // The header comes first and at once (the proxy wrote it before any client byte).
    deadline.expire_after(s.opt.read_timeout);
    for (;;) {
      auto data = buffer.cdata();
      ProxyHeader h =
          parse_proxy_header(std::string_view(static_cast<const char*>(data.data()), data.size()));
      if (h.status == ProxyHeader::Status::done) {
        buffer.consume(h.length);
        if (h.source) remote = *h.source;
        break;
      }
      if (h.status == ProxyHeader::Status::invalid) {
        sock.close(ec);
        co_return;
      }
      auto [rec, n] = co_await sock.async_read_some(buffer.prepare(kReadChunk), kTuple);
      if (rec) {
        sock.close(ec);
        co_return;
      }
      buffer.commit(n);
    }
    deadline.clear();
  }
  std::string forwarded;  // X-Forwarded-For of the current request, every header joined
  for (;;) {
    if (buffer.size() == 0) {
      if (s.draining.load(std::memory_order_relaxed)) break;
      if (buffer.capacity() > kShrinkAbove) buffer.shrink_to_fit();
      // Keep-alive wait: the idle timeout applies until the first byte of the next request.
      conn.idle = true;
      deadline.expire_after(s.opt.idle_timeout);
      auto [rec, n] = co_await sock.async_read_some(buffer.prepare(kReadChunk), kTuple);
      conn.idle = false;
      if (rec) break;  // peer closed, idle timeout, or drain closed us
      buffer.commit(n);
    }

    // From the first byte on, the whole request must arrive within read_timeout. Usually it is
    // all in the buffer already and parses without I/O.
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(s.opt.header_limit));
    parser->body_limit(s.opt.body_limit);
    beast::error_code rec;
    if (parse_buffered(buffer, *parser, rec)) {
      deadline.expire_after(s.opt.read_timeout);
      auto [aec, nread] = co_await bhttp::async_read(sock, buffer, *parser, kTuple);
      rec = aec;
    }
    deadline.clear();  // a handler's waits are bounded by its own timeouts
    if (rec) {
      bhttp::status st;
      std::string_view code, message;
      if (rec == bhttp::error::body_limit) {
        st = bhttp::status::payload_too_large;
        code = "body_too_large";
        message = "request body is over the limit";
      } else if (rec == bhttp::error::header_limit) {
        st = bhttp::status::request_header_fields_too_large;
        code = "headers_too_large";
        message = "request headers are over the limit";
      } else if (&rec.category() == &bhttp::make_error_code(bhttp::error::bad_method).category() &&
                 rec != bhttp::error::end_of_stream && rec != bhttp::error::partial_message) {
        st = bhttp::status::bad_request;
        code = "malformed_request";
        message = "malformed HTTP request";
      } else {
        break;  // timeout (slow client), reset, peer gone mid-request: nothing useful to say
      }
      auto started = std::chrono::steady_clock::now();
      const Request& partial = parser->get();  // fields parsed so far (all of them for 413)
      std::string request_id;
      if (auto it = partial.find("X-Request-Id");
          it != partial.end() && sane_request_id(it->value())) {
        request_id = std::string(it->value());
      } else {
        request_id = generate_request_id();
      }
      boost::json::object details;
      if (st == bhttp::status::payload_too_large) details["limit_bytes"] = s.opt.body_limit;
      if (st == bhttp::status::request_header_fields_too_large) {
        details["limit_bytes"] = s.opt.header_limit;
      }
      Response res = error_response(st, code, message, std::move(details));
      res.keep_alive(false);
      res.set("X-Request-Id", request_id);
      deadline.expire_after(s.opt.write_timeout);
      auto [wec, wn] = co_await bhttp::async_write(sock, res, kTuple);
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      bhttp::verb method = partial.method();
      s.record(kInvalid, method, static_cast<unsigned>(st), secs);
      s.access_log.write({request_id, method_label(method), kInvalid, partial.target(),
                          static_cast<unsigned>(st), secs * 1000, &remote, nullptr});
      linger = !wec;
      break;
    }

    Request& req = parser->get();
    RequestContext ctx{req};
    ctx.remote = remote;
    if (trusted) {
      forwarded.clear();
      for (auto [it, end] = req.equal_range("X-Forwarded-For"); it != end; ++it) {
        if (!forwarded.empty()) forwarded += ',';
        forwarded.append(it->value().data(), it->value().size());
      }
      ctx.remote = client_address(remote, forwarded, *trusted);
    }
    ctx.started = std::chrono::steady_clock::now();
    if (auto it = req.find("X-Request-Id"); it != req.end() && sane_request_id(it->value())) {
      ctx.request_id = std::string(it->value());
    } else {
      ctx.request_id = generate_request_id();
    }

    if (auto it = req.find("traceparent"); it != req.end()) {
      if (auto parent = trace::parse(it->value())) ctx.trace_span = trace::Span::child_of(parent);
    }

    RouteMatch m = s.router.match(req.method(), req.target(), ctx.params);
    Response res;
    bool failed = false;
    Impl::DoorState* door = m.door >= 0 && static_cast<std::size_t>(m.door) < s.doors.size()
                                ? &s.doors[static_cast<std::size_t>(m.door)]
                                : nullptr;
    if (door) {
      for (std::size_t y : door->yields_to) {
        if (s.doors[y].door.queueing(ctx.started)) door->door.yield(ctx.started);
      }
    }
    bool refused = false;
    if (m.handler && door) {
      if (door->full && door->full()) {
        door->door.turned_away(ctx.started);
        refused = true;
      } else {
        refused = !door->door.enter(ctx.started);
      }
    }
    if (refused) {
      ctx.route = m.route;
      door->refused->inc();
      res = error_response(bhttp::status::service_unavailable, "unavailable",
                           "the service is saturated; try again shortly");
      set_retry_after(res, door->door.retry_after());
      door = nullptr;
    } else if (m.handler) {
      ctx.route = m.route;
      if (s.opt.request_timeout.count() > 0) ctx.deadline = ctx.started + s.opt.request_timeout;
      try {
        auto work = (*m.handler)(ctx);
        if (m.deadline && ctx.deadline != std::chrono::steady_clock::time_point::max()) {
          // Straight into co_spawn (a Response is default-constructible): one coroutine frame
          // fewer per request than under_deadline().
          auto ex = tk::with_deadline(s.ex, ctx.deadline);
          res = co_await asio::co_spawn(ex, std::move(work), asio::use_awaitable);
        } else {
          res = co_await std::move(work);
        }
      } catch (const std::exception& e) {
        // The text may hold internals (SQL, addresses): log it, never send it.
        tk::log::error("handler threw",
                       {{"request_id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
        failed = true;
      } catch (...) {
        tk::log::error(
            "handler threw",
            {{"request_id", ctx.request_id}, {"route", ctx.route}, {"error", "unknown exception"}});
        failed = true;
      }
      if (door) {
        auto now = std::chrono::steady_clock::now();
        const bool unavailable = !failed && res.result() == bhttp::status::service_unavailable;
        door->door.leave(now,
                         std::chrono::duration_cast<std::chrono::microseconds>(now - ctx.started),
                         unavailable);
        // Asked back after the class's wait, not the handler's fixed second: while its backend
        // is short, a class's 503s must thin its retries out, not multiply them. A longer wait
        // the handler gave (an upstream's, through a gateway) is kept.
        if (unavailable) {
          long given = 0;
          auto v = res[bhttp::field::retry_after];
          std::from_chars(v.data(), v.data() + v.size(), given);
          set_retry_after(res, std::max<long>(given, door->door.retry_after()));
        }
      }
    } else {
      ctx.route = m.route.empty() ? kUnmatched : m.route;
      res = Router::error_for(m);
    }

    bool keep = req.keep_alive() && !s.draining.load(std::memory_order_relaxed);
    if (!failed) {
      keep = keep && res.keep_alive();
      try {
        res.prepare_payload();  // throws on a body where none is allowed (e.g. 204)
      } catch (const std::exception& e) {
        tk::log::error("handler built an invalid response",
                       {{"request_id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
        failed = true;
      }
    }
    if (failed)
      res = error_response(bhttp::status::internal_server_error, "internal", "internal error");
    res.version(req.version());
    res.keep_alive(keep);
    res.set("X-Request-Id", ctx.request_id);

    head.clear();
    write_head(res, head);
    // HEAD: the same head (Content-Length of the GET) and no body.
    bool with_body = req.method() != bhttp::verb::head;
    beast::buffers_suffix<std::array<asio::const_buffer, 2>> wire(std::array<asio::const_buffer, 2>{
        asio::buffer(head), with_body ? asio::buffer(res.body()) : asio::const_buffer()});
    boost::system::error_code wec;
    write_now(sock, wire, wec);
    if (!wec && asio::buffer_size(wire) > 0) {
      deadline.expire_after(s.opt.write_timeout);
      auto [aec, wn] = co_await asio::async_write(sock, wire, kTuple);
      wec = aec;
      deadline.clear();
    }
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
    unsigned status = res.result_int();
    s.record(ctx.route, req.method(), status, secs);
    if (s.access_log.enabled()) {
      if (ctx.trace_span) {  // the request's span: its ids on its log line
        ctx.log("trace_id", std::string(ctx.trace_span->trace_id()));
        ctx.log("span_id", std::string(ctx.trace_span->span_id()));
        if (auto p = ctx.trace_span->parent_id(); !p.empty()) ctx.log("parent_id", std::string(p));
      }
      // The address as text once per connection (inet_ntop formats with printf), again only
      // when a trusted proxy names another client.
      if (remote_text.empty() || ctx.remote != remote_of_text) {
        remote_of_text = ctx.remote;
        remote_text = ctx.remote.to_string();
      }
      s.access_log.write({ctx.request_id, req.method_string(), ctx.route, req.target(), status,
                          secs * 1000, &ctx.remote, &ctx.log_fields, remote_text});
    }
    if (wec) break;
    if (!keep) {
      linger = true;
      break;
    }
  }
  if (linger && !conn.closed && !deadline.expired()) {
    co_await lingering_close(sock, deadline);
  } else {
    sock.close(ec);
  }
}

Server::Server(asio::any_io_executor ex, ServerOptions opt, const Router& router,
               metrics::Registry& metrics, std::shared_ptr<ConnectionLimiter> limiter)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(opt), router, metrics,
                                   std::move(limiter))) {}

Server::~Server() { stop_accepting(); }

tk::Status Server::listen() {
  Impl& s = *impl_;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(s.opt.address, ec);
  if (ec) return std::error_code(ec);
  tcp::endpoint ep(addr, s.opt.port);
  s.acceptor.open(ep.protocol(), ec);
  if (ec) return std::error_code(ec);
  s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (s.opt.reuse_port) {
    // One listener per io_context on the same port; the kernel spreads connections among them.
    using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    s.acceptor.set_option(reuse_port(true), ec);
    if (ec) return std::error_code(ec);
  }
  s.acceptor.bind(ep, ec);
  if (ec) return std::error_code(ec);
  s.acceptor.listen(s.opt.backlog, ec);
  if (ec) return std::error_code(ec);
  s.bound_port = s.acceptor.local_endpoint(ec).port();
  if (ec) return std::error_code(ec);
  return {};
}

std::uint16_t Server::port() const { return impl_->bound_port.load(); }

void Server::start() {
  Impl& s = *impl_;
  if (s.doors.empty()) {
    for (const auto& d : s.router.doors()) {
      // A class that refuses nothing has no counter that would read 0 for ever.
      metrics::Counter* refused = d.options.sheds || d.full
                                      ? &s.reg.counter("http_door_refused_total",
                                                       "Requests refused at the door: their class "
                                                       "queued, or what it waits on was full",
                                                       {{"door", d.name}})
                                      : nullptr;
      s.doors.push_back({Door(d.options, static_cast<std::uint32_t>(std::random_device{}())),
                         refused, std::vector<std::size_t>(d.yields_to.begin(), d.yields_to.end()),
                         d.full});
    }
  }
  asio::co_spawn(s.ex, Impl::accept_loop(impl_), log_task_failure);
}

void Server::stop_accepting() {
  asio::dispatch(impl_->ex, [self = impl_] { self->close_acceptor(); });
}

asio::awaitable<void> Server::drain(std::chrono::milliseconds max_wait) {
  std::shared_ptr<Impl> self = impl_;
  self->draining = true;
  self->close_acceptor();
  auto close_where = [&](auto pred) {
    for (auto& c : self->conns) {
      if (!c.closed && pred(c)) {
        c.closed = true;
        boost::system::error_code ignored;
        c.sock->close(ignored);
      }
    }
  };
  // Sessions check `draining` before going idle, so closing the idle ones once is enough: the
  // others answer their request with Connection: close and leave.
  close_where([](const Conn& c) { return c.idle; });
  // Woken by the last session to leave (no polling), or at the deadline.
  asio::steady_timer timer(self->ex);
  auto wait_until = [&](std::chrono::steady_clock::time_point until) -> asio::awaitable<void> {
    self->drain_waiter = &timer;
    while (!self->conns.empty() && std::chrono::steady_clock::now() < until) {
      timer.expires_at(until);
      co_await timer.async_wait(kTuple);
    }
    self->drain_waiter = nullptr;
  };
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  co_await wait_until(deadline);
  if (self->conns.empty()) co_return;
  close_where([](const Conn&) { return true; });
  // Give the aborted sessions a moment to unwind; a handler still awaiting something keeps its
  // session alive past this point, which is safe (sessions own the shared state).
  const auto unwind = std::chrono::steady_clock::now() + 100ms;
  co_await wait_until(unwind);
}

std::size_t Server::open_connections() const { return impl_->open.load(); }
bool Server::draining() const { return impl_->draining.load(); }

}  // namespace tk::http
