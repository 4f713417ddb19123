#include "net/addr.h"

#include <arpa/inet.h>

#include <cstring>

namespace mcpcell::net {

IpAddr IpAddr::v4(uint8_t a, uint8_t b1, uint8_t c, uint8_t d) {
  IpAddr r;
  r.b[0] = a, r.b[1] = b1, r.b[2] = c, r.b[3] = d;
  return r;
}

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, b.data(), buf, sizeof buf);
  return buf;
}

socklen_t IpAddr::to_sockaddr(uint16_t port, sockaddr_storage* out) const {
  std::memset(out, 0, sizeof *out);
  if (v6) {
    auto* s = reinterpret_cast<sockaddr_in6*>(out);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    std::memcpy(&s->sin6_addr, b.data(), 16);
    return sizeof *s;
  }
  auto* s = reinterpret_cast<sockaddr_in*>(out);
  s->sin_family = AF_INET;
  s->sin_port = htons(port);
  std::memcpy(&s->sin_addr, b.data(), 4);
  return sizeof *s;
}

std::optional<IpAddr> IpAddr::from_sockaddr(const sockaddr* sa, uint16_t* port) {
  IpAddr r;
  if (sa->sa_family == AF_INET) {
    auto* s = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(r.b.data(), &s->sin_addr, 4);
    if (port) *port = ntohs(s->sin_port);
    return r;
  }
  if (sa->sa_family == AF_INET6) {
    auto* s = reinterpret_cast<const sockaddr_in6*>(sa);
    r.v6 = true;
    std::memcpy(r.b.data(), &s->sin6_addr, 16);
    if (port) *port = ntohs(s->sin6_port);
    return r;
  }
  return std::nullopt;
}

std::optional<IpAddr> parse_ipv4(std::string_view s) {
  IpAddr r;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    size_t n = 0;
    unsigned v = 0;
    while (n < s.size() && n < 4 && s[n] >= '0' && s[n] <= '9') v = v * 10 + (s[n++] - '0');
    // No octal-looking leading zeros, no more than three digits, no value above 255.
    if (n == 0 || n > 3 || v > 255 || (n > 1 && s[0] == '0')) return std::nullopt;
    r.b[part] = static_cast<uint8_t>(v);
    s.remove_prefix(n);
  }
  if (!s.empty()) return std::nullopt;
  return r;
}

std::optional<IpAddr> parse_ipv6(std::string_view s) {
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == ':' || c == '.';
    if (!ok) return std::nullopt;  // also refuses zones ("%") and NUL
  }
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  IpAddr r;
  r.v6 = true;
  if (::inet_pton(AF_INET6, buf, r.b.data()) != 1) return std::nullopt;
  return r;
}

std::optional<IpAddr> parse_ip(std::string_view s) {
  if (s.find(':') != std::string_view::npos) return parse_ipv6(s);
  return parse_ipv4(s);
}

namespace {

bool in4(const IpAddr& a, uint8_t p0, uint8_t p1, uint8_t p2, uint8_t p3, int len) {
  uint32_t x = (uint32_t(a.b[0]) << 24) | (a.b[1] << 16) | (a.b[2] << 8) | a.b[3];
  uint32_t net = (uint32_t(p0) << 24) | (p1 << 16) | (p2 << 8) | p3;
  uint32_t mask = len == 0 ? 0 : ~uint32_t(0) << (32 - len);
  return (x & mask) == (net & mask);
}

bool prefix6(const IpAddr& a, std::initializer_list<uint8_t> prefix, int bits) {
  int i = 0;
  for (uint8_t p : prefix) {
    if (bits <= 0) break;
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a.b[i] & mask) != (p & mask)) return false;
    bits -= 8;
    ++i;
  }
  return true;
}

