#include "http/client_address.hpp"

#include <charconv>
#include <cstring>

namespace tk::http {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<ip::address> parse_ip(std::string_view s) {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(s), ec);
  if (ec) return std::nullopt;
  return normalized(a);
}

bool prefix_equal(const unsigned char* a, const unsigned char* b, unsigned bits) {
  unsigned whole = bits / 8, rest = bits % 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

ip::address normalized(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  return a;
}

std::optional<TrustedProxies> TrustedProxies::parse(std::string_view list) {
  TrustedProxies t;
  while (!list.empty()) {
    auto end = list.find_first_of(", ");
    std::string_view item = list.substr(0, end);
    list.remove_prefix(end == std::string_view::npos ? list.size() : end + 1);
    if (item.empty()) continue;
    auto slash = item.find('/');
    auto addr = parse_ip(item.substr(0, slash));
    if (!addr) return std::nullopt;
    Net n{};
    n.v4 = addr->is_v4();
    unsigned max_bits = n.v4 ? 32 : 128;
    n.prefix = max_bits;
    if (slash != std::string_view::npos) {
      auto bits = item.substr(slash + 1);
      auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n.prefix);
      if (ec != std::errc{} || p != bits.data() + bits.size() || bits.empty() ||
          n.prefix > max_bits) {
        return std::nullopt;
      }
    }
    if (n.v4) {
      auto b = addr->to_v4().to_bytes();
      std::memcpy(n.bytes.data(), b.data(), b.size());
    } else {
      n.bytes = addr->to_v6().to_bytes();
    }
    t.nets_.push_back(n);
  }
  return t;
}

bool TrustedProxies::contains(const ip::address& raw) const {
  ip::address a = normalized(raw);
  std::array<unsigned char, 16> bytes{};
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    std::memcpy(bytes.data(), b.data(), b.size());
  } else {
    bytes = a.to_v6().to_bytes();
  }
  for (const auto& n : nets_) {
    if (n.v4 == a.is_v4() && prefix_equal(n.bytes.data(), bytes.data(), n.prefix)) return true;
  }
  return false;
}

ip::address client_address(const ip::address& peer, std::string_view forwarded_for,
                           const TrustedProxies& trusted) {
  ip::address current = normalized(peer);
  if (!trusted.contains(current)) return current;
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    std::string_view hop =
        trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for =
        comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    auto addr = parse_ip(hop);
    if (!addr) return current;
    current = *addr;
    if (!trusted.contains(current)) return current;
  }
  return current;
}

std::string address_key(const ip::address& raw) {
  ip::address a = normalized(raw);
  if (a.is_v4()) return a.to_string();
  auto b = a.to_v6().to_bytes();
  std::fill(b.begin() + 8, b.end(), 0);
  return ip::make_address_v6(b).to_string() + "/64";
}

namespace {

ProxyHeader parse_v1(std::string_view data) {
  constexpr std::size_t kMaxV1 = 107;  // the specification's bound, CRLF included
  ProxyHeader h;
  auto crlf = data.find("\r\n");
  if (crlf == std::string_view::npos) {
    h.status = data.size() < kMaxV1 ? ProxyHeader::Status::need_more : ProxyHeader::Status::invalid;
    return h;
  }
  h.status = ProxyHeader::Status::invalid;
  if (crlf + 2 > kMaxV1) return h;
  std::string_view line = data.substr(6, crlf - 6);  // after "PROXY "
  std::vector<std::string_view> f;
  while (!line.empty()) {
    auto sp = line.find(' ');
    f.push_back(line.substr(0, sp));
    line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
  }
  if (!f.empty() && f[0] == "UNKNOWN") {
    h.status = ProxyHeader::Status::done;
    h.length = crlf + 2;
    return h;
  }
  if (f.size() != 5 || (f[0] != "TCP4" && f[0] != "TCP6")) return h;
  auto src = parse_ip(f[1]);
  auto dst = parse_ip(f[2]);
  if (!src || !dst || src->is_v4() != (f[0] == "TCP4")) return h;
  for (auto port : {f[3], f[4]}) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || port.empty() || v > 65535) {
      return h;
    }
  }
  h.status = ProxyHeader::Status::done;
  h.length = crlf + 2;
  h.source = *src;
  return h;
}

ProxyHeader parse_v2(std::string_view data) {
  ProxyHeader h;
  if (data.size() < 16) return h;
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(data[i]); };
  std::size_t len = (std::size_t{byte(14)} << 8) | byte(15);
  h.status = ProxyHeader::Status::invalid;
  if ((byte(12) >> 4) != 2 || 16 + len > kMaxProxyHeader) return h;
  unsigned command = byte(12) & 0x0f, family = byte(13) >> 4;
  if (command > 1) return h;
  if (data.size() < 16 + len) {
    h.status = ProxyHeader::Status::need_more;
    return h;
  }
  h.length = 16 + len;
  h.status = ProxyHeader::Status::done;
  if (command == 0) return h;  // LOCAL: the proxy's own health check; the peer is the client
  if (family == 1) {
    if (len < 12) return h.status = ProxyHeader::Status::invalid, h;
    ip::address_v4::bytes_type b;
    std::memcpy(b.data(), data.data() + 16, 4);
    h.source = ip::address(ip::make_address_v4(b));
  } else if (family == 2) {
    if (len < 36) return h.status = ProxyHeader::Status::invalid, h;
    ip::address_v6::bytes_type b;
    std::memcpy(b.data(), data.data() + 16, 16);
    h.source = normalized(ip::address(ip::make_address_v6(b)));
  }
  return h;  // AF_UNSPEC / AF_UNIX: no address to use
}

}  // namespace

ProxyHeader parse_proxy_header(std::string_view data) {
  static constexpr std::string_view kV1 = "PROXY ";
  static constexpr std::string_view kV2{"\r\n\r\n\0\r\nQUIT\n", 12};
  ProxyHeader h;
  std::string_view sig = data.substr(0, std::min<std::size_t>(data.size(), 12));
  if (!data.empty() && data[0] == 'P') {
    if (sig.size() < kV1.size() ? kV1.substr(0, sig.size()) != sig
                                : data.substr(0, kV1.size()) != kV1) {
      h.status = ProxyHeader::Status::invalid;
      return h;
    }
    if (data.size() < kV1.size()) return h;
    return parse_v1(data);
  }
  if (kV2.substr(0, sig.size()) != sig) {
    h.status = ProxyHeader::Status::invalid;
    return h;
  }
  return parse_v2(data);
}

}  // namespace tk::http
