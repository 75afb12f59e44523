#include "http/access_log.hpp"

#include <charconv>
#include <string>

#include "common/log.hpp"

namespace tk::http {

void AccessLog::write(const AccessRecord& r) const {
  if (!enabled_ || !tk::log::enabled(tk::log::Level::info)) return;
  // Reused per thread: the hot path formats without allocating once the buffer has grown.
  thread_local std::string line;
  line.clear();
  line += "{\"ts\":";
  tk::log::append_timestamp(line);
  line += ",\"level\":\"info\",\"msg\":\"request\",\"request_id\":";
  tk::log::append_json_string(line, r.request_id);
  line += ",\"method\":";
  tk::log::append_json_string(line, r.method);
  line += ",\"route\":";
  tk::log::append_json_string(line, r.route);
  line += ",\"path\":";
  tk::log::append_json_string(line, r.target.substr(0, r.target.find('?')));
  char buf[32];
  line += ",\"status\":";
  line.append(buf, std::to_chars(buf, buf + sizeof buf, r.status).ptr);
  line += ",\"latency_ms\":";
  line.append(buf,
              std::to_chars(buf, buf + sizeof buf, r.latency_ms, std::chars_format::fixed, 3).ptr);
  line += ",\"remote\":";
  if (!r.remote_text.empty()) {
    tk::log::append_json_string(line, r.remote_text);
  } else if (r.remote) {
    // address::to_string allocates only past SSO size (IPv6); acceptable for a log line.
    tk::log::append_json_string(line, r.remote->to_string());
  } else {
    line += "null";
  }
  if (r.fields) {
    for (const auto& [k, v] : *r.fields) {
      line += ',';
      tk::log::append_json_string(line, k);
      line += ':';
      tk::log::append_json_string(line, v);
    }
  }
  line += '}';
  tk::log::emit(line);
}

}  // namespace tk::http
