#include "common/log.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <thread>
#include <vector>

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

}  // namespace
}  // namespace tk::log
