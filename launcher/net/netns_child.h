// The sandbox's half of egress: sockets that live in the sandbox's network namespace but are
// served by mcpcell outside it.
//
// A socket belongs to the namespace it was created in, whoever holds it later. So the sandbox
// child, once it is in its new network namespace and still has its capabilities there (after
// unshare/clone, before dropping them), calls open_sockets_in_netns(): it brings `lo` up, gives it
// one extra loopback address (glibc's AI_ADDRCONFIG, which Node's net.connect uses, answers nothing
// when the only IPv4 address is 127.0.0.1) and a `local` default route for IPv4 and IPv6 (so a
// packet to any address is delivered inside the namespace instead of failing with "network
// unreachable": mcpcell then sees it), creates the DNS listeners (UDP and TCP 127.0.0.53:53), one
// TCP listener per allowed port and two raw sockets that only observe (UDP datagrams and TCP SYNs,
// for the audit trail), and sends them all to mcpcell over a unix socket with SCM_RIGHTS, then
// closes its copies. mcpcell accepts on them from its own thread and dials out from the host's
// namespace; nothing of mcpcell runs inside, and no socket file appears in the sandbox.
//
// Everything here runs between clone and exec: only system calls, no allocation, no locks.
// The parent builds the SocketPlan (plain data) before forking.
#pragma once

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mcpcell::net {

// What /etc/resolv.conf inside the sandbox must say. The answer is local and immediate, so one try.
inline constexpr const char kResolvConf[] = "nameserver 127.0.0.53\noptions timeout:2 attempts:1\n";
// Address added to lo inside (see above); never used as a destination.
inline constexpr uint8_t kSandboxIfAddr[4] = {127, 100, 255, 254};

struct SocketSpec {
  int family = 0;    // AF_INET / AF_INET6
  int type = 0;      // SOCK_STREAM / SOCK_DGRAM / SOCK_RAW
  int protocol = 0;  // for SOCK_RAW: IPPROTO_UDP / IPPROTO_TCP (observe only, never bound)
  uint8_t addr[16] = {};
  uint16_t port = 0;
  bool optional = false;  // skipped when it cannot be bound (IPv6 disabled)
};

struct SocketPlan {
  static constexpr int kMax = 200;  // below SCM_MAX_FD (253): one message carries them all
  SocketSpec specs[kMax];
  int count = 0;
  bool enabled() const { return count > 0; }
};

namespace netns_detail {

inline int lo_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, "lo", 3);
  int err = 0;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) err = errno;
  if (!err && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = errno;
  }
  ::close(s);
  return err;
}

// Sends one rtnetlink request and waits for its acknowledgement; 0 or an errno value.
inline int nl_request(nlmsghdr* nh) {
  int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return errno;
  sockaddr_nl kernel;
  std::memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  int err = 0;
  if (::sendto(s, nh, nh->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    err = errno;
  } else {
    alignas(nlmsghdr) char buf[512];
    ssize_t n = ::recv(s, buf, sizeof buf, 0);
    if (n < 0) {
      err = errno;
    } else if (static_cast<size_t>(n) >= NLMSG_LENGTH(sizeof(nlmsgerr))) {
      auto* reply = reinterpret_cast<nlmsghdr*>(buf);
      if (reply->nlmsg_type == NLMSG_ERROR)
        err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(reply))->error;
    }
  }
  ::close(s);
  return err;
}

inline void nl_attr(nlmsghdr* nh, unsigned short type, const void* data, size_t len) {
  auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(nh) + NLMSG_ALIGN(nh->nlmsg_len));
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(rta), data, len);
  nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

inline int lo_index() {
  int i = static_cast<int>(::if_nametoindex("lo"));
  return i > 0 ? i : 1;
}

