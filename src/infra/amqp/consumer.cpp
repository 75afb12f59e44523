#include "infra/amqp/consumer.hpp"

#include <amqp.h>

#include <algorithm>

#include "common/log.hpp"
#include "infra/amqp/broker_thread.hpp"
#include "infra/amqp/connection.hpp"

namespace tk::amqp {

using detail::bytes;
using detail::str;
using Clock = std::chrono::steady_clock;

namespace {
constexpr amqp_channel_t kConsume = 1;
constexpr amqp_channel_t kPark = 2;  // confirmed publishes to the parking queue
}  // namespace

ConsumerOptions ConsumerOptions::for_work_queue(const WorkQueue& wq, std::uint16_t prefetch) {
  ConsumerOptions o;
  o.queue = wq.name;
  o.prefetch = prefetch;
  o.topology = wq.topology();
  o.max_attempts = wq.max_attempts;
  o.parking_exchange = wq.dead_letter_exchange();
  o.parking_routing_key = "parking";
  return o;
}

std::shared_ptr<Consumer> Consumer::create(asio::any_io_executor ex, Endpoint ep,
                                           ConsumerOptions opt) {
  return std::shared_ptr<Consumer>(new Consumer(std::move(ex), std::move(ep), std::move(opt)));
}

Consumer::Consumer(asio::any_io_executor ex, Endpoint ep, ConsumerOptions opt)
    : ex_(std::move(ex)), ep_(std::move(ep)), opt_(std::move(opt)) {
  detail::BrokerThread::Hooks h;
  h.setup = [this](detail::Connection& c) { return setup(c); };
  h.serve = [this](detail::Connection& c) { serve(c, gen_.fetch_add(1) + 1); };
  h.idle = [this] { expire_waiters(); };
  h.after_serve = [this] {
    // Deliveries of the lost connection that nobody took yet: the broker redelivers them.
    auto gen = gen_.load();
    std::lock_guard lk(mu_);
    std::erase_if(deliveries_, [&](const Delivery& d) { return d.connection == gen; });
  };
  bt_ = std::make_unique<detail::BrokerThread>("consumer", opt_.queue, ep_, opt_, 2, std::move(h));
}

Consumer::~Consumer() { stop(); }

void Consumer::start() { bt_->start(); }

void Consumer::stop() {
  bt_->stop();
  std::deque<Waiting> waiters;
  {
    std::lock_guard lk(mu_);
    waiters.swap(waiters_);
    deliveries_.clear();  // unacked: the broker delivers them again
    commands_.clear();
  }
  for (auto& w : waiters) w.waiter.complete_later(ex_, tk::Result<Delivery>(Errc::stopped));
}

bool Consumer::connected() const { return bt_->connected(); }
std::uint64_t Consumer::reconnects() const { return bt_->reconnects(); }
std::uint64_t Consumer::failures() const { return bt_->failures(); }
std::string Consumer::last_error() const { return bt_->last_error(); }

std::size_t Consumer::buffered() const {
  std::lock_guard lk(mu_);
  return deliveries_.size();
}

void Consumer::expire_waiters() {
  std::deque<Waiting> expired;
  {
    std::lock_guard lk(mu_);
    auto now = Clock::now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->deadline <= now) {
        expired.push_back(std::move(*it));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : expired) w.waiter.complete(tk::Result<Delivery>(Errc::timeout));
}

void Consumer::wait_next(Handler h, std::chrono::milliseconds timeout) {
  detail::Waiter<tk::Result<Delivery>> w(std::move(h), ex_);
  std::unique_lock lk(mu_);
  if (bt_->stopped()) {
    lk.unlock();
    w.complete_later(ex_, tk::Result<Delivery>(Errc::stopped));
    return;
  }
  if (deliveries_.empty()) {
    auto deadline =
        Clock::now() + std::min<std::chrono::milliseconds>(timeout, std::chrono::hours(24 * 365));
    waiters_.push_back(Waiting{std::move(w), deadline});
    return;
  }
  Delivery d = std::move(deliveries_.front());
  deliveries_.pop_front();
  lk.unlock();
  w.complete_later(ex_, std::move(d));
}

void Consumer::push(Delivery d) {
  std::unique_lock lk(mu_);
  if (waiters_.empty()) {
    deliveries_.push_back(std::move(d));
    return;
  }
  auto w = std::move(waiters_.front());
  waiters_.pop_front();
  lk.unlock();
  w.waiter.complete(std::move(d));
}

void Consumer::command(Verdict v, const Delivery& d) {
  {
    std::lock_guard lk(mu_);
    commands_.push_back(Command{v, d});
  }
  bt_->waker().wake();
}

void Consumer::ack(const Delivery& d) { command(Verdict::ack, d); }
void Consumer::requeue(const Delivery& d) { command(Verdict::requeue, d); }
void Consumer::retry(const Delivery& d) {
  if (d.attempt < opt_.max_attempts || opt_.parking_exchange.empty()) {
    retried_.fetch_add(1, std::memory_order_relaxed);
    command(Verdict::dead_letter, d);
  } else {
    command(Verdict::park, d);
  }
}

tk::Status Consumer::setup(detail::Connection& c) {
  auto st = c.declare(opt_.topology, kConsume);
  if (st) {
    amqp_basic_qos(c.get(), kConsume, 0, opt_.prefetch, 0);
    st = c.check("basic.qos");
  }
  if (st) {
    amqp_confirm_select(c.get(), kPark);
    st = c.check("confirm.select");
  }
  if (st) {
    amqp_basic_consume(c.get(), kConsume, bytes(opt_.queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    st = c.check("basic.consume");
  }
  return st;
}

void Consumer::serve(detail::Connection& c, std::uint64_t gen) {
  std::map<std::uint64_t, std::uint64_t> parking;  // publish tag on kPark -> delivery tag
  std::uint64_t park_tag = 0;
  std::string lost;

  auto run_commands = [&] {
    std::deque<Command> cmds;
    {
      std::lock_guard lk(mu_);
      cmds.swap(commands_);
    }
    for (auto& cmd : cmds) {
      if (cmd.d.connection != gen) continue;  // its connection is gone: already redelivered
      int rc = AMQP_STATUS_OK;
      switch (cmd.verdict) {
        case Verdict::ack:
          rc = amqp_basic_ack(c.get(), kConsume, cmd.d.tag, 0);
          break;
        case Verdict::requeue:
          rc = amqp_basic_nack(c.get(), kConsume, cmd.d.tag, 0, 1);
          break;
        case Verdict::dead_letter:
          rc = amqp_basic_nack(c.get(), kConsume, cmd.d.tag, 0, 0);
          break;
        case Verdict::park: {
          // Copy to the parking queue; the original is acked only once the copy is confirmed.
          detail::Table headers;
          for (const auto& [k, v] : cmd.d.headers)
            if (k != "x-death") headers.add(k, v);
          headers.add("x-tk-attempts", static_cast<std::int64_t>(cmd.d.attempt));
          headers.add("x-tk-queue", opt_.queue);
          amqp_basic_properties_t p{};
          p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                     AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_HEADERS_FLAG;
          p.content_type = bytes(cmd.d.content_type);
          p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
          p.message_id = bytes(cmd.d.message_id);
          p.headers = headers.get();
          rc = amqp_basic_publish(c.get(), kPark, bytes(opt_.parking_exchange),
                                  bytes(opt_.parking_routing_key), 1, 0, &p, bytes(cmd.d.body));
          if (rc == AMQP_STATUS_OK) parking.emplace(++park_tag, cmd.d.tag);
          break;
        }
      }
      if (rc != AMQP_STATUS_OK) {
        lost = std::string("verdict: ") + amqp_error_string2(rc);
        return;
      }
    }
  };

  auto settle_parking = [&](std::uint64_t upto, bool multiple, bool ok) {
    auto end = multiple ? parking.upper_bound(upto) : parking.find(upto);
    auto begin = multiple ? parking.begin() : end;
    if (!multiple) {
      if (end == parking.end()) return;
      ++end;
    }
    for (auto it = begin; it != end && lost.empty(); ++it) {
      // Not parked (nack): back to the queue, to be tried and parked again.
      int rc = ok ? amqp_basic_ack(c.get(), kConsume, it->second, 0)
                  : amqp_basic_nack(c.get(), kConsume, it->second, 0, 1);
      if (rc != AMQP_STATUS_OK) lost = std::string("ack parked: ") + amqp_error_string2(rc);
      if (ok) parked_.fetch_add(1, std::memory_order_relaxed);
    }
    parking.erase(begin, end);
  };

  for (;;) {
    run_commands();  // also once more after stop(), so verdicts given before it are sent
    if (bt_->stopping() || !lost.empty()) break;
    for (;;) {
      amqp_frame_t f;
      int rc = c.poll_frame(f);
      if (rc == AMQP_STATUS_TIMEOUT) break;
      if (rc != AMQP_STATUS_OK) {
        lost = std::string("read: ") + amqp_error_string2(rc);
        break;
      }
      if (f.frame_type != AMQP_FRAME_METHOD) continue;
      switch (f.payload.method.id) {
        case AMQP_BASIC_DELIVER_METHOD: {
          auto* m = static_cast<amqp_basic_deliver_t*>(f.payload.method.decoded);
          Delivery d;
          d.tag = m->delivery_tag;
          d.connection = gen;
          d.redelivered = m->redelivered;
          d.exchange = str(m->exchange);
          d.routing_key = str(m->routing_key);
          amqp_message_t msg;
          if (auto st = c.read_content(kConsume, msg); !st) {
            lost = "read delivery";
            break;
          }
          const auto& p = msg.properties;
          if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG) d.message_id = str(p.message_id);
          if (p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG) d.content_type = str(p.content_type);
          if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
            d.headers = detail::string_headers(p.headers);
            d.attempt = 1 + static_cast<int>(detail::death_count(p.headers, opt_.queue));
            d.delivery_count = detail::int_header(p.headers, "x-delivery-count");
          }
          d.body = str(msg.body);
          amqp_destroy_message(&msg);
          delivered_.fetch_add(1, std::memory_order_relaxed);
          push(std::move(d));
          break;
        }
        case AMQP_BASIC_ACK_METHOD:
          if (f.channel == kPark) {
            auto* m = static_cast<amqp_basic_ack_t*>(f.payload.method.decoded);
            settle_parking(m->delivery_tag, m->multiple, true);
          }
          break;
        case AMQP_BASIC_NACK_METHOD:
          if (f.channel == kPark) {
            auto* m = static_cast<amqp_basic_nack_t*>(f.payload.method.decoded);
            settle_parking(m->delivery_tag, m->multiple, false);
          }
          break;
        case AMQP_BASIC_CANCEL_METHOD:  // the queue was deleted (or its leader moved away)
          lost = "consumer cancelled by broker";
          break;
        case AMQP_CHANNEL_CLOSE_METHOD: {
          auto* m = static_cast<amqp_channel_close_t*>(f.payload.method.decoded);
          lost = "channel closed by broker: " + std::to_string(m->reply_code) + " " +
                 str(m->reply_text);
          break;
        }
        case AMQP_CONNECTION_CLOSE_METHOD: {
          auto* m = static_cast<amqp_connection_close_t*>(f.payload.method.decoded);
          lost = "connection closed by broker: " + str(m->reply_text);
          break;
        }
        default:
          break;
      }
      if (!lost.empty()) break;
    }
    if (!lost.empty()) break;
    expire_waiters();
    c.wait(bt_->waker(), detail::BrokerThread::kTick);
  }
  if (!lost.empty()) {
    c.mark_broken();
    bt_->set_last_error(lost);
    log::warn("amqp consumer connection lost", {{"queue", opt_.queue}, {"error", lost}});
  }
}

}  // namespace tk::amqp
