// Catalogue search against the real PostgreSQL of the CTest fixture: catalogue writes leave a
// catalogue.changed message in their transaction, the search indexer (run by the outbox
// dispatcher) builds the documents, and the query matches Korean and English words, prefixes and
// substrings, ranked; refreshes of one event by concurrent consumers leave the newest document.
#include <libpq-fe.h>

#include <memory>
#include <thread>

#include "app/search_indexer.hpp"
#include "integration/app/harness.hpp"

namespace tk::test {
namespace {

struct Catalogue {
  // Letters and digits only (a word for every matcher); keeps tests apart in one database.
  std::string suffix = "k" + std::to_string(wall_ms() % 1000000000);
  std::string iu, bts, jazz, rock, musical;
};

asio::awaitable<std::string> make_event(Harness& h, std::string title, std::string venue,
                                        std::string performer) {
  app::Admin admin(h.deps);
  std::vector<app::NewSection> sections{{"A", {{"1", 2, "R"}}}};
  auto v = co_await admin.create_venue(venue, sections);
  if (!v) Harness::expect_ok(v.error(), "venue");
  auto e = co_await admin.create_event(title, v->id, performer);
  if (!e) Harness::expect_ok(e.error(), "event");
  co_return *e;
}

// Every due outbox row through a registry holding only the search indexer (pattern B's
// dispatcher, one round at a time).
int run_indexer(Harness& h) {
  app::SearchIndexer indexer(*h.adapters->search);
  app::ConsumerRegistry consumers(*h.adapters->processed);
  consumers.add(indexer);
  workers::Background bg(h.deps, *h.adapters->outbox, consumers);
  return h.run([&]() -> asio::awaitable<int> {
    int total = 0;
    for (int i = 0; i < 50; ++i) {
      int n = co_await bg.dispatch_outbox_once();
      total += n;
      if (n == 0) break;
    }
    co_return total;
  });
}

std::vector<std::string> search(Harness& h, std::string q) {
  return h.run([&]() -> asio::awaitable<std::vector<std::string>> {
    app::Catalogue cat(h.deps);
    auto r = co_await cat.search(q);
    if (!r) Harness::expect_ok(r.error(), ("search " + q).c_str());
    std::vector<std::string> ids;
    for (auto& e : *r) ids.push_back(e.id);
    co_return ids;
  });
}

bool contains(const std::vector<std::string>& v, const std::string& id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

Catalogue seed(Harness& h) {
  Catalogue c;
  const auto& s = c.suffix;
  c.iu = h.run([&] {
    return make_event(h, "아이유 콘서트 " + s, "서울올림픽공원 체조경기장", "아이유 IU");
  });
  c.bts = h.run(
      [&] { return make_event(h, "BTS World Tour " + s, "Seoul Olympic Stadium", "방탄소년단"); });
  c.jazz = h.run([&] { return make_event(h, "Zyxjazz Festival " + s, "Jamsil Hall", ""); });
  c.rock = h.run([&] { return make_event(h, "Rock Night " + s, "Zyxjazz Arts Center", ""); });
  c.musical = h.run([&] { return make_event(h, "뮤지컬 레미제라블 " + s, "블루스퀘어", ""); });
  return c;
}

TEST(Search, ChangeIsSearchableOnlyAfterTheIndexerRan) {
  Harness h;
  run_indexer(h);  // whatever earlier tests left
  const std::string word = "Qvxletter" + std::to_string(wall_ms() % 1000000000);
  auto id = h.run([&] { return make_event(h, word + " Live", "Hall", ""); });
  // The event and its message committed together...
  auto messages = h.run([&] {
    return count(*h.pool,
                 "SELECT count(*) FROM outbox WHERE topic = 'catalogue.changed' "
                 "AND payload->>'event_id' = $1",
                 id);
  });
  EXPECT_EQ(messages, 1);
  // ...but the index is not part of that transaction: nothing until the consumer runs.
  EXPECT_TRUE(search(h, word).empty());
  EXPECT_GE(run_indexer(h), 1);
  auto found = search(h, word);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], id);
  // The message was consumed and left the outbox.
  EXPECT_EQ(h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM outbox WHERE payload->>'event_id' = $1", id);
  }),
            0);
}

TEST(Search, KoreanWordsPrefixesAndSubstrings) {
  Harness h;
  auto c = seed(h);
  run_indexer(h);
  // Word (title and performer), word prefix, a word inside a compound (venue), two words.
  EXPECT_TRUE(contains(search(h, "아이유"), c.iu));
  EXPECT_TRUE(contains(search(h, "아이"), c.iu));
  EXPECT_TRUE(contains(search(h, "올림픽"), c.iu));
  EXPECT_TRUE(contains(search(h, "체조"), c.iu));
  EXPECT_TRUE(contains(search(h, "아이유 콘서트 " + c.suffix), c.iu));
  EXPECT_TRUE(contains(search(h, "방탄"), c.bts));
  EXPECT_TRUE(contains(search(h, "레미제"), c.musical));
  EXPECT_TRUE(contains(search(h, "제라블"), c.musical));  // inside a word
  auto none = search(h, "아이유 레미제라블 " + c.suffix);
  EXPECT_FALSE(contains(none, c.iu));
  EXPECT_FALSE(contains(none, c.musical));
  EXPECT_TRUE(search(h, "없는공연" + c.suffix).empty());
}

