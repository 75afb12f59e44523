#include "http/static_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "http/responses.hpp"
#include "http/router.hpp"
#include "http_test_util.hpp"

namespace tk::http {
namespace {

namespace bhttp = beast::http;
namespace fs = std::filesystem;
using testing::HttpServerTest;

// A temporary tree: <tmp>/site is the root (index.html, assets/app-1a2b.js, logo.svg), and
// <tmp>/secret.txt lies outside it, also reachable through a symlink site/leak.txt.
class StaticTree {
 public:
  StaticTree() {
    std::string tmpl = (fs::temp_directory_path() / "tk-static-XXXXXX").string();
    base_ = fs::path(::mkdtemp(tmpl.data()));
    fs::create_directories(root() / "assets");
    write(root() / "index.html", "<!doctype html><title>app</title>");
    write(root() / "assets" / "app-1a2b.js", "console.log(1)");
    write(root() / "logo.svg", "<svg/>");
    write(base_ / "secret.txt", "top secret");
    fs::create_symlink(base_ / "secret.txt", root() / "leak.txt");
  }
  ~StaticTree() { fs::remove_all(base_); }
  fs::path root() const { return base_ / "site"; }

 private:
  static void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
  fs::path base_;
};

TEST(StaticFiles, CleanPathRejectsTraversal) {
  EXPECT_EQ(StaticFiles::clean_path("/"), "");
  EXPECT_EQ(StaticFiles::clean_path("/assets/app.js?v=1"), "assets/app.js");
  EXPECT_EQ(StaticFiles::clean_path("/events/e1/"), "events/e1");
  EXPECT_EQ(StaticFiles::clean_path("/a%20b.txt"), "a b.txt");
  for (const char* bad :
       {"/../etc/passwd", "/assets/../../x", "/%2e%2e/secret.txt", "/a/%2E%2E/%2e%2e/x", "/.env",
        "/a//b", "/a%00.js", "/a%5c..%5cx", "/a%zz", "/a%2", "relative", ""}) {
    EXPECT_FALSE(StaticFiles::clean_path(bad).has_value()) << bad;
  }
}

TEST(StaticFiles, ContentTypes) {
  EXPECT_EQ(StaticFiles::content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type("assets/x-1.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type("assets/x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type("logo.svg"), "image/svg+xml");
  EXPECT_EQ(StaticFiles::content_type("blob"), "application/octet-stream");
}

TEST(StaticFiles, ServesFilesWithCacheHeaders) {
  StaticTree t;
  auto sf = StaticFiles::open(t.root().string());
  ASSERT_TRUE(sf.ok());

  Response r = (*sf)->serve(bhttp::verb::get, "/assets/app-1a2b.js");
  EXPECT_EQ(r.result(), bhttp::status::ok);
  EXPECT_EQ(r.body(), "console.log(1)");
  EXPECT_EQ(r[bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(r[bhttp::field::cache_control], "public, max-age=31536000, immutable");

  r = (*sf)->serve(bhttp::verb::get, "/");
  EXPECT_EQ(r.result(), bhttp::status::ok);
  EXPECT_EQ(r.body(), "<!doctype html><title>app</title>");
  EXPECT_EQ(r[bhttp::field::cache_control], "no-cache");
  EXPECT_NE(r["Content-Security-Policy"].find("script-src 'self'"), std::string::npos);

  r = (*sf)->serve(bhttp::verb::head, "/logo.svg");
  EXPECT_EQ(r.result(), bhttp::status::ok);
  EXPECT_EQ(r[bhttp::field::content_type], "image/svg+xml");
  EXPECT_FALSE(r.body().empty());  // sizes Content-Length; the server never sends it for HEAD
}

TEST(StaticFiles, SpaRoutesGetIndexButMissingAssetsAre404) {
  StaticTree t;
  auto sf = StaticFiles::open(t.root().string());
  ASSERT_TRUE(sf.ok());
  Response r = (*sf)->serve(bhttp::verb::get, "/performances/prf_1/seats?x=1");
  EXPECT_EQ(r.result(), bhttp::status::ok);
  EXPECT_EQ(r.body(), "<!doctype html><title>app</title>");
  EXPECT_EQ(r[bhttp::field::cache_control], "no-cache");

  r = (*sf)->serve(bhttp::verb::get, "/assets/missing-9f9f.js");
  EXPECT_EQ(r.result(), bhttp::status::not_found);
}

TEST(StaticFiles, NeverServesOutsideTheRoot) {
  StaticTree t;
  auto sf = StaticFiles::open(t.root().string());
  ASSERT_TRUE(sf.ok());
  for (const char* bad :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/leak.txt"}) {
    Response r = (*sf)->serve(bhttp::verb::get, bad);
    EXPECT_EQ(r.result(), bhttp::status::not_found) << bad;
    EXPECT_EQ(r.body().find("top secret"), std::string::npos) << bad;
  }
  EXPECT_EQ((*sf)->serve(bhttp::verb::post, "/index.html").result(),
            bhttp::status::method_not_allowed);
}

TEST(StaticFiles, OpenRejectsMissingDirectory) {
  EXPECT_FALSE(StaticFiles::open("/nonexistent/tk-static-dir").ok());
}

TEST(StaticFiles, RouterFallbackOnlyForGetHeadOutsideTheApiAndOperations) {
  Router r;
  r.add(bhttp::verb::get, "/v1/events", [](RequestContext&) -> asio::awaitable<Response> {
    co_return json_response(bhttp::status::ok, boost::json::object{});
  });
  PathParams p;
  // Without a fallback: unchanged 404.
  EXPECT_EQ(r.match(bhttp::verb::get, "/index.html", p).status, bhttp::status::not_found);
  r.set_fallback([](RequestContext&) -> asio::awaitable<Response> {
    co_return json_response(bhttp::status::ok, boost::json::object{});
  });
  auto m = r.match(bhttp::verb::get, "/events/e1", p);
  EXPECT_EQ(m.status, bhttp::status::ok);
  EXPECT_EQ(m.route, "static");
  EXPECT_EQ(r.match(bhttp::verb::head, "/", p).status, bhttp::status::ok);
  EXPECT_EQ(r.match(bhttp::verb::get, "/v1/events", p).route, "/v1/events");
  EXPECT_EQ(r.match(bhttp::verb::get, "/v1/nope", p).status, bhttp::status::not_found);
  EXPECT_EQ(r.match(bhttp::verb::get, "/v1", p).status, bhttp::status::not_found);
  for (const char* ops : {"/metrics", "/healthz", "/readyz", "/metrics?x=1"}) {
    EXPECT_EQ(r.match(bhttp::verb::get, ops, p).status, bhttp::status::not_found) << ops;
  }
  EXPECT_EQ(r.match(bhttp::verb::post, "/events", p).status, bhttp::status::not_found);
}

// Through the real server: the front-end and the API on one port.
class StaticServerTest : public HttpServerTest {};

TEST_F(StaticServerTest, ServesTheAppNextToTheApi) {
  StaticTree t;
  auto sf = StaticFiles::open(t.root().string());
  ASSERT_TRUE(sf.ok());
  router_.add(bhttp::verb::get, "/v1/events", [](RequestContext&) -> asio::awaitable<Response> {
    co_return json_response(bhttp::status::ok,
                            boost::json::object{{"events", boost::json::array{}}});
  });
  router_.set_fallback(StaticFiles::handler(*sf));
  start(options());
  run([&]() -> asio::awaitable<void> {
    auto s = co_await testing::connect_to(port());
    beast::flat_buffer buf;
    auto req = testing::make_request(bhttp::verb::get, "/events/e1");
    auto r = co_await testing::roundtrip(s, buf, req);
    EXPECT_EQ(r.result(), bhttp::status::ok);
    EXPECT_EQ(r.body(), "<!doctype html><title>app</title>");
    req = testing::make_request(bhttp::verb::get, "/v1/events");
    r = co_await testing::roundtrip(s, buf, req);
    EXPECT_EQ(r.result(), bhttp::status::ok);
    EXPECT_EQ(r.body(), R"({"events":[]})");
    // HEAD: the GET's Content-Length and no body bytes (the next response must parse).
    req = testing::make_request(bhttp::verb::head, "/events/e1");
    co_await bhttp::async_write(s, req, testing::kTuple);
    bhttp::response_parser<bhttp::string_body> head;
    head.skip(true);
    auto [hec, hn] = co_await bhttp::async_read(s, buf, head, testing::kTuple);
    EXPECT_FALSE(hec);
    EXPECT_EQ(head.get().result(), bhttp::status::ok);
    EXPECT_EQ(head.get()[bhttp::field::content_length],
              std::to_string(std::string_view("<!doctype html><title>app</title>").size()));
    req = testing::make_request(bhttp::verb::get, "/v1/events");
    r = co_await testing::roundtrip(s, buf, req);
    EXPECT_EQ(r.body(), R"({"events":[]})");
    req = testing::make_request(bhttp::verb::get, "/%2e%2e/secret.txt");
    r = co_await testing::roundtrip(s, buf, req);
    EXPECT_EQ(r.result(), bhttp::status::not_found);
  }());
}

}  // namespace
}  // namespace tk::http
