#include "common/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/log_async.hpp"

namespace tk::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_sink([this](std::string_view l) { lines.emplace_back(l); });
  }
  void TearDown() override {
    set_sink(nullptr);
    set_level(Level::info);
  }
  std::vector<std::string> lines;  // the sink runs under the logger's mutex
};

TEST_F(LogTest, OneJsonObjectPerLine) {
  info("hold created", {{"performance", "p1"}, {"seats", 3}, {"msg", "clash"}});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].back(), '\n');
  auto v = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(v.at("level").as_string(), "info");
  EXPECT_EQ(v.at("msg").as_string(), "hold created");
  EXPECT_EQ(v.at("performance").as_string(), "p1");
  EXPECT_EQ(v.at("seats").as_int64(), 3);
  EXPECT_EQ(v.at("field_msg").as_string(), "clash");  // reserved keys are renamed, not clobbered
  EXPECT_EQ(v.at("ts").as_string().size(), 24u);
}

TEST_F(LogTest, LevelFilters) {
  debug("hidden");
  set_level(Level::warn);
  info("hidden too");
  warn("shown");
  error("shown too");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(boost::json::parse(lines[1]).at("level").as_string(), "error");
}

TEST_F(LogTest, EscapesControlAndInvalidUtf8) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\nd\x01\x7f", 9));
  EXPECT_EQ(out, R"("a\"b\\c\nd\u0001\u007f")");
  out.clear();
  // Valid multi-byte UTF-8 passes through; a lone continuation byte, a truncated sequence, an
  // overlong form and a surrogate are replaced.
  append_json_string(out, "caf\xc3\xa9 \xe2\x82\xac \x80 \xc3 \xc0\xaf \xed\xa0\x80");
  auto v = boost::json::parse(out);
  EXPECT_EQ(v.as_string(),
            "caf\xc3\xa9 \xe2\x82\xac \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(LogTest, ConcurrentLinesStayWhole) {
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([t] {
      for (int i = 0; i < 500; ++i)
        info("tick", {{"t", t}, {"i", i}, {"pad", std::string(300, 'x')}});
    });
  }
  for (auto& t : ts) t.join();
  ASSERT_EQ(lines.size(), 2000u);
  for (const auto& l : lines) {
    EXPECT_EQ(l.find('\n'), l.size() - 1);
    EXPECT_NO_THROW((void)boost::json::parse(l));
  }
}

// The writer's output stalls (a pipe nobody reads): producers neither block nor write partial
// lines; what does not fit is dropped and counted, and once the output drains, flush() delivers
// every accepted line whole and in each thread's order.
TEST(AsyncWriterTest, StalledOutputDropsAndCountsInsteadOfBlocking) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  constexpr int kThreads = 4, kLines = 2000;
  std::atomic<int> accepted{0};
  AsyncWriter w(fds[1], 64 * 1024);
  std::vector<std::future<void>> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.push_back(std::async(std::launch::async, [&, t] {
      std::string pad(200, 'x');
      for (int i = 0; i < kLines; ++i) {
        std::string line = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) +
                           ",\"pad\":\"" + pad + "\"}\n";
        if (w.push(line)) ++accepted;
      }
    }));
  }
  // 1.6 MB against a 64 KiB pipe and a 64 KiB buffer: a blocking logger cannot finish.
  for (auto& f : producers) {
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready)
        << "a producer blocked on the stalled output";
  }
  std::string out;
  std::thread reader([&] {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
  });
  for (auto& f : producers) f.wait();
  w.flush();
  EXPECT_GT(w.dropped(), 0u);
  EXPECT_EQ(static_cast<std::uint64_t>(accepted.load()) + w.dropped(),
            static_cast<std::uint64_t>(kThreads * kLines));
  w.close();
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);

  std::vector<int> last(kThreads, -1);
  int n = 0;
  for (std::size_t pos = 0; pos < out.size();) {
    auto end = out.find('\n', pos);
    ASSERT_NE(end, std::string::npos) << "a cut line at the end";
    auto v = boost::json::parse(std::string_view(out).substr(pos, end - pos)).as_object();
    auto t = static_cast<std::size_t>(v.at("t").as_int64());
    int i = static_cast<int>(v.at("i").as_int64());
    EXPECT_GT(i, last[t]) << "lines of one thread keep their order";
    last[t] = i;
    ++n;
    pos = end + 1;
  }
  EXPECT_EQ(n, accepted.load());
}

}  // namespace
}  // namespace tk::log
