// The byte-level half of the protocol (RESP encoding, the reply parser, reply text helpers):
// no coroutines here, so it builds with every compiler the fuzz targets use.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <algorithm>
#include <charconv>
#include <memory>

#include "infra/redis/errors.hpp"
#include "infra/redis/protocol.hpp"

namespace tk::redis::detail {
namespace {

void append_len(std::string& out, char prefix, std::size_t n) {
  char buf[24];
  buf[0] = prefix;
  auto [p, ec] = std::to_chars(buf + 1, buf + sizeof buf - 2, n);
  (void)ec;  // cannot fail: 20 digits fit
  *p++ = '\r';
  *p++ = '\n';
  out.append(buf, p);
}

void append_bulk(std::string& out, std::string_view s) {
  append_len(out, '$', s.size());
  out.append(s);
  out.append("\r\n", 2);
}

// --- hiredis reply-object functions building Reply trees in place -----------------------------
// A child is appended to its parent's `elements` when hiredis creates it (children come in
// order). Appending may move the earlier siblings, which is safe: hiredis keeps pointers only to
// the open ancestors of the element being read, never to a finished sibling. The vector is not
// sized from the announced count up front: "*100000000\r\n" (13 bytes) would otherwise make 7 GB
// of empty replies before a single element arrived. hiredis only ever frees the root object
// (r->reply), the one allocated with `new`. Every function returns nullptr rather than throw
// (never unwind through C frames), which hiredis reports as out of memory.

// Elements reserved when an array starts: enough for every reply of ours without growing.
constexpr int kReserveElements = 64;

Reply* slot_for(const redisReadTask* task) {
  if (task->parent != nullptr) {
    auto* parent = static_cast<Reply*>(task->parent->obj);
    if (static_cast<std::size_t>(task->idx) != parent->elements.size()) return nullptr;
    return &parent->elements.emplace_back();
  }
  return new Reply;
}

template <class Fill>
void* create(const redisReadTask* task, Fill fill) {
  try {
    Reply* r = slot_for(task);
    if (r != nullptr) fill(*r);
    return r;
  } catch (...) {
    return nullptr;
  }
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  return create(task, [&](Reply& r) {
    r.type = task->type == REDIS_REPLY_ERROR    ? Reply::Type::error
             : task->type == REDIS_REPLY_STATUS ? Reply::Type::status
                                                : Reply::Type::string;
    r.str.assign(str, len);
  });
}

void* create_array(const redisReadTask* task, int elements) {
  return create(task, [&](Reply& r) {
    r.type = Reply::Type::array;
    r.elements.reserve(static_cast<std::size_t>(std::min(elements, kReserveElements)));
  });
}

void* create_integer(const redisReadTask* task, long long value) {
  return create(task, [&](Reply& r) {
    r.type = Reply::Type::integer;
    r.integer = value;
  });
}

void* create_nil(const redisReadTask* task) {
  return create(task, [](Reply& r) { r.type = Reply::Type::nil; });
}

void free_object(void* obj) { delete static_cast<Reply*>(obj); }

redisReplyObjectFunctions kFunctions = {create_string, create_array, create_integer, create_nil,
                                        free_object};

}  // namespace

void append_command(std::string& out, std::span<const std::string> args) {
  append_len(out, '*', args.size());
  for (const auto& a : args) append_bulk(out, a);
}

void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_len(out, '*', args.size());
  for (auto a : args) append_bulk(out, a);
}

void append_command(std::string& out, std::span<const Arg> args) {
  append_len(out, '*', args.size());
  for (const auto& a : args) append_bulk(out, a.view);
}

void append_evalsha(std::string& out, std::string_view sha, std::span<const std::string> keys,
                    std::span<const std::string> args, const std::string* last) {
  append_len(out, '*', 3 + keys.size() + args.size() + (last ? 1 : 0));
  append_bulk(out, "EVALSHA");
  append_bulk(out, sha);
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, keys.size());
  (void)ec;
  append_bulk(out, std::string_view(buf, static_cast<std::size_t>(p - buf)));
  for (const auto& k : keys) append_bulk(out, k);
  for (const auto& a : args) append_bulk(out, a);
  if (last) append_bulk(out, *last);
}

std::string parse_run_id(std::string_view info) {
  constexpr std::string_view kField = "run_id:";
  auto at = info.find(kField);
  if (at == std::string_view::npos) return {};
  auto v = info.substr(at + kField.size());
  return std::string(v.substr(0, v.find_first_of("\r\n")));
}

tk::Error reply_error(std::string_view text) {
  // Replies meaning "not executed, the server cannot serve right now" are unavailable (503),
  // like a dropped connection; everything else is a real error of the command or script.
  for (std::string_view transient :
       {"LOADING ", "BUSY ", "MASTERDOWN ", "TRYAGAIN ", "CLUSTERDOWN "}) {
    if (text.starts_with(transient)) return {Errc::unavailable, {{"redis", text}}};
  }
  return {Errc::reply_error, {{"redis", text}}};
}

// --- Parser ---------------------------------------------------------------------------------

Parser::Parser() { reset(); }

Parser::~Parser() {
  if (r_ != nullptr) redisReaderFree(r_);
}

void Parser::reset() {
  if (r_ != nullptr) redisReaderFree(r_);
  r_ = redisReaderCreateWithFunctions(&kFunctions);
  if (r_ == nullptr) throw std::bad_alloc();
}

void Parser::feed(const char* data, std::size_t n) { redisReaderFeed(r_, data, n); }

Parser::Next Parser::next(Reply& out) {
  void* obj = nullptr;
  if (redisReaderGetReply(r_, &obj) != REDIS_OK) return Next::error;
  if (obj == nullptr) return Next::need_more;
  std::unique_ptr<Reply> root(static_cast<Reply*>(obj));
  out = std::move(*root);
  return Next::reply;
}

std::string Parser::error() const { return r_->err != 0 ? std::string(r_->errstr) : std::string(); }

}  // namespace tk::redis::detail
