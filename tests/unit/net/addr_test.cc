#include "net/addr.h"

#include <gtest/gtest.h>

namespace mcpcell::net {
namespace {

AddrClass cls(const char* s) {
  auto a = parse_ip(s);
  EXPECT_TRUE(a) << s;
  return a ? classify(*a) : AddrClass::kReserved;
}

TEST(Addr, StrictIpv4) {
  EXPECT_TRUE(parse_ipv4("1.2.3.4"));
  EXPECT_TRUE(parse_ipv4("255.255.255.255"));
  EXPECT_TRUE(parse_ipv4("0.0.0.0"));
  // Forms inet_aton accepts and resolvers/URL parsers disagree about.
  for (const char* bad :
       {"0x7f.0.0.1", "0177.0.0.1", "127.1", "2130706433", "1.2.3.4.", "1.2.3", "1.2.3.256",
        " 1.2.3.4", "1.2.3.4 ", "1..2.3", "", "01.2.3.4", "1.2.3.4\n", "1.2.3.0004"})
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
  std::string with_nul("1.2.3.4\0.5", 10);
  EXPECT_FALSE(parse_ipv4(with_nul));
}

TEST(Addr, StrictIpv6) {
  EXPECT_TRUE(parse_ipv6("::1"));
  EXPECT_TRUE(parse_ipv6("2606:4700::1111"));
  EXPECT_TRUE(parse_ipv6("::ffff:127.0.0.1"));
  for (const char* bad : {"fe80::1%eth0", "[::1]", ":::1", "1::2::3", "g::1", ""})
    EXPECT_FALSE(parse_ipv6(bad)) << bad;
  EXPECT_EQ(parse_ipv6("2606:4700:0:0:0:0:0:1111")->str(), "2606:4700::1111");
}

TEST(Addr, Classes) {
  EXPECT_EQ(cls("8.8.8.8"), AddrClass::kPublic);
  EXPECT_EQ(cls("1.1.1.1"), AddrClass::kPublic);
  EXPECT_EQ(cls("127.0.0.1"), AddrClass::kLoopback);
  EXPECT_EQ(cls("127.255.1.2"), AddrClass::kLoopback);
  EXPECT_EQ(cls("10.1.2.3"), AddrClass::kPrivate);
  EXPECT_EQ(cls("172.16.0.1"), AddrClass::kPrivate);
  EXPECT_EQ(cls("172.31.255.255"), AddrClass::kPrivate);
  EXPECT_EQ(cls("172.32.0.1"), AddrClass::kPublic);
  EXPECT_EQ(cls("192.168.1.1"), AddrClass::kPrivate);
  EXPECT_EQ(cls("100.64.0.1"), AddrClass::kPrivate);
  EXPECT_EQ(cls("169.254.169.254"), AddrClass::kMetadata);
  EXPECT_EQ(cls("169.254.1.1"), AddrClass::kLinkLocal);
  EXPECT_EQ(cls("0.0.0.0"), AddrClass::kUnspecified);
  EXPECT_EQ(cls("0.1.2.3"), AddrClass::kUnspecified);
  EXPECT_EQ(cls("224.0.0.1"), AddrClass::kMulticast);
  EXPECT_EQ(cls("255.255.255.255"), AddrClass::kReserved);
  EXPECT_EQ(cls("192.0.2.1"), AddrClass::kReserved);
  EXPECT_EQ(cls("::1"), AddrClass::kLoopback);
  EXPECT_EQ(cls("::"), AddrClass::kUnspecified);
  EXPECT_EQ(cls("fe80::1"), AddrClass::kLinkLocal);
  EXPECT_EQ(cls("fd00::1"), AddrClass::kPrivate);
  EXPECT_EQ(cls("fc00::1"), AddrClass::kPrivate);
  EXPECT_EQ(cls("fd00:ec2::254"), AddrClass::kMetadata);
  EXPECT_EQ(cls("ff02::1"), AddrClass::kMulticast);
  EXPECT_EQ(cls("2001:db8::1"), AddrClass::kReserved);
  EXPECT_EQ(cls("2606:4700::1111"), AddrClass::kPublic);
  EXPECT_EQ(cls("2a00:1450:4001::1"), AddrClass::kPublic);
}

TEST(Addr, Ipv4HiddenInIpv6IsNeverPublic) {
  // Mapped, compatible, NAT64 (well-known and local), 6to4, Teredo — whatever they carry.
  for (const char* s : {"::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:8.8.8.8",
                        "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::7f00:1",
                        "2002:7f00:1::1", "2001:0:4136:e378::1"})
    EXPECT_EQ(cls(s), AddrClass::kEmbedded) << s;
}

TEST(Addr, SockaddrRoundTrip) {
  for (const char* s : {"10.0.0.5", "2606:4700::1111"}) {
    IpAddr a = *parse_ip(s);
    sockaddr_storage ss;
    a.to_sockaddr(8443, &ss);
    uint16_t port = 0;
    auto b = IpAddr::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), &port);
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, a);
    EXPECT_EQ(port, 8443);
  }
}

}  // namespace
}  // namespace mcpcell::net
