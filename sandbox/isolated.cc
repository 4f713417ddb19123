// The isolated spawn.
//
// Problem: start an untrusted server as the ordinary user (never setuid) so that it sees only what
// its policy grants, cannot reach the network or the user's session, cannot gain privileges, and
// dies with mcpcell — and when any of that cannot be set up, say exactly which step failed.
//
// Solution: everything that needs judgment (which paths, which syscalls, which environment) is
// decided in the parent before clone, as data (plan.h, syscalls.h, landlock.h). The child is cloned
// straight into new user, mount, pid, net, ipc, uts and cgroup namespaces and executes that data
// step by step through ChildSteps, without allocating:
//   map ids -> hostname, lo up -> open every bind source by fd (no symlinks, dev/ino checked
//   against the plan) and clone it as a detached mount -> assemble a new root on an empty tmpfs
//   (system dirs, synthesized /etc, minimal /dev, private /tmp, grants, private HOME, masks, fresh
//   /proc) -> pivot_root -> read-only root -> cwd -> join the cgroup v1 groups (root on hybrid
//   hosts; mcpcell makes them meanwhile) -> rlimits -> setsid -> close fds -> not dumpable -> drop
//   every capability and lock securebits -> no_new_privs -> Landlock -> seccomp (listener fd sent
//   to mcpcell over SCM_RIGHTS).
// The child is then the sandbox's pid 1: it forks the server, reaps zombies, forwards signals, and
// exits with the server's status, which takes every other process of the namespace with it. A
// SOCK_SEQPACKET pair carries the listener fd and, on failure, the name of the step and errno; once
// the server has exec'd, init says so on it, and later tells mcpcell the server's status before it
// exits: tearing the namespaces down takes init's exit about half a millisecond, which mcpcell
// spends finishing the session instead of waiting.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "core/identity.h"
#include "sandbox/cgroup.h"
#include "sandbox/internal.h"
#include "sandbox/landlock.h"
#include "sandbox/plan.h"
#include "sandbox/syscalls.h"

extern char** environ;

namespace mcpcell::sandbox {
namespace {

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;
#ifndef SECBIT_NOROOT
#define SECBIT_NOROOT (1 << 0)
#define SECBIT_NOROOT_LOCKED (1 << 1)
#define SECBIT_NO_SETUID_FIXUP (1 << 2)
#define SECBIT_NO_SETUID_FIXUP_LOCKED (1 << 3)
#define SECBIT_KEEP_CAPS_LOCKED (1 << 5)
#define SECBIT_NO_CAP_AMBIENT_RAISE (1 << 6)
#define SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED (1 << 7)
#endif

struct CloneArgs {  // struct clone_args (Linux 5.7 layout)
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};

constexpr uint64_t kNamespaces = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
                                 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
// The new root is assembled on a tmpfs mounted over /tmp in the child's private mount namespace;
// every host path is opened before that, so grants under the host's /tmp still work.
constexpr const char* kStaging = "/tmp";
constexpr const char* kSystemDirs[] = {"/usr",   "/bin",   "/sbin",  "/lib",
                                       "/lib32", "/lib64", "/libx32"};
// Host /etc entries a runtime needs (the rest of /etc is synthesized).
constexpr const char* kEtcEntries[] = {
    "ld.so.cache",     "localtime",     "timezone",     "ssl/certs",    "ssl/openssl.cnf",
    "ca-certificates", "pki/tls/certs", "pki/ca-trust", "alternatives", "protocols",
    "services",        "os-release",    "mime.types"};
constexpr const char* kEmptyMask = ".mcpcell-empty";  // in the new root, until the masks are bound
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom"};

struct Source {  // a host path to bind, opened by the child without following symlinks
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  uint64_t attrs = 0;  // MOUNT_ATTR_* set recursively on the clone
  int tree = -1;       // child side: the detached clone
};

enum class Op { Dir, Symlink, File, Bind, Tmpfs, EmptyFile, Proc };

struct Step {
  Op op = Op::Dir;
  std::string path;                                       // relative to the new root
  std::string data;                                       // symlink target or file content
  std::vector<std::pair<std::string, std::string>> opts;  // tmpfs/proc options
  int src = -1;
  uint64_t attrs = 0;
  mode_t mode = 0755;
  bool is_dir = true;
  bool ro_later = false;
  std::string name;  // for the failure report, e.g. "mount /home/u/project"
};

Step mk(Op op, std::string path, std::string data = {}) {
  Step s;
  s.op = op;
  s.path = std::move(path);
  s.data = std::move(data);
  return s;
}

struct ChildPlan {
  int sock = -1;
  Stdio stdio;
  std::string setgroups = "deny", uid_map, gid_map;
  std::vector<Source> sources;
  std::vector<Step> steps;
  std::string cwd, home;
  Policy::NetnsSetup netns;
  // Without a v2 group the child waits, before its limits, for mcpcell's kGroups message: the
  // cgroup v1 `tasks` files it joins, or none, and then it bounds its data segment instead.
  bool await_v1_groups = false;
  rlim_t data_limit = 0;
  std::vector<std::pair<int, rlimit>> rlimits;
  std::vector<std::pair<std::string, std::string>> root_opts = {{"size", "16m"}, {"mode", "0755"}};
  cap_t no_caps = nullptr;
  LandlockPlan landlock;
  CompiledFilter filter;
  std::string exe;
  std::vector<std::string> argv_s, env_s;
  std::vector<char*> argv, envp;
};

// ---- child side: async-signal-safe helpers, no allocation ----

int sys_openat2(int dirfd, const char* path, uint64_t flags, uint64_t resolve) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  long fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  return static_cast<int>(fd);
}
constexpr uint64_t kNoLinks = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

int write_file(const char* path, const char* data, size_t n) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t w = ::write(fd, data, n);
  int e = w == static_cast<ssize_t>(n) ? 0 : (w < 0 ? errno : EIO);
  ::close(fd);
  return e;
}

