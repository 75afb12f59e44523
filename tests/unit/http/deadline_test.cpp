// Deadline: one timer per connection, moved by stores. Real sockets on loopback; the io_context
// runs with a bound so a broken deadline fails instead of hanging.
#include "http/deadline.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

namespace tk::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A connected pair on loopback; the test waits on a read of `server` and sees when it ends.
class DeadlineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tcp::acceptor acc(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client_.connect(acc.local_endpoint());
    acc.accept(server_);
  }

  // Runs the io_context until the read on `server_` (started once, on the first call) ends or
  // `bound` passes. Returns how long the read lasted from its start, nullopt if it has not ended.
  std::optional<Clock::duration> read_until_closed(Clock::duration bound = 3s) {
    if (!reading_) {
      reading_ = true;
      t0_ = Clock::now();
      server_.async_read_some(asio::buffer(&byte_, 1),
                              [this](const boost::system::error_code&, std::size_t) {
                                ended_ = Clock::now() - t0_;
                                io_.stop();
                              });
    }
    io_.run_for(bound);
    io_.restart();
    return ended_;
  }

  asio::io_context io_{1};
  tcp::socket server_{io_};
  tcp::socket client_{io_};
  char byte_ = 0;
  bool reading_ = false;
  Clock::time_point t0_;
  std::optional<Clock::duration> ended_;
};

TEST_F(DeadlineTest, ClosesTheSocketAtTheDeadline) {
  Deadline d(io_.get_executor(), server_);
  d.expire_after(100ms);
  auto ended = read_until_closed();
  ASSERT_TRUE(ended.has_value());
  EXPECT_GE(*ended, 90ms);
  EXPECT_LT(*ended, 1s);
  EXPECT_TRUE(d.expired());
  EXPECT_FALSE(server_.is_open());
}

// The wait armed for the earlier deadline must not close the socket when the deadline moved on.
TEST_F(DeadlineTest, MovingTheDeadlineLaterKeepsTheSocketOpenUntilThen) {
  Deadline d(io_.get_executor(), server_);
  d.expire_after(50ms);
  d.expire_after(300ms);
  auto ended = read_until_closed();
  ASSERT_TRUE(ended.has_value());
  EXPECT_GE(*ended, 280ms);
  EXPECT_TRUE(d.expired());
}

// Moving it earlier than the armed wait must take effect at the earlier time, not the later one.
TEST_F(DeadlineTest, MovingTheDeadlineEarlierClosesEarlier) {
  Deadline d(io_.get_executor(), server_);
  d.expire_after(10s);
  d.expire_after(100ms);
  auto ended = read_until_closed();
  ASSERT_TRUE(ended.has_value());
  EXPECT_LT(*ended, 2s);
  EXPECT_TRUE(d.expired());
}

TEST_F(DeadlineTest, ClearedDeadlineNeverCloses) {
  Deadline d(io_.get_executor(), server_);
  d.expire_after(50ms);
  d.clear();
  auto ended = read_until_closed(400ms);
  EXPECT_FALSE(ended.has_value());
  EXPECT_FALSE(d.expired());
  EXPECT_TRUE(server_.is_open());
  // And a later deadline still works after the wait for the cleared one has come and gone.
  d.expire_after(50ms);
  ended = read_until_closed();
  ASSERT_TRUE(ended.has_value());
  EXPECT_TRUE(d.expired());
}

// The owner (a connection) may end while its wait is queued: the wait must not touch the socket.
TEST_F(DeadlineTest, DestroyedDeadlineLeavesTheSocketAlone) {
  {
    Deadline d(io_.get_executor(), server_);
    d.expire_after(1ms);
    std::this_thread::sleep_for(5ms);  // the wait is due before the Deadline goes
  }
  auto ended = read_until_closed(200ms);
  EXPECT_FALSE(ended.has_value());
  EXPECT_TRUE(server_.is_open());
}

}  // namespace
}  // namespace tk::http
