// The response head serialiser (http/wire.hpp write_head) on responses built from the input:
// any status, version, reason, fields and body, prepared as the server prepares them.
//
// write_head copies names and values as they are; the handlers only set values the server chose
// (the request id is filtered first). So the property is the round trip: for names that are
// tokens and values that are field values (no control characters), the head parses back with
// Beast's parser to the same status, version, fields in order, and the body framing
// (Content-Length) the response carries; and the head has exactly one line per field.
#include <fuzzer/FuzzedDataProvider.h>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <string>
#include <vector>

#include "check.hpp"
#include "http/responses.hpp"
#include "http/wire.hpp"

namespace http = tk::http;
namespace bhttp = boost::beast::http;

namespace {

bool is_tchar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A field name: a token. Bytes outside the token set are mapped into it.
std::string name_from(std::string s) {
  if (s.empty()) s = "X";
  for (char& c : s) {
    if (!is_tchar(c)) c = 'a' + static_cast<unsigned char>(c) % 26;
  }
  return s;
}

// A field value: visible ASCII, obs-text and inner spaces/tabs; no control characters.
std::string value_from(std::string s) {
  for (char& c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) c = '.';
  }
  // Beast trims surrounding whitespace when it stores a value; the wire keeps what it stored.
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  http::Response res;
  res.result(in.ConsumeIntegralInRange<unsigned>(100, 999));
  res.version(in.ConsumeBool() ? 11 : 10);
  if (in.ConsumeBool()) res.reason(value_from(in.ConsumeRandomLengthString(64)));
  const int fields = in.ConsumeIntegralInRange(0, 24);
  for (int i = 0; i < fields; ++i) {
    std::string name = name_from(in.ConsumeRandomLengthString(32));
    std::string value = value_from(in.ConsumeRandomLengthString(256));
    // Framing fields are the server's to set (prepare_payload below), as in every handler.
    bhttp::field f = bhttp::string_to_field(name);
    if (f == bhttp::field::content_length || f == bhttp::field::transfer_encoding ||
        f == bhttp::field::connection) {
      continue;
    }
    if (in.ConsumeBool()) {
      res.insert(name, value);
    } else {
      res.set(name, value);
    }
  }
  res.body() = in.ConsumeRemainingBytesAsString();
  try {
    res.prepare_payload();  // throws for a body where none is allowed: the server answers 500
  } catch (const std::exception&) {
    return 0;
  }
  res.keep_alive(res.version() == 11);

  std::string head = "stale";  // write_head appends: the caller clears a reused buffer
  head.clear();
  http::write_head(res, head);

  std::size_t lines = 0;
  for (std::size_t at = 0; (at = head.find("\r\n", at)) != std::string::npos; at += 2) ++lines;
  std::size_t n_fields = 0;
  for (auto it = res.begin(); it != res.end(); ++it) ++n_fields;
  FUZZ_CHECK(lines == n_fields + 2);
  FUZZ_CHECK(head.ends_with("\r\n\r\n"));

  bhttp::response_parser<bhttp::empty_body> p;
  p.skip(true);
  p.eager(false);
  boost::beast::error_code ec;
  p.put(boost::asio::buffer(head), ec);
  FUZZ_CHECK(!ec && p.is_header_done());
  const auto& back = p.get();
  FUZZ_CHECK(back.result_int() == res.result_int());
  FUZZ_CHECK(back.version() == res.version());
  FUZZ_CHECK(back.reason() == res.reason());
  auto a = res.begin();
  auto b = back.begin();
  for (; a != res.end() && b != back.end(); ++a, ++b) {
    FUZZ_CHECK(a->name_string() == b->name_string());
    FUZZ_CHECK(a->value() == b->value());
  }
  FUZZ_CHECK(a == res.end() && b == back.end());
  if (res.has_content_length()) {
    FUZZ_CHECK(back[bhttp::field::content_length] == std::to_string(res.body().size()));
  }
  return 0;
}