// Walks `rel` below `root` one component at a time without following symlinks, creating missing
// directories; returns an O_PATH fd of the directory holding the last component and points *leaf
// at that component. `buf` is caller storage.
int walk_parents(int root, const char* rel, char* buf, size_t cap, const char** leaf) {
  size_t n = std::strlen(rel);
  if (n + 1 > cap) return -ENAMETOOLONG;
  std::memcpy(buf, rel, n + 1);
  int cur = ::fcntl(root, F_DUPFD_CLOEXEC, 3);
  if (cur < 0) return -errno;
  char* p = buf;
  for (;;) {
    char* slash = std::strchr(p, '/');
    if (!slash) break;
    *slash = '\0';
    if (*p) {
      int next = sys_openat2(cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW, kNoLinks | RESOLVE_BENEATH);
      if (next < 0 && errno == ENOENT) {
        if (::mkdirat(cur, p, 0755) != 0 && errno != EEXIST) {
          int e = errno;
          ::close(cur);
          return -e;
        }
        next = sys_openat2(cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW, kNoLinks | RESOLVE_BENEATH);
      }
      if (next < 0) {
        int e = errno;
        ::close(cur);
        return -e;
      }
      ::close(cur);
      cur = next;
    }
    p = slash + 1;
  }
  *leaf = p;
  return cur;
}

// An O_PATH fd of the mount target `rel`, created (directory or empty file) when missing.
int make_target(int root, const char* rel, bool dir, mode_t mode) {
  char buf[4096];
  const char* leaf = nullptr;
  int parent = walk_parents(root, rel, buf, sizeof buf, &leaf);
  if (parent < 0) return parent;
  int fd = sys_openat2(parent, leaf, O_PATH | O_NOFOLLOW, kNoLinks | RESOLVE_BENEATH);
  if (fd < 0 && errno == ENOENT) {
    if (dir) {
      if (::mkdirat(parent, leaf, mode) != 0 && errno != EEXIST) fd = -1;
    } else {
      int f = ::openat(parent, leaf, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0000);
      if (f >= 0) ::close(f);
    }
    fd = sys_openat2(parent, leaf, O_PATH | O_NOFOLLOW, kNoLinks | RESOLVE_BENEATH);
  }
  int e = errno;
  ::close(parent);
  return fd < 0 ? -e : fd;
}

int move_onto(int tree, int root, const char* rel, bool dir) {
  int target = make_target(root, rel, dir, 0755);
  if (target < 0) return -target;
  int rc = ::move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int e = errno;
  ::close(target);
  return rc == 0 ? 0 : e;
}

// A detached mount of a new filesystem ("tmpfs", "proc") with string options.
int new_fs(const char* type, const std::vector<std::pair<std::string, std::string>>& opts,
           uint64_t attrs) {
  int fsfd = ::fsopen(type, FSOPEN_CLOEXEC);
  if (fsfd < 0) return -errno;
  for (const auto& [k, v] : opts) {
    if (::fsconfig(fsfd, FSCONFIG_SET_STRING, k.c_str(), v.c_str(), 0) != 0) {
      int e = errno;
      ::close(fsfd);
      return -e;
    }
  }
  if (::fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int e = errno;
    ::close(fsfd);
    return -e;
  }
  int m = ::fsmount(fsfd, FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs));
  int e = errno;
  ::close(fsfd);
  return m < 0 ? -e : m;
}

int set_attrs(int tree, uint64_t attrs, bool recursive) {
  mount_attr a{};
  a.attr_set = attrs;
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  return ::mount_setattr(tree, "", flags, &a, sizeof a) == 0 ? 0 : errno;
}

int open_source(Source& s) {
  int fd = sys_openat2(AT_FDCWD, s.path.c_str(), O_PATH | O_NOFOLLOW, kNoLinks);
  if (fd < 0) return errno;
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_dev != s.dev || st.st_ino != s.ino) {
    ::close(fd);
    return ESTALE;  // replaced since mcpcell looked at it
  }
  s.tree = ::open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  int e = errno;
  ::close(fd);
  if (s.tree < 0) return e;
  return set_attrs(s.tree, s.attrs, true);
}

// Checks that what is now visible at `rel` is the inode that was planned.
int verify(int root, const char* rel, const Source& s) {
  int fd = sys_openat2(root, rel, O_PATH | O_NOFOLLOW, kNoLinks | RESOLVE_BENEATH);
  if (fd < 0) return errno;
  struct stat st;
  int rc = ::fstat(fd, &st);
  ::close(fd);
  if (rc != 0) return errno;
  return st.st_dev == s.dev && st.st_ino == s.ino ? 0 : ESTALE;
}

int loopback_up() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  int e = 0;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    e = errno;
  } else {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) e = errno;
  }
  ::close(s);
  return e;
}

void set_name(char* out, size_t cap, const char* a, const char* b) {
  size_t i = 0;
  for (const char* p = a; *p && i + 1 < cap; ++p) out[i++] = *p;
  for (const char* p = b; p && *p && i + 1 < cap; ++p) out[i++] = *p;
  out[i] = '\0';
}

