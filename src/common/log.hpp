#pragma once
// Structured JSON logging: one object per line on stdout, e.g.
//   {"ts":"2024-05-01T12:00:00.123Z","level":"info","msg":"admission tick","performance":"p1"}
// Lines never interleave: one sink call per line under a mutex, or, after start_async(), a whole
// line handed to one writer thread (common/log_async.hpp). Tests replace the sink (synchronous).
#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <string_view>

namespace tk::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

// Lines below the level are dropped before any formatting (default: info).
void set_level(Level l);
Level level();
inline bool enabled(Level l) { return static_cast<int>(l) >= static_cast<int>(level()); }

// Receives each complete line including the trailing '\n'. Called under the logger's mutex, so a
// sink need not be thread-safe. nullptr restores the default (write(2) to stdout).
using Sink = std::function<void(std::string_view line)>;
void set_sink(Sink sink);

void write(Level l, std::string_view msg, const boost::json::object& fields = {});
inline void debug(std::string_view msg, const boost::json::object& fields = {}) {
  if (enabled(Level::debug)) write(Level::debug, msg, fields);
}
inline void info(std::string_view msg, const boost::json::object& fields = {}) {
  if (enabled(Level::info)) write(Level::info, msg, fields);
}
inline void warn(std::string_view msg, const boost::json::object& fields = {}) {
  if (enabled(Level::warn)) write(Level::warn, msg, fields);
}
inline void error(std::string_view msg, const boost::json::object& fields = {}) {
  if (enabled(Level::error)) write(Level::error, msg, fields);
}

// Building blocks for hand-formatted hot-path lines (the HTTP access log).
// Appends `s` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view s);
// Appends the current UTC time as a quoted RFC 3339 string with milliseconds.
void append_timestamp(std::string& out);
// Emits a finished line; appends '\n' when missing. Exactly one sink call per line.
void emit(std::string& line);

}  // namespace tk::log
