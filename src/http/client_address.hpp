#pragma once
// Who the client is, for per-address limits and logs. The socket peer is the client unless it is
// a configured trusted proxy (a load balancer): then the address comes from the PROXY protocol
// header the proxy opened the connection with, and from X-Forwarded-For, walked right to left
// past trusted hops. Nothing a client sends is believed unless a trusted peer relayed it, so a
// direct client cannot pick its own bucket.
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tk::http {

class TrustedProxies {
 public:
  // Comma- or space-separated addresses and CIDR blocks ("10.0.0.0/8, ::1, 192.0.2.7/32");
  // nullopt when an entry is malformed. An empty list trusts nobody.
  static std::optional<TrustedProxies> parse(std::string_view list);
  bool contains(const boost::asio::ip::address& a) const;
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    bool v4;
    std::array<unsigned char, 16> bytes;
    unsigned prefix;
  };
  std::vector<Net> nets_;
};

// An IPv4-mapped IPv6 address as the IPv4 address it stands for; anything else unchanged.
boost::asio::ip::address normalized(const boost::asio::ip::address& a);

// The client behind `peer` (the connection's source, after any PROXY header): `peer` itself unless
// trusted; then the X-Forwarded-For entries (`forwarded_for`, every header's value joined by
// commas) from the right, skipping trusted ones. A malformed entry ends the walk at the last
// trusted hop, since whatever lies left of it is unverifiable.
boost::asio::ip::address client_address(const boost::asio::ip::address& peer,
                                        std::string_view forwarded_for,
                                        const TrustedProxies& trusted);

// The rate-limit key of an address: IPv4 as is, IPv6 by its /64 (one subscriber's allocation), so
// a single host cannot spread over 2^64 buckets.
std::string address_key(const boost::asio::ip::address& a);

// A PROXY protocol header (HAProxy's v1 text or v2 binary) at the start of a connection.
struct ProxyHeader {
  enum class Status { need_more, invalid, done } status = Status::need_more;
  std::size_t length = 0;                          // bytes to consume when done
  std::optional<boost::asio::ip::address> source;  // absent for LOCAL / UNKNOWN
};
inline constexpr std::size_t kMaxProxyHeader = 16 + 4096;  // v2 header with TLVs, bounded
ProxyHeader parse_proxy_header(std::string_view data);

}  // namespace tk::http
