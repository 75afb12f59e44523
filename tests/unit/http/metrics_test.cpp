#include "common/metrics.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace tk::metrics {
namespace {

// Checks the text against the exposition format 0.0.4: HELP/TYPE comments before the samples of
// each family, sample lines `name{label="escaped",...} value`, histogram series complete.
::testing::AssertionResult valid_prometheus_text(const std::string& text) {
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")"
      R"((,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")*\})? )"
      R"(([-+]?[0-9.]+([eE][-+]?[0-9]+)?|[+-]Inf|NaN)$)");
  if (text.empty() || text.back() != '\n') return ::testing::AssertionFailure() << "no final \\n";
  std::istringstream in(text);
  std::string line, family, type;
  std::set<std::string> seen;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) {
      family = m[1];
      type.clear();
      if (!seen.insert(family).second) {
        return ::testing::AssertionFailure() << "family twice: " << family;
      }
    } else if (std::regex_match(line, m, kType)) {
      if (m[1] != family) return ::testing::AssertionFailure() << "TYPE without HELP: " << line;
      type = m[2];
    } else if (std::regex_match(line, m, kSample)) {
      std::string name = m[1];
      bool ok = name == family;
      if (type == "histogram") {
        ok = name == family + "_bucket" || name == family + "_sum" || name == family + "_count";
      }
      if (!ok || type.empty()) {
        return ::testing::AssertionFailure()
               << "sample outside its family, line " << n << ": " << line;
      }
    } else {
      return ::testing::AssertionFailure() << "bad line " << n << ": " << line;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(Metrics, SameNameAndLabelsGiveSameObject) {
  Registry r;
  Counter& a = r.counter("x_total", "x", {{"b", "2"}, {"a", "1"}});
  Counter& b = r.counter("x_total", "x", {{"a", "1"}, {"b", "2"}});
  Counter& c = r.counter("x_total", "x", {{"a", "1"}, {"b", "3"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  a.inc();
  b.inc(2.5);
  a.inc(-1);  // ignored: counters never go down
  EXPECT_DOUBLE_EQ(a.value(), 3.5);
  EXPECT_EQ(&r.gauge("g", "g"), &r.gauge("g", "g"));
  EXPECT_EQ(&r.histogram("h_seconds", "h"), &r.histogram("h_seconds", "h"));
}

TEST(Metrics, RejectsMisuse) {
  Registry r;
  r.counter("dup", "d");
  EXPECT_THROW(r.gauge("dup", "d"), std::logic_error);
  EXPECT_THROW(r.counter("bad-name", "d"), std::invalid_argument);
  EXPECT_THROW(r.counter("9lives", "d"), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "d", {{"bad-label", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "d", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "d", {{"a", "v"}, {"a", "w"}}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "d", {{"le", "1"}}), std::invalid_argument);
}

TEST(Metrics, RendersHelpTypeAndEscapedLabels) {
  Registry r;
  r.counter("http_requests_total", "Requests \\ by\nroute",
            {{"route", "/v1/{pid}"}, {"method", "GET"}, {"status", "200"}})
      .inc(3);
  r.counter("weird_total", "w", {{"v", "a\"b\\c\nd"}}).inc();
  r.gauge("temp", "t").set(-1.5);
  r.gauge("plain", "no labels").set(7);
  std::string text = r.render();
  EXPECT_NE(text.find("# HELP http_requests_total Requests \\\\ by\\nroute\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("http_requests_total{method=\"GET\",route=\"/v1/{pid}\",status=\"200\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("weird_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE temp gauge\ntemp -1.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("plain 7\n"), std::string::npos);
  EXPECT_TRUE(valid_prometheus_text(text)) << text;
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry r;
  Histogram& h = r.histogram("lat_seconds", "latency", {{"route", "/x"}}, {0.1, 1, 0.01});
  h.observe(0.005);
  h.observe(0.01);  // on the bound: counts in le="0.01"
  h.observe(0.5);
  h.observe(30);
  std::string text = r.render();
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"0.01\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count{route=\"/x\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_sum{route=\"/x\"} 30.515\n"), std::string::npos) << text;
  EXPECT_TRUE(valid_prometheus_text(text)) << text;
  // Default buckets span 0.5 ms .. 10 s.
  Histogram& d = r.histogram("d_seconds", "d");
  EXPECT_DOUBLE_EQ(d.bounds().front(), 0.0005);
  EXPECT_DOUBLE_EQ(d.bounds().back(), 10);
}

TEST(Metrics, CollectorsRunBeforeRender) {
  Registry r;
  int calls = 0;
  r.add_collector([&calls](Registry& reg) {
    ++calls;
    reg.gauge("queue_length", "people waiting", {{"performance", "p1"}}).set(42);
  });
  std::string text = r.render();
  EXPECT_EQ(calls, 1);
  EXPECT_NE(text.find("queue_length{performance=\"p1\"} 42\n"), std::string::npos) << text;
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Registry r;
  Counter& c = r.counter("c_total", "c");
  Histogram& h = r.histogram("h_seconds", "h");
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&r, &c, &h, t] {
      for (int i = 0; i < 20000; ++i) {
        c.inc();
        h.observe(0.001 * (i % 7));
        // Registration races with updates and rendering.
        if (i % 1000 == 0) {
          r.gauge("g", "g", {{"t", std::to_string(t)}}).inc();
          (void)r.render();
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_DOUBLE_EQ(c.value(), 80000);
  EXPECT_EQ(h.count(), 80000u);
  EXPECT_EQ(h.cumulative(h.bounds().size()), 80000u);
  EXPECT_TRUE(valid_prometheus_text(r.render()));
}

TEST(Metrics, ValidatorCatchesBrokenText) {
  // The validator itself must be able to fail.
  EXPECT_FALSE(valid_prometheus_text("x 1\n"));  // no HELP/TYPE
  EXPECT_FALSE(valid_prometheus_text("# HELP x h\n# TYPE x counter\nx{a=\"b\"c\"} 1\n"));
  EXPECT_FALSE(valid_prometheus_text("# HELP x h\n# TYPE x counter\nx 1"));
  EXPECT_TRUE(valid_prometheus_text("# HELP x h\n# TYPE x counter\nx{a=\"b\\\"c\"} 1\n"));
}

TEST(Metrics, FormatValue) {
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1e-9), "1e-09");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace tk::metrics
