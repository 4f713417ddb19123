// Every egress decision, apart from the sockets that carry it, so it can be tested alone.
//
// Three moments: a DNS question from the sandbox (answer an allowed name with its pool address,
// everything else NXDOMAIN); a connection arriving at a listener (the local address it was made to
// says which name it is for — a pool address — or that the program used an IP literal, refused
// unless it is a localhost entry's port on 127.0.0.1/::1); and the addresses mcpcell resolved for
// that name itself (each one checked; only checked addresses are dialed, so a resolver that answers
// differently the second time changes nothing).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/addr.h"
#include "net/allowlist.h"
#include "net/dns.h"

namespace mcpcell::net {

class Gate {
 public:
  // `host_addrs`: this machine's own interface addresses (refused unless named by an entry).
  explicit Gate(Allowlist allow, std::vector<IpAddr> host_addrs = {});

  struct DnsAnswer {
    uint8_t rcode = dns::kNoError;
    std::vector<IpAddr> answers;
    bool denied = false;  // a refused name: worth an audit record
    std::string reason;
  };
  DnsAnswer on_query(const DnsQuery& q);

  struct Target {
    bool allowed = false;
    bool is_name = false;          // host is a name to resolve; else `fixed` holds the addresses
    std::string host;              // name, "localhost", or the address literal used
    std::vector<IpAddr> fixed;     // localhost: 127.0.0.1 then ::1
    const Entry* entry = nullptr;  // the entry that allowed it
    std::string reason;            // when refused
  };
  // A connection the sandbox made to `local`:`port` (the listener's side of it).
  Target on_connect(const IpAddr& local, uint16_t port) const;

  struct Checked {
    std::vector<IpAddr> dial;  // in order; empty = refused
    std::string reason;        // why, when refused (names the first refused address and class)
  };
  Checked check_addresses(uint16_t port, const std::vector<IpAddr>& resolved) const;

  const Allowlist& allowlist() const { return allow_; }
  // The name a pool address was handed out for (nullptr if none), and whether `a` is in the pool.
  const std::string* pool_name(const IpAddr& a) const { return pool_.name_at(a); }
  bool in_pool(const IpAddr& a) const { return pool_.contains(a); }

 private:
  Allowlist allow_;
  std::vector<IpAddr> host_addrs_;
  NamePool pool_;
};

}  // namespace mcpcell::net
