// mcpcell's half of egress: serves the sockets the sandbox created in its network namespace
// (netns_child.h) from one thread of its own with its own epoll loop, so the relay's loop never
// waits on the network. DNS questions are answered by the Gate; each accepted connection is
// decided by the Gate, its name resolved by mcpcell (worker threads, so a slow lookup stalls only
// that connection), every resolved address checked, and the checked ones dialed in order from the
// host's namespace; bytes are then copied both ways with half-close passed on, and backpressure:
// a side that stops reading stops the other side being read.
//
// Audit records (through the callback, from the egress thread):
//   net.deny   {host, port, reason, via: "dns"|"connect", ...}  a refused name or connection
//   net.allow  {host, port, entry, addresses, conn}              decided, about to dial
//   net.close  {host, port, conn, address, bytes_out, bytes_in, ms, error?}  when it ends
// bytes_out is what the sandbox sent, bytes_in what it received.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/allowlist.h"
#include "net/netns_child.h"
#include "net/resolver.h"

namespace mcpcell::net {

// Parent side, before spawning: the sockets the sandbox must create for this allowlist
// (none when it is empty: no network at all). False with *error when there are too many ports.
bool make_socket_plan(const Allowlist& allow, SocketPlan* plan, std::string* error);

// Parent side, after the child called open_sockets_in_netns(): takes the sockets off the channel
// (waits at most `timeout`).
bool receive_sockets(int channel_fd, std::vector<int>* fds, std::string* error,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

using AuditFn = std::function<void(std::string_view event, nlohmann::json fields)>;

struct EgressOptions {
  Allowlist allow;
  std::unique_ptr<Resolver> resolver;  // default: SystemResolver
  AuditFn audit;                       // must be callable from another thread
  std::string phase;                   // added to records when set ("install")
  std::chrono::milliseconds connect_timeout{10000};
  bool detect_host_addresses = true;  // refuse this machine's own interface addresses
  size_t buffer_bytes = 256 * 1024;   // per direction per connection
  // Entries (their canonical text) that revoke() withdraws: the install hosts of a package runner
  // with no offline mode, kept only until the server is up (docs/network.md, "Install phase").
  std::vector<std::string> revocable;
};

class Egress {
 public:
  // Takes ownership of `fds` (what receive_sockets returned) and starts the egress thread.
  static std::unique_ptr<Egress> start(EgressOptions options, std::vector<int> fds,
                                       std::string* error);
  // Stops the thread, closes every connection (each gets its net.close record).
  ~Egress();

  struct Stats {
    uint64_t allowed = 0, denied = 0, dns_queries = 0, open = 0;
  };
  Stats stats() const;

  // From any thread: from now on a new connection allowed only by a `revocable` entry is refused
  // (net.deny with `reason`). Connections already open stay: cutting a download in the middle
  // would only turn a finished install into a broken one.
  void revoke(const std::string& reason);

  class Impl;

 private:
  explicit Egress(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcpcell::net
