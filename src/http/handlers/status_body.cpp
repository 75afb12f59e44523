#include "http/handlers/status_body.hpp"

#include "http/handlers/support.hpp"

namespace tk::http {

std::string status_body(const app::QueueStatus& s) {
  std::string out;
  // Access tokens are base64url + '.' (no JSON escaping needed); state names are fixed words.
  out.reserve(96 + s.access_token.size() + (s.access_token.empty() ? 0 : 64));
  out += "{\"state\":\"";
  out += app::to_string(s.state);
  out += "\",\"position\":";
  // A pre-queue ticket has no position until the draw.
  if (s.state == app::QueueState::pre_queue) {
    out += "null";
  } else {
    append_int(out, s.position);
  }
  out += ",\"ahead\":";
  append_int(out, s.ahead);
  out += ",\"estimated_wait_seconds\":";
  append_int(out, s.estimated_wait_seconds);
  if (s.entry > 0) {
    out += ",\"entry_id\":\"";
    out += app::entry_id(s.entry);
    out += '"';
  }
  if (!s.access_token.empty()) {
    out += ",\"access_token\":\"";
    out += s.access_token;
    out += "\",\"access_expires_at\":\"";
    out += rfc3339(s.access_expires_at);
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace tk::http
