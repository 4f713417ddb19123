// Spawning the server without isolation (--no-sandbox), and the pieces both paths share: command
// resolution, exec-error reporting through a close-on-exec pipe, and killing the whole tree.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "sandbox.h"
#include "sandbox/internal.h"

namespace mcpcell::sandbox {

std::filesystem::path resolve_command(const std::string& name, int* exit_code, std::string* error) {
  auto check = [&](const std::string& path, bool searched) -> int {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return 127;
    if (S_ISDIR(st.st_mode) || ::access(path.c_str(), X_OK) != 0) return searched ? 126 : 126;
    return 0;
  };
  if (name.empty()) {
    *exit_code = 127;
    *error = "empty command";
    return {};
  }
  if (name.find('/') != std::string::npos) {
    int rc = check(name, false);
    if (rc == 0) return std::filesystem::path(name);
    *exit_code = rc;
    *error = rc == 127 ? "command not found: " + name + " (no such file)"
                       : "command not executable: " + name +
                             " (check its permissions, or that it"
                             " is not a directory)";
    return {};
  }
  const char* path_env = ::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  bool saw_non_exec = false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    std::string dir =
        path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    int rc = check(candidate, true);
    if (rc == 0) return std::filesystem::path(candidate);
    if (rc == 126) saw_non_exec = true;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  *exit_code = saw_non_exec ? 126 : 127;
  *error = saw_non_exec ? "command not executable: " + name + " (found in PATH, but not executable)"
                        : "command not found: " + name + " (not in PATH=" + path + ")";
  return {};
}

void prepare_supervisor() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

namespace {

// Children of `parent` according to /proc (used without a pid namespace only).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    // Fields after the last ')' (comm may contain spaces and parens): state ppid ...
    char* rp = std::strrchr(buf, ')');
    if (!rp) continue;
    char state = 0;
    long ppid = 0;
    if (std::sscanf(rp + 1, " %c %ld", &state, &ppid) != 2) continue;
    if (ppid == parent) out.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return out;
}

}  // namespace

bool read_exit_note(int status_fd, int* wait_status) {
  InitNote note{};
  ssize_t n = ::recv(status_fd, &note, sizeof note, MSG_DONTWAIT);
  if (n != static_cast<ssize_t>(sizeof note) || note.tag != InitNote::kExited) return false;
  *wait_status = note.value;
  return true;
}

void reap(const Child& child, int timeout_ms) {
  if (child.pid <= 0) return;
  // Bounded: a process stuck in the kernel after SIGKILL must not keep mcpcell alive.
  if (child.pidfd >= 0) {
    pollfd p{child.pidfd, POLLIN, 0};
    while (::poll(&p, 1, timeout_ms) < 0 && errno == EINTR) {
    }
  }
  siginfo_t info{};
  if (child.pidfd >= 0)
    ::waitid(P_PIDFD, static_cast<id_t>(child.pidfd), &info, WEXITED | WNOHANG);
  else
    ::waitid(P_PID, static_cast<id_t>(child.pid), &info, WEXITED | WNOHANG);
}

void signal_tree(const Child& child, int sig) {
  if (child.pid <= 0) return;
  if (child.info.value("isolated", false)) {
    // Killing the init of a pid namespace with SIGKILL kills every process in it; other signals
    // are forwarded by init to the server.
    if (child.pidfd >= 0) {
      ::syscall(SYS_pidfd_send_signal, child.pidfd, sig, nullptr, 0);
    } else {
      ::kill(child.pid, sig);
    }
    return;
  }
  // Without a pid namespace: the server's process group, then every process that was orphaned and
  // reparented to mcpcell (the child subreaper), which catches double-forked daemons.
  if (child.pidfd >= 0) ::syscall(SYS_pidfd_send_signal, child.pidfd, sig, nullptr, 0);
  ::kill(-child.pid, sig);
  // With no child at all (the server reaped, nothing reparented to us) there is no tree left to
  // find, and the walk below reads every process's stat file: skip it.
  siginfo_t any{};
  if (::waitid(P_ALL, 0, &any, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD) return;
  std::vector<pid_t> todo = children_of(::getpid());
  for (size_t i = 0; i < todo.size(); ++i) {
    pid_t p = todo[i];
    ::kill(p, sig);
    for (pid_t c : children_of(p)) todo.push_back(c);
    if (todo.size() > 4096) break;
  }
}

SpawnResult spawn_plain(const Policy& policy, const std::vector<std::string>& argv,
                        const Stdio& stdio, const std::function<void()>& meanwhile) {
  SpawnResult r;
  std::string error;
  int code = 0;
  std::filesystem::path exe = resolve_command(argv[0], &code, &error);
  if (exe.empty()) {
    r.exit_code = code;
    r.error = error;
    return r;
  }
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  // Without isolation the environment stays mcpcell's, but the profile's fixed values still
  // apply (e.g. the memory server's data file redirected into its private state directory).
  // Built here, before fork: the child may not allocate.
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    std::string_view key = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const auto& [k, v] : policy.env_set) overridden = overridden || key == k;
    if (!overridden) env_storage.emplace_back(kv);
  }
  for (const auto& [k, v] : policy.env_set) env_storage.push_back(k + "=" + v);
  std::vector<char*> cenv;
  for (auto& e : env_storage) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    r.exit_code = 125;
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    r.exit_code = 125;
    r.error = std::string("fork: ") + std::strerror(errno);
    ::close(report[0]);
    ::close(report[1]);
    return r;
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ChildSteps steps(report[1]);
    steps.run("die with mcpcell", [&] { return die_with_parent(parent); });
    steps.run("attach stdio", [&] { return attach_stdio(stdio, report[1]); });
    steps.run("new session", [] { return ::setsid() >= 0 ? 0 : errno; });
    steps.run("reset signals", [] { return reset_signals(); });
    steps.run("close other fds", [&] { return close_fds_except(report[1]); });
    grow_fd_table();
    ::execve(exe.c_str(), cargv.data(), cenv.data());
    steps.fail("exec ", errno);
  }
  ::close(report[1]);
  if (meanwhile) meanwhile();
  ChildReport rep = read_child_report(report[0]);
  ::close(report[0]);
  if (!rep.ok) {
    int status;
    ::waitpid(pid, &status, 0);
    r.exit_code = rep.err == ENOENT ? 127 : rep.err == EACCES || rep.err == ENOEXEC ? 126 : 125;
    r.error = "could not start " + argv[0] + ": step '" + rep.step +
              "' failed: " + std::strerror(rep.err);
    return r;
  }
  r.ok = true;
  r.child.pid = pid;
  r.child.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  r.child.info = {{"isolated", false}, {"mode", "none"}};
  return r;
}

SpawnResult spawn(const Policy& policy, const std::vector<std::string>& argv, const Stdio& stdio,
                  const std::function<void()>& meanwhile) {
  if (argv.empty()) {
    SpawnResult r;
    r.exit_code = 125;
    r.error = "no command given";
    return r;
  }
  if (!policy.isolate) return spawn_plain(policy, argv, stdio, meanwhile);
  return spawn_isolated(policy, argv, stdio, meanwhile);
}

}  // namespace mcpcell::sandbox
