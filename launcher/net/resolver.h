// How mcpcell itself turns an allowed name into addresses (outside the sandbox, once per
// connection; the addresses are then checked and dialed as they are, never looked up again).
//
// The system resolver is getaddrinfo. For tests there is an override that never consults any real
// resolver: MCPCELL_TEST_HOSTS="name=ADDR[,ADDR...][|ADDR...];name2=..." — each name answers with
// its list, and "|" gives the answer for the next lookup (the last one repeats), which is how a
// test plays a rebinding DNS server. Names not listed do not resolve. The override only replaces
// the lookup: every answer is checked exactly like a real one. mcpcell announces it on stderr and
// in the audit trail whenever it is in force.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/addr.h"

namespace mcpcell::net {

class Resolver {
 public:
  virtual ~Resolver() = default;
  // Blocking; called on a worker thread. Empty result with *error set when nothing resolved.
  virtual std::vector<IpAddr> resolve(const std::string& name, std::string* error) = 0;
};

class SystemResolver : public Resolver {
 public:
  std::vector<IpAddr> resolve(const std::string& name, std::string* error) override;
};

class OverrideResolver : public Resolver {
 public:
  // Parses the MCPCELL_TEST_HOSTS syntax above.
  static std::unique_ptr<OverrideResolver> parse(const std::string& spec, std::string* error);
  std::vector<IpAddr> resolve(const std::string& name, std::string* error) override;
  int lookups(const std::string& name);  // how many times `name` was asked (tests)

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::vector<IpAddr>>> answers_;
  std::map<std::string, int> asked_;
};

// The override when MCPCELL_TEST_HOSTS is set (then *note says so), else the system resolver.
// nullptr with *error when the variable is malformed.
std::unique_ptr<Resolver> resolver_from_environment(std::string* note, std::string* error);

}  // namespace mcpcell::net
