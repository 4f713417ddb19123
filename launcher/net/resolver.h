// How mcpcell itself turns an allowed name into addresses (outside the sandbox, once per
// connection; the addresses are then checked and dialed as they are, never looked up again).
//
// The system resolver is getaddrinfo. For tests there is an override that never consults any real
// resolver: "name=ADDR[,ADDR...][|ADDR...];name2=..." (";" or newlines between names, "#" starts a
// comment line) — each name answers with its list, and "|" gives the answer for the next lookup
// (the last one repeats), which is how a test plays a rebinding DNS server. Names not listed do
// not resolve. The override only replaces the lookup: every answer is checked exactly like a real
// one. mcpcell announces it on stderr and in the audit trail whenever it is in force.
//
// mcpcell reads the override only from the file $XDG_CONFIG_HOME/mcpcell/test-hosts (a regular
// file owned by the user, writable by no one else, in mcpcell's private config directory) — never
// from the environment: an MCP client configuration, which may come with a cloned project, sets
// environment variables for the launcher, and must not be able to redirect an allowed name. Whoever
// can write the user's mcpcell config can already change its profiles. The sandboxed server cannot
// see or write that directory (a protected location).
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
  // Parses the override syntax above; `origin` names where it came from, in errors.
  static std::unique_ptr<OverrideResolver> parse(const std::string& spec, std::string* error,
                                                 const std::string& origin = "test hosts");
  std::vector<IpAddr> resolve(const std::string& name, std::string* error) override;
  int lookups(const std::string& name);  // how many times `name` was asked (tests)

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::vector<IpAddr>>> answers_;
  std::map<std::string, int> asked_;
};

inline constexpr const char* kTestHostsFile = "test-hosts";

// The override when `config_dir`/test-hosts exists (then *note says so), else the system resolver.
// nullptr with *error when the file is malformed, not a regular file, not the user's own, or
// writable by group or others (fail closed: a test file nobody meant to trust stops the run).
std::unique_ptr<Resolver> resolver_from_config(const std::string& config_dir, std::string* note,
                                               std::string* error);

}  // namespace mcpcell::net
