#include "common/trace.hpp"

#include <gtest/gtest.h>

#include <set>

namespace tk::trace {
namespace {

const std::string kIncoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, ParsesValidAndRejectsInvalid) {
  auto t = parse(kIncoming);
  ASSERT_TRUE(t);
  EXPECT_EQ(std::string(t->trace_id.data(), 32), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(std::string(t->parent_id.data(), 16), "00f067aa0ba902b7");
  EXPECT_EQ(t->flags, 1);
  EXPECT_EQ(format(*t), kIncoming);
  EXPECT_FALSE(parse(""));
  EXPECT_FALSE(parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  EXPECT_FALSE(parse("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(parse(kIncoming + "-extra"));  // version 00 has exactly four fields
  EXPECT_TRUE(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
  EXPECT_FALSE(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01extra"));
  EXPECT_FALSE(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"));
}

TEST(Span, AChildKeepsTheTraceAndPassesItsOwnIdOn) {
  auto s = Span::child_of(kIncoming);
  EXPECT_EQ(s.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(s.parent_id(), "00f067aa0ba902b7");
  EXPECT_NE(s.span_id(), s.parent_id());
  auto next = parse(s.traceparent());
  ASSERT_TRUE(next);
  EXPECT_EQ(std::string_view(next->trace_id.data(), 32), s.trace_id());
  EXPECT_EQ(std::string_view(next->parent_id.data(), 16), s.span_id());
  EXPECT_EQ(next->flags, 1);  // the caller's sampling decision travels on
  // Two hops further: the same trace, each span the parent of the next.
  auto third = Span::child_of(s.traceparent());
  EXPECT_EQ(third.trace_id(), s.trace_id());
  EXPECT_EQ(third.parent_id(), s.span_id());
}

TEST(Span, WithoutAValidParentItStartsATrace) {
  std::set<std::string> traces;
  for (const char* in : {"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}) {
    auto s = Span::child_of(std::string_view(in));
    EXPECT_TRUE(s.parent_id().empty()) << in;
    EXPECT_TRUE(parse(s.traceparent())) << "a started trace is itself valid";
    EXPECT_EQ(parse(s.traceparent())->flags, 0) << "not sampled";
    traces.insert(std::string(s.trace_id()));
  }
  EXPECT_EQ(traces.size(), 3u);
}

TEST(Span, LogFieldsNameTheTraceTheSpanAndItsParent) {
  boost::json::object root, child;
  auto a = Span::child_of(std::nullopt);
  a.add_fields(root);
  EXPECT_EQ(root.at("trace_id").as_string(), a.trace_id());
  EXPECT_EQ(root.at("span_id").as_string(), a.span_id());
  EXPECT_FALSE(root.contains("parent_id"));
  auto b = Span::child_of(a.traceparent());
  b.add_fields(child);
  EXPECT_EQ(child.at("trace_id").as_string(), a.trace_id());
  EXPECT_EQ(child.at("parent_id").as_string(), a.span_id());
}

}  // namespace
}  // namespace tk::trace
