#include "sandbox/probe.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/mount.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "sandbox/cgroup.h"
#include "sandbox/landlock.h"
#include "sandbox/sandbox.h"

namespace mcpcell::sandbox {
namespace {

std::string first_line(const char* path, bool* exists = nullptr) {
  std::ifstream f(path);
  if (exists) *exists = f.good();
  std::string s;
  std::getline(f, s);
  return s;
}

// Forks a child that tries to unshare a user+mount namespace and mount a tmpfs in it.
// Returns 0 or the errno of the first failure (ENOTSUP-like 255 if the child died otherwise).
int try_userns(std::string* step) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return errno;
  pid_t pid = ::fork();
  if (pid == 0) {
    int code[2] = {0, 0};
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      code[0] = 1;
      code[1] = errno;
    } else {
      char map[64];
      int fd = ::open("/proc/self/setgroups", O_WRONLY);
      if (fd >= 0) {
        (void)!::write(fd, "deny", 4);
        ::close(fd);
      }
      int n = std::snprintf(map, sizeof map, "%u %u 1\n", uid, uid);
      fd = ::open("/proc/self/uid_map", O_WRONLY);
      if (fd < 0 || ::write(fd, map, static_cast<size_t>(n)) != n) {
        code[0] = 2;
        code[1] = errno;
      }
      if (fd >= 0) ::close(fd);
      n = std::snprintf(map, sizeof map, "%u %u 1\n", gid, gid);
      fd = ::open("/proc/self/gid_map", O_WRONLY);
      if (code[0] == 0 && (fd < 0 || ::write(fd, map, static_cast<size_t>(n)) != n)) {
        code[0] = 2;
        code[1] = errno;
      }
      if (fd >= 0) ::close(fd);
      if (code[0] == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        code[0] = 3;
        code[1] = errno;
      }
      if (code[0] == 0 && ::mount("tmpfs", "/tmp", "tmpfs", 0, "size=4k") != 0) {
        code[0] = 3;
        code[1] = errno;
      }
    }
    (void)!::write(p[1], code, sizeof code);
    ::_exit(0);
  }
  ::close(p[1]);
  int code[2] = {0, 0};
  ssize_t n = ::read(p[0], code, sizeof code);
  ::close(p[0]);
  int status;
  ::waitpid(pid, &status, 0);
  if (n != sizeof code) return 255;
  static const char* steps[] = {"", "unshare(CLONE_NEWUSER)", "write uid_map/gid_map",
                                "mount inside the namespace"};
  *step = steps[code[0]];
  return code[1];
}

}  // namespace

