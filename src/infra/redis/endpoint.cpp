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

// host[:port], host may be [ipv6]; returns why it is bad, or nullptr.
const char* parse_host_port(std::string_view rest, std::string& host_out, std::uint16_t& port_out) {
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return "unterminated [ipv6] host";
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "junk after ipv6 host";
      port = after.substr(1);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return "missing host";
  host_out = std::string(host);
  if (!port.empty() && (!parse_number(port, port_out) || port_out == 0)) return "bad port";
  return nullptr;
}

// [user]:password@ (the last '@' ends it, passwords may contain '@' when encoded); strips it from
// `rest`. Returns false on bad percent-encoding.
bool parse_userinfo(std::string_view& rest, Endpoint& ep) {
  auto at = rest.rfind('@');
  if (at == std::string_view::npos) return true;
  std::string_view info = rest.substr(0, at);
  rest = rest.substr(at + 1);
  auto colon = info.find(':');
  std::string_view user =
      colon == std::string_view::npos ? std::string_view{} : info.substr(0, colon);
  std::string_view pass = colon == std::string_view::npos ? info : info.substr(colon + 1);
  return percent_decode(user, ep.username) && percent_decode(pass, ep.password);
}

tk::Result<Endpoint> parse_sentinel(std::string_view rest) {
  Endpoint ep;
  // Query: only sentinel_password=...
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view kv = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos || kv.substr(0, eq) != "sentinel_password") {
        return invalid("unknown query parameter (only sentinel_password)");
      }
      if (!percent_decode(kv.substr(eq + 1), ep.sentinel_password)) {
        return invalid("bad percent-encoding in sentinel_password");
      }
    }
  }
  // Path: /MASTER[/db]
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return invalid("missing /master-name");
  std::string_view path = rest.substr(slash + 1);
  rest = rest.substr(0, slash);
  std::string_view name = path, db;
  if (auto s2 = path.find('/'); s2 != std::string_view::npos) {
    name = path.substr(0, s2);
    db = path.substr(s2 + 1);
  }
  if (!percent_decode(name, ep.master_name)) return invalid("bad percent-encoding in master name");
  if (ep.master_name.empty()) return invalid("missing master name");
  if (!db.empty() && (!parse_number(db, ep.db) || ep.db < 0)) return invalid("bad db number");
  if (!parse_userinfo(rest, ep)) return invalid("bad percent-encoding in userinfo");
  // Sentinels: host[:port] separated by commas
  while (true) {
    auto comma = rest.find(',');
    HostPort hp{{}, 26379};
    if (const char* why = parse_host_port(rest.substr(0, comma), hp.host, hp.port)) {
      return invalid(why);
    }
    ep.sentinels.push_back(std::move(hp));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  ep.host.clear();  // discovered on every connect
  ep.port = 0;
  return ep;
}

}  // namespace

tk::Result<Endpoint> Endpoint::parse(std::string_view url) {
  constexpr std::string_view kSentinel = "redis-sentinel://";
  if (url.substr(0, kSentinel.size()) == kSentinel) {
    return parse_sentinel(url.substr(kSentinel.size()));
  }
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return invalid("scheme must be redis:// or redis-sentinel://");
  }
  std::string_view rest = url.substr(kScheme.size());
  Endpoint ep;

  // Path: /db
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!parse_number(db, ep.db) || ep.db < 0)) return invalid("bad db number");
  }
  if (!parse_userinfo(rest, ep)) return invalid("bad percent-encoding in userinfo");
  if (const char* why = parse_host_port(rest, ep.host, ep.port)) return invalid(why);
  return ep;
}

}  // namespace tk::redis
