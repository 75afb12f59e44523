#include "http/client_address.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tk::http {
namespace {

namespace ip = boost::asio::ip;
using S = ProxyHeader::Status;

ip::address A(const char* s) { return ip::make_address(s); }

TrustedProxies trust(std::string_view list) {
  auto t = TrustedProxies::parse(list);
  EXPECT_TRUE(t.has_value()) << list;
  return t.value_or(TrustedProxies{});
}

TEST(TrustedProxies, MatchesAddressesAndBlocks) {
  auto t = trust("10.0.0.0/8, 192.0.2.7 2001:db8::/32,::1");
  EXPECT_TRUE(t.contains(A("10.255.1.2")));
  EXPECT_TRUE(t.contains(A("192.0.2.7")));
  EXPECT_FALSE(t.contains(A("192.0.2.8")));
  EXPECT_FALSE(t.contains(A("11.0.0.1")));
  EXPECT_TRUE(t.contains(A("2001:db8:1::5")));
  EXPECT_FALSE(t.contains(A("2001:db9::5")));
  EXPECT_TRUE(t.contains(A("::1")));
  EXPECT_TRUE(t.contains(A("::ffff:10.1.1.1")));  // IPv4 seen through a dual-stack socket
  EXPECT_TRUE(trust("0.0.0.0/0").contains(A("203.0.113.1")));
  EXPECT_TRUE(trust("10.0.0.0/9").contains(A("10.127.0.1")));
  EXPECT_FALSE(trust("10.0.0.0/9").contains(A("10.128.0.1")));
}

TEST(TrustedProxies, RefusesMalformedEntries) {
  EXPECT_FALSE(TrustedProxies::parse("10.0.0.0/33"));
  EXPECT_FALSE(TrustedProxies::parse("10.0.0.0/"));
  EXPECT_FALSE(TrustedProxies::parse("10.0.0/8"));
  EXPECT_FALSE(TrustedProxies::parse("::1/129"));
  EXPECT_FALSE(TrustedProxies::parse("lb.internal"));
  EXPECT_TRUE(TrustedProxies::parse("")->empty());
}

TEST(ClientAddress, AnUntrustedPeerIsTheClientWhateverItForwards) {
  auto t = trust("10.0.0.0/8");
  EXPECT_EQ(client_address(A("203.0.113.5"), "198.51.100.1", t), A("203.0.113.5"));
  EXPECT_EQ(client_address(A("203.0.113.5"), "", TrustedProxies{}), A("203.0.113.5"));
}

TEST(ClientAddress, WalksForwardedForRightToLeftPastTrustedHops) {
  auto t = trust("10.0.0.0/8");
  // A client-supplied entry on the left is ignored: the first untrusted hop from the right wins.
  EXPECT_EQ(client_address(A("10.0.0.1"), "1.1.1.1, 198.51.100.9, 10.0.0.2", t), A("198.51.100.9"));
  EXPECT_EQ(client_address(A("10.0.0.1"), "198.51.100.9", t), A("198.51.100.9"));
  EXPECT_EQ(client_address(A("10.0.0.1"), " 2001:db8::7 ,10.2.2.2", t), A("2001:db8::7"));
  // No header: the trusted peer itself (a health check, or a proxy's own request).
  EXPECT_EQ(client_address(A("10.0.0.1"), "", t), A("10.0.0.1"));
  // Every hop trusted: the leftmost one.
  EXPECT_EQ(client_address(A("10.0.0.1"), "10.9.9.9, 10.0.0.3", t), A("10.9.9.9"));
}

TEST(ClientAddress, AMalformedHopEndsTheWalkAtTheLastTrustedOne) {
  auto t = trust("10.0.0.0/8");
  EXPECT_EQ(client_address(A("10.0.0.1"), "198.51.100.9, junk, 10.0.0.2", t), A("10.0.0.2"));
  EXPECT_EQ(client_address(A("10.0.0.1"), "198.51.100.9:443", t), A("10.0.0.1"));
}

TEST(AddressKey, IPv6GroupsByItsSlash64) {
  EXPECT_EQ(address_key(A("192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(address_key(A("::ffff:192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(address_key(A("2001:db8:1:2:aaaa::1")), address_key(A("2001:db8:1:2:bbbb::9")));
  EXPECT_NE(address_key(A("2001:db8:1:2::1")), address_key(A("2001:db8:1:3::1")));
}

TEST(ProxyHeader, ParsesVersion1) {
  std::string h = "PROXY TCP4 198.51.100.22 203.0.113.7 35646 443\r\nGET / HTTP/1.1\r\n";
  auto p = parse_proxy_header(h);
  ASSERT_EQ(p.status, S::done);
  EXPECT_EQ(p.length, h.find("GET"));
  EXPECT_EQ(p.source, A("198.51.100.22"));
  p = parse_proxy_header("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n");
  ASSERT_EQ(p.status, S::done);
  EXPECT_EQ(p.source, A("2001:db8::1"));
  p = parse_proxy_header("PROXY UNKNOWN\r\n");
  ASSERT_EQ(p.status, S::done);
  EXPECT_FALSE(p.source);
}

TEST(ProxyHeader, Version1NeedsTheWholeLineAndRefusesNonsense) {
  EXPECT_EQ(parse_proxy_header("").status, S::need_more);
  EXPECT_EQ(parse_proxy_header("PRO").status, S::need_more);
  EXPECT_EQ(parse_proxy_header("PROXY TCP4 198.51.100.22 20").status, S::need_more);
  EXPECT_EQ(parse_proxy_header("GET / HTTP/1.1\r\n").status, S::invalid);
  EXPECT_EQ(parse_proxy_header("PROXY TCP4 2001:db8::1 203.0.113.7 1 2\r\n").status, S::invalid);
  EXPECT_EQ(parse_proxy_header("PROXY TCP4 198.51.100.22 203.0.113.7 1 99999\r\n").status,
            S::invalid);
  EXPECT_EQ(parse_proxy_header("PROXY TCP4 1.2.3.4\r\n").status, S::invalid);
  EXPECT_EQ(parse_proxy_header("PROXY " + std::string(200, '1')).status, S::invalid);
}

std::string v2(unsigned char ver_cmd, unsigned char fam, std::string addr) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(ver_cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(addr.size() >> 8);
  h += static_cast<char>(addr.size() & 0xff);
  return h + addr;
}

TEST(ProxyHeader, ParsesVersion2) {
  std::string v4{
      "\xc6\x33\x64\x16"
      "\xcb\x00\x71\x07"
      "\x8b\x3e"
      "\x01\xbb",
      12};
  auto h = v2(0x21, 0x11, v4) + "GET /";
  auto p = parse_proxy_header(h);
  ASSERT_EQ(p.status, S::done);
  EXPECT_EQ(p.length, 28u);
  EXPECT_EQ(p.source, A("198.51.100.22"));
  std::string v6(36, '\0');
  v6[0] = '\x20', v6[1] = '\x01', v6[2] = '\x0d', v6[3] = '\xb8', v6[15] = '\x01';
  p = parse_proxy_header(v2(0x21, 0x21, v6));
  ASSERT_EQ(p.status, S::done);
  EXPECT_EQ(p.source, A("2001:db8::1"));
  // LOCAL (the proxy's own health check): done, no address.
  p = parse_proxy_header(v2(0x20, 0x00, ""));
  ASSERT_EQ(p.status, S::done);
  EXPECT_FALSE(p.source);
  // Incomplete, a wrong version, an address block too short for its family.
  EXPECT_EQ(parse_proxy_header(h.substr(0, 20)).status, S::need_more);
  EXPECT_EQ(parse_proxy_header(v2(0x11, 0x11, v4)).status, S::invalid);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, "abc")).status, S::invalid);
  EXPECT_EQ(parse_proxy_header(std::string("\r\n\r\nX", 5)).status, S::invalid);
}

}  // namespace
}  // namespace tk::http