int drop_privileges(const ChildPlan& plan) {
  for (int c = 0; c < 64; ++c) {
    if (::prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0) break;
    if (cap_drop_bound(static_cast<cap_value_t>(c)) != 0) return errno;
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return errno;
  unsigned bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                  SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (cap_set_secbits(bits) != 0) return errno;
  if (cap_set_proc(plan.no_caps) != 0) return errno;
  return 0;
}

// One byte (`tag`) with up to two descriptors, over the setup socket (either way).
constexpr int kMaxPassedFds = 2;
int send_fds(int sock, char tag, const int* fds, int n) {
  iovec iov{&tag, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxPassedFds * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (n > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(n * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds, n * sizeof(int));
  }
  return ::sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : errno;
}
int send_fd(int sock, int fd) { return send_fds(sock, 'N', &fd, 1); }

// Child side: waits for one `tag` message and takes its descriptors (close-on-exec) into `fds`.
int receive_fds(int sock, char tag, int* fds, int* n) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxPassedFds * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t r;
  do r = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0) return errno;
  if (r == 0) return EPIPE;  // mcpcell is gone
  *n = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (*n < kMaxPassedFds)
        fds[(*n)++] = fd;
      else
        ::close(fd);
    }
  }
  if (byte != tag || (msg.msg_flags & MSG_CTRUNC)) {
    for (int i = 0; i < *n; ++i) ::close(fds[i]);
    return EPROTO;
  }
  return 0;
}
constexpr char kGroups = 'G';

void send_note(int sock, char tag, int value) {
  InitNote note{tag, value};
  ssize_t n = ::send(sock, &note, sizeof note, MSG_NOSIGNAL);  // mcpcell gone: nothing to tell
  (void)n;
}

[[noreturn]] void run_init(ChildPlan& plan, ChildSteps& steps) {
  sigset_t watched, old;
  sigemptyset(&watched);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE})
    sigaddset(&watched, s);
  ::sigprocmask(SIG_BLOCK, &watched, &old);
  // vfork: the server execs at once, so copying init's address space (all of mcpcell's, since init
  // is a clone of it) only to throw it away was the largest avoidable cost of the spawn. The child
  // only makes syscalls on data prepared before clone and never returns from this frame; init is a
  // single thread and waits until the exec (or the failure report and _exit).
  pid_t server = ::vfork();
  if (server < 0) steps.fail("fork the server", errno);
  if (server == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Landlock binds the server only: init stays outside its domain, so with signal scoping (ABI 6)
    // the server cannot signal init either.
    if (int e = landlock_apply(plan.landlock)) steps.fail("apply landlock", e);
    grow_fd_table();
    ::execve(plan.exe.c_str(), plan.argv.data(), plan.envp.data());
    steps.fail("exec", errno);
  }
  // vfork returns once the server has exec'd (or reported its failure and exited).
  send_note(plan.sock, InitNote::kStarted, 0);
  for (;;) {
    siginfo_t si;
    int sig = ::sigwaitinfo(&watched, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      ::kill(server, sig);
      continue;
    }
    int status;
    pid_t w;
    while ((w = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (w != server) continue;  // an orphan: reaped, nothing else to do
      send_note(plan.sock, InitNote::kExited, status);
      // Leaving takes every other process of the namespace with us (SIGKILL from the kernel).
      ::_exit(exit_code_of(status));
    }
  }
}

