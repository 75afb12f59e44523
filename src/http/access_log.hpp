#pragma once
// One JSON line per request through tk::log (in the service: its asynchronous writer, so no
// system call on the request path):
//   {"ts":..,"level":"info","msg":"request","request_id":..,"method":"GET",
//    "route":"/v1/performances/{pid}/queue/status","path":"/v1/performances/p1/queue/status",
//    "status":200,"latency_ms":0.412,"remote":"127.0.0.1", ...handler fields}
// The query string is not logged: it may carry secrets.
#include <string_view>
#include <utility>
#include <vector>

#include "http/context.hpp"

namespace tk::http {

struct AccessRecord {
  std::string_view request_id;
  std::string_view method;
  std::string_view route;
  std::string_view target;  // raw request target; only the path part is logged
  unsigned status = 0;
  double latency_ms = 0;
  const asio::ip::address* remote = nullptr;
  const std::vector<std::pair<std::string, std::string>>* fields = nullptr;
  // The remote address as text when the caller keeps it (per connection); else `remote` is
  // formatted for the line.
  std::string_view remote_text;
};

class AccessLog {
 public:
  explicit AccessLog(bool enabled = true) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  void set_enabled(bool e) { enabled_ = e; }
  void write(const AccessRecord& r) const;

 private:
  bool enabled_;
};

}  // namespace tk::http
