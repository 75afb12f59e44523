#include "infra/amqp/connection.hpp"

#include <amqp_tcp_socket.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "common/log.hpp"

namespace tk::amqp::detail {

Waker::Waker() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error("amqp: eventfd failed");
}
Waker::~Waker() { ::close(fd_); }
void Waker::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
}
void Waker::drain() {
  std::uint64_t v;
  [[maybe_unused]] auto n = ::read(fd_, &v, sizeof v);
}

tk::Error unavailable(std::string_view reason) {
  boost::json::object d;
  d["reason"] = reason;
  return tk::Error(make_error_code(Errc::unavailable), std::move(d));
}

std::string rpc_error_text(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "missing rpc reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return "connection closed by broker: " + std::to_string(m->reply_code) + " " +
               str(m->reply_text);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return "channel closed by broker: " + std::to_string(m->reply_code) + " " +
               str(m->reply_text);
      }
      return "broker error, method " + std::to_string(r.reply.id);
  }
  return "unknown rpc reply";
}

namespace {
timeval to_tv(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}
}  // namespace

Connection::Connection() : conn_(amqp_new_connection()) {
  if (!conn_) throw std::runtime_error("amqp: out of memory");
}

Connection::~Connection() {
  if (opened_ && !broken_) {
    for (int ch = 1; ch <= channels_; ++ch) amqp_channel_close(conn_, ch, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn_);
}

tk::Status Connection::open(const Endpoint& ep, const Options& opt, int channels) {
  amqp_socket_t* sock = amqp_tcp_socket_new(conn_);
  if (!sock) return unavailable("cannot create socket");
  timeval ctv = to_tv(opt.connect_timeout);
  int rc = amqp_socket_open_noblock(sock, ep.host.c_str(), ep.port, &ctv);
  if (rc != AMQP_STATUS_OK) {
    broken_ = true;
    return unavailable(std::string("connect: ") + amqp_error_string2(rc));
  }
  amqp_set_handshake_timeout(conn_, &ctv);
  timeval rtv = to_tv(opt.rpc_timeout);
  amqp_set_rpc_timeout(conn_, &rtv);
  auto r = amqp_login(conn_, ep.vhost.c_str(), 0, 131072, opt.heartbeat_s, AMQP_SASL_METHOD_PLAIN,
                      ep.user.c_str(), ep.password.c_str());
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    broken_ = true;
    return unavailable("login: " + rpc_error_text(r));
  }
  opened_ = true;
  for (int ch = 1; ch <= channels; ++ch) {
    amqp_channel_open(conn_, ch);
    if (auto st = check("channel.open"); !st) return st;
    channels_ = ch;
  }
  return {};
}

tk::Status Connection::check(const char* what) {
  return check_reply(amqp_get_rpc_reply(conn_), what);
}

bool Connection::inequivalent_arguments(const amqp_rpc_reply_t& r) {
  if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION) return false;
  if (r.reply.id != AMQP_CHANNEL_CLOSE_METHOD) return false;
  return static_cast<const amqp_channel_close_t*>(r.reply.decoded)->reply_code == 406;
}

tk::Status Connection::replace_empty_queue(const std::string& name, Table& args,
                                           amqp_channel_t ch) {
  // The broker closed the channel: acknowledge that and open it again.
  amqp_channel_close_ok_t ok{};
  amqp_send_method(conn_, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
  amqp_channel_open(conn_, ch);
  if (auto st = check("channel.open"); !st) return st;
  // if-empty: a queue still holding messages keeps them (the delete fails, so does this connect).
  amqp_queue_delete(conn_, ch, bytes(name), 0, 1);
  if (auto st = check("queue.delete if-empty"); !st) return st;
  log::info("amqp queue declared again with new arguments", {{"queue", name}});
  amqp_queue_declare(conn_, ch, bytes(name), 0, 1, 0, 0, args.get());
  return check("queue.declare");
}

tk::Status Connection::check_reply(const amqp_rpc_reply_t& r, const char* what) {
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return {};
  broken_ = true;  // a channel or connection error: the caller starts over with a new connection
  boost::json::object d;
  d["reason"] = std::string(what) + ": " + rpc_error_text(r);
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION)
    return tk::Error(make_error_code(Errc::channel_closed), std::move(d));
  return tk::Error(make_error_code(Errc::unavailable), std::move(d));
}

tk::Status Connection::declare(const Topology& t, amqp_channel_t ch) {
  for (const auto& e : t.exchanges) {
    amqp_exchange_declare(conn_, ch, bytes(e.name), bytes(e.type), 0, 1, 0, 0, amqp_empty_table);
    if (auto st = check("exchange.declare"); !st) return st;
  }
  for (const auto& q : t.queues) {
    Table args;
    if (q.kind == QueueSpec::Kind::quorum) args.add("x-queue-type", std::string("quorum"));
    if (q.dead_letter_exchange) args.add("x-dead-letter-exchange", *q.dead_letter_exchange);
    if (q.dead_letter_routing_key)
      args.add("x-dead-letter-routing-key", *q.dead_letter_routing_key);
    if (q.message_ttl) args.add("x-message-ttl", static_cast<std::int64_t>(q.message_ttl->count()));
    if (q.max_length) {
      args.add("x-max-length", *q.max_length);
      args.add("x-overflow", std::string("reject-publish"));
    }
    if (q.delivery_limit && q.kind == QueueSpec::Kind::quorum)
      args.add("x-delivery-limit", *q.delivery_limit);
    amqp_queue_declare(conn_, ch, bytes(q.name), 0, 1, 0, 0, args.get());
    auto r = amqp_get_rpc_reply(conn_);
    if (q.replace_when_empty && inequivalent_arguments(r)) {
      if (auto st = replace_empty_queue(q.name, args, ch); !st) return st;
      continue;
    }
    if (auto st = check_reply(r, "queue.declare"); !st) return st;
  }
  for (const auto& b : t.bindings) {
    amqp_queue_bind(conn_, ch, bytes(b.queue), bytes(b.exchange), bytes(b.routing_key),
                    amqp_empty_table);
    if (auto st = check("queue.bind"); !st) return st;
  }
  return {};
}