[[noreturn]] void child_main(ChildPlan& plan) {
  ChildSteps steps(plan.sock);
  char name[96];
  steps.run("die with mcpcell", [&] {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return errno;
    pollfd p{plan.sock, POLLIN, 0};  // the parent's end closes if it died before prctl
    if (::poll(&p, 1, 0) > 0 && (p.revents & POLLHUP)) return ESRCH;
    return 0;
  });
  steps.run("map user and group ids (user namespace)", [&] {
    int e = write_file("/proc/self/setgroups", plan.setgroups.data(), plan.setgroups.size());
    if (e == 0) e = write_file("/proc/self/uid_map", plan.uid_map.data(), plan.uid_map.size());
    if (e == 0) e = write_file("/proc/self/gid_map", plan.gid_map.data(), plan.gid_map.size());
    return e;
  });
  steps.run("make init not dumpable",
            [] { return ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : errno; });
  steps.run("set hostname", [] { return ::sethostname("mcpcell", 7) == 0 ? 0 : errno; });
  steps.run("bring up loopback", [] { return loopback_up(); });
  if (plan.netns.fn) {
    const char* what = "network namespace setup";
    int e = plan.netns.fn(plan.netns.arg, plan.netns.channel_fd, &what);
    if (e != 0) steps.fail(what, e);
  }
  steps.run("make mounts private", [] {
    return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 ? 0 : errno;
  });
  for (Source& s : plan.sources) {
    set_name(name, sizeof name, "open ", s.path.c_str());
    steps.run(name, [&] { return open_source(s); });
  }
  int root = -1;
  steps.run("mount the new root (tmpfs)", [&] {
    root = new_fs("tmpfs", plan.root_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    if (root < 0) return -root;
    return ::move_mount(root, "", AT_FDCWD, kStaging, MOVE_MOUNT_F_EMPTY_PATH) == 0 ? 0 : errno;
  });
  // File masks are binds of one empty mode-0 file of the root tmpfs (unlinked once they are in
  // place). Not a tmpfs of their own: closing a detached mount unmounts it, which waits for an RCU
  // grace period.
  steps.run("prepare masks", [&] {
    int f = ::openat(root, kEmptyMask, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0000);
    if (f < 0) return errno;
    ::close(f);
    return 0;
  });
  int ro_later[64];
  int n_ro_later = 0;
  for (Step& st : plan.steps) {
    steps.run(st.name.c_str(), [&]() -> int {
      const char* rel = st.path.c_str();
      switch (st.op) {
        case Op::Dir: {
          int fd = make_target(root, rel, true, st.mode);
          if (fd < 0) return -fd;
          ::close(fd);
          return 0;
        }
        case Op::Symlink: {
          char buf[4096];
          const char* leaf = nullptr;
          int parent = walk_parents(root, rel, buf, sizeof buf, &leaf);
          if (parent < 0) return -parent;
          int rc = ::symlinkat(st.data.c_str(), parent, leaf);
          int e = errno;
          ::close(parent);
          return rc == 0 || e == EEXIST ? 0 : e;
        }
        case Op::File: {
          char buf[4096];
          const char* leaf = nullptr;
          int parent = walk_parents(root, rel, buf, sizeof buf, &leaf);
          if (parent < 0) return -parent;
          int dirfd = ::openat(parent, ".", O_DIRECTORY | O_CLOEXEC);  // O_PATH fds cannot create
          ::close(parent);
          if (dirfd < 0) return errno;
          int f =
              ::openat(dirfd, leaf, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, st.mode);
          int e = errno;
          ::close(dirfd);
          if (f < 0) return e;
          ssize_t w = ::write(f, st.data.data(), st.data.size());
          ::close(f);
          return w == static_cast<ssize_t>(st.data.size()) ? 0 : EIO;
        }
        case Op::Bind: {
          Source& s = plan.sources[static_cast<size_t>(st.src)];
          int e = move_onto(s.tree, root, rel, st.is_dir);
          ::close(s.tree);
          s.tree = -1;
          return e ? e : verify(root, rel, s);
        }
        case Op::EmptyFile: {
          int t = ::open_tree(root, kEmptyMask, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
          if (t < 0) return errno;
          int e = set_attrs(
              t, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
              false);
          if (e == 0) e = move_onto(t, root, rel, false);
          ::close(t);
          return e;
        }
        case Op::Tmpfs:
        case Op::Proc: {
          int m = new_fs(st.op == Op::Proc ? "proc" : "tmpfs", st.opts, st.attrs);
          if (m < 0 && st.op == Op::Proc && -m == EINVAL) {
            // Kernels before 5.8 know no subset=pid: a plain /proc of the sandbox's pid namespace.
            m = new_fs("proc", {}, st.attrs);
          }
          if (m < 0) return -m;
          int e = move_onto(m, root, rel, true);
          if (e == 0 && st.ro_later && n_ro_later < 64) {
            ro_later[n_ro_later++] = m;
          } else {
            ::close(m);
          }
          return e;
        }
      }
      return EINVAL;
    });
  }
  steps.run("make masks and /dev read-only", [&] {
    for (int i = 0; i < n_ro_later; ++i) {
      int e = set_attrs(ro_later[i], MOUNT_ATTR_RDONLY, false);
      ::close(ro_later[i]);
      if (e) return e;
    }
    return ::unlinkat(root, kEmptyMask, 0) == 0 ? 0 : errno;
  });
  steps.run("pivot_root", [&] {
    if (::fchdir(root) != 0) return errno;
    if (::syscall(SYS_pivot_root, ".", ".") != 0) return errno;
    if (::umount2(".", MNT_DETACH) != 0) return errno;
    return ::chdir("/") == 0 ? 0 : errno;
  });
  steps.run("make the root read-only", [&] {
    int e = set_attrs(root, MOUNT_ATTR_RDONLY, false);
    ::close(root);
    return e;
  });
  steps.run("enter the working directory", [&] {
    if (!plan.cwd.empty() && ::chdir(plan.cwd.c_str()) == 0) return 0;
    return ::chdir(plan.home.c_str()) == 0 ? 0 : errno;
  });
  bool in_memory_group = !plan.await_v1_groups;
  if (plan.await_v1_groups) {
    int tasks[kMaxPassedFds], n = 0;
    steps.run("receive the cgroup v1 groups",
              [&] { return receive_fds(plan.sock, kGroups, tasks, &n); });
    steps.run("join the cgroup v1 groups", [&] {
      int e = 0;
      for (int i = 0; i < n; ++i) {
        if (e == 0 && ::write(tasks[i], "0", 1) != 1) e = errno;
        ::close(tasks[i]);
      }
      return e;
    });
    in_memory_group = n > 0;
  }
  steps.run("set resource limits", [&] {
    for (const auto& [res, lim] : plan.rlimits)
      if (::setrlimit(static_cast<__rlimit_resource>(res), &lim) != 0) return errno;
    // Without a memory group: bound each process's data segment. Never RLIMIT_AS (V8 and Go
    // reserve large address ranges they never touch).
    rlimit data{plan.data_limit, plan.data_limit};
    if (!in_memory_group && ::setrlimit(RLIMIT_DATA, &data) != 0) return errno;
    return 0;
  });
  steps.run("new session", [] { return ::setsid() >= 0 ? 0 : errno; });
  steps.run("attach stdio", [&] { return attach_stdio(plan.stdio, plan.sock); });
  steps.run("close other fds", [&] { return close_fds_except(plan.sock); });
  steps.run("drop capabilities", [&] { return drop_privileges(plan); });
  steps.run("set no_new_privs",
            [] { return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : errno; });
  steps.run("install seccomp filter", [&] {
    sock_fprog prog{static_cast<unsigned short>(plan.filter.count),
                    reinterpret_cast<sock_filter*>(plan.filter.insns.data())};
    long fd =
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0) return errno;
    int e = send_fd(plan.sock, static_cast<int>(fd));
    ::close(static_cast<int>(fd));
    return e;
  });
  run_init(plan, steps);
}

// ---- parent side ----

std::string read_line(const char* path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  return s;
}

bool apparmor_restricts_userns() {
  return read_line("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1";
}

std::string explain(const std::string& step, int err) {
  std::string what = "sandbox setup failed at step '" + step + "': " + std::strerror(err);
  std::string hint;
  bool early = step.rfind("map user", 0) == 0 || step.rfind("make mounts", 0) == 0 ||
               step.rfind("open ", 0) == 0 || step.rfind("mount the new root", 0) == 0 ||
               step == "set hostname" || step == "bring up loopback";
  if (err == EPERM && early) {
    hint = apparmor_restricts_userns()
               ? "user namespaces are restricted by AppArmor "
                 "(kernel.apparmor_restrict_unprivileged_userns=1); see `mcpcell doctor`"
               : "the kernel refused a namespace operation (a container's seccomp policy or an LSM "
                 "restricts user namespaces); see `mcpcell doctor`";
  } else if (step == "mount /proc" && err == EPERM) {
    hint =
        "this /proc is partly covered (e.g. a container runtime masks it), so a fresh /proc "
        "cannot be mounted; run mcpcell where /proc is not masked; see `mcpcell doctor`";
  } else if (err == ESTALE) {
    hint =
        "a path changed between planning and mounting (a symlink or directory was swapped); "
        "check that nothing else modifies it and retry";
  } else if (step == "join the cgroup v1 groups") {
    hint =
        "the sandbox's pids and memory groups could not be joined (removed meanwhile, or the "
        "v1 hierarchy refused the move); retry, and see `mcpcell doctor`";
  } else if (step == "install seccomp filter") {
    hint = "this kernel lacks seccomp user notification (Linux 5.0+); see `mcpcell doctor`";
  } else if (err == ENOSYS) {
    hint = "this kernel lacks a feature the sandbox needs (Linux 5.12+); see `mcpcell doctor`";
  } else {
    hint = "see `mcpcell doctor`, or run with --no-sandbox to relay without isolation";
  }
  return what + "\n  " + hint;
}

struct HostIds {
  uid_t uid;
  gid_t gid;
  std::string user, home;
};

HostIds host_ids() {
  HostIds h{::geteuid(), ::getegid(), "user", ""};
  if (passwd* pw = ::getpwuid(h.uid)) {
    h.user = pw->pw_name;
    h.home = pw->pw_dir ? pw->pw_dir : "";
  }
  if (const char* e = ::getenv("HOME"); e && *e == '/') h.home = e;
  if (h.home.empty()) h.home = "/nonexistent";
  return h;
}

// Creates `dir` (and parents) owned by us with mode 0700, refusing a symlink at the final step.
bool private_dir(const std::string& dir, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    *error = "cannot use " + dir +
             " as the server's private home (missing, not a directory, a "
             "symlink, or owned by someone else)";
    return false;
  }
  ::chmod(dir.c_str(), 0700);
  return true;
}

bool add_source(ChildPlan& plan, const std::string& path, uint64_t attrs, int* index) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return false;
  Source s;
  s.path = path;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.attrs = attrs;
  plan.sources.push_back(s);
  *index = static_cast<int>(plan.sources.size()) - 1;
  return true;
}