std::vector<Check> probe_system() {
  std::vector<Check> out;
  utsname u{};
  ::uname(&u);
  out.push_back({"kernel", Check::Ok, std::string(u.sysname) + " " + u.release + " " + u.machine,
                 ""});

  // User namespaces.
  {
    Check c{"user namespaces", Check::Ok, "", ""};
    bool aa_exists = false;
    std::string aa = first_line("/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                                &aa_exists);
    std::string maxns = first_line("/proc/sys/user/max_user_namespaces");
    bool deb_exists = false;
    std::string deb = first_line("/proc/sys/kernel/unprivileged_userns_clone", &deb_exists);
    std::string step;
    int err = try_userns(&step);
    if (err == 0) {
      c.detail = "unprivileged user namespaces work (max_user_namespaces=" + maxns + ")";
      if (aa_exists && aa == "1")
        c.detail += "; AppArmor restriction is on but this binary is allowed (profile with userns)";
    } else {
      c.level = Check::Fail;
      c.detail = (step.empty() ? std::string("test failed") : step + " failed") + ": " +
                 (err == 255 ? "test process died" : std::strerror(err));
      if (aa_exists && aa == "1") {
        c.detail += " — Ubuntu's AppArmor restricts unprivileged user namespaces";
        c.fix =
            "allow mcpcell to create user namespaces with an AppArmor profile (preferred):\n"
            "      sudo tee /etc/apparmor.d/mcpcell <<'END'\n"
            "      abi <abi/4.0>,\n"
            "      include <tunables/global>\n"
            "      profile mcpcell /usr/local/bin/mcpcell flags=(unconfined) {\n"
            "        userns,\n"
            "        include if exists <local/mcpcell>\n"
            "      }\n"
            "      END\n"
            "      sudo apparmor_parser -r /etc/apparmor.d/mcpcell\n"
            "    (use the real path of the mcpcell binary), or lift the restriction for everyone:\n"
            "      sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\n"
            "      echo kernel.apparmor_restrict_unprivileged_userns=0 | "
            "sudo tee /etc/sysctl.d/60-mcpcell-userns.conf";
      } else if (maxns == "0") {
        c.fix = "sudo sysctl -w user.max_user_namespaces=15000 (and persist it in "
                "/etc/sysctl.d/)";
      } else if (deb_exists && deb == "0") {
        c.fix = "sudo sysctl -w kernel.unprivileged_userns_clone=1 (and persist it in "
                "/etc/sysctl.d/)";
      } else {
        c.fix = "inside a container, user namespaces are usually blocked by the runtime's "
                "seccomp profile: run mcpcell on the host, or start the container with "
                "--security-opt seccomp=unconfined; otherwise use --no-sandbox (no isolation)";
      }
    }
    out.push_back(c);
  }

  // seccomp and user notification.
  {
    Check c{"seccomp", Check::Ok, "", ""};
    uint32_t action = SECCOMP_RET_USER_NOTIF;
    bool filter = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    bool notif = ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
    if (!filter) {
      c.level = Check::Fail;
      c.detail = "seccomp is not available (CONFIG_SECCOMP_FILTER off)";
      c.fix = "use a kernel built with CONFIG_SECCOMP_FILTER=y";
    } else if (!notif) {
      c.level = Check::Fail;
      c.detail = "seccomp filters work, but user notification (Linux 5.0+) is missing";
      c.fix = "upgrade to Linux 5.0 or newer";
    } else {
      c.detail = "filters and user notification available: refused calls are logged as "
                 "sandbox.denied";
    }
    out.push_back(c);
  }

  // Landlock.
  {
    int abi = landlock_abi();
    Check c{"landlock", Check::Ok, "", ""};
    if (abi <= 0) {
      c.level = Check::Warn;
      c.detail = "not available (kernel older than 5.13, or not in the lsm= list)";
      c.fix = "optional: boot with lsm=landlock,... to add Landlock behind the mount namespace";
    } else {
      c.detail = "ABI " + std::to_string(abi);
      if (abi >= 6)
        c.detail += ": filesystem rules, abstract unix sockets and signals scoped";
      else
        c.detail += ": filesystem rules (abstract socket and signal scoping need ABI 6, Linux 6.12)";
    }
    out.push_back(c);
  }

  // cgroup v2.
  {
    CgroupProbe p = cgroup_probe();
    Check c{"cgroup v2 limits", p.usable ? Check::Ok : Check::Warn, "", ""};
    if (p.usable) {
      c.detail = "memory and pids controllers delegated at " + p.base +
                 (p.move_self ? " (mcpcell moves itself into a leaf first)" : "");
    } else {
      c.detail = p.reason + "; falling back to rlimits (RLIMIT_NPROC, RLIMIT_NOFILE, "
                            "RLIMIT_DATA per process)";
      c.fix = "on a systemd host, run mcpcell inside a delegated scope, e.g. `systemd-run --user "
              "--scope -p Delegate=yes mcpcell ...`, on a unified (cgroup v2) hierarchy";
    }
    out.push_back(c);
  }

  // TIOCSTI hardening (informational: mcpcell denies it in seccomp and never hands over a tty).
  {
    bool exists = false;
    std::string v = first_line("/proc/sys/dev/tty/legacy_tiocsti", &exists);
    Check c{"TIOCSTI", Check::Ok, "", ""};
    c.detail = exists ? (v == "0" ? "disabled by the kernel too (dev.tty.legacy_tiocsti=0)"
                                  : "allowed by the kernel (dev.tty.legacy_tiocsti=1); mcpcell "
                                    "denies it in seccomp and gives the server no terminal")
                      : "no kernel switch; mcpcell denies it in seccomp and uses setsid";
    out.push_back(c);
  }
  return out;
}

Check probe_trial(const std::string& state_dir, const std::string& config_dir) {
  Check c{"trial sandbox", Check::Ok, "", ""};
  Policy policy;
  policy.server_name = "mcpcell-doctor";
  policy.state_dir = state_dir;
  policy.config_dir = config_dir;
  policy.cwd = "/";
  Stdio stdio;
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  stdio.in = stdio.out = stdio.err = null;
  SpawnResult r = spawn(policy, {"/bin/true"}, stdio);
  if (null >= 0) ::close(null);
  if (!r.ok) {
    c.level = Check::Fail;
    c.detail = r.error;
    c.fix = "fix the item above that failed; --no-sandbox runs without isolation (not advised)";
    return c;
  }
  // Answer refused calls while waiting, like the relay does.
  int status = 0;
  int notify = r.child.notify_fd;
  for (;;) {
    pollfd fds[2] = {{r.child.pidfd, POLLIN, 0}, {notify, POLLIN, 0}};
    int n = ::poll(fds, 2, 5000);
    if (n <= 0) {
      signal_tree(r.child, SIGKILL);
      break;
    }
    if (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) notify = -1;
    if (fds[1].revents & POLLIN) answer_notification(r.child.notify_fd);
    if (fds[0].revents & POLLIN) break;
  }
  ::waitpid(r.child.pid, &status, 0);
  if (r.child.pidfd >= 0) ::close(r.child.pidfd);
  if (r.child.notify_fd >= 0) ::close(r.child.notify_fd);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    c.level = Check::Fail;
    c.detail = "/bin/true in the sandbox did not exit 0 (status " + std::to_string(status) + ")";
    return c;
  }
  const auto& info = r.child.info;
  c.detail = "/bin/true ran isolated: namespaces user, mount, pid, net, ipc, uts, cgroup; landlock "
             "ABI " + std::to_string(info["landlock"].value("abi", 0)) + "; seccomp user_notif; " +
             (info["cgroup"].contains("path")    ? "cgroup v2 limits"
              : info["cgroup"].contains("paths") ? "cgroup v1 limits (pids, memory)"
                                                 : "rlimits only");
  return c;
}

}  // namespace mcpcell::sandbox
