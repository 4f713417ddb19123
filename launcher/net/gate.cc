#include "net/gate.h"

#include <algorithm>

namespace mcpcell::net {

Gate::Gate(Allowlist allow, std::vector<IpAddr> host_addrs)
    : allow_(std::move(allow)), host_addrs_(std::move(host_addrs)) {}

Gate::DnsAnswer Gate::on_query(const DnsQuery& q) {
  DnsAnswer a;
  if (q.qclass != dns::kClassIN) {
    a.rcode = dns::kRefused;
    return a;
  }
  if (q.name.empty()) {
    a.rcode = dns::kNxDomain;
    a.denied = true;
    a.reason = q.name_error;
    return a;
  }
  if (q.name == "localhost") {
    a.answers = {IpAddr::v4(127, 0, 0, 1), *parse_ipv6("::1")};
    return a;
  }
  if (!allow_.match_name(q.name)) {
    a.rcode = dns::kNxDomain;
    a.denied = true;
    a.reason = "not in the allowlist";
    return a;
  }
  // Only A records: the pool is IPv4, and an empty AAAA answer makes every runtime use it.
  if (q.qtype == dns::kTypeA) {
    auto addr = pool_.address_for(q.name);
    if (!addr) {
      a.rcode = dns::kServFail;
      a.denied = true;
      a.reason = "too many distinct names in this session";
      return a;
    }
    a.answers = {*addr};
  } else if (q.qtype == dns::kTypeAAAA) {
    // Answered empty (NODATA, so the program goes on with the A record), and recorded: an IPv6
    // destination for an allowed name would not be served.
    a.denied = true;
    a.reason = "IPv6 is not served: empty AAAA answer, the name's IPv4 (A) record is used";
  }
  return a;
}

Gate::Target Gate::on_connect(const IpAddr& local, uint16_t port) const {
  Target t;
  if (pool_.contains(local)) {
    const std::string* name = pool_.name_at(local);
    if (!name) {
      t.host = local.str();
      t.reason = "address was never handed out by mcpcell's resolver";
      return t;
    }
    t.host = *name;
    t.is_name = true;
    t.entry = allow_.match(*name, port);
    if (!t.entry) {
      t.reason = "port " + std::to_string(port) + " is not allowed for this host";
      return t;
    }
    t.allowed = true;
    return t;
  }
  t.host = local.str();
  if (local == IpAddr::v4(127, 0, 0, 1) || (local.v6 && classify(local) == AddrClass::kLoopback)) {
    for (const Entry& e : allow_.entries()) {
      if (e.kind == Entry::kLocalhost && e.has_port(port)) {
        t.host = "localhost";
        t.fixed = {IpAddr::v4(127, 0, 0, 1), *parse_ipv6("::1")};
        t.entry = &e;
        t.allowed = true;
        return t;
      }
    }
  }
  // An address entry used as written: the sandbox routes every address to mcpcell's listeners.
  if (const Entry* e = allow_.match_address(local, port); e && e->kind == Entry::kAddress) {
    t.fixed = {local};
    t.entry = e;
    t.allowed = true;
    return t;
  }
  t.reason =
      "IP address literal (allowed: names from the allowlist, localhost:PORT and ADDR:PORT "
      "entries)";
  return t;
}

Gate::Checked Gate::check_addresses(uint16_t port, const std::vector<IpAddr>& resolved) const {
  Checked c;
  for (const IpAddr& a : resolved) {
    bool own = std::find(host_addrs_.begin(), host_addrs_.end(), a) != host_addrs_.end();
    AddrClass cls = classify(a);
    if ((cls == AddrClass::kPublic && !own) || allow_.match_address(a, port)) {
      if (std::find(c.dial.begin(), c.dial.end(), a) == c.dial.end()) c.dial.push_back(a);
    } else if (c.reason.empty()) {
      c.reason = "resolves to " + a.str() + " (" +
                 (own ? "this machine's own address" : class_name(cls)) + ")";
    }
  }
  if (!c.dial.empty())
    c.reason.clear();
  else if (c.reason.empty())
    c.reason = "no address";
  return c;
}

}  // namespace mcpcell::net