// Adds the host entry `host` at the same place: recreated if a symlink, bound read-only otherwise.
void mirror(ChildPlan& plan, const std::string& host, nlohmann::json* ro) {
  struct stat st;
  if (::lstat(host.c_str(), &st) != 0) return;
  std::string rel = host.substr(1);
  if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    ssize_t n = ::readlink(host.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return;
    Step s = mk(Op::Symlink, rel, std::string(buf, static_cast<size_t>(n)));
    s.name = "link " + host;
    plan.steps.push_back(s);
    return;
  }
  int idx;
  if (!add_source(plan, host, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &idx))
    return;
  Step s = mk(Op::Bind, rel);
  s.src = idx;
  s.is_dir = S_ISDIR(st.st_mode);
  s.name = "mount " + host;
  plan.steps.push_back(s);
  if (ro) ro->push_back(host);
}

Step tmpfs_step(const std::string& path, const char* size, const char* mode, uint64_t attrs) {
  Step s = mk(Op::Tmpfs, path.substr(1));
  s.opts = {{"size", size}, {"mode", mode}};
  s.attrs = attrs;
  s.name = "mount " + path;
  return s;
}

// The cgroup v1 fallback, after the clone: makes the sandbox's pids and memory groups and sends
// their `tasks` files to the child, which joins them once its root is built. Without them (no v1
// hierarchy, not writable: any user but root) the message carries no descriptor and the child
// bounds its data segment instead. A send that fails means the child is gone; its report says why.
void hand_over_v1_groups(int sock, uint64_t mem, uint64_t tasks, const std::string& v2_reason,
                         nlohmann::json* info, std::vector<std::string>* ours,
                         std::vector<std::string>* leftovers) {
  std::vector<std::string> task_files, dirs;
  std::string reason;
  bool v1 = cgroup_v1_create(mem, tasks, &task_files, &dirs, &reason, leftovers);
  int fds[kMaxPassedFds];
  int n = 0;
  for (size_t i = 0; v1 && i < task_files.size() && n < kMaxPassedFds; ++i) {
    fds[n] = ::open(task_files[i].c_str(), O_WRONLY | O_CLOEXEC);
    if (fds[n] < 0) {
      reason = "open " + task_files[i] + ": " + std::strerror(errno);
      v1 = false;
      break;
    }
    ++n;
  }
  if (!v1) {
    for (int i = 0; i < n; ++i) ::close(fds[i]);
    n = 0;
  }
  send_fds(sock, kGroups, fds, n);
  for (int i = 0; i < n; ++i) ::close(fds[i]);
  if (v1) {
    (*info)["cgroup"] = {{"version", 1}, {"paths", dirs}, {"memory_max", mem}, {"pids_max", tasks}};
    ours->insert(ours->end(), dirs.begin(), dirs.end());
  } else {
    (*info)["cgroup"] = {{"available", false}, {"reason", v2_reason + "; v1: " + reason}};
    (*info)["rlimits"]["data"] = mem;
  }
}

}  // namespace

