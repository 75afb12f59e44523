#include "http/wire.hpp"

#include <gtest/gtest.h>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>

namespace tk::http {
namespace {

namespace bhttp = boost::beast::http;

// Beast's own serializer is the reference: our head + body must be byte-identical to it.
std::string beast_bytes(const Response& res) {
  std::ostringstream os;
  os << res;
  return os.str();
}

std::string ours(const Response& res) {
  std::string out;
  write_head(res, out);
  return out + res.body();
}

TEST(Wire, MatchesBeastForTypicalResponses) {
  Response a{bhttp::status::ok, 11};
  a.set(bhttp::field::content_type, "application/json");
  a.set(bhttp::field::cache_control, "no-store");
  a.set(bhttp::field::retry_after, "5");
  a.set("X-Request-Id", "0123456789abcdef");
  a.body() = R"({"state":"waiting"})";
  a.keep_alive(true);
  a.prepare_payload();
  EXPECT_EQ(ours(a), beast_bytes(a));

  Response b{bhttp::status::too_many_requests, 11};
  b.body() = "{}";
  b.keep_alive(false);  // Connection: close
  b.prepare_payload();
  EXPECT_EQ(ours(b), beast_bytes(b));
  EXPECT_NE(ours(b).find("Connection: close\r\n"), std::string::npos);

  Response c{bhttp::status::no_content, 10};
  c.keep_alive(true);  // HTTP/1.0 keep-alive is explicit
  c.prepare_payload();
  EXPECT_EQ(ours(c), beast_bytes(c));
  EXPECT_EQ(ours(c).rfind("HTTP/1.0 204 No Content\r\n", 0), 0u);
}

TEST(Wire, HeadEndsWithOneBlankLine) {
  Response r{bhttp::status::created, 11};
  r.body() = "x";
  r.prepare_payload();
  std::string out;
  write_head(r, out);
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
  EXPECT_EQ(out.find("\r\n\r\n"), out.size() - 4);
  EXPECT_NE(out.find("Content-Length: 1\r\n"), std::string::npos);
}

}  // namespace
}  // namespace tk::http
