#include "common/log.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "common/log_async.hpp"

namespace tk::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mu;
Sink g_sink;  // guarded by g_mu
std::atomic<bool> g_has_sink{false};

void write_fd(int fd, std::string_view line) {
  // Loop on partial writes so a line is never cut short; the caller keeps lines whole.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // output gone: logging must never take the service down
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void write_stdout(std::string_view line) { write_fd(STDOUT_FILENO, line); }

// The process-wide asynchronous writer once start_async() ran. The object stays constructed until
// static destruction, so a thread that read the pointer just before stop_async() cannot touch
// freed memory; its line is dropped.
std::optional<AsyncWriter> g_async_storage;
std::atomic<AsyncWriter*> g_async{nullptr};
std::atomic<std::uint64_t> g_dropped_before{0};  // drops of writers already stopped

const char* level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

}  // namespace

// Shards keep producers on different threads off each other's lock; each thread sticks to one
// shard, so its lines stay in order.
struct AsyncWriter::Impl {
  static constexpr std::size_t kShards = 8;
  struct alignas(64) Shard {
    std::mutex mu;
    std::string buf;
  };

  static constexpr auto kPeriod = std::chrono::milliseconds(20);
  int fd;
  std::size_t shard_cap;
  std::size_t wake_bytes;  // a shard this full wakes the writer before its period
  std::array<Shard, kShards> shards;
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<bool> pending{false};
  std::atomic<bool> closed{false};
  std::mutex wmu;  // guards the fields below and pairs with the condition variables
  std::condition_variable wake, done;
  bool stop = false;
  std::uint64_t flush_requested = 0, flush_done = 0;
  std::thread writer;

  Impl(int f, std::size_t cap)
      : fd(f),
        shard_cap(std::max<std::size_t>(cap / kShards, 4096)),
        wake_bytes(std::min<std::size_t>(shard_cap / 2, 64 * 1024)) {
    for (auto& sh : shards) sh.buf.reserve(std::min<std::size_t>(shard_cap, 64 * 1024));
    writer = std::thread([this] { run(); });
  }

  Shard& mine() {
    static std::atomic<std::size_t> next{0};
    thread_local std::size_t index = next.fetch_add(1, std::memory_order_relaxed) % kShards;
    return shards[index];
  }