SpawnResult spawn_isolated(const Policy& policy, const std::vector<std::string>& argv,
                           const Stdio& stdio, const std::function<void()>& meanwhile) {
  SpawnResult r;
  r.exit_code = 125;
  auto fail = [&](int code, const std::string& msg) {
    r.exit_code = code;
    r.error = msg;
    return r;
  };
  std::string error;
  int code = 0;
  std::filesystem::path exe = resolve_command(argv[0], &code, &error);
  if (exe.empty()) return fail(code, error);
  std::string exe_s = normalize_path(
      exe.is_absolute() ? exe.string() : (std::filesystem::current_path() / exe).string());
  if (policy.state_dir.empty() || policy.server_name.empty())
    return fail(125, "sandbox: the policy has no state directory or server name");

  HostIds ids = host_ids();
  std::string state = normalize_path(policy.state_dir.string());
  std::string config = normalize_path(policy.config_dir.string());
  std::string home = state + "/homes/" + server_name_to_filename(policy.server_name);
  if (!private_dir(state, &error) || !private_dir(state + "/homes", &error) ||
      !private_dir(home, &error))
    return fail(125, error);

  auto plan = std::make_unique<ChildPlan>();
  ChildPlan& cp = *plan;
  nlohmann::json info = {{"isolated", true}, {"mode", "namespaces"}};
  info["namespaces"] = {"user", "mount", "pid", "net", "ipc", "uts", "cgroup"};
  info["uid"] = ids.uid;
  info["gid"] = ids.gid;
  info["root"] = "tmpfs";
  info["home"] = home;

  // Filesystem plan.
  FsOps fs = real_fs();
  PlanInput in;
  in.home = ids.home;
  in.state_dir = state;
  in.config_dir = config;
  in.private_home = home;
  if (const char* s = ::getenv("SSH_AUTH_SOCK")) in.ssh_auth_sock = s;
  in.read = policy.fs_read;
  in.write = policy.fs_write;
  in.hide = policy.fs_hide;
  in.auto_read = installation_grants(exe_s, argv, ids.home, fs);
  FsPlan fsplan = plan_filesystem(in, fs);

  nlohmann::json ro = nlohmann::json::array(), rw = nlohmann::json::array(),
                 hidden = nlohmann::json::array();
  for (const char* d : kSystemDirs) mirror(cp, d, &ro);
  for (const char* e : kEtcEntries) mirror(cp, std::string("/etc/") + e, nullptr);
  for (auto [name, content] : synthesize_etc(ids.uid, ids.gid, ids.user, home)) {
    if (name == "resolv.conf" && !policy.resolv_conf.empty()) content = policy.resolv_conf;
    Step s = mk(Op::File, "etc/" + name, content);
    s.mode = 0644;
    s.name = "write /etc/" + name;
    cp.steps.push_back(s);
  }
  Step dev = tmpfs_step("/dev", "64k", "0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  dev.ro_later = true;
  cp.steps.push_back(dev);
  for (const char* d : kDevices) {
    std::string host = std::string("/dev/") + d;
    struct stat st;
    int idx;
    if (::stat(host.c_str(), &st) != 0 || !S_ISCHR(st.st_mode) ||
        !add_source(cp, host, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, &idx))
      continue;
    Step s = mk(Op::Bind, host.substr(1));
    s.src = idx;
    s.is_dir = false;
    s.name = "mount " + host;
    cp.steps.push_back(s);
  }
  for (auto [link, target] :
       {std::pair{"dev/fd", "/proc/self/fd"}, std::pair{"dev/stdin", "/proc/self/fd/0"},
        std::pair{"dev/stdout", "/proc/self/fd/1"}, std::pair{"dev/stderr", "/proc/self/fd/2"}}) {
    Step s = mk(Op::Symlink, link, target);
    s.name = std::string("link /") + link;
    cp.steps.push_back(s);
  }
  cp.steps.push_back(tmpfs_step("/dev/shm", "64m", "1777", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  cp.steps.push_back(tmpfs_step("/tmp", "512m", "1777", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));

  int landlock_abi_v = landlock_abi();
  cp.landlock = landlock_plan(landlock_abi_v);
  landlock_allow(&cp.landlock, "/", Access::Read);
  landlock_allow(&cp.landlock, "/tmp", Access::ReadWrite);
  landlock_allow(&cp.landlock, "/dev/shm", Access::ReadWrite);
  for (const char* d : kDevices)
    landlock_allow(&cp.landlock, std::string("/dev/") + d, Access::Device);
  landlock_allow(&cp.landlock, "/proc", Access::Device);  // /proc/self/* writes (e.g. comm)

  for (const PlannedMount& m : fsplan.mounts) {
    switch (m.kind) {
      case MountKind::ReadOnly:
      case MountKind::ReadWrite: {
        bool w = m.kind == MountKind::ReadWrite;
        int idx;
        if (!add_source(cp, m.path,
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (w ? 0 : MOUNT_ATTR_RDONLY), &idx))
          return fail(125, "sandbox: " + m.path + " disappeared while the sandbox was planned");
        Step s = mk(Op::Bind, m.path.substr(1));
        s.src = idx;
        s.is_dir = m.is_dir;
        s.name = "mount " + m.path;
        cp.steps.push_back(s);
        if (w) {
          landlock_allow(&cp.landlock, m.path, Access::ReadWrite);
          if (m.path != home) rw.push_back(m.path);
        } else {
          ro.push_back(m.path);
        }
        break;
      }
      case MountKind::HideDir: {
        // An ancestor of the private home stays traversable so HOME can be mounted below it.
        bool pass = path_within(home, m.path);
        Step s = tmpfs_step(m.path, "4k", pass ? "0711" : "0000",
                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        s.ro_later = true;
        s.name = "hide " + m.path;
        cp.steps.push_back(s);
        hidden.push_back(m.path);
        break;
      }
      case MountKind::HideFile: {
        Step s = mk(Op::EmptyFile, m.path.substr(1));
        s.is_dir = false;
        s.name = "hide " + m.path;
        cp.steps.push_back(s);
        hidden.push_back(m.path);
        break;
      }
    }
  }
  Step proc = mk(Op::Proc, "proc");
  proc.opts = {{"subset", "pid"}, {"hidepid", "invisible"}};
  proc.attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  proc.name = "mount /proc";
  cp.steps.push_back(proc);

  info["read"] = ro;
  info["write"] = rw;
  info["hidden"] = hidden;
  nlohmann::json refused = nlohmann::json::array();
  for (const auto& f : fsplan.refused) refused.push_back({{"path", f.path}, {"reason", f.reason}});
  info["refused"] = refused;
  info["downgraded"] = fsplan.downgraded;
  info["auto_read"] = in.auto_read;
  for (const auto& f : fsplan.refused)
    if (!f.path.empty())
      std::fprintf(stderr, "mcpcell: not granted: %s (%s)\n", f.path.c_str(), f.reason.c_str());
  for (const auto& d : fsplan.downgraded)
    std::fprintf(stderr,
                 "mcpcell: write grant made read-only: %s (it contains protected or "
                 "persistence locations, or an editor or git entry that cannot be kept "
                 "read-only)\n",
                 d.c_str());
  // One line per grant: the user sees once (they are kept) what appeared in their project.
  std::vector<std::pair<std::string, std::string>> made;  // grant, names
  for (const auto& p : fsplan.placeholders) {
    std::string dir = p.substr(0, p.rfind('/')), name = p.substr(p.rfind('/') + 1);
    if (made.empty() || made.back().first != dir) made.push_back({dir, ""});
    made.back().second += " " + name;
  }
  for (const auto& [dir, names] : made)
    std::fprintf(stderr,
                 "mcpcell: created empty placeholders in %s:%s (kept; they stay read-only to "
                 "the server so it cannot create them; see docs/sandbox.md)\n",
                 dir.c_str(), names.c_str());
  info["placeholders"] = fsplan.placeholders;

  // Landlock, seccomp.
  if (landlock_abi_v > 0) {
    info["landlock"] = {{"abi", landlock_abi_v}, {"scoped", landlock_scope_names(cp.landlock)}};
  } else {
    info["landlock"] = {{"abi", 0}, {"note", "Landlock is not available in this kernel"}};
  }
  if (!load_or_compile_filter(policy.syscall_groups, state + "/cache", &cp.filter, &error))
    return fail(125, error);
  info["seccomp"] = {{"mode", "filter"},
                     {"default", "user_notif (EPERM, ENOSYS for probes)"},
                     {"arch", "native only"},
                     {"groups", cp.filter.enabled_groups}};

  // Limits: cgroup v2 where delegated, rlimits always.
  uint64_t mem = policy.limits.memory_bytes ? policy.limits.memory_bytes : 4ULL << 30;
  uint64_t tasks = policy.limits.tasks ? policy.limits.tasks : 512;
  uint64_t files = policy.limits.files ? policy.limits.files : 4096;
  std::string cg_path, cg_reason;
  std::vector<std::string> leftovers;
  int cg_fd = cgroup_create(mem, tasks, &cg_path, &cg_reason, &leftovers);
  if (cg_fd >= 0)
    info["cgroup"] = {{"version", 2}, {"path", cg_path}, {"memory_max", mem}, {"pids_max", tasks}};
  // The v1 groups are made after the clone, while the child builds its root: their mkdirs (~0.4
  // ms, the memory group's most) stay off the start's critical path (hand_over_v1_groups).
  cp.await_v1_groups = cg_fd < 0;
  cp.data_limit = mem;
  rlimit cur{};
  ::getrlimit(RLIMIT_NOFILE, &cur);
  rlim_t nofile = cur.rlim_max == RLIM_INFINITY ? files : std::min<rlim_t>(files, cur.rlim_max);
  cp.rlimits.push_back({RLIMIT_CORE, {0, 0}});
  cp.rlimits.push_back({RLIMIT_NOFILE, {nofile, nofile}});
  cp.rlimits.push_back({RLIMIT_NPROC, {tasks, tasks}});
  info["rlimits"] = {{"core", 0}, {"nofile", nofile}, {"nproc", tasks}};

  // Environment and command.
  std::vector<std::string> host_env;
  for (char** e = environ; e && *e; ++e) host_env.emplace_back(*e);
  std::vector<std::string> withheld;
  cp.env_s =
      build_environment(host_env, policy.env_pass, policy.env_set, home, ids.user, &withheld);
  nlohmann::json env_names = nlohmann::json::array();
  for (const auto& kv : cp.env_s) env_names.push_back(kv.substr(0, kv.find('=')));
  info["env"] = env_names;
  if (!withheld.empty()) info["env_withheld"] = withheld;
  cp.argv_s = argv;
  for (auto& a : cp.argv_s) cp.argv.push_back(a.data());
  cp.argv.push_back(nullptr);
  for (auto& e : cp.env_s) cp.envp.push_back(e.data());
  cp.envp.push_back(nullptr);
  cp.exe = exe_s;
  cp.home = home;
  {
    std::string cwd = policy.cwd;
    if (cwd.empty()) {
      std::error_code ec;
      cwd = std::filesystem::current_path(ec).string();
    }
    cp.cwd = cwd;
  }
  cp.uid_map = std::to_string(ids.uid) + " " + std::to_string(ids.uid) + " 1\n";
  cp.gid_map = std::to_string(ids.gid) + " " + std::to_string(ids.gid) + " 1\n";
  cp.stdio = stdio;
  cp.netns = policy.netns_setup;
  cp.no_caps = cap_init();
  info["capabilities"] = "none (bounding set empty, securebits locked)";
  info["no_new_privs"] = true;

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    if (cg_fd >= 0) ::close(cg_fd);
    cap_free(cp.no_caps);
    return fail(125, std::string("socketpair: ") + std::strerror(errno));
  }
  cp.sock = sv[1];

  int pidfd = -1;
  CloneArgs ca{};
  ca.flags = kNamespaces | CLONE_PIDFD | (cg_fd >= 0 ? kCloneIntoCgroup : 0);
  ca.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  ca.exit_signal = SIGCHLD;
  ca.cgroup = cg_fd >= 0 ? static_cast<uint64_t>(cg_fd) : 0;
  long pid = ::syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) {
    // No clone3 (old kernel, or a container's filter): clone, without joining the cgroup.
    pid = ::syscall(SYS_clone, kNamespaces | CLONE_PIDFD | SIGCHLD, nullptr, &pidfd, nullptr,
                    nullptr);
    if (cg_fd >= 0) info["cgroup"] = {{"available", false}, {"reason", "clone3 unavailable"}};
  }
  if (pid == 0) child_main(cp);  // never returns
  int clone_err = errno;
  ::close(sv[1]);
  if (cg_fd >= 0) ::close(cg_fd);
  cap_free(cp.no_caps);
  if (pid < 0) {
    ::close(sv[0]);
    std::string hint;
    if (apparmor_restricts_userns())
      hint = "user namespaces are restricted by AppArmor; see `mcpcell doctor`";
    else if (read_line("/proc/sys/user/max_user_namespaces") == "0")
      hint = "user namespaces are disabled (user.max_user_namespaces=0); see `mcpcell doctor`";
    else if (read_line("/proc/sys/kernel/unprivileged_userns_clone") == "0")
      hint =
          "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0); "
          "see `mcpcell doctor`";
    else
      hint = "see `mcpcell doctor`";
    return fail(125, std::string("cannot create the sandbox's namespaces: ") +
                         std::strerror(clone_err) + "\n  " + hint);
  }

  std::vector<std::string> ours;
  if (!cg_path.empty()) ours.push_back(cg_path);
  if (cp.await_v1_groups) hand_over_v1_groups(sv[0], mem, tasks, cg_reason, &info, &ours, &leftovers);
  remove_leftover_groups(leftovers, ours);
  if (meanwhile) meanwhile();

  // Read the child's report: the seccomp listener, then init's note that the server has exec'd, or
  // a StepFailure. EOF means init died (killed with mcpcell's tree): the relay sees its exit.
  int notify_fd = -1;
  ChildReport rep;
  for (;;) {
    char data[sizeof(StepFailure)];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (static_cast<size_t>(n) == sizeof(InitNote)) {
      InitNote note;
      std::memcpy(&note, data, sizeof note);
      if (note.tag == InitNote::kStarted) break;
      continue;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        std::memcpy(&notify_fd, CMSG_DATA(c), sizeof notify_fd);
    if (static_cast<size_t>(n) == sizeof(StepFailure)) {
      StepFailure sf;
      std::memcpy(&sf, data, sizeof sf);
      sf.step[sizeof sf.step - 1] = '\0';
      rep.ok = false;
      rep.step = sf.step;
      rep.err = sf.err;
    }
  }
  if (!rep.ok) {
    ::close(sv[0]);
    if (notify_fd >= 0) ::close(notify_fd);
    int status;
    ::waitpid(static_cast<pid_t>(pid), &status, 0);
    if (pidfd >= 0) ::close(pidfd);
    if (rep.step == "exec") {
      int c = rep.err == ENOENT ? 127 : (rep.err == EACCES || rep.err == ENOEXEC) ? 126 : 125;
      std::string why = rep.err == ENOENT
                            ? " (it, or its interpreter, is not visible inside the sandbox; grant "
                              "its directory with --allow-read)"
                            : "";
      return fail(
          c, "could not start " + argv[0] + " in the sandbox: " + std::strerror(rep.err) + why);
    }
    return fail(125, explain(rep.step, rep.err));
  }
  if (notify_fd < 0) info["seccomp"]["listener"] = false;
  r.ok = true;
  r.exit_code = 0;
  r.child.pid = static_cast<pid_t>(pid);
  r.child.pidfd = pidfd;
  r.child.notify_fd = notify_fd;
  r.child.status_fd = sv[0];
  r.child.info = std::move(info);
  return r;
}

}  // namespace mcpcell::sandbox
