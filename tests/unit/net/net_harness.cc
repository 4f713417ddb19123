// mcpcell-net-harness [--allow ENTRY]... [--audit FILE] [--phase NAME] -- COMMAND [ARG...]
//
// Runs COMMAND in new user, mount and network namespaces (lo only, /etc/resolv.conf pointing at
// mcpcell's DNS) with mcpcell's egress serving the sockets the child created there — the network
// half of the sandbox and nothing else, so the egress path can be tested and measured on its own.
// Audit records go to FILE (default stderr) as one JSON object per line with an "event" member.
// Exit status: COMMAND's, 128+N for signal N, 125 for a setup failure.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "net/egress.h"
#include "net/netns_child.h"

using namespace mcpcell::net;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: mcpcell-net-harness [--allow ENTRY]... [--audit FILE] [--phase NAME] -- "
               "COMMAND [ARG...]\n");
  return 125;
}

bool write_file(const char* path, const char* text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t n = std::strlen(text);
  bool ok = ::write(fd, text, n) == static_cast<ssize_t>(n);
  ::close(fd);
  return ok;
}

[[noreturn]] void child_fail(const char* step, int err) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "mcpcell-net-harness: %s: %s\n", step, std::strerror(err));
  ssize_t w = ::write(2, buf, static_cast<size_t>(n));
  (void)w;
  ::_exit(125);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> entries;
  std::string audit_path, phase;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) return usage();
    if (a == "--allow")
      entries.push_back(argv[++i]);
    else if (a == "--audit")
      audit_path = argv[++i];
    else if (a == "--phase")
      phase = argv[++i];
    else
      return usage();
  }
  if (i >= argc) return usage();
  char** cmd = argv + i;

  Allowlist allow;
  SocketPlan plan;
  std::string error, note;
  if (!Allowlist::parse(entries, &allow, &error) || !make_socket_plan(allow, &plan, &error)) {
    std::fprintf(stderr, "mcpcell-net-harness: %s\n", error.c_str());
    return 125;
  }
  // The harness is a test binary (never installed): it takes the test resolver from the
  // environment. mcpcell itself reads it only from its private config (resolver.h).
  std::unique_ptr<Resolver> resolver = std::make_unique<SystemResolver>();
  if (const char* spec = std::getenv("MCPCELL_TEST_HOSTS")) {
    resolver = OverrideResolver::parse(spec, &error, "MCPCELL_TEST_HOSTS");
    note = "MCPCELL_TEST_HOSTS is set: names are resolved from it, not from DNS";
  }
  if (!resolver) {
    std::fprintf(stderr, "mcpcell-net-harness: %s\n", error.c_str());
    return 125;
  }
  if (!note.empty()) std::fprintf(stderr, "mcpcell-net-harness: %s\n", note.c_str());

  char resolv[] = "/tmp/mcpcell-net-resolv-XXXXXX";
  int rfd = ::mkstemp(resolv);
  if (rfd < 0 || ::write(rfd, kResolvConf, sizeof kResolvConf - 1) < 0) return 125;
  ::fchmod(rfd, 0644);
  ::close(rfd);

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 125;
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return 125;
  if (pid == 0) {
    ::close(sv[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(125);
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) != 0) child_fail("unshare", errno);
    char map[64];
    std::snprintf(map, sizeof map, "%u %u 1\n", uid, uid);
    if (!write_file("/proc/self/uid_map", map)) child_fail("uid_map", errno);
    write_file("/proc/self/setgroups", "deny");
    std::snprintf(map, sizeof map, "%u %u 1\n", gid, gid);
    if (!write_file("/proc/self/gid_map", map)) child_fail("gid_map", errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      child_fail("make / private", errno);
    if (::mount(resolv, "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0)
      child_fail("bind /etc/resolv.conf", errno);
    const char* step = "";
    if (int err = open_sockets_in_netns(plan, sv[1], &step)) child_fail(step, err);
    ::close(sv[1]);
    ::execvp(cmd[0], cmd);
    child_fail(cmd[0], errno);
  }
  ::close(sv[1]);

  FILE* audit_out = stderr;
  if (!audit_path.empty()) audit_out = std::fopen(audit_path.c_str(), "a");
  if (!audit_out) return 125;
  std::mutex audit_mu;
  std::unique_ptr<Egress> egress;
  if (plan.enabled()) {
    std::vector<int> fds;
    if (!receive_sockets(sv[0], &fds, &error)) {
      std::fprintf(stderr, "mcpcell-net-harness: %s\n", error.c_str());
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::unlink(resolv);
      return 125;
    }
    EgressOptions o;
    o.allow = allow;
    o.resolver = std::move(resolver);
    o.phase = phase;
    o.audit = [&](std::string_view event, nlohmann::json fields) {
      fields["event"] = event;
      std::string line = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::lock_guard lock(audit_mu);
      std::fprintf(audit_out, "%s\n", line.c_str());
      std::fflush(audit_out);
    };
    egress = Egress::start(std::move(o), std::move(fds), &error);
    if (!egress) {
      std::fprintf(stderr, "mcpcell-net-harness: %s\n", error.c_str());
      ::kill(pid, SIGKILL);
    }
  }
  ::close(sv[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  egress.reset();
  ::unlink(resolv);
  if (audit_out != stderr) std::fclose(audit_out);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
