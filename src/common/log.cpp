#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace tk::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mu;
Sink g_sink;  // guarded by g_mu

void write_stdout(std::string_view line) {
  // Loop on partial writes so a line is never cut short; the mutex keeps lines whole.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stdout gone: logging must never take the service down
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

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

void set_level(Level l) { g_level.store(static_cast<int>(l), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

void set_sink(Sink sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
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
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, static_cast<int>(ms % 1000));
  out.append(buf, static_cast<std::size_t>(n));
}

void emit(std::string& line) {
  if (line.empty() || line.back() != '\n') line += '\n';
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
