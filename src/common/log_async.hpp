#pragma once
// Asynchronous output for tk::log: request threads hand lines to a bounded buffer and one writer
// thread writes them, so a slow or blocked stdout never stalls a request.
#include <cstdint>
#include <memory>
#include <string_view>

namespace tk::log {

// Bounded, asynchronous line writer: producers copy a line into their thread's shard of the
// buffer (a short critical section, no system call); one writer thread swaps the shards out and
// writes them to `fd`. A line that does not fit is dropped and counted instead of waiting.
class AsyncWriter {
 public:
  AsyncWriter(int fd, std::size_t capacity_bytes);
  ~AsyncWriter();  // writes what is buffered, then joins the writer thread
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;

  bool push(std::string_view line);  // false: dropped (buffer full, or closed)
  void flush();                      // returns once every line pushed before it is written
  void close();                      // flush, then stop the writer thread; later pushes drop
  std::uint64_t dropped() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Default output (no sink set) through an AsyncWriter on stdout from now on; stop_async() writes
// what is buffered and returns to synchronous writes. Call both from the main thread.
void start_async(std::size_t capacity_bytes);
void stop_async();
void flush();                   // no-op when synchronous
std::uint64_t dropped_lines();  // lines the asynchronous writer dropped since the process started

}  // namespace tk::log
