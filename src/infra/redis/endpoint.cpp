#include "infra/redis/endpoint.hpp"

#include <charconv>

namespace tk::redis {
namespace {

tk::Error invalid(const char* why) {
  // The URL itself is not echoed: it may carry a password.
  return {std::make_error_code(std::errc::invalid_argument), {{"reason", why}}};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

template <class T>
bool parse_number(std::string_view s, T& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

tk::Result<Endpoint> Endpoint::parse(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) return invalid("scheme must be redis://");
  std::string_view rest = url.substr(kScheme.size());
  Endpoint ep;

  // Path: /db
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!parse_number(db, ep.db) || ep.db < 0)) return invalid("bad db number");
  }
  // Userinfo: [user]:password@ (the last '@' ends it, passwords may contain '@' when encoded)
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view info = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = info.find(':');
    std::string_view user =
        colon == std::string_view::npos ? std::string_view{} : info.substr(0, colon);
    std::string_view pass = colon == std::string_view::npos ? info : info.substr(colon + 1);
    if (!percent_decode(user, ep.username) || !percent_decode(pass, ep.password)) {
      return invalid("bad percent-encoding in userinfo");
    }
  }
  // Host[:port], host may be [v6]
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return invalid("unterminated [ipv6] host");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("junk after ipv6 host");
      port = after.substr(1);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return invalid("missing host");
  ep.host = std::string(host);
  if (!port.empty() && (!parse_number(port, ep.port) || ep.port == 0)) return invalid("bad port");
  return ep;
}

}  // namespace tk::redis
