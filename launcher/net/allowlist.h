// Host names and allow entries.
//
// The problem: an allowlist is only as strict as the least strict parser between it and the wire.
// "evil.com\0.allowed.com" passes an ends-with check and resolves as evil.com; "ALLOWED.com.",
// "allowed.com%00", "0x7f.1" and "evil-allowed.com" are others of the kind. So every name that
// reaches a decision goes through one canonical form — lowercase LDH labels of 1-63 characters,
// at most 253 in all, no trailing dot, no NUL, '%', '_' or control characters, non-ASCII only as
// IDNA A-labels ("xn--...") — and names are compared label by label, never as substrings.
//
// Entries (profile `network.allow`/`network.install`, `--allow-net`):
//   host[:port]        exactly that name
//   *.domain[:port]    any name with one or more labels in front of domain (not domain itself)
//   *[:port]           any name (still public addresses only)
//   localhost:port     that port on the host's own loopback (127.0.0.1, then ::1)
//   ADDR[:port]        an IPv4 literal or [IPv6] literal: that address, even if private or loopback
// Without a port an entry means ports 443 and 80. An empty list means no network at all.
// A name is dialed only at public addresses, unless an ADDR or localhost entry names the address it
// resolved to at that port: then the server could reach it directly anyway, so nothing is gained.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/addr.h"

namespace mcpcell::net {

// Canonical form of a host name taken from the wire or from an entry: lowercases ASCII, refuses
// everything outside the grammar above. Returns false with a reason ("NUL byte", "trailing
// dot"...).
bool canonical_name(std::string_view in, std::string* out, std::string* why);

// Text safe to put in an audit record for arbitrary bytes a server sent as a name: printable ASCII
// kept, everything else as \xNN, at most 300 characters.
std::string printable_name(std::string_view raw);

struct Entry {
  enum Kind { kName, kWildcard, kAny, kLocalhost, kAddress };
  Kind kind = kName;
  std::string host;  // canonical name; for kWildcard the domain after "*."
  IpAddr addr;       // kAddress
  std::vector<uint16_t> ports;
  std::string text;  // the entry as written (canonical), for audit records

  bool matches_name(std::string_view canonical) const;  // kName, kWildcard, kAny
  bool has_port(uint16_t port) const;
};

class Allowlist {
 public:
  // Parses every entry; on the first bad one returns false and names it in *error.
  static bool parse(const std::vector<std::string>& entries, Allowlist* out, std::string* error);

  bool empty() const { return entries_.empty(); }
  const std::vector<Entry>& entries() const { return entries_; }
  // Every port some entry allows, sorted, without duplicates (the listeners to create).
  std::vector<uint16_t> ports() const;
  std::vector<uint16_t> localhost_ports() const;

  // Some name entry matches, at any port: the resolver answers for it.
  const Entry* match_name(std::string_view canonical) const;
  // A name entry matches at this port.
  const Entry* match(std::string_view canonical, uint16_t port) const;
  // An address or localhost entry names this address at this port.
  const Entry* match_address(const IpAddr& a, uint16_t port) const;

 private:
  std::vector<Entry> entries_;
};

bool parse_entry(std::string_view text, Entry* out, std::string* error);

}  // namespace mcpcell::net