// RTM_NEWADDR kSandboxIfAddr/32 on lo.
inline int add_lo_address() {
  struct {
    nlmsghdr nh;
    ifaddrmsg ifa;
    char attrs[64];
  } req;
  std::memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  req.nh.nlmsg_type = RTM_NEWADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  req.ifa.ifa_family = AF_INET;
  req.ifa.ifa_prefixlen = 32;
  req.ifa.ifa_scope = RT_SCOPE_HOST;
  req.ifa.ifa_index = static_cast<unsigned>(lo_index());
  nl_attr(&req.nh, IFA_LOCAL, kSandboxIfAddr, 4);
  nl_attr(&req.nh, IFA_ADDRESS, kSandboxIfAddr, 4);
  return nl_request(&req.nh);
}

// `ip route add local default dev lo` for one family (table local).
inline int add_local_default_route(int family) {
  struct {
    nlmsghdr nh;
    rtmsg rt;
    char attrs[32];
  } req;
  std::memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.nh.nlmsg_type = RTM_NEWROUTE;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
  req.rt.rtm_family = static_cast<unsigned char>(family);
  req.rt.rtm_table = RT_TABLE_LOCAL;
  req.rt.rtm_protocol = RTPROT_BOOT;
  req.rt.rtm_scope = RT_SCOPE_HOST;
  req.rt.rtm_type = RTN_LOCAL;
  int oif = lo_index();
  nl_attr(&req.nh, RTA_OIF, &oif, sizeof oif);
  return nl_request(&req.nh);
}

inline int open_one(const SocketSpec& spec, int* fd_out) {
  int s = ::socket(spec.family, spec.type | SOCK_CLOEXEC | SOCK_NONBLOCK, spec.protocol);
  if (s < 0) return errno;
  if (spec.type == SOCK_RAW) {
    *fd_out = s;
    return 0;
  }
  int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (spec.family == AF_INET6) {
    ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(spec.port);
    std::memcpy(&a->sin6_addr, spec.addr, 16);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(spec.port);
    std::memcpy(&a->sin_addr, spec.addr, 4);
    len = sizeof *a;
  }
  if (::bind(s, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      (spec.type == SOCK_STREAM && ::listen(s, 1024) != 0)) {
    int err = errno;
    ::close(s);
    return err;
  }
  *fd_out = s;
  return 0;
}

}  // namespace netns_detail

// Child side; see the file comment. Returns 0, or an errno value with *step naming what failed.
// With an empty plan it only brings lo up (a sandbox with no network still has a working lo).
inline int open_sockets_in_netns(const SocketPlan& plan, int channel_fd, const char** step) {
  *step = "bring up lo in the sandbox's network namespace";
  if (int err = netns_detail::lo_up()) return err;
  if (!plan.enabled()) return 0;
  *step = "add the egress address to lo";
  if (int err = netns_detail::add_lo_address()) return err;
  *step = "route every address to lo in the sandbox's network namespace";
  if (int err = netns_detail::add_local_default_route(AF_INET)) return err;
  netns_detail::add_local_default_route(AF_INET6);  // best effort: IPv6 may be disabled
  int fds[SocketPlan::kMax];
  int n = 0;
  for (int i = 0; i < plan.count && i < SocketPlan::kMax; ++i) {
    int fd = -1;
    int err = netns_detail::open_one(plan.specs[i], &fd);
    if (err != 0) {
      if (plan.specs[i].optional) continue;
      for (int j = 0; j < n; ++j) ::close(fds[j]);
      *step = "create an egress listener in the sandbox (is the port in use?)";
      return err;
    }
    fds[n++] = fd;
  }
  *step = "hand the egress sockets to mcpcell";
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * SocketPlan::kMax)];
  std::memset(control, 0, sizeof control);
  uint32_t count = static_cast<uint32_t>(n);
  iovec iov{&count, sizeof count};
  msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
  std::memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
  int err = 0;
  ssize_t sent;
  do {
    sent = ::sendmsg(channel_fd, &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) err = errno;
  for (int j = 0; j < n; ++j) ::close(fds[j]);
  return err;
}

// The same, in the shape of sandbox::Policy::NetnsSetup::fn: `arg` points at the SocketPlan.
inline int netns_setup_hook(const void* arg, int channel_fd, const char** step) {
  return open_sockets_in_netns(*static_cast<const SocketPlan*>(arg), channel_fd, step);
}

}  // namespace mcpcell::net
