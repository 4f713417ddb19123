#include "net/egress.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "net/dns.h"
#include "net/gate.h"

namespace mcpcell::net {

using Clock = std::chrono::steady_clock;

bool make_socket_plan(const Allowlist& allow, SocketPlan* plan, std::string* error) {
  plan->count = 0;
  if (allow.empty()) return true;
  auto add = [&](int family, int type, const IpAddr& a, uint16_t port, bool optional,
                 int protocol = 0) {
    if (plan->count >= SocketPlan::kMax) return false;
    SocketSpec& s = plan->specs[plan->count++];
    s.family = family;
    s.type = type;
    s.protocol = protocol;
    std::memcpy(s.addr, a.b.data(), 16);
    s.port = port;
    s.optional = optional;
    return true;
  };
  IpAddr dns_addr = IpAddr::v4(127, 0, 0, 53), any4, loop6 = *parse_ipv6("::1");
  bool ok = add(AF_INET, SOCK_DGRAM, dns_addr, 53, false) &&
            add(AF_INET, SOCK_STREAM, dns_addr, 53, false) &&
            add(AF_INET, SOCK_RAW, any4, 0, true, IPPROTO_UDP) &&
            add(AF_INET, SOCK_RAW, any4, 0, true, IPPROTO_TCP) &&
            add(AF_INET6, SOCK_RAW, any4, 0, true, IPPROTO_UDP) &&
            add(AF_INET6, SOCK_RAW, any4, 0, true, IPPROTO_TCP);
  for (uint16_t p : allow.ports()) ok = ok && add(AF_INET, SOCK_STREAM, any4, p, false);
  for (uint16_t p : allow.localhost_ports()) ok = ok && add(AF_INET6, SOCK_STREAM, loop6, p, true);
  if (!ok) *error = "too many distinct ports in the network allowlist";
  return ok;
}

bool receive_sockets(int channel_fd, std::vector<int>* fds, std::string* error,
                     std::chrono::milliseconds timeout) {
  pollfd p{channel_fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  if (r <= 0) {
    *error = r == 0 ? "timed out waiting for the sandbox's egress sockets"
                    : std::string("poll: ") + std::strerror(errno);
    return false;
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * SocketPlan::kMax)];
  uint32_t count = 0;
  iovec iov{&count, sizeof count};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(channel_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof count)) {
    *error = n < 0 ? std::string("recvmsg: ") + std::strerror(errno)
                   : "the sandbox closed the egress channel without sending its sockets";
    return false;
  }
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      fds->push_back(fd);
    }
  }
  if (fds->size() != count || (msg.msg_flags & MSG_CTRUNC)) {
    *error = "the sandbox's egress sockets arrived incomplete";
    return false;
  }
  return true;
}

namespace {

enum Tag : uint64_t {
  kRawUdp6,
  kRawTcp6,
  kWake,
  kTimer,
  kDnsUdp,
  kDnsTcpListen,
  kDnsTcp,
  kListen,
  kInside,
  kOutside,
  kRawUdp,
  kRawTcp
};
uint64_t tag(Tag t, uint64_t id) {
  return (id << 4) | t;
}

// Classic BPF for the observing raw TCP socket: keep only packets with SYN set and ACK clear
// (connection attempts), so the bytes of connections that are served never reach it.
bool attach_syn_filter(int fd) {
  sock_filter code[] = {
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),     // X = IPv4 header length
      BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),     // A = TCP flags
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),  // SYN|ACK
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 128),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0;
}

// The same for IPv6, where a raw socket's data starts at the TCP header.
bool attach_syn_filter6(int fd) {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),     // A = TCP flags
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),  // SYN|ACK
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 128),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0;
}