// One table per family; the first match wins, so narrower ranges come first.
struct V4Range {
  uint8_t p[4];
  int len;
  AddrClass cls;
};
constexpr V4Range kV4[] = {
    {{169, 254, 169, 254}, 32, AddrClass::kMetadata},
    {{100, 100, 100, 200}, 32, AddrClass::kMetadata},  // Alibaba Cloud
    {{0, 0, 0, 0}, 8, AddrClass::kUnspecified},
    {{127, 0, 0, 0}, 8, AddrClass::kLoopback},
    {{10, 0, 0, 0}, 8, AddrClass::kPrivate},
    {{172, 16, 0, 0}, 12, AddrClass::kPrivate},
    {{192, 168, 0, 0}, 16, AddrClass::kPrivate},
    {{100, 64, 0, 0}, 10, AddrClass::kPrivate},
    {{169, 254, 0, 0}, 16, AddrClass::kLinkLocal},
    {{192, 0, 0, 0}, 24, AddrClass::kReserved},
    {{192, 0, 2, 0}, 24, AddrClass::kReserved},
    {{198, 51, 100, 0}, 24, AddrClass::kReserved},
    {{203, 0, 113, 0}, 24, AddrClass::kReserved},
    {{198, 18, 0, 0}, 15, AddrClass::kReserved},
    {{192, 88, 99, 0}, 24, AddrClass::kReserved},
    {{224, 0, 0, 0}, 4, AddrClass::kMulticast},
    {{240, 0, 0, 0}, 4, AddrClass::kReserved},  // includes 255.255.255.255
};

}  // namespace

AddrClass classify(const IpAddr& a) {
  if (!a.v6) {
    for (const V4Range& r : kV4)
      if (in4(a, r.p[0], r.p[1], r.p[2], r.p[3], r.len)) return r.cls;
    return AddrClass::kPublic;
  }
  static constexpr uint8_t kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr uint8_t kAny[16] = {};
  static constexpr uint8_t kAwsMeta[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0,    0,
                                           0,    0, 0,    0,    0, 0, 0x02, 0x54};
  if (std::memcmp(a.b.data(), kLoop, 16) == 0) return AddrClass::kLoopback;
  if (std::memcmp(a.b.data(), kAny, 16) == 0) return AddrClass::kUnspecified;
  if (std::memcmp(a.b.data(), kAwsMeta, 16) == 0) return AddrClass::kMetadata;
  // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 well-known and
  // local-use prefixes, 6to4 and Teredo. Whatever the carried IPv4 address, the kernel or a
  // translator may deliver the packet to it, so these are never treated as public.
  if (prefix6(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96) ||
      prefix6(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 96) ||
      prefix6(a, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 96) ||
      prefix6(a, {0, 0x64, 0xff, 0x9b, 0, 1}, 48) || prefix6(a, {0x20, 0x02}, 16) ||
      prefix6(a, {0x20, 0x01, 0, 0}, 32))
    return AddrClass::kEmbedded;
  if (prefix6(a, {0xff}, 8)) return AddrClass::kMulticast;
  if (prefix6(a, {0xfe, 0x80}, 10)) return AddrClass::kLinkLocal;
  if (prefix6(a, {0xfe, 0xc0}, 10)) return AddrClass::kPrivate;  // deprecated site-local
  if (prefix6(a, {0xfc}, 7)) return AddrClass::kPrivate;
  if (prefix6(a, {0x20, 0x01, 0x0d, 0xb8}, 32) || prefix6(a, {0x01, 0, 0, 0, 0, 0, 0, 0}, 64) ||
      prefix6(a, {0x20, 0x01, 0x00, 0x02, 0, 0}, 48) || prefix6(a, {0x3f, 0xff}, 20))
    return AddrClass::kReserved;  // documentation, discard-only, benchmarking
  if (!prefix6(a, {0x20}, 3)) return AddrClass::kReserved;  // outside global unicast 2000::/3
  return AddrClass::kPublic;
}

const char* class_name(AddrClass c) {
  switch (c) {
    case AddrClass::kPublic:
      return "public";
    case AddrClass::kLoopback:
      return "loopback";
    case AddrClass::kPrivate:
      return "private network";
    case AddrClass::kLinkLocal:
      return "link-local";
    case AddrClass::kMetadata:
      return "cloud metadata service";
    case AddrClass::kUnspecified:
      return "unspecified";
    case AddrClass::kMulticast:
      return "multicast";
    case AddrClass::kReserved:
      return "reserved";
    case AddrClass::kEmbedded:
      return "IPv4 embedded in IPv6";
  }
  return "?";
}

}  // namespace mcpcell::net
