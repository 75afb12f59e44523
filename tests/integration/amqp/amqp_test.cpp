// The AMQP adapter against the fixture's real RabbitMQ node: confirms, acks, redelivery, a broker
// restart mid-stream, bounded queues and the dead-letter path to the parking queue.
#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "amqp_test_util.hpp"
#include "infra/amqp/topology.hpp"

namespace tk::amqp::testing {
namespace {

Message message_to(const WorkQueue& wq, const std::string& id, const std::string& body) {
  Message m;
  m.exchange = wq.exchange();
  m.routing_key = wq.routing_key();
  m.message_id = id;
  m.body = body;
  return m;
}

PublisherOptions publisher_for(const WorkQueue& wq) {
  PublisherOptions o = fast(PublisherOptions{});
  o.topology = wq.topology();
  return o;
}

TEST(Amqp, PublishWithConfirmsThenConsumeAndAck) {
  WorkQueue wq;
  wq.name = unique_name("basic");
  run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = Publisher::create(ex, endpoint(), publisher_for(wq));
    pub->start();
    for (int i = 0; i < 50; ++i) {
      auto m = message_to(wq, "id-" + std::to_string(i), "body-" + std::to_string(i));
      auto st = co_await pub->publish(m);
      CO_ASSERT(st.ok());
    }
    EXPECT_EQ(pub->confirmed(), 50u);
    // Confirmed means stored: all 50 wait in the queue before anyone consumes.
    EXPECT_EQ(queue_depth(wq.name), 50);

    auto con = Consumer::create(ex, endpoint(), fast(ConsumerOptions::for_work_queue(wq, 8)));
    con->start();
    std::map<std::string, std::string> got;
    for (int i = 0; i < 50; ++i) {
      auto d = co_await con->next(5s);
      CO_ASSERT(d.ok());
      EXPECT_FALSE(d->redelivered);
      EXPECT_EQ(d->attempt, 1);
      got[d->message_id] = d->body;
      con->ack(*d);
    }
    CO_ASSERT(got.size() == 50u);
    for (int i = 0; i < 50; ++i)
      EXPECT_EQ(got["id-" + std::to_string(i)], "body-" + std::to_string(i));
    auto none = co_await con->next(500ms);
    EXPECT_EQ(none.code(), Errc::timeout);
    con->stop();
    // Acked before the connection closed: nothing returns to the queue.
    EXPECT_EQ(queue_depth(wq.name), 0);
    pub->stop();
  });
}

TEST(Amqp, MandatoryMessageWithoutQueueIsReturnedAndABrokerChannelErrorIsSurvived) {
  WorkQueue wq;
  wq.name = unique_name("unroutable");
  run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = Publisher::create(ex, endpoint(), publisher_for(wq));
    pub->start();
    auto m = message_to(wq, "lost", "x");
    m.routing_key = "no-such-binding";
    auto st = co_await pub->publish(m);
    EXPECT_EQ(st.code(), Errc::unroutable);
    EXPECT_EQ(pub->returned(), 1u);

    auto bad = message_to(wq, "bad", "x");
    bad.exchange = unique_name("no-such-exchange");
    st = co_await pub->publish(bad);  // 404 closes the channel
    EXPECT_EQ(st.code(), Errc::channel_closed);

    auto good = message_to(wq, "good", "x");
    st = co_await pub->publish(good);  // on a new connection
    EXPECT_TRUE(st.ok()) << st.code().message();
    EXPECT_EQ(queue_depth(wq.name), 1);
    pub->stop();
  });
}