  bool push(std::string_view line) {
    if (closed.load(std::memory_order_relaxed)) {
      dropped.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    Shard& sh = mine();
    {
      std::lock_guard lock(sh.mu);
      if (sh.buf.size() + line.size() > shard_cap) {
        dropped.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      sh.buf.append(line);
      if (sh.buf.size() < wake_bytes) return true;
    }
    // Waking the writer per line would cost a context switch per request on a busy core: it
    // wakes by itself every kPeriod, and early only for a shard filling up.
    if (!pending.exchange(true, std::memory_order_acq_rel)) {
      std::lock_guard lock(wmu);
      wake.notify_one();
    }
    return true;
  }

  void run() {
    std::string out;
    for (;;) {
      std::uint64_t serving;
      bool stopping;
      {
        std::unique_lock lock(wmu);
        wake.wait_for(lock, kPeriod, [&] {
          return stop || flush_requested != flush_done || pending.load(std::memory_order_acquire);
        });
        serving = flush_requested;
        stopping = stop;
      }
      // Cleared before the shards are emptied: a line appended after this sets it again.
      pending.store(false, std::memory_order_release);
      for (auto& sh : shards) {
        {
          std::lock_guard lock(sh.mu);
          out.swap(sh.buf);
        }
        if (!out.empty()) write_fd(fd, out);
        out.clear();
        // Memory is given back when a burst has passed instead of staying at the peak.
        if (out.capacity() > 256 * 1024) out.shrink_to_fit();
      }
      {
        std::lock_guard lock(wmu);
        flush_done = serving;
      }
      done.notify_all();
      if (stopping) return;
    }
  }

  void flush() {
    std::unique_lock lock(wmu);
    if (!writer.joinable()) return;
    std::uint64_t mine = ++flush_requested;
    wake.notify_one();
    done.wait(lock, [&] { return flush_done >= mine; });
  }

  void close() {
    closed.store(true);
    {
      std::lock_guard lock(wmu);
      if (!writer.joinable()) return;
      stop = true;
      ++flush_requested;
    }
    wake.notify_one();
    writer.join();
  }
};

AsyncWriter::AsyncWriter(int fd, std::size_t capacity_bytes)
    : impl_(std::make_unique<Impl>(fd, capacity_bytes)) {}
AsyncWriter::~AsyncWriter() { impl_->close(); }
bool AsyncWriter::push(std::string_view line) { return impl_->push(line); }
void AsyncWriter::flush() { impl_->flush(); }
void AsyncWriter::close() { impl_->close(); }
std::uint64_t AsyncWriter::dropped() const { return impl_->dropped.load(); }

void start_async(std::size_t capacity_bytes) {
  if (g_async.load()) return;
  g_async_storage.emplace(STDOUT_FILENO, capacity_bytes);
  g_async.store(&*g_async_storage);
}

void stop_async() {
  AsyncWriter* w = g_async.exchange(nullptr);
  if (!w) return;
  w->close();
  g_dropped_before.fetch_add(w->dropped());
}

void flush() {
  if (AsyncWriter* w = g_async.load()) w->flush();
}

std::uint64_t dropped_lines() {
  std::uint64_t n = g_dropped_before.load();
  if (AsyncWriter* w = g_async.load()) n += w->dropped();
  return n;
}

void set_level(Level l) { g_level.store(static_cast<int>(l), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

void set_sink(Sink sink) {
  std::lock_guard lock(g_mu);
  g_has_sink.store(static_cast<bool>(sink));
  g_sink = std::move(sink);
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // Runs of printable ASCII other than '"' and '\\' (nearly every byte of a log line) are
    // copied with one append instead of a capacity check per byte.
    std::size_t run = i;
    while (run < s.size()) {
      auto b = static_cast<unsigned char>(s[run]);
      if (b < 0x20 || b >= 0x7f || b == '"' || b == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Client-controlled text (paths, headers) may be invalid UTF-8, which would make the whole
    // line unparseable for log processors: copy valid sequences, replace bad bytes with U+FFFD.
    std::size_t len = (c >= 0xc2 && c <= 0xdf)   ? 2
                      : (c >= 0xe0 && c <= 0xef) ? 3
                      : (c >= 0xf0 && c <= 0xf4) ? 4
                                                 : 0;
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (ok) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
          (c == 0xf4 && c1 >= 0x90)) {
        ok = false;
      }
    }
    if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
}

void append_timestamp(std::string& out) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  // The text up to the second changes once a second: kept per thread, so a line costs a clock
  // read and three digits instead of gmtime_r + snprintf.
  thread_local std::time_t cached_secs = -1;
  thread_local char prefix[32];
  thread_local int prefix_len = 0;
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    prefix_len =
        std::snprintf(prefix, sizeof prefix, "\"%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  out.append(prefix, static_cast<std::size_t>(prefix_len));
  int milli = static_cast<int>(ms % 1000);
  char tail[5] = {static_cast<char>('0' + milli / 100), static_cast<char>('0' + milli / 10 % 10),
                  static_cast<char>('0' + milli % 10), 'Z', '"'};
  out.append(tail, sizeof tail);
}

void emit(std::string& line) {
  if (line.empty() || line.back() != '\n') line += '\n';
  // A sink (tests) is set rarely and read under the mutex; without one, the asynchronous writer
  // takes the line without the process-wide mutex.
  if (AsyncWriter* w = g_async.load(std::memory_order_acquire); w && !g_has_sink.load()) {
    w->push(line);
    return;
  }
  std::lock_guard lock(g_mu);
  if (g_sink) {
    g_sink(line);
  } else {
    write_stdout(line);
  }
}

void write(Level l, std::string_view msg, const boost::json::object& fields) {
  std::string line;
  line.reserve(128);
  line += "{\"ts\":";
  append_timestamp(line);
  line += ",\"level\":\"";
  line += level_name(l);
  line += "\",\"msg\":";
  append_json_string(line, msg);
  for (const auto& f : fields) {
    // Reserved keys would make the line ambiguous for log processors: prefix them.
    std::string_view k = f.key();
    bool reserved = k == "ts" || k == "level" || k == "msg";
    line += ',';
    append_json_string(line, reserved ? "field_" + std::string(k) : std::string(k));
    line += ':';
    line += boost::json::serialize(f.value());
  }
  line += "}\n";
  emit(line);
}

}  // namespace tk::log
