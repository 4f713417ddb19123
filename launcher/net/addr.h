// IP addresses as the egress path sees them: parsed strictly (dotted-quad with exactly four decimal
// parts, RFC 4291 text for IPv6 — never inet_aton's "0x7f.1" or "2130706433" forms, which resolvers
// and URL parsers disagree about), and classified, so that a name resolving to loopback, a private
// network, link-local, the cloud metadata service or an IPv4 address hidden inside an IPv6 one
// (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) is refused unless an allow entry names that
// address itself.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcpcell::net {

struct IpAddr {
  bool v6 = false;
  std::array<uint8_t, 16> b{};  // IPv4 uses b[0..3]

  static IpAddr v4(uint8_t a, uint8_t b1, uint8_t c, uint8_t d);
  bool operator==(const IpAddr& o) const = default;
  auto operator<=>(const IpAddr& o) const = default;

  std::string str() const;  // canonical text (RFC 5952 for IPv6)
  // sockaddr_in / sockaddr_in6 with `port`; returns its length.
  socklen_t to_sockaddr(uint16_t port, sockaddr_storage* out) const;
  static std::optional<IpAddr> from_sockaddr(const sockaddr* sa, uint16_t* port = nullptr);
};

// Strict literal parsing. IPv6 may not carry a zone ("%eth0") or brackets.
std::optional<IpAddr> parse_ipv4(std::string_view s);
std::optional<IpAddr> parse_ipv6(std::string_view s);
std::optional<IpAddr> parse_ip(std::string_view s);

enum class AddrClass {
  kPublic,
  kLoopback,     // 127/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7
  kLinkLocal,    // 169.254/16, fe80::/10
  kMetadata,     // 169.254.169.254, fd00:ec2::254 (cloud instance metadata)
  kUnspecified,  // 0.0.0.0/8, ::
  kMulticast,    // 224/4, ff00::/8
  kReserved,     // 240/4, broadcast, 192.0.0/24, TEST-NETs, benchmarking, 2001:db8::/32 ...
  kEmbedded,     // an IPv4 address carried inside IPv6: ::ffff:0:0/96, ::/96, 64:ff9b::/96,
                 // 64:ff9b:1::/48, 2002::/16, 2001::/32
};

AddrClass classify(const IpAddr& a);
const char* class_name(AddrClass c);  // "loopback", "cloud metadata", ... for audit reasons

}  // namespace mcpcell::net