TEST(Amqp, UnackedMessageIsRedeliveredAfterTheConsumerConnectionDrops) {
  WorkQueue wq;
  wq.name = unique_name("redeliver");
  run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = Publisher::create(ex, endpoint(), publisher_for(wq));
    pub->start();
    auto first = message_to(wq, "kept", "a");
    auto second = message_to(wq, "done", "b");
    CO_ASSERT((co_await pub->publish(first)).ok());
    CO_ASSERT((co_await pub->publish(second)).ok());

    auto opts = fast(ConsumerOptions::for_work_queue(wq, 8));
    auto c1 = Consumer::create(ex, endpoint(), opts);
    c1->start();
    auto a = co_await c1->next(5s);
    auto b = co_await c1->next(5s);
    CO_ASSERT(a.ok() && b.ok());
    EXPECT_FALSE(a->redelivered);
    EXPECT_EQ(a->message_id, "kept");
    EXPECT_EQ(b->message_id, "done");
    c1->ack(*b);  // only the second gets a verdict
    c1->stop();   // the connection closes with "kept" unacked

    auto c2 = Consumer::create(ex, endpoint(), opts);
    c2->start();
    auto again = co_await c2->next(5s);
    CO_ASSERT(again.ok());
    EXPECT_EQ(again->message_id, "kept");
    EXPECT_EQ(again->body, "a");
    EXPECT_TRUE(again->redelivered);
    EXPECT_GE(again->delivery_count, 1);
    c2->ack(*again);
    auto none = co_await c2->next(1s);  // "done" was acked: it never comes back
    EXPECT_EQ(none.code(), Errc::timeout);
    c2->stop();
    EXPECT_EQ(queue_depth(wq.name), 0);
    pub->stop();
  });
}

// Delivery tags restart at 1 on every connection: a verdict for a delivery of a lost connection
// must not settle whatever carries the same tag on the new one.
TEST(Amqp, VerdictForADeliveryOfALostConnectionIsIgnored) {
  WorkQueue wq;
  wq.name = unique_name("stale");
  run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = Publisher::create(ex, endpoint(), publisher_for(wq));
    pub->start();
    auto m = message_to(wq, "only", "x");
    CO_ASSERT((co_await pub->publish(m)).ok());
    pub->stop();

    auto opts = fast(ConsumerOptions::for_work_queue(wq, 1));
    opts.heartbeat_s = 1;
    auto con = Consumer::create(ex, endpoint(), opts);
    con->start();
    auto old = co_await con->next(5s);
    CO_ASSERT(old.ok());
    // Freeze the broker until the consumer gives the connection up, then let it reconnect.
    tk::test::servers("rabbitmq-pause");
    asio::steady_timer t(ex);
    for (int i = 0; i < 100 && con->connected(); ++i) {
      t.expires_after(100ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    // Read before the thaw: once the broker runs again the consumer may reconnect at once.
    const bool dropped = !con->connected();
    tk::test::servers("rabbitmq-thaw");
    EXPECT_TRUE(dropped);
    auto again = co_await con->next(15s);
    CO_ASSERT(again.ok());
    EXPECT_EQ(again->message_id, "only");
    EXPECT_TRUE(again->redelivered);
    EXPECT_NE(again->connection, old->connection);
    EXPECT_EQ(again->tag, old->tag);  // the same tag, meaning another delivery

    con->ack(*old);  // stale: must not ack `again`
    t.expires_after(300ms);
    co_await t.async_wait(asio::use_awaitable);
    con->stop();  // `again` has no verdict: back to the queue
    EXPECT_EQ(queue_depth_reaching(wq.name, 1), 1);
  });
}

