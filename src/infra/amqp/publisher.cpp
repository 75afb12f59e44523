#include "infra/amqp/publisher.hpp"

#include <amqp.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "common/log.hpp"
#include "infra/amqp/broker_thread.hpp"
#include "infra/amqp/connection.hpp"

namespace tk::amqp {

using detail::bytes;
using detail::str;
using Clock = std::chrono::steady_clock;

namespace {
constexpr amqp_channel_t kChannel = 1;

tk::Error error_with(Errc e, const char* key, std::string value) {
  boost::json::object d;
  d[key] = std::move(value);
  return tk::Error(make_error_code(e), std::move(d));
}
}  // namespace

std::shared_ptr<Publisher> Publisher::create(asio::any_io_executor ex, Endpoint ep,
                                             PublisherOptions opt) {
  return std::shared_ptr<Publisher>(new Publisher(std::move(ex), std::move(ep), std::move(opt)));
}

Publisher::Publisher(asio::any_io_executor ex, Endpoint ep, PublisherOptions opt)
    : ex_(std::move(ex)), ep_(std::move(ep)), opt_(std::move(opt)) {
  detail::BrokerThread::Hooks h;
  h.setup = [this](detail::Connection& c) { return setup(c); };
  h.serve = [this](detail::Connection& c) { serve(c); };
  h.idle = [this] { fail_queued(Clock::now(), false, Errc::timeout); };
  h.after_failure = [this] { requeue_inflight(); };
  bt_ = std::make_unique<detail::BrokerThread>(
      "publisher", ep_.host + ":" + std::to_string(ep_.port), ep_, opt_, 1, std::move(h));
}

Publisher::~Publisher() { stop(); }

void Publisher::start() { bt_->start(); }

void Publisher::stop() {
  bt_->stop();
  fail_queued(Clock::now(), true, Errc::stopped, true);  // unconfirmed, or published while stopped
}

bool Publisher::connected() const { return bt_->connected(); }
std::uint64_t Publisher::reconnects() const { return bt_->reconnects(); }
std::uint64_t Publisher::failures() const { return bt_->failures(); }
std::string Publisher::last_error() const { return bt_->last_error(); }

void Publisher::submit(const Message& m, Handler h) {
  detail::Waiter<tk::Status> w(std::move(h), ex_);
  // Reserve a slot first: the bound covers queued and unconfirmed messages together.
  std::size_t n = pending_.load(std::memory_order_relaxed);
  do {
    if (n >= opt_.max_pending) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      w.complete_later(ex_, error_with(Errc::overloaded, "reason", "publisher queue full"));
      return;
    }
  } while (!pending_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  {
    std::lock_guard lk(mu_);
    if (bt_->stopping()) {  // stop() ran: no thread would ever send it
      pending_.fetch_sub(1, std::memory_order_relaxed);
      w.complete_later(ex_, tk::Error(make_error_code(Errc::stopped)));
      return;
    }
    Request r{m, std::move(w), Clock::now() + opt_.confirm_timeout};
    if (r.msg.message_id.empty()) r.msg.message_id = "m" + std::to_string(++next_id_);
    queue_.push_back(std::move(r));
  }
  bt_->waker().wake();
}

void Publisher::finish(Request& r, tk::Status st, bool later) {
  pending_.fetch_sub(1, std::memory_order_relaxed);
  if (later)
    r.waiter.complete_later(ex_, std::move(st));
  else
    r.waiter.complete(std::move(st));
}

void Publisher::fail_queued(Clock::time_point now, bool all, Errc why, bool later) {
  std::deque<Request> failed;
  {
    std::lock_guard lk(mu_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (all || it->deadline <= now) {
        failed.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& r : failed) finish(r, tk::Error(make_error_code(why)), later);
}

void Publisher::requeue_inflight() {
  std::lock_guard lk(mu_);
  for (auto it = inflight_.rbegin(); it != inflight_.rend(); ++it) {
    it->second.returned = false;
    queue_.push_front(std::move(it->second));
    if (!bt_->stopping()) republished_.fetch_add(1, std::memory_order_relaxed);
  }
  inflight_.clear();
}

tk::Status Publisher::setup(detail::Connection& c) {
  // Declare first: replacing a queue whose arguments changed reopens the channel, and a reopened
  // channel is no longer in confirm mode.
  auto st = c.declare(opt_.topology, kChannel);
  if (st) {
    amqp_confirm_select(c.get(), kChannel);
    st = c.check("confirm.select");
  }
  return st;
}

// Sends what is queued, settles confirms and returns, until the connection fails or stop().
// Messages in flight when the connection fails go back to the front of the queue.
void Publisher::serve(detail::Connection& c) {
  auto& inflight = inflight_;  // by delivery tag (1, 2, ... per channel)
  std::uint64_t tag = 0;
  std::string lost_reason;

  auto settle = [&](std::uint64_t upto, bool multiple, bool ack) {
    auto end = multiple ? inflight.upper_bound(upto) : inflight.find(upto);
    auto begin = multiple ? inflight.begin() : end;
    if (!multiple) {
      if (end == inflight.end()) return;  // timed out before the confirm came
      ++end;
    }
    for (auto it = begin; it != end; ++it) {
      auto& r = it->second;
      if (!ack) {
        nacked_.fetch_add(1, std::memory_order_relaxed);
        finish(r, error_with(Errc::nacked, "message_id", r.msg.message_id));
      } else if (r.returned) {
        returned_.fetch_add(1, std::memory_order_relaxed);
        finish(r, error_with(Errc::unroutable, "message_id", r.msg.message_id));
      } else {
        confirmed_.fetch_add(1, std::memory_order_relaxed);
        finish(r, {});
      }
    }
    inflight.erase(begin, end);
  };

  while (!bt_->stopping()) {
    std::deque<Request> batch;
    {
      std::lock_guard lk(mu_);
      batch.swap(queue_);
    }
    auto now = Clock::now();
    while (!batch.empty()) {
      Request r = std::move(batch.front());
      batch.pop_front();
      if (r.deadline <= now) {
        finish(r, Errc::timeout);
        continue;
      }
      detail::Table headers;
      for (const auto& [k, v] : r.msg.headers) headers.add(k, v);
      amqp_basic_properties_t p{};
      p._flags =
          AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
      p.content_type = bytes(r.msg.content_type);
      p.delivery_mode = r.msg.persistent ? AMQP_DELIVERY_PERSISTENT : AMQP_DELIVERY_NONPERSISTENT;
      p.message_id = bytes(r.msg.message_id);
      if (!r.msg.headers.empty()) {
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers = headers.get();
      }
      int rc =
          amqp_basic_publish(c.get(), kChannel, bytes(r.msg.exchange), bytes(r.msg.routing_key),
                             r.msg.mandatory, 0, &p, bytes(r.msg.body));
      if (rc != AMQP_STATUS_OK) {
        lost_reason = std::string("publish: ") + amqp_error_string2(rc);
        batch.push_front(std::move(r));
        break;
      }
      inflight.emplace(++tag, std::move(r));
    }
    if (!batch.empty()) {  // the connection failed mid-batch: keep the order for the next one
      std::lock_guard lk(mu_);
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
      break;
    }

#ifdef TK_TEST_HOOKS
    if (fail_next_round_.exchange(false)) throw std::runtime_error("injected publisher failure");
#endif
    for (;;) {
      amqp_frame_t f;
      int rc = c.poll_frame(f);
      if (rc == AMQP_STATUS_TIMEOUT) break;
      if (rc != AMQP_STATUS_OK) {
        lost_reason = std::string("read: ") + amqp_error_string2(rc);
        break;
      }
      if (f.frame_type != AMQP_FRAME_METHOD) continue;
      switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
          auto* m = static_cast<amqp_basic_ack_t*>(f.payload.method.decoded);
          settle(m->delivery_tag, m->multiple, true);
          break;
        }
        case AMQP_BASIC_NACK_METHOD: {
          auto* m = static_cast<amqp_basic_nack_t*>(f.payload.method.decoded);
          settle(m->delivery_tag, m->multiple, false);
          break;
        }
        case AMQP_BASIC_RETURN_METHOD: {
          // The return precedes the message's ack; it names no delivery tag, so the message id
          // (unique per publisher unless the caller repeats one) finds the request.
          amqp_message_t msg;
          auto st = c.read_content(kChannel, msg);
          if (!st) {
            lost_reason = "read returned message";
            break;
          }
          std::string id = (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
                               ? str(msg.properties.message_id)
                               : std::string();
          amqp_destroy_message(&msg);
          for (auto& [t, r] : inflight) {
            if (!r.returned && r.msg.message_id == id) {
              r.returned = true;
              break;
            }
          }
          break;
        }
        case AMQP_CHANNEL_CLOSE_METHOD: {
          // A channel error (e.g. 404: no such exchange) loses what was in flight on it; which
          // message caused it is unknown, so all of them fail and their callers decide.
          auto* m = static_cast<amqp_channel_close_t*>(f.payload.method.decoded);
          std::string text = std::to_string(m->reply_code) + " " + str(m->reply_text);
          log::warn("amqp publisher channel closed by broker", {{"error", text}});
          for (auto& [t, r] : inflight) {
            boost::json::object d;
            d["code"] = m->reply_code;
            d["text"] = text;
            finish(r, tk::Error(make_error_code(Errc::channel_closed), std::move(d)));
          }
          inflight.clear();
          lost_reason = "channel closed: " + text;
          break;
        }
        case AMQP_CONNECTION_CLOSE_METHOD: {
          auto* m = static_cast<amqp_connection_close_t*>(f.payload.method.decoded);
          lost_reason = "connection closed by broker: " + str(m->reply_text);
          break;
        }
        default:
          break;
      }
      if (!lost_reason.empty()) break;
    }
    if (!lost_reason.empty()) break;

    // Confirms overdue: the caller learns at confirm_timeout; a late ack finds nothing.
    now = Clock::now();
    for (auto it = inflight.begin(); it != inflight.end();) {
      if (it->second.deadline <= now) {
        finish(it->second, Errc::timeout);
        it = inflight.erase(it);
      } else {
        ++it;
      }
    }
    c.wait(bt_->waker(), detail::BrokerThread::kTick);
  }

  if (!lost_reason.empty()) {
    c.mark_broken();
    bt_->set_last_error(lost_reason);
    log::warn("amqp publisher connection lost",
              {{"error", lost_reason}, {"unconfirmed", inflight.size()}});
  }
  // Unconfirmed messages go first on the next connection (or fail with stopped in run()).
  requeue_inflight();
}

}  // namespace tk::amqp
