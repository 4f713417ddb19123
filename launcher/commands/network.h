// The sandbox's network for one spawn (the server's, or the separate install step's): the
// allowlist parsed, the socket plan the child carries into its network namespace, and the egress
// thread serving what it hands back. Shared by run.cc and install_phase.cc.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "io/audit.h"
#include "net/egress.h"
#include "sandbox/sandbox.h"

namespace mcpcell {

// The sandbox's network: with an empty allowlist there is none at all (only loopback inside).
// Otherwise the child creates a DNS listener and one listener per allowed port inside its network
// namespace and hands them over; mcpcell's egress thread answers and dials out (net/egress.h).
class Network {
 public:
  // `until_ready`: install hosts served after `allow` only until revoke_install() (a package
  // runner without an offline mode); an entry also in `allow` is never revoked.
  Status prepare(const std::vector<std::string>& allow, bool isolated, sandbox::Policy* policy,
                 const std::vector<std::string>& until_ready = {}) {
    std::string err;
    std::vector<std::string> all = allow;
    all.insert(all.end(), until_ready.begin(), until_ready.end());
    if (!net::Allowlist::parse(all, &allow_, &err))
      return Status::Error("bad network entry: " + err);
    allow_count_ = allow.size();
    // Allowlist::match answers with the first entry that matches, so a host named by `allow` is
    // decided by its `allow` entry and never by a revocable one.
    for (size_t i = allow.size(); i < allow_.entries().size(); ++i) {
      const std::string& text = allow_.entries()[i].text;
      bool in_allow = false;
      for (size_t j = 0; j < allow.size(); ++j) in_allow |= allow_.entries()[j].text == text;
      if (!in_allow) revocable_.push_back(text);
    }
    if (!isolated || allow_.empty()) return Status::Ok();
    if (!net::make_socket_plan(allow_, &plan_, &err)) return Status::Error(err);
    resolver_ = net::resolver_from_config(policy->config_dir.string(), &note_, &err);
    if (!resolver_) return Status::Error("test resolver: " + err);
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan_) != 0)
      return Status::Error(std::string("socketpair: ") + std::strerror(errno));
    policy->netns_setup = {net::netns_setup_hook, &plan_, chan_[1]};
    policy->resolv_conf = net::kResolvConf;
    return Status::Ok();
  }
  // After spawn: takes the sockets from the child and starts serving them.
  Status start(AuditLog& audit, const std::string& phase = "") {
    if (chan_[1] >= 0) ::close(chan_[1]);
    chan_[1] = -1;
    if (chan_[0] < 0) return Status::Ok();
    std::vector<int> fds;
    std::string err;
    bool ok = net::receive_sockets(chan_[0], &fds, &err);
    ::close(chan_[0]);
    chan_[0] = -1;
    if (!ok) return Status::Error("network setup: " + err);
    net::EgressOptions o;
    o.allow = allow_;
    o.resolver = std::move(resolver_);
    o.phase = phase;
    o.revocable = revocable_;
    o.audit = [&audit](std::string_view e, nlohmann::json f) { audit.event(e, std::move(f)); };
    egress_ = net::Egress::start(std::move(o), std::move(fds), &err);
    if (!egress_) return Status::Error("network egress: " + err);
    return Status::Ok();
  }
  void stop() { egress_.reset(); }  // writes net.close for connections still open
  // Withdraws the install hosts given to prepare() as `until_ready`: new connections to them are
  // refused with `reason` from now on. The hosts withdrawn (empty when there were none).
  std::vector<std::string> revoke_install(const std::string& reason) {
    if (egress_ && !revocable_.empty()) egress_->revoke(reason);
    return revocable_;
  }
  ~Network() {
    for (int fd : chan_)
      if (fd >= 0) ::close(fd);
  }
  nlohmann::json describe() const {
    nlohmann::json allow = nlohmann::json::array();
    for (size_t i = 0; i < allow_count_ && i < allow_.entries().size(); ++i)
      allow.push_back(allow_.entries()[i].text);
    nlohmann::json j = {{"allow", allow}, {"mode", allow_.empty() ? "none" : "egress"}};
    if (!note_.empty()) j["note"] = note_;
    if (!revocable_.empty()) j["install_until_first_message"] = revocable_;
    return j;
  }
  const std::string& note() const { return note_; }

 private:
  net::Allowlist allow_;
  net::SocketPlan plan_;  // must outlive spawn()
  std::unique_ptr<net::Resolver> resolver_;
  std::unique_ptr<net::Egress> egress_;
  std::string note_;
  std::vector<std::string> revocable_;
  size_t allow_count_ = 0;
  int chan_[2] = {-1, -1};
};

}  // namespace mcpcell