TEST(Amqp, BrokerRestartMidStreamLosesNoConfirmedMessageAndClientsRecover) {
  WorkQueue wq;
  wq.name = unique_name("restart");
  std::atomic<int> confirmed{0};
  std::atomic<bool> restart_done{false}, body_done{false};
  // The restart runs off the I/O thread, once the stream is under way.
  std::thread restarter([&] {
    while (confirmed.load() < 100) {
      if (body_done) return;
      std::this_thread::sleep_for(5ms);
    }
    tk::test::servers("rabbitmq-halt");
    tk::test::servers("rabbitmq-resume");
    restart_done = true;
  });
  run(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto popts = publisher_for(wq);
        popts.confirm_timeout = 60s;
        auto pub = Publisher::create(ex, endpoint(), popts);
        pub->start();
        auto con = Consumer::create(ex, endpoint(), fast(ConsumerOptions::for_work_queue(wq, 32)));
        con->start();

        std::set<std::string> confirmed_ids, consumed_ids;
        std::map<std::string, int> failures;
        // Ten publishing lanes, paced so the stream spans the restart and goes on for 20 more
        // messages each after it; this coroutine consumes and acks concurrently.
        auto lane_task = [&](int lane) -> asio::awaitable<void> {
          int after = 0;
          for (int k = 0; after < 20; ++k) {
            auto m = message_to(wq, "r-" + std::to_string(lane) + "-" + std::to_string(k), "x");
            auto st = co_await pub->publish(m);
            if (st.ok()) {
              confirmed_ids.insert(m.message_id);
              ++confirmed;
            } else {
              ++failures[st.code().message()];
            }
            if (restart_done) ++after;
            asio::steady_timer t(ex, 10ms);
            co_await t.async_wait(asio::use_awaitable);
          }
        };
        int lanes_done = 0;
        for (int lane = 0; lane < 10; ++lane)
          asio::co_spawn(ex, lane_task(lane), [&](std::exception_ptr) { ++lanes_done; });
        auto deadline = std::chrono::steady_clock::now() + 100s;
        while (std::chrono::steady_clock::now() < deadline &&
               !(lanes_done == 10 && consumed_ids.size() >= confirmed_ids.size() &&
                 std::includes(consumed_ids.begin(), consumed_ids.end(), confirmed_ids.begin(),
                               confirmed_ids.end()))) {
          auto d = co_await con->next(500ms);
          if (!d.ok()) continue;
          consumed_ids.insert(d->message_id);  // duplicates (at least once) collapse here
          con->ack(*d);
        }
        EXPECT_EQ(lanes_done, 10);
        EXPECT_TRUE(restart_done.load());
        EXPECT_TRUE(failures.empty()) << "first failure: " << failures.begin()->first;
        EXPECT_GE(confirmed_ids.size(), 300u);
        for (const auto& id : confirmed_ids) EXPECT_TRUE(consumed_ids.count(id)) << "lost " << id;
        EXPECT_GE(pub->reconnects(), 1u);
        EXPECT_GE(con->reconnects(), 1u);
        con->stop();
        pub->stop();
      },
      180s);
  body_done = true;
  restarter.join();
}

TEST(Amqp, MessagesUnconfirmedWhenTheBrokerCrashesAreSentAgainAndConfirmed) {
  WorkQueue wq;
  wq.name = unique_name("crash");
  run(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto popts = publisher_for(wq);
        popts.confirm_timeout = 60s;
        auto pub = Publisher::create(ex, endpoint(), popts);
        pub->start();
        auto warm = message_to(wq, "warm", "x");
        CO_ASSERT((co_await pub->publish(warm)).ok());

        // A frozen broker takes the messages into its socket but never confirms them.
        tk::test::servers("rabbitmq-pause");
        std::vector<tk::Status> results;
        for (int i = 0; i < 5; ++i) {
          auto m = message_to(wq, "c-" + std::to_string(i), "x");
          pub->publish(m, [&](tk::Status st) { results.push_back(std::move(st)); });
        }
        asio::steady_timer t(ex, 500ms);
        co_await t.async_wait(asio::use_awaitable);
        EXPECT_TRUE(results.empty());  // nothing completes without a confirm
        EXPECT_EQ(pub->pending(), 5u);

        std::atomic<bool> restarted{false};
        std::thread crash([&] {
          tk::test::servers("rabbitmq-kill");
          tk::test::servers("rabbitmq-resume");
          restarted = true;
        });
        auto deadline = std::chrono::steady_clock::now() + 60s;
        while (results.size() < 5 && std::chrono::steady_clock::now() < deadline) {
          t.expires_after(100ms);
          co_await t.async_wait(asio::use_awaitable);
        }
        crash.join();
        CO_ASSERT(results.size() == 5u);
        for (auto& r : results) EXPECT_TRUE(r.ok()) << r.code().message();
        EXPECT_GE(pub->republished(), 5u);
        EXPECT_GE(pub->reconnects(), 1u);

        auto con = Consumer::create(ex, endpoint(), fast(ConsumerOptions::for_work_queue(wq, 16)));
        con->start();
        std::set<std::string> ids;
        for (;;) {
          auto d = co_await con->next(2s);
          if (!d.ok()) break;
          ids.insert(d->message_id);
          con->ack(*d);
        }
        EXPECT_EQ(ids, (std::set<std::string>{"warm", "c-0", "c-1", "c-2", "c-3", "c-4"}));
        con->stop();
        pub->stop();
      },
      120s);
}