// A byte queue of fixed capacity: read into the tail, write from the head.
struct Buf {
  std::unique_ptr<char[]> data;
  size_t cap = 0, head = 0, tail = 0;
  size_t size() const { return tail - head; }
  size_t room() const { return cap - tail + head; }
  char* space() {
    if (head == tail) head = tail = 0;
    if (tail == cap && head > 0) {
      std::memmove(data.get(), data.get() + head, tail - head);
      tail -= head;
      head = 0;
    }
    return data.get() + tail;
  }
  size_t space_len() const { return cap - tail; }
};

struct Conn {
  uint64_t id = 0;
  int in = -1, out = -1;
  std::string host, entry;
  uint16_t port = 0;
  enum State { kResolving, kConnecting, kOpen } st = kResolving;
  bool allowed = false;
  std::vector<IpAddr> dial;
  size_t next = 0;
  IpAddr peer;
  Buf up, down;  // up: sandbox -> remote
  bool in_eof = false, out_eof = false, up_shut = false, down_shut = false;
  uint32_t in_ev = 0, out_ev = 0;
  bool in_reg = false, out_reg = false;
  uint64_t bytes_out = 0, bytes_in = 0;
  Clock::time_point start, deadline;
  std::string error;
};

struct ResolveJob {
  uint64_t conn;
  std::string name;
};
struct ResolveDone {
  uint64_t conn;
  std::vector<IpAddr> addrs;
  std::string error;
};

// Shared with the resolver workers, which may outlive the egress thread by one lookup.
struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<ResolveJob> jobs;
  std::deque<ResolveDone> done;
  bool stop = false;
  int wake_fd = -1;
  std::unique_ptr<Resolver> resolver;
};

void resolve_worker(std::shared_ptr<Shared> sh) {
  while (true) {
    ResolveJob job;
    {
      std::unique_lock lock(sh->mu);
      sh->cv.wait(lock, [&] { return sh->stop || !sh->jobs.empty(); });
      if (sh->stop) return;
      job = std::move(sh->jobs.front());
      sh->jobs.pop_front();
    }
    ResolveDone d{job.conn, {}, {}};
    d.addrs = sh->resolver->resolve(job.name, &d.error);
    std::lock_guard lock(sh->mu);
    if (sh->stop) return;
    sh->done.push_back(std::move(d));
    uint64_t one = 1;
    ssize_t w = ::write(sh->wake_fd, &one, sizeof one);
    (void)w;
  }
}

std::vector<IpAddr> host_addresses() {
  std::vector<IpAddr> out;
  ifaddrs* ifa = nullptr;
  if (::getifaddrs(&ifa) != 0) return out;
  for (ifaddrs* i = ifa; i; i = i->ifa_next)
    if (i->ifa_addr)
      if (auto a = IpAddr::from_sockaddr(i->ifa_addr)) out.push_back(*a);
  ::freeifaddrs(ifa);
  return out;
}

