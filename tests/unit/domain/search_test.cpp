#include "domain/search.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "domain/rankings.hpp"

using namespace tk::domain;

TEST(SearchQuery, NormalisesAndBuildsPrefixTerms) {
  auto t = parse_search("  Seoul   WORLD\tTour ");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->text, "seoul world tour");
  EXPECT_EQ(t->tsquery, "'seoul':* & 'world':* & 'tour':*");
  EXPECT_EQ(t->like, "%seoul world tour%");
}

TEST(SearchQuery, HangulIsKeptAsWords) {
  auto t = parse_search("아이유 콘서트");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->text, "아이유 콘서트");
  EXPECT_EQ(t->tsquery, "'아이유':* & '콘서트':*");
}

TEST(SearchQuery, PunctuationNeverReachesTsquery) {
  // Operators and quotes of the tsquery syntax split words instead.
  auto t = parse_search("it's a&b|!c (d):* <-> \\e");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->tsquery, "'it':* & 's':* & 'a':* & 'b':* & 'c':* & 'd':* & 'e':*");
  auto only = parse_search("!!!");
  ASSERT_TRUE(only);
  EXPECT_EQ(only->tsquery, "");
  EXPECT_EQ(only->like, "%!!!%");
}

TEST(SearchQuery, LikeWildcardsAreEscaped) {
  auto t = parse_search("100%_a\\b");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->like, "%100\\%\\_a\\\\b%");
}

TEST(SearchQuery, RejectsBlankLongAndMalformed) {
  EXPECT_FALSE(parse_search(""));
  EXPECT_FALSE(parse_search(" \t "));
  EXPECT_TRUE(parse_search(std::string(100, 'a')));
  EXPECT_FALSE(parse_search(std::string(101, 'a')));
  std::string hangul;
  for (int i = 0; i < 100; ++i) hangul += "가";  // 300 bytes, 100 characters
  EXPECT_TRUE(parse_search(hangul));
  EXPECT_FALSE(parse_search(hangul + "가"));
  EXPECT_FALSE(parse_search("\xff"));          // not UTF-8
  EXPECT_FALSE(parse_search("\xc0\xaf"));      // overlong
  EXPECT_FALSE(parse_search("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(parse_search("\xea\xb0"));      // cut short
  EXPECT_FALSE(parse_search(std::string("a\0b", 3)));
}

TEST(RankWindows, ParseAndBuckets) {
  EXPECT_EQ(parse_rank_window("1h"), RankWindow::h1);
  EXPECT_EQ(parse_rank_window("24h"), RankWindow::h24);
  EXPECT_FALSE(parse_rank_window("2h"));
  EXPECT_FALSE(parse_rank_window(""));
  const tk::Millis now = 1'800'000'000'000 + 123'456;
  auto h1 = window_buckets(RankWindow::h1, now);
  ASSERT_EQ(h1.size(), 12u);
  EXPECT_EQ(h1.front(), rank_bucket(now));
  EXPECT_EQ(h1.back(), rank_bucket(now) - 11);
  EXPECT_EQ(window_buckets(RankWindow::h24, now).size(), 288u);
  // Two hours ago is in the day's window, not the hour's.
  const auto two_h = rank_bucket(now - 2 * 3600 * 1000);
  auto day = window_buckets(RankWindow::h24, now);
  EXPECT_EQ(std::count(h1.begin(), h1.end(), two_h), 0);
  EXPECT_EQ(std::count(day.begin(), day.end(), two_h), 1);
  EXPECT_GT(kRankBucketTtlMs, 24 * 3600 * 1000);
}