TEST(Amqp, PublisherQueueIsBoundedWhileTheBrokerIsUnreachable) {
  run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Endpoint nowhere = endpoint();
    nowhere.port = 1;  // nothing listens: connects fail, messages wait in the queue
    auto o = fast(PublisherOptions{});
    o.max_pending = 5;
    auto pub = Publisher::create(ex, nowhere, o);
    pub->start();
    std::vector<tk::Status> results;
    int finished = 0;
    for (int i = 0; i < 5; ++i) {
      Message m;
      m.routing_key = "q";
      m.body = std::to_string(i);
      pub->publish(m, [&](tk::Status st) {
        results.push_back(std::move(st));
        ++finished;
      });
    }
    Message extra;
    extra.routing_key = "q";
    auto st = co_await pub->publish(extra);
    EXPECT_EQ(st.code(), Errc::overloaded);  // refused at once, not queued
    EXPECT_EQ(pub->pending(), 5u);
    EXPECT_EQ(pub->rejected(), 1u);
    EXPECT_EQ(finished, 0);
    EXPECT_FALSE(pub->connected());
    pub->stop();
    asio::steady_timer t(ex, 200ms);
    co_await t.async_wait(asio::use_awaitable);
    EXPECT_EQ(finished, 5);
    for (auto& r : results) EXPECT_EQ(r.code(), Errc::stopped);
    EXPECT_EQ(pub->pending(), 0u);
    // After stop() nothing waits for a thread that is gone.
    auto late = co_await pub->publish(extra);
    EXPECT_EQ(late.code(), Errc::stopped);
    EXPECT_EQ(pub->pending(), 0u);
  });
}

TEST(Amqp, FullQueueRefusesPublishesAndPrefetchBoundsDeliveries) {
  WorkQueue wq;
  wq.name = unique_name("bounded");
  wq.max_length = 6;
  run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = Publisher::create(ex, endpoint(), publisher_for(wq));
    pub->start();
    // Quorum queues check the bound after enqueueing, so they accept one message past it; from
    // then on the broker nacks every publish instead of growing.
    int accepted = 0, refused = 0;
    for (int i = 0; i < 10; ++i) {
      auto m = message_to(wq, "b-" + std::to_string(i), "x");
      auto st = co_await pub->publish(m);
      if (st.ok()) {
        EXPECT_EQ(refused, 0) << "accepted after a refusal: " << i;
        ++accepted;
      } else {
        EXPECT_EQ(st.code(), Errc::nacked) << i;
        ++refused;
      }
    }
    EXPECT_GE(accepted, 6);
    EXPECT_LE(accepted, 7);
    EXPECT_EQ(accepted + refused, 10);
    EXPECT_EQ(pub->nacked(), static_cast<std::uint64_t>(refused));
    EXPECT_EQ(queue_depth(wq.name), accepted);

    auto con = Consumer::create(ex, endpoint(), fast(ConsumerOptions::for_work_queue(wq, 4)));
    con->start();
    std::vector<Delivery> held;
    for (int i = 0; i < 4; ++i) {
      auto d = co_await con->next(5s);
      CO_ASSERT(d.ok());
      held.push_back(*d);
    }
    // Nothing acked: the broker keeps the rest until a slot frees.
    auto more = co_await con->next(1s);
    EXPECT_EQ(more.code(), Errc::timeout);
    EXPECT_EQ(con->delivered(), 4u);
    EXPECT_EQ(con->buffered(), 0u);
    con->ack(held[0]);
    auto fifth = co_await con->next(5s);
    EXPECT_TRUE(fifth.ok());
    EXPECT_EQ(con->delivered(), 5u);
    con->stop();
    pub->stop();
  });
}