void Connection::wait(Waker& w, std::chrono::milliseconds timeout) {
  if (amqp_frames_enqueued(conn_) || amqp_data_in_buffer(conn_)) return;
  pollfd fds[2] = {{amqp_get_sockfd(conn_), POLLIN, 0}, {w.fd(), POLLIN, 0}};
  int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (n > 0 && (fds[1].revents & POLLIN)) w.drain();
}

int Connection::poll_frame(amqp_frame_t& f) {
  timeval zero{0, 0};
  return amqp_simple_wait_frame_noblock(conn_, &f, &zero);
}

tk::Status Connection::read_content(amqp_channel_t ch, amqp_message_t& m) {
  auto r = amqp_read_message(conn_, ch, &m, 0);
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return {};
  broken_ = true;
  return unavailable("read message: " + rpc_error_text(r));
}

void Table::add(std::string key, std::string value) {
  entries_.push_back(Entry{std::move(key), std::move(value), 0, true});
}
void Table::add(std::string key, std::int64_t value) {
  entries_.push_back(Entry{std::move(key), {}, value, false});
}
amqp_table_t Table::get() {
  raw_.clear();
  for (auto& e : entries_) {
    amqp_table_entry_t t{};
    t.key = bytes(e.key);
    if (e.is_str) {
      t.value.kind = AMQP_FIELD_KIND_UTF8;
      t.value.value.bytes = bytes(e.str);
    } else {
      t.value.kind = AMQP_FIELD_KIND_I64;
      t.value.value.i64 = e.num;
    }
    raw_.push_back(t);
  }
  return amqp_table_t{static_cast<int>(raw_.size()), raw_.data()};
}

namespace {
bool as_int(const amqp_field_value_t& v, std::int64_t& out) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_I8:
      out = v.value.i8;
      return true;
    case AMQP_FIELD_KIND_U8:
      out = v.value.u8;
      return true;
    case AMQP_FIELD_KIND_I16:
      out = v.value.i16;
      return true;
    case AMQP_FIELD_KIND_U16:
      out = v.value.u16;
      return true;
    case AMQP_FIELD_KIND_I32:
      out = v.value.i32;
      return true;
    case AMQP_FIELD_KIND_U32:
      out = v.value.u32;
      return true;
    case AMQP_FIELD_KIND_I64:
      out = v.value.i64;
      return true;
    case AMQP_FIELD_KIND_U64:
      out = static_cast<std::int64_t>(v.value.u64);
      return true;
    default:
      return false;
  }
}
}  // namespace

std::map<std::string, std::string> string_headers(const amqp_table_t& t) {
  std::map<std::string, std::string> out;
  for (int i = 0; i < t.num_entries; ++i) {
    const auto& e = t.entries[i];
    std::int64_t n;
    if (e.value.kind == AMQP_FIELD_KIND_UTF8 || e.value.kind == AMQP_FIELD_KIND_BYTES)
      out[str(e.key)] = str(e.value.value.bytes);
    else if (as_int(e.value, n))
      out[str(e.key)] = std::to_string(n);
  }
  return out;
}

std::int64_t death_count(const amqp_table_t& t, std::string_view queue) {
  std::int64_t total = 0;
  for (int i = 0; i < t.num_entries; ++i) {
    const auto& e = t.entries[i];
    if (str(e.key) != "x-death" || e.value.kind != AMQP_FIELD_KIND_ARRAY) continue;
    const auto& arr = e.value.value.array;
    for (int j = 0; j < arr.num_entries; ++j) {
      if (arr.entries[j].kind != AMQP_FIELD_KIND_TABLE) continue;
      const auto& d = arr.entries[j].value.table;
      bool ours = false;
      std::int64_t count = 0;
      for (int k = 0; k < d.num_entries; ++k) {
        auto key = str(d.entries[k].key);
        const auto& v = d.entries[k].value;
        if (key == "queue" && (v.kind == AMQP_FIELD_KIND_UTF8 || v.kind == AMQP_FIELD_KIND_BYTES))
          ours = str(v.value.bytes) == queue;
        else if (key == "count")
          as_int(v, count);
      }
      if (ours) total += count;
    }
  }
  return total;
}

std::int64_t int_header(const amqp_table_t& t, std::string_view key) {
  for (int i = 0; i < t.num_entries; ++i) {
    std::int64_t n;
    if (str(t.entries[i].key) == key && as_int(t.entries[i].value, n)) return n;
  }
  return 0;
}

}  // namespace tk::amqp::detail