TEST(Search, EnglishWordsPrefixesSubstringsAndCase) {
  Harness h;
  auto c = seed(h);
  run_indexer(h);
  auto world = search(h, "WORLD tour " + c.suffix);
  ASSERT_FALSE(world.empty());
  EXPECT_EQ(world[0], c.bts);
  EXPECT_TRUE(contains(search(h, "wor " + c.suffix), c.bts));  // prefix
  EXPECT_TRUE(contains(search(h, "lympic stad"), c.bts));      // substring
  EXPECT_TRUE(contains(search(h, "iu"), c.iu));                // performer, Latin
  EXPECT_TRUE(contains(search(h, "bts-world"), c.bts));        // punctuation separates
  EXPECT_FALSE(contains(search(h, "100%"), c.bts));            // wildcards are literal
}

TEST(Search, TitleMatchesRankAboveVenueMatches) {
  Harness h;
  auto c = seed(h);
  run_indexer(h);
  auto r = search(h, "zyxjazz");
  auto at = [&](const std::string& id) { return std::find(r.begin(), r.end(), id) - r.begin(); };
  ASSERT_TRUE(contains(r, c.jazz));
  ASSERT_TRUE(contains(r, c.rock));
  EXPECT_LT(at(c.jazz), at(c.rock)) << "a title hit outranks a venue hit";
}

TEST(Search, ResultsAreTheListsEventObjects) {
  Harness h;
  auto c = seed(h);
  run_indexer(h);
  auto events = h.run([&]() -> asio::awaitable<std::vector<domain::Event>> {
    app::Catalogue cat(h.deps);
    auto r = co_await cat.search("체조경기장");
    if (!r) Harness::expect_ok(r.error(), "search");
    co_return *r;
  });
  ASSERT_FALSE(events.empty());
  auto it = std::find_if(events.begin(), events.end(), [&](auto& e) { return e.id == c.iu; });
  ASSERT_NE(it, events.end());
  EXPECT_EQ(it->title, "아이유 콘서트 " + c.suffix);
  EXPECT_EQ(it->venue_name, "서울올림픽공원 체조경기장");
}

TEST(Search, BadQueriesAreInvalidField) {
  Harness h;
  for (std::string q : {std::string(""), std::string("   "), std::string(101, 'a'),
                        std::string("\xff\xfe"), std::string("a\x01")}) {
    auto e = h.run([&]() -> asio::awaitable<Error> {
      app::Catalogue cat(h.deps);
      auto r = co_await cat.search(q);
      co_return r ? Error{} : r.error();
    });
    EXPECT_EQ(code_of(e), app::Errc::invalid_field) << q;
    EXPECT_EQ(e.details.at("field").as_string(), "q");
  }
  // 100 Hangul syllables (300 bytes) are 100 characters: allowed.
  std::string hangul;
  for (int i = 0; i < 100; ++i) hangul += "가";
  EXPECT_TRUE(search(h, hangul).empty());
}

// Plain blocking sessions, to hold transactions open across steps.
struct Session {
  std::unique_ptr<PGconn, decltype(&PQfinish)> c{PQconnectdb(env("TICKETING_PG_URL").c_str()),
                                                 &PQfinish};
  void exec(const std::string& sql, std::vector<std::string> args = {}) {
    std::vector<const char*> v;
    for (auto& a : args) v.push_back(a.c_str());
    PGresult* r = PQexecParams(c.get(), sql.c_str(), static_cast<int>(v.size()), nullptr, v.data(),
                               nullptr, nullptr, 0);
    const auto st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      throw std::runtime_error(sql + ": " + PQerrorMessage(c.get()));
    }
  }
};

// A refresh that is slow to write (here: held behind another refresh's uncommitted row) while
// the event changes must not write what it read before the change.
TEST(Search, ARefreshThatWaitedWritesTheCatalogueAsItIsAfterTheWait) {
  Harness h;
  run_indexer(h);
  const std::string word = "Wqzold" + std::to_string(wall_ms() % 1000000000);
  const std::string renamed = "Wqznew" + std::to_string(wall_ms() % 1000000000);
  auto id = h.run([&] { return make_event(h, word + " Live", "Hall", ""); });
  run_indexer(h);
  ASSERT_EQ(search(h, word).size(), 1u);

  Session first, slow, change;
  ASSERT_EQ(PQstatus(first.c.get()), CONNECTION_OK);
  first.exec("BEGIN");
  first.exec("SELECT event_search_refresh($1)", {id});  // holds the event's document
  // Another consumer's refresh starts now and waits.
  ASSERT_EQ(PQsendQueryParams(slow.c.get(), "SELECT event_search_refresh($1)", 1, nullptr,
                              std::vector<const char*>{id.c_str()}.data(), nullptr, nullptr, 0),
            1);
  const std::string pid = std::to_string(PQbackendPID(slow.c.get()));
  auto waiting = [&] {
    return h.run([&] {
      return count(*h.pool,
                   "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int "
                   "AND wait_event_type = 'Lock'",
                   pid);
    });
  };
  for (int i = 0; i < 5000 && waiting() == 0; ++i) std::this_thread::yield();
  ASSERT_EQ(waiting(), 1) << "the second refresh should be waiting for the first";
  change.exec("UPDATE events SET title = $1 WHERE id = $2", {renamed + " Live", id});
  first.exec("COMMIT");
  // The refresh that waited finishes.
  while (PGresult* r = PQgetResult(slow.c.get())) {
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(slow.c.get());
    PQclear(r);
  }
  EXPECT_EQ(search(h, renamed), std::vector<std::string>{id})
      << "the refresh that waited wrote the title it read before the change";
  EXPECT_TRUE(search(h, word).empty());
  run_indexer(h);  // the rename's own message
}

}  // namespace
}  // namespace tk::test