TEST(Amqp, PoisonMessageIsRetriedWithDelayThenParkedAfterMaxAttempts) {
  WorkQueue wq;
  wq.name = unique_name("poison");
  wq.max_attempts = 3;
  wq.retry_delay = 300ms;
  run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = Publisher::create(ex, endpoint(), publisher_for(wq));
    pub->start();
    auto poison = message_to(wq, "poison-1", "{\"bad\":true}");
    poison.headers["x-kind"] = "receipt";
    CO_ASSERT((co_await pub->publish(poison)).ok());

    auto con = Consumer::create(ex, endpoint(), fast(ConsumerOptions::for_work_queue(wq, 4)));
    con->start();
    std::vector<int> attempts;
    std::vector<std::chrono::steady_clock::time_point> seen;
    for (int i = 0; i < 3; ++i) {
      auto d = co_await con->next(10s);
      CO_ASSERT(d.ok());
      EXPECT_EQ(d->message_id, "poison-1");
      attempts.push_back(d->attempt);
      seen.push_back(std::chrono::steady_clock::now());
      con->retry(*d);  // the handler failed
    }
    EXPECT_EQ(attempts, (std::vector<int>{1, 2, 3}));
    // Each retry waited in the retry queue for its TTL.
    EXPECT_GE(seen[1] - seen[0], 250ms);
    EXPECT_GE(seen[2] - seen[1], 250ms);
    auto after = co_await con->next(1500ms);  // parked, not retried again
    EXPECT_EQ(after.code(), Errc::timeout);
    EXPECT_EQ(con->retried(), 2u);
    EXPECT_EQ(con->parked(), 1u);

    ConsumerOptions po = fast(ConsumerOptions{});
    po.queue = wq.parking_queue();
    auto parking = Consumer::create(ex, endpoint(), po);
    parking->start();
    auto p = co_await parking->next(5s);
    CO_ASSERT(p.ok());
    EXPECT_EQ(p->message_id, "poison-1");
    EXPECT_EQ(p->body, "{\"bad\":true}");
    EXPECT_EQ(p->headers["x-tk-attempts"], "3");
    EXPECT_EQ(p->headers["x-tk-queue"], wq.name);
    EXPECT_EQ(p->headers["x-kind"], "receipt");
    parking->ack(*p);
    parking->stop();
    con->stop();
    EXPECT_EQ(queue_depth(wq.name), 0);
    EXPECT_EQ(queue_depth(wq.retry_queue()), 0);
    pub->stop();
  });
}

}  // namespace
}  // namespace tk::amqp::testing

namespace tk::amqp::testing {
namespace {

// Idle connections keep their heartbeats going: the broker does not drop a quiet client, and a
// client notices a broker that stopped answering (SIGSTOP) within a few heartbeat intervals.
TEST(Amqp, ChangedRetryDelayReplacesTheRetryQueueOnlyWhenItIsEmpty) {
  WorkQueue wq;
  wq.name = unique_name("delay");
  auto declare = [&](std::chrono::milliseconds delay) {
    wq.retry_delay = delay;
    detail::Connection c;
    if (!c.open(endpoint(), Options{}, 1)) throw std::runtime_error("cannot connect");
    return c.declare(wq.topology(), 1);
  };
  ASSERT_TRUE(declare(300ms).ok());
  EXPECT_TRUE(declare(300ms).ok()) << "the same arguments again";
  // Another delay: the broker refuses the queue's new TTL (406); the empty queue is replaced.
  ASSERT_TRUE(declare(60s).ok());

  // A message waiting out its retry delay.
  {
    detail::Connection c;
    ASSERT_TRUE(c.open(endpoint(), Options{}, 1).ok());
    amqp_basic_properties_t p{};
    ASSERT_EQ(
        amqp_basic_publish(c.get(), 1, amqp_cstring_bytes(""), detail::bytes(wq.retry_queue()), 1,
                           0, &p, amqp_cstring_bytes("waiting")),
        AMQP_STATUS_OK);
    amqp_queue_declare(c.get(), 1, detail::bytes(wq.retry_queue()), 1, 0, 0, 0, amqp_empty_table);
    ASSERT_TRUE(c.check("sync").ok());
  }
  auto refused = declare(300ms);
  EXPECT_FALSE(refused.ok()) << "a retry queue holding messages is kept, so this connect fails";
  EXPECT_EQ(queue_depth(wq.retry_queue()), 1) << "the waiting message is not lost";
  EXPECT_TRUE(declare(60s).ok()) << "its own arguments still declare";
}

// Replacing the retry queue reopens the channel: the publisher's confirms must still come.
TEST(Amqp, PublisherThatReplacedTheRetryQueueStillGetsItsConfirms) {
  WorkQueue wq;
  wq.name = unique_name("reconfirm");
  wq.retry_delay = 300ms;
  {
    detail::Connection c;
    ASSERT_TRUE(c.open(endpoint(), Options{}, 1).ok());
    ASSERT_TRUE(c.declare(wq.topology(), 1).ok());
  }
  wq.retry_delay = 60s;  // another delay: this publisher's connect replaces the empty retry queue
  run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto opts = publisher_for(wq);
    opts.confirm_timeout = 5s;
    auto pub = Publisher::create(ex, endpoint(), opts);
    pub->start();
    auto m = message_to(wq, "after-replace", "x");
    auto st = co_await pub->publish(m);
    EXPECT_TRUE(st.ok()) << st.code().message();
    EXPECT_EQ(pub->confirmed(), 1u);
    pub->stop();
  });
}

