#include "net/allowlist.h"

#include <algorithm>

namespace mcpcell::net {

namespace {

bool ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool check_label(std::string_view l, std::string* why) {
  if (l.empty()) return *why = "empty label", false;
  if (l.size() > 63) return *why = "label longer than 63 characters", false;
  for (char c : l)
    if (!ldh(c)) return *why = "character outside a-z, 0-9 and '-'", false;
  if (l.front() == '-' || l.back() == '-') return *why = "label starts or ends with '-'", false;
  // "ab--" labels are reserved for IDNA; only the A-label prefix "xn--" is in use.
  if (l.size() >= 4 && l[2] == '-' && l[3] == '-') {
    if (l.substr(0, 2) != "xn")
      return *why = "reserved label form (hyphens in positions 3 and 4)", false;
    if (l.size() == 4) return *why = "empty IDNA A-label", false;
  }
  return true;
}

bool parse_port(std::string_view s, uint16_t* port) {
  if (s.empty() || s.size() > 5 || s[0] == '0') return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

bool canonical_name(std::string_view in, std::string* out, std::string* why) {
  std::string s;
  s.reserve(in.size());
  for (unsigned char c : in) {
    if (c == 0) return *why = "NUL byte in name", false;
    if (c < 0x20 || c == 0x7f) return *why = "control character in name", false;
    if (c == '%') return *why = "'%' in name", false;
    if (c >= 0x80) return *why = "non-ASCII name (write the IDNA A-label, xn--...)", false;
    s.push_back(lower(static_cast<char>(c)));
  }
  if (s.empty()) return *why = "empty name", false;
  if (s.back() == '.') return *why = "trailing dot", false;
  if (s.size() > 253) return *why = "name longer than 253 characters", false;
  std::string_view rest = s;
  std::string_view last;
  while (true) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (!check_label(label, why)) return false;
    last = label;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  // An all-digit last label would make "1.2.3.4" or "0x7f.1"-like strings names; literals are
  // addresses and take a different path.
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return *why = "numeric top-level label (an IP address is not a name)", false;
  *out = std::move(s);
  return true;
}

std::string printable_name(std::string_view raw) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    if (out.size() >= 300) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool Entry::matches_name(std::string_view name) const {
  switch (kind) {
    case kName:
      return name == host;
    case kAny:
      return true;
    case kWildcard:
      // Label boundary required: "evil-example.com" must not match "*.example.com".
      return name.size() > host.size() + 1 && name.ends_with(host) &&
             name[name.size() - host.size() - 1] == '.';
    default:
      return false;
  }
}

bool Entry::has_port(uint16_t port) const {
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

bool parse_entry(std::string_view text, Entry* out, std::string* error) {
  Entry e;
  std::string_view host = text, port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return *error = "unterminated '[' in IPv6 entry", false;
    host = text.substr(1, close - 1);
    std::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return *error = "expected ':PORT' after ']'", false;
      port = after.substr(1);
      if (port.empty()) return *error = "empty port", false;
    }
    auto a = parse_ipv6(host);
    if (!a) return *error = "not an IPv6 address", false;
    e.kind = Entry::kAddress;
    e.addr = *a;
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return *error = "empty port", false;
    }
    std::string lowered;
    for (char c : host) lowered.push_back(lower(c));
    if (lowered == "*") {
      e.kind = Entry::kAny;
    } else if (lowered == "localhost") {
      e.kind = Entry::kLocalhost;
    } else if (auto a = parse_ipv4(lowered)) {
      e.kind = Entry::kAddress;
      e.addr = *a;
    } else {
      std::string_view name = lowered;
      if (name.starts_with("*.")) {
        e.kind = Entry::kWildcard;
        name.remove_prefix(2);
      }
      std::string why;
      if (!canonical_name(name, &e.host, &why)) return *error = why, false;
      if (e.kind == Entry::kWildcard && e.host.find('.') == std::string::npos)
        return *error = "a wildcard needs a domain with at least two labels (*.example.com)", false;
    }
  }
  if (!port.empty()) {
    uint16_t p;
    if (!parse_port(port, &p)) return *error = "port must be a number from 1 to 65535", false;
    e.ports = {p};
  } else if (e.kind == Entry::kLocalhost) {
    return *error = "localhost needs a port (localhost:PORT)", false;
  } else {
    e.ports = {80, 443};
  }
  if (e.has_port(53))
    return *error = "port 53 is not available: the sandbox's DNS is answered by mcpcell", false;
  switch (e.kind) {
    case Entry::kAny:
      e.text = "*";
      break;
    case Entry::kLocalhost:
      e.text = "localhost";
      break;
    case Entry::kWildcard:
      e.text = "*." + e.host;
      break;
    case Entry::kAddress:
      e.text = e.addr.v6 ? "[" + e.addr.str() + "]" : e.addr.str();
      break;
    case Entry::kName:
      e.text = e.host;
      break;
  }
  if (!port.empty()) e.text += ":" + std::to_string(e.ports[0]);
  *out = std::move(e);
  return true;
}

bool Allowlist::parse(const std::vector<std::string>& entries, Allowlist* out, std::string* error) {
  Allowlist list;
  for (const std::string& text : entries) {
    Entry e;
    std::string why;
    if (!parse_entry(text, &e, &why)) {
      *error = "network entry \"" + printable_name(text) + "\": " + why;
      return false;
    }
    list.entries_.push_back(std::move(e));
  }
  *out = std::move(list);
  return true;
}

std::vector<uint16_t> Allowlist::ports() const {
  std::vector<uint16_t> p;
  for (const Entry& e : entries_) p.insert(p.end(), e.ports.begin(), e.ports.end());
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  return p;
}

std::vector<uint16_t> Allowlist::localhost_ports() const {
  std::vector<uint16_t> p;
  for (const Entry& e : entries_)
    if (e.kind == Entry::kLocalhost) p.insert(p.end(), e.ports.begin(), e.ports.end());
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  return p;
}

const Entry* Allowlist::match_name(std::string_view name) const {
  for (const Entry& e : entries_)
    if (e.matches_name(name)) return &e;
  return nullptr;
}

const Entry* Allowlist::match(std::string_view name, uint16_t port) const {
  for (const Entry& e : entries_)
    if (e.matches_name(name) && e.has_port(port)) return &e;
  return nullptr;
}

const Entry* Allowlist::match_address(const IpAddr& a, uint16_t port) const {
  for (const Entry& e : entries_) {
    if (!e.has_port(port)) continue;
    if (e.kind == Entry::kAddress && e.addr == a) return &e;
    if (e.kind == Entry::kLocalhost && classify(a) == AddrClass::kLoopback) return &e;
  }
  return nullptr;
}

}  // namespace mcpcell::net
