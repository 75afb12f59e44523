// The Redis reply parser (hiredis' redisReader with this project's reply-tree builders,
// infra/redis/resp.cpp), on any bytes fed in any split.
//
// Properties: no exception escapes and nothing leaks; feeding the same bytes in one piece or in
// the input's own chunks gives the same replies and the same verdict; every reply re-encoded as
// RESP2 parses back to an equal tree, also on a parser reset after an incomplete reply.
#include <algorithm>
#include <string>
#include <vector>

#include "check.hpp"
#include "infra/redis/protocol.hpp"

namespace redis = tk::redis;
using redis::detail::Parser;

namespace {

constexpr std::size_t kMaxReplies = 64;

struct Outcome {
  std::vector<redis::Reply> replies;
  bool error = false;
};

// Reads replies until the parser wants more bytes or fails.
void drain(Parser& p, Outcome& out) {
  while (!out.error && out.replies.size() < kMaxReplies) {
    redis::Reply r;
    switch (p.next(r)) {
      case Parser::Next::reply:
        out.replies.push_back(std::move(r));
        break;
      case Parser::Next::need_more:
        return;
      case Parser::Next::error:
        FUZZ_CHECK(!p.error().empty());
        out.error = true;
        return;
    }
  }
}

void encode(const redis::Reply& r, std::string& out) {
  using T = redis::Reply::Type;
  switch (r.type) {
    case T::nil:
      out += "$-1\r\n";
      break;
    case T::integer:
      out += ':' + std::to_string(r.integer) + "\r\n";
      break;
    case T::string:
      out += '$' + std::to_string(r.str.size()) + "\r\n" + r.str + "\r\n";
      break;
    case T::status:
      out += '+' + r.str + "\r\n";
      break;
    case T::error:
      out += '-' + r.str + "\r\n";
      break;
    case T::array:
      out += '*' + std::to_string(r.elements.size()) + "\r\n";
      for (const auto& e : r.elements) encode(e, out);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte: how the bytes are split into reads (0: one byte at a time); the rest: the wire.
  const unsigned split = data[0];
  const std::string wire(reinterpret_cast<const char*>(data) + 1, size - 1);

  Outcome whole;
  {
    Parser p;
    p.feed(wire.data(), wire.size());
    drain(p, whole);
  }

  Outcome pieces;
  {
    Parser p;
    std::size_t at = 0;
    for (unsigned i = 0; at < wire.size() && !pieces.error && pieces.replies.size() < kMaxReplies;
         ++i) {
      const std::size_t n =
          std::min<std::size_t>(split == 0 ? 1 : 1 + (split * (i + 1)) % 23, wire.size() - at);
      p.feed(wire.data() + at, n);
      at += n;
      drain(p, pieces);
    }
  }
  FUZZ_CHECK(whole.replies == pieces.replies);
  FUZZ_CHECK(whole.error == pieces.error || whole.replies.size() == kMaxReplies);

  // Re-encoded replies parse back to the same trees, and a reset parser starts clean.
  std::string again;
  for (const auto& r : whole.replies) encode(r, again);
  Parser p;
  p.feed("*1\r\n", 4);  // a reply left incomplete, then dropped
  p.reset();
  p.feed(again.data(), again.size());
  Outcome back;
  drain(p, back);
  FUZZ_CHECK(!back.error && back.replies == whole.replies);
  return 0;
}
