// A client connection's bytes as the server reads them (src/http/server.cpp): an optional PROXY
// header (http/client_address.hpp), then pipelined requests parsed from the buffer
// (http/wire.hpp parse_buffered, Beast's parser under the server's limits), then what the server
// derives from each request: the route and its path parameters, query parameters, the client
// address through X-Forwarded-For, credentials and the Idempotency-Key.
//
// Properties: no exception escapes; a PROXY header is never refused on a prefix of a valid one
// and its length fits in the bytes; a request error is Beast's parse error (never an I/O one);
// a parsed request's body is within the limit; a matched route's parameters are non-empty path
// segments; a 405 names its allowed methods; an untrusted peer's address is never replaced; the
// error response for an unmatched request serialises to a head that parses back; a valid
// traceparent continues its trace.
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstring>
#include <string>
#include <string_view>

#include "check.hpp"
#include "common/trace.hpp"
#include "http/client_address.hpp"
#include "http/handlers/requests.hpp"
#include "http/handlers/support.hpp"
#include "http/query.hpp"
#include "http/wire.hpp"
#include "routes.hpp"

namespace http = tk::http;
namespace bhttp = boost::beast::http;
namespace ip = boost::asio::ip;

namespace {

const http::TrustedProxies& trusted() {
  static const auto t = http::TrustedProxies::parse("10.0.0.0/8, ::1, 192.0.2.7/32");
  return *t;
}

void check_proxy_header(std::string_view data) {
  const http::ProxyHeader h = http::parse_proxy_header(data);
  if (h.status != http::ProxyHeader::Status::done) return;
  FUZZ_CHECK(h.length > 0 && h.length <= data.size() && h.length <= http::kMaxProxyHeader);
  // The server reads more on need_more: a prefix of a valid header must never be refused.
  for (std::size_t k = 0; k < h.length; ++k) {
    FUZZ_CHECK(http::parse_proxy_header(data.substr(0, k)).status ==
               http::ProxyHeader::Status::need_more);
  }
  const http::ProxyHeader again = http::parse_proxy_header(data.substr(0, h.length));
  FUZZ_CHECK(again.status == h.status && again.length == h.length && again.source == h.source);
}

void check_head_parses(http::Response res) {
  res.prepare_payload();
  std::string head;
  http::write_head(res, head);
  bhttp::response_parser<bhttp::empty_body> p;
  p.skip(true);  // the head only
  boost::beast::error_code ec;
  p.put(boost::asio::buffer(head), ec);
  FUZZ_CHECK(!ec && p.is_header_done());
  FUZZ_CHECK(p.get().result_int() == res.result_int());
}

void check_request(const http::Request& req, const ip::address& peer) {
  // Routing, as the server does it.
  http::PathParams params;
  http::RouteMatch m = tk::fuzz::routes().match(req.method(), req.target(), params);
  if (m.status == bhttp::status::ok) {
    FUZZ_CHECK(m.handler != nullptr && !m.route.empty());
    for (const auto& [name, value] : params) {
      FUZZ_CHECK(!name.empty() && !value.empty() && value.find('/') == std::string_view::npos);
      FUZZ_CHECK(value.find('?') == std::string_view::npos);
    }
  } else {
    FUZZ_CHECK(m.handler == nullptr && params.size() == 0);
    if (m.status == bhttp::status::method_not_allowed) FUZZ_CHECK(!m.allow.empty());
    check_head_parses(http::Router::error_for(m));
  }
  for (const char* name : {"q", "limit", "window"}) {
    auto v = http::query_param(req.target(), name, 100);
    if (v && *v) FUZZ_CHECK(!(*v)->empty() && (*v)->size() <= 100);
  }
  // Client address: all X-Forwarded-For headers joined, as the server does.
  std::string forwarded;
  for (auto [it, end] = req.equal_range("X-Forwarded-For"); it != end; ++it) {
    if (!forwarded.empty()) forwarded += ',';
    forwarded.append(it->value().data(), it->value().size());
  }
  const ip::address client = http::client_address(peer, forwarded, trusted());
  if (!trusted().contains(peer)) FUZZ_CHECK(client == peer);
  FUZZ_CHECK(!http::address_key(client).empty());
  // Credentials and keys.
  const std::string_view bearer = http::bearer_token(req);
  if (!bearer.empty()) FUZZ_CHECK(req[bhttp::field::authorization].ends_with(bearer));
  if (auto key = http::idempotency_key(req)) {
    FUZZ_CHECK(!key->empty() && key->size() <= 64);
    for (char c : *key) FUZZ_CHECK(c > 0x20 && c < 0x7f);
  }
  // Trace context: a valid traceparent's span passes on the same trace, and what it passes on
  // is itself valid (a version-00 header round-trips exactly).
  if (auto it = req.find("traceparent"); it != req.end()) {
    const std::string_view v(it->value().data(), it->value().size());
    if (auto t = tk::trace::parse(v)) {
      if (v.starts_with("00-")) FUZZ_CHECK(tk::trace::format(*t) == v);
      const auto span = tk::trace::Span::child_of(t);
      auto next = tk::trace::parse(span.traceparent());
      FUZZ_CHECK(next && next->trace_id == t->trace_id && next->flags == t->flags);
      FUZZ_CHECK(span.parent_id() == std::string_view(t->parent_id.data(), t->parent_id.size()));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // First byte: which peer the connection comes from and the server's limits.
  const std::uint8_t flags = data[0];
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  ip::address peer = (flags & 1) ? ip::make_address("10.1.2.3") : ip::make_address("203.0.113.9");
  const std::size_t header_limit = (flags & 2) ? 256 : 16 * 1024;
  const std::size_t body_limit = (flags & 4) ? 16 : 64 * 1024;

  check_proxy_header(stream);
  if (flags & 8) {
    // A trusted proxy opens with a PROXY header; without a complete valid one the server closes.
    const http::ProxyHeader h = http::parse_proxy_header(stream);
    if (h.status != http::ProxyHeader::Status::done) return 0;
    stream.remove_prefix(h.length);
    if (h.source) peer = *h.source;
  }

  boost::beast::flat_buffer buffer;
  if (stream.empty()) return 0;
  auto space = buffer.prepare(stream.size());
  std::memcpy(space.data(), stream.data(), stream.size());
  buffer.commit(stream.size());
  for (int n = 0; n < 8 && buffer.size() > 0; ++n) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(header_limit));
    parser.body_limit(body_limit);
    boost::beast::error_code ec;
    const std::size_t before = buffer.size();
    if (http::parse_buffered(buffer, parser, ec)) {
      FUZZ_CHECK(!ec && !parser.is_done());
      break;  // the server would wait for more bytes
    }
    FUZZ_CHECK(buffer.size() <= before);
    if (ec) {
      FUZZ_CHECK(&ec.category() == &bhttp::make_error_code(bhttp::error::bad_method).category());
      break;  // 400 / 413 / 431 and close
    }
    FUZZ_CHECK(parser.is_done());
    const http::Request& req = parser.get();
    FUZZ_CHECK(req.body().size() <= body_limit);
    check_request(req, peer);
    if (!req.keep_alive()) break;
  }
  return 0;
}