TEST(Amqp, HeartbeatsKeepIdleConnectionsAndDetectAFrozenBroker) {
  WorkQueue wq;
  wq.name = unique_name("heartbeat");
  run(
      [&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto popts = publisher_for(wq);
        popts.heartbeat_s = 1;
        auto pub = Publisher::create(ex, endpoint(), popts);
        pub->start();
        auto copts = fast(ConsumerOptions::for_work_queue(wq, 4));
        copts.heartbeat_s = 1;
        auto con = Consumer::create(ex, endpoint(), copts);
        con->start();
        auto m = message_to(wq, "before", "x");
        CO_ASSERT((co_await pub->publish(m)).ok());
        auto d = co_await con->next(5s);
        CO_ASSERT(d.ok());
        con->ack(*d);

        asio::steady_timer t(ex, 5s);  // idle for five heartbeat intervals
        co_await t.async_wait(asio::use_awaitable);
        EXPECT_TRUE(pub->connected());
        EXPECT_TRUE(con->connected());
        m.message_id = "after";
        CO_ASSERT((co_await pub->publish(m)).ok());
        d = co_await con->next(5s);
        CO_ASSERT(d.ok());
        EXPECT_EQ(d->message_id, "after");
        con->ack(*d);
        EXPECT_EQ(pub->reconnects(), 0u);
        EXPECT_EQ(con->reconnects(), 0u);

        // A frozen broker keeps the TCP connections open; only missing heartbeats reveal it.
        tk::test::servers("rabbitmq-pause");
        auto frozen_at = std::chrono::steady_clock::now();
        while ((pub->connected() || con->connected()) &&
               std::chrono::steady_clock::now() - frozen_at < 10s) {
          t.expires_after(100ms);
          co_await t.async_wait(asio::use_awaitable);
        }
        auto noticed = std::chrono::steady_clock::now() - frozen_at;
        // Read before the thaw: once the broker runs again both may reconnect at once.
        const bool pub_dropped = !pub->connected(), con_dropped = !con->connected();
        tk::test::servers("rabbitmq-thaw");
        EXPECT_TRUE(pub_dropped);
        EXPECT_TRUE(con_dropped);
        EXPECT_LT(noticed, 6s);
        m.message_id = "thawed";
        CO_ASSERT((co_await pub->publish(m)).ok());
        d = co_await con->next(10s);
        CO_ASSERT(d.ok());
        EXPECT_EQ(d->message_id, "thawed");
        con->ack(*d);
        EXPECT_GE(pub->reconnects(), 1u);
        EXPECT_GE(con->reconnects(), 1u);
        con->stop();
        pub->stop();
      },
      60s);
}

}  // namespace
}  // namespace tk::amqp::testing

#ifdef TK_TEST_HOOKS
namespace tk::amqp::testing {
namespace {

// An exception escaping the publisher's broker thread is logged and counted; the thread starts
// over on a new connection and the message that was in flight is still confirmed.
TEST(Amqp, PublisherThreadSurvivesAnUnexpectedException) {
  WorkQueue wq;
  wq.name = unique_name("supervised");
  run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pub = Publisher::create(ex, endpoint(), publisher_for(wq));
    pub->start();
    auto m = message_to(wq, "one", "x");
    CO_ASSERT((co_await pub->publish(m)).ok());
    pub->fail_next_round_for_test();
    m.message_id = "two";
    auto st = co_await pub->publish(m);
    EXPECT_TRUE(st.ok()) << st.code().message();
    EXPECT_EQ(pub->failures(), 1u);
    EXPECT_GE(pub->reconnects(), 1u);
    EXPECT_TRUE(pub->connected());
    EXPECT_GE(queue_depth(wq.name), 2);
    pub->stop();
  });
}

}  // namespace
}  // namespace tk::amqp::testing
#endif