void reset_close(int fd) {
  linger l{1, 0};  // RST: the program sees "connection reset" at once, not a hang
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

class Egress::Impl {
 public:
  Impl(EgressOptions o, std::vector<IpAddr> host_addrs)
      : opt_(std::move(o)), gate_(opt_.allow, std::move(host_addrs)) {}

  ~Impl() {
    if (thread_.joinable()) {
      stopping_ = true;
      uint64_t one = 1;
      ssize_t w = ::write(wake_, &one, sizeof one);
      (void)w;
      thread_.join();
    }
    {
      std::lock_guard lock(shared_->mu);
      shared_->stop = true;
    }
    shared_->cv.notify_all();
    std::vector<uint64_t> ids;
    for (auto& [id, c] : conns_) ids.push_back(id);
    for (uint64_t id : ids) finish(conns_[id].get(), "session ended", true);
    for (auto& [id, d] : dns_tcp_) ::close(d.fd);
    for (int fd : listeners_) ::close(fd);
    if (timer_ >= 0) ::close(timer_);
    if (ep_ >= 0) ::close(ep_);
    if (wake_ >= 0) ::close(wake_);
  }

  bool init(std::vector<int> fds, std::string* error) {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    timer_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    shared_ = std::make_shared<Shared>();
    shared_->wake_fd = wake_;
    shared_->resolver = std::move(opt_.resolver);
    if (!shared_->resolver) shared_->resolver = std::make_unique<SystemResolver>();
    if (ep_ < 0 || wake_ < 0 || timer_ < 0) {
      for (int fd : fds) ::close(fd);
      return *error = std::string("egress: ") + std::strerror(errno), false;
    }
    itimerspec its{{0, 250'000'000}, {0, 250'000'000}};
    ::timerfd_settime(timer_, 0, &its, nullptr);
    add(wake_, EPOLLIN, tag(kWake, 0));
    add(timer_, EPOLLIN, tag(kTimer, 0));
    // The sockets describe themselves: UDP is DNS, TCP at 127.0.0.53:53 is DNS over TCP, any
    // other TCP listener is an egress port.
    for (int fd : fds) {
      listeners_.push_back(fd);
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      int type = 0;
      socklen_t tl = sizeof type;
      ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
      sockaddr_storage ss{};
      socklen_t sl = sizeof ss;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
      uint16_t port = 0;
      auto a = IpAddr::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), &port);
      if (type == SOCK_RAW) {
        int proto = 0, domain = 0, one = 1;
        socklen_t pl = sizeof proto, dl = sizeof domain;
        ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl);
        ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl);
        bool tcp = proto == IPPROTO_TCP;
        if (domain == AF_INET6) {
          // An IPv6 raw socket's data has no IP header: the destination comes as pktinfo.
          if (::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0 ||
              (tcp && !attach_syn_filter6(fd)))
            continue;
          add(fd, EPOLLIN, tag(tcp ? kRawTcp6 : kRawUdp6, fd));
          continue;
        }
        if (tcp && !attach_syn_filter(fd)) continue;
        add(fd, EPOLLIN, tag(tcp ? kRawTcp : kRawUdp, fd));
      } else if (type == SOCK_DGRAM) {
        add(fd, EPOLLIN, tag(kDnsUdp, fd));
      } else if (a && *a == IpAddr::v4(127, 0, 0, 53) && port == 53) {
        add(fd, EPOLLIN, tag(kDnsTcpListen, fd));
      } else {
        add(fd, EPOLLIN, tag(kListen, fd));
        served_ports_.push_back(port);
      }
    }
    for (int i = 0; i < 2; ++i) std::thread(resolve_worker, shared_).detach();
    thread_ = std::thread([this] { loop(); });
    return true;
  }

  void revoke(const std::string& reason) {
    {
      std::lock_guard lock(revoke_mu_);
      revoke_reason_ = reason;
    }
    revoked_ = true;
  }

  Stats stats() const {
    Stats s;
    s.allowed = allowed_;
    s.denied = denied_;
    s.dns_queries = dns_queries_;
    s.open = open_;
    return s;
  }

 private:
  void add(int fd, uint32_t ev, uint64_t data) {
    epoll_event e{};
    e.events = ev;
    e.data.u64 = data;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e);
  }

  void audit(std::string_view event, nlohmann::json fields) {
    if (!opt_.phase.empty()) fields["phase"] = opt_.phase;
    if (opt_.audit) opt_.audit(event, std::move(fields));
  }

  void deny(const std::string& host, nlohmann::json port, const std::string& reason,
            const char* via, nlohmann::json extra = nlohmann::json::object()) {
    ++denied_;
    extra["host"] = host;
    extra["port"] = std::move(port);
    extra["reason"] = reason;
    extra["via"] = via;
    audit("net.deny", std::move(extra));
  }

  void loop() {
    epoll_event evs[128];
    while (!stopping_) {
      int n = ::epoll_wait(ep_, evs, 128, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < n && !stopping_; ++i) {
        uint64_t d = evs[i].data.u64;
        uint64_t id = d >> 4;
        switch (static_cast<Tag>(d & 15)) {
          case kRawUdp:
            on_raw(static_cast<int>(id), false);
            break;
          case kRawTcp:
            on_raw(static_cast<int>(id), true);
            break;
          case kRawUdp6:
            on_raw6(static_cast<int>(id), false);
            break;
          case kRawTcp6:
            on_raw6(static_cast<int>(id), true);
            break;
          case kWake:
            on_wake();
            break;
          case kTimer:
            on_timer();
            break;
          case kDnsUdp:
            on_dns_udp(static_cast<int>(id));
            break;
          case kDnsTcpListen:
            on_dns_tcp_accept(static_cast<int>(id));
            break;
          case kDnsTcp:
            on_dns_tcp(id, evs[i].events);
            break;
          case kListen:
            on_accept(static_cast<int>(id));
            break;
          case kInside:
          case kOutside: {
            auto it = conns_.find(id);
            if (it != conns_.end()) on_io(it->second.get(), (d & 15) == kInside, evs[i].events);
            break;
          }
        }
      }
    }
  }

  // ---- what the observing raw sockets see ----

  // Reads IPv4 packets (UDP datagrams, or TCP SYNs) that the sandbox sent to any address and that
  // no listener serves: each is a refused attempt and gets a net.deny record (one per destination
  // per 10 s). The sender has already been refused by the kernel (port unreachable / RST).
  void on_raw(int fd, bool tcp) {
    uint8_t p[256];
    for (int i = 0; i < 256; ++i) {
      ssize_t n = ::recv(fd, p, sizeof p, MSG_TRUNC);
      if (n < 0) return;
      size_t len = std::min(static_cast<size_t>(n), sizeof p);
      if (len < 20 || (p[0] >> 4) != 4) continue;
      size_t ihl = (p[0] & 0xf) * 4u;
      if (len < ihl + (tcp ? 14 : 4)) continue;
      IpAddr dst = IpAddr::v4(p[16], p[17], p[18], p[19]);
      uint16_t port = static_cast<uint16_t>((p[ihl + 2] << 8) | p[ihl + 3]);
      if (tcp && (p[ihl + 13] & 0x12) != 0x02) continue;
      observed(dst, port, tcp);
    }
  }

  // IPv6: nothing is served (names resolve to IPv4 pool addresses, and localhost entries' ::1
  // listeners are loopback inside), so every datagram or SYN to a non-loopback v6 address is a
  // refused attempt. The kernel has refused it already (the local route, no listener).
  void on_raw6(int fd, bool tcp) {
    uint8_t p[64];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))];
    for (int i = 0; i < 256; ++i) {
      iovec iov{p, sizeof p};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = ::recvmsg(fd, &msg, MSG_TRUNC);
      if (n < 0) return;
      size_t len = std::min(static_cast<size_t>(n), sizeof p);
      if (len < (tcp ? 14u : 4u)) continue;
      std::optional<IpAddr> dst;
      for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
        if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo pi;
          std::memcpy(&pi, CMSG_DATA(cm), sizeof pi);
          IpAddr a;
          a.v6 = true;
          std::memcpy(a.b.data(), &pi.ipi6_addr, 16);
          dst = a;
        }
      if (!dst) continue;
      uint16_t port = static_cast<uint16_t>((p[2] << 8) | p[3]);
      if (tcp && (p[13] & 0x12) != 0x02) continue;
      observed(*dst, port, tcp);
    }
  }

  // One refused attempt the raw observers saw (already refused by the kernel).
  void observed(const IpAddr& dst, uint16_t port, bool tcp) {
    bool pooled = gate_.in_pool(dst);
    if (!pooled && classify(dst) == AddrClass::kLoopback) return;  // inside the sandbox
    // An IPv4 listener took it and decides (no listener serves IPv6 beyond loopback).
    if (tcp && !dst.v6 &&
        std::find(served_ports_.begin(), served_ports_.end(), port) != served_ports_.end())
      return;
    const std::string* name = pooled ? gate_.pool_name(dst) : nullptr;
    std::string host = name ? *name : dst.str();
    std::string key = (tcp ? "tcp " : "udp ") + host + ":" + std::to_string(port);
    if (!first_in_window(key)) {
      ++denied_;
      return;
    }
    std::string reason =
        !tcp     ? "UDP is not forwarded (only TCP connections to allowed hosts)"
        : name   ? "port " + std::to_string(port) + " is not allowed for this host"
        : dst.v6 ? "IPv6 destination (only IPv4 is served: allowed names resolve to IPv4 "
                   "addresses, localhost entries to the host's loopback)"
                 : "IP address literal (allowed: names from the allowlist, localhost:PORT and "
                   "ADDR:PORT entries)";
    nlohmann::json extra = nlohmann::json::object();
    if (dst.v6) extra["family"] = "ipv6";
    deny(host, port, reason, tcp ? "connect" : "udp", std::move(extra));
  }

  bool first_in_window(const std::string& key) {
    auto now = Clock::now();
    auto& last = logged_[key];
    if (last != Clock::time_point{} && now - last < std::chrono::seconds(10)) return false;
    last = now;
    if (logged_.size() > 10000) logged_.clear();
    return true;
  }

  // ---- DNS ----

  std::string answer_dns(const uint8_t* data, size_t n) {
    ++dns_queries_;
    DnsQuery q;
    auto rc = parse_query(data, n, &q);
    if (!rc) return {};
    if (*rc != dns::kNoError) {
      DnsQuery bare;
      bare.id = q.id;
      bare.flags = q.flags;
      return build_response(bare, *rc, {}, 0);
    }
    Gate::DnsAnswer a = gate_.on_query(q);
    if (a.denied) {
      std::string shown = q.name.empty() ? q.raw_name : q.name;
      // A refused name is retried (A and AAAA, several tries): one record per name per 10 s.
      bool ipv6 = a.rcode == dns::kNoError;  // an allowed name's AAAA, answered empty
      if (ipv6) {
        // Every runtime asks for A and AAAA together and then uses the A answer: this is not a
        // refusal (a net.deny here would put every allowed host in `log --blocked`), but it is
        // what a program that only speaks IPv6 runs into, so it is on record.
        if (first_in_window("dns6 " + shown))
          audit("net.ipv6",
                {{"host", shown}, {"qtype", q.qtype}, {"via", "dns"}, {"reason", a.reason}});
      } else if (first_in_window("dns " + shown)) {
        deny(shown, nullptr, a.reason, "dns", {{"qtype", q.qtype}});
      } else {
        ++denied_;
      }
    }
    return build_response(q, a.rcode, a.answers, 60);
  }

  void on_dns_udp(int fd) {
    uint8_t buf[4096];
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage peer{};
      socklen_t pl = sizeof peer;
      ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &pl);
      if (n < 0) return;
      std::string resp = answer_dns(buf, static_cast<size_t>(n));
      if (!resp.empty())
        ::sendto(fd, resp.data(), resp.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                 reinterpret_cast<sockaddr*>(&peer), pl);
    }
  }

  struct DnsTcp {
    int fd;
    std::string buf;
  };

  void on_dns_tcp_accept(int lfd) {
    while (true) {
      int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (dns_tcp_.size() >= 64) {
        ::close(fd);
        continue;
      }
      uint64_t id = next_id_++;
      dns_tcp_[id] = DnsTcp{fd, {}};
      add(fd, EPOLLIN, tag(kDnsTcp, id));
    }
  }

  void on_dns_tcp(uint64_t id, uint32_t) {
    auto it = dns_tcp_.find(id);
    if (it == dns_tcp_.end()) return;
    DnsTcp& d = it->second;
    char buf[4096];
    ssize_t n = ::read(d.fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n > 0) d.buf.append(buf, static_cast<size_t>(n));
    while (n > 0 && d.buf.size() >= 2) {
      size_t len = (static_cast<uint8_t>(d.buf[0]) << 8) | static_cast<uint8_t>(d.buf[1]);
      if (d.buf.size() < 2 + len) break;
      std::string resp = answer_dns(reinterpret_cast<const uint8_t*>(d.buf.data()) + 2, len);
      d.buf.erase(0, 2 + len);
      if (resp.empty()) continue;
      std::string framed;
      framed.push_back(static_cast<char>(resp.size() >> 8));
      framed.push_back(static_cast<char>(resp.size() & 0xff));
      framed += resp;
      if (::send(d.fd, framed.data(), framed.size(), MSG_DONTWAIT | MSG_NOSIGNAL) !=
          static_cast<ssize_t>(framed.size()))
        n = 0;  // a client that does not read its answers is dropped
    }
    if (n <= 0 || d.buf.size() > 65536 + 2) {
      ::close(d.fd);
      dns_tcp_.erase(it);
    }
  }

  // ---- connections ----

  void on_accept(int lfd) {
    for (int i = 0; i < 64; ++i) {
      int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      sockaddr_storage ss{};
      socklen_t sl = sizeof ss;
      uint16_t port = 0;
      std::optional<IpAddr> local;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl) == 0)
        local = IpAddr::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), &port);
      if (!local) {
        reset_close(fd);
        continue;
      }
      Gate::Target t = gate_.on_connect(*local, port);
      if (t.allowed && revoked_ && t.entry &&
          std::find(opt_.revocable.begin(), opt_.revocable.end(), t.entry->text) !=
              opt_.revocable.end()) {
        t.allowed = false;
        std::lock_guard lock(revoke_mu_);
        t.reason = revoke_reason_;
      }
      if (!t.allowed) {
        deny(t.host, port, t.reason, "connect");
        reset_close(fd);
        continue;
      }
      auto c = std::make_unique<Conn>();
      c->id = next_id_++;
      c->in = fd;
      c->host = t.host;
      c->port = port;
      c->entry = t.entry ? t.entry->text : "";
      c->start = Clock::now();
      Conn* cp = c.get();
      conns_[c->id] = std::move(c);
      if (t.is_name) {
        {
          std::lock_guard lock(shared_->mu);
          shared_->jobs.push_back({cp->id, cp->host});
        }
        shared_->cv.notify_one();
      } else {
        check_and_dial(cp, t.fixed, "");
      }
    }
  }

  void on_wake() {
    uint64_t v;
    ssize_t r = ::read(wake_, &v, sizeof v);
    (void)r;
    std::deque<ResolveDone> done;
    {
      std::lock_guard lock(shared_->mu);
      done.swap(shared_->done);
    }
    for (ResolveDone& d : done) {
      auto it = conns_.find(d.conn);
      if (it == conns_.end()) continue;
      check_and_dial(it->second.get(), d.addrs, d.error);
    }
  }

  void check_and_dial(Conn* c, const std::vector<IpAddr>& addrs, const std::string& error) {
    nlohmann::json resolved = nlohmann::json::array();
    for (const IpAddr& a : addrs) resolved.push_back(a.str());
    Gate::Checked ck;
    if (addrs.empty())
      ck.reason = error.empty() ? "no address" : error;
    else
      ck = gate_.check_addresses(c->port, addrs);
    if (ck.dial.empty()) {
      deny(c->host, c->port, ck.reason, "connect", {{"resolved", resolved}});
      drop(c);
      return;
    }
    ++allowed_;
    ++open_;
    c->allowed = true;
    nlohmann::json dial = nlohmann::json::array();
    for (const IpAddr& a : ck.dial) dial.push_back(a.str());
    audit("net.allow", {{"host", c->host},
                        {"port", c->port},
                        {"entry", c->entry},
                        {"addresses", dial},
                        {"conn", c->id}});
    c->dial = std::move(ck.dial);
    dial_next(c);
  }

  void dial_next(Conn* c) {
    while (c->next < c->dial.size()) {
      IpAddr a = c->dial[c->next++];
      int s = ::socket(a.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (s < 0) {
        c->error = std::string("socket: ") + std::strerror(errno);
        continue;
      }
      set_nodelay(s);
      sockaddr_storage ss;
      socklen_t sl = a.to_sockaddr(c->port, &ss);
      int rc = ::connect(s, reinterpret_cast<sockaddr*>(&ss), sl);
      if (rc == 0 || errno == EINPROGRESS) {
        c->out = s;
        c->peer = a;
        if (rc == 0) {
          open(c);
        } else {
          c->st = Conn::kConnecting;
          c->deadline = Clock::now() + opt_.connect_timeout;
          c->out_ev = EPOLLOUT;
          c->out_reg = true;
          add(s, EPOLLOUT, tag(kOutside, c->id));
        }
        return;
      }
      c->error = std::string("connect ") + a.str() + ": " + std::strerror(errno);
      ::close(s);
    }
    finish(c, c->error.empty() ? "no address to dial" : c->error, true);
  }

  void on_connected(Conn* c) {
    int err = 0;
    socklen_t l = sizeof err;
    ::getsockopt(c->out, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err == 0) {
      open(c);
      return;
    }
    c->error = std::string("connect ") + c->peer.str() + ": " + std::strerror(err);
    ::close(c->out);  // also leaves epoll
    c->out = -1;
    c->out_reg = false;
    dial_next(c);
  }

  void on_timer() {
    uint64_t v;
    ssize_t r = ::read(timer_, &v, sizeof v);
    (void)r;
    auto now = Clock::now();
    std::vector<Conn*> late;
    for (auto& [id, c] : conns_)
      if (c->st == Conn::kConnecting && now > c->deadline) late.push_back(c.get());
    for (Conn* c : late) {
      c->error = "connect " + c->peer.str() + ": timed out";
      ::close(c->out);
      c->out = -1;
      c->out_reg = false;
      dial_next(c);
    }
  }

  void open(Conn* c) {
    c->st = Conn::kOpen;
    set_nodelay(c->in);
    c->error.clear();
    for (Buf* b : {&c->up, &c->down}) {
      b->cap = opt_.buffer_bytes;
      b->data.reset(new char[b->cap]);
    }
    update(c);
  }

  void set_events(int fd, bool* reg, uint32_t* cur, uint32_t want, uint64_t data) {
    if (want == 0) {
      if (*reg) ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
      *reg = false;
      *cur = 0;
      return;
    }
    if (*reg && *cur == want) return;
    epoll_event e{};
    e.events = want;
    e.data.u64 = data;
    ::epoll_ctl(ep_, *reg ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e);
    *reg = true;
    *cur = want;
  }

  void update(Conn* c) {
    constexpr uint32_t kIn = EPOLLIN, kOut = EPOLLOUT;
    uint32_t in_want = ((!c->in_eof && c->up.room()) ? kIn : 0u) | (c->down.size() ? kOut : 0u);
    uint32_t out_want = ((!c->out_eof && c->down.room()) ? kIn : 0u) | (c->up.size() ? kOut : 0u);
    set_events(c->in, &c->in_reg, &c->in_ev, in_want, tag(kInside, c->id));
    set_events(c->out, &c->out_reg, &c->out_ev, out_want, tag(kOutside, c->id));
  }

  // Writes what `b` holds to `fd`. False when the connection was torn down.
  bool flush(Conn* c, int fd, Buf& b, uint64_t* counter) {
    while (b.size()) {
      ssize_t n = ::send(fd, b.data.get() + b.head, b.size(), MSG_NOSIGNAL);
      if (n > 0) {
        b.head += static_cast<size_t>(n);
        *counter += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      finish(c, std::string("write: ") + std::strerror(errno), true);
      return false;
    }
    return true;
  }

  void on_io(Conn* c, bool inside, uint32_t ev) {
    if (c->st == Conn::kConnecting) {
      if (!inside) on_connected(c);
      return;
    }
    int fd = inside ? c->in : c->out;
    int other = inside ? c->out : c->in;
    Buf& rbuf = inside ? c->up : c->down;
    Buf& wbuf = inside ? c->down : c->up;
    bool& reof = inside ? c->in_eof : c->out_eof;
    uint64_t& rcount = inside ? c->bytes_out : c->bytes_in;  // counted when delivered
    uint64_t& wcount = inside ? c->bytes_in : c->bytes_out;
    if (ev & EPOLLERR) {
      int err = 0;
      socklen_t l = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
      finish(c, std::string(inside ? "sandbox side: " : "remote side: ") + std::strerror(err),
             true);
      return;
    }
    if ((ev & (EPOLLIN | EPOLLHUP)) && !reof && rbuf.room()) {
      char* dst = rbuf.space();
      ssize_t n = ::recv(fd, dst, rbuf.space_len(), 0);
      if (n > 0) {
        rbuf.tail += static_cast<size_t>(n);
        if (!flush(c, other, rbuf, &rcount)) return;
      } else if (n == 0) {
        reof = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        finish(c, std::string(inside ? "sandbox side: " : "remote side: ") + std::strerror(errno),
               true);
        return;
      }
    }
    if (ev & EPOLLOUT)
      if (!flush(c, fd, wbuf, &wcount)) return;
    // Pass a half-close on once everything before it has been delivered.
    if (c->in_eof && !c->up.size() && !c->up_shut) {
      ::shutdown(c->out, SHUT_WR);
      c->up_shut = true;
    }
    if (c->out_eof && !c->down.size() && !c->down_shut) {
      ::shutdown(c->in, SHUT_WR);
      c->down_shut = true;
    }
    if (c->up_shut && c->down_shut) {
      finish(c, "", false);
      return;
    }
    update(c);
  }

  // A connection refused before it was allowed: no net.close record.
  void drop(Conn* c) {
    reset_close(c->in);
    conns_.erase(c->id);
  }

  void finish(Conn* c, const std::string& error, bool reset) {
    if (c->allowed) {
      --open_;
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - c->start);
      nlohmann::json f = {{"host", c->host},         {"port", c->port},
                          {"conn", c->id},           {"bytes_out", c->bytes_out},
                          {"bytes_in", c->bytes_in}, {"ms", ms.count()}};
      if (c->out >= 0 || c->st == Conn::kOpen) f["address"] = c->peer.str();
      if (!error.empty()) f["error"] = error;
      audit("net.close", std::move(f));
    }
    if (c->out >= 0) (reset ? reset_close(c->out) : (void)::close(c->out));
    if (reset)
      reset_close(c->in);
    else
      ::close(c->in);
    conns_.erase(c->id);
  }

  EgressOptions opt_;
  Gate gate_;
  int ep_ = -1, wake_ = -1, timer_ = -1;
  std::vector<int> listeners_;
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> revoked_{false};
  std::mutex revoke_mu_;
  std::string revoke_reason_;
  std::atomic<uint64_t> allowed_{0}, denied_{0}, dns_queries_{0}, open_{0};
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::unordered_map<uint64_t, DnsTcp> dns_tcp_;
  std::map<std::string, Clock::time_point> logged_;
  std::vector<uint16_t> served_ports_;
};

Egress::Egress(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Egress::~Egress() = default;

std::unique_ptr<Egress> Egress::start(EgressOptions options, std::vector<int> fds,
                                      std::string* error) {
  std::vector<IpAddr> own;
  if (options.detect_host_addresses) own = host_addresses();
  auto impl = std::make_unique<Impl>(std::move(options), std::move(own));
  if (!impl->init(std::move(fds), error)) return nullptr;
  return std::unique_ptr<Egress>(new Egress(std::move(impl)));
}

void Egress::revoke(const std::string& reason) {
  impl_->revoke(reason);
}

Egress::Stats Egress::stats() const {
  return impl_->stats();
}

}  // namespace mcpcell::net
