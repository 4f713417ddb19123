// Real spawns through the isolated path: /bin/true, exit statuses, refused syscalls reported
// through the notification fd, the view from inside, and fail-closed errors. Skips only when the
// kernel cannot create the namespaces at all (printing why).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "sandbox/sandbox.h"

namespace mcpcell::sandbox {
namespace {

struct Outcome {
  bool ok = false;
  int exit_code = -1;  // mcpcell-style: status, or 128+N
  std::string out, error;
  std::vector<Denial> denials;
  nlohmann::json info;
};

struct SmokeTest : ::testing::Test {
  std::filesystem::path dir;
  void SetUp() override {
    char tmpl[] = "/tmp/mcpcell-sandbox-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Policy policy() {
    Policy p;
    p.server_name = "smoke";
    p.state_dir = dir / "state";
    p.config_dir = dir / "config";
    p.cwd = "/";
    return p;
  }
  Outcome run(const Policy& p, const std::vector<std::string>& argv) {
    Outcome r;
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return r;
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    Stdio io{null, out[1], null};
    SpawnResult s = spawn(p, argv, io);
    ::close(out[1]);
    ::close(null);
    if (!s.ok) {
      ::close(out[0]);
      r.error = s.error;
      r.exit_code = s.exit_code;
      return r;
    }
    r.ok = true;
    r.info = s.child.info;
    bool out_open = true;
    int notify = s.child.notify_fd;
    for (;;) {
      pollfd fds[3] = {
          {s.child.pidfd, POLLIN, 0}, {notify, POLLIN, 0}, {out_open ? out[0] : -1, POLLIN, 0}};
      if (::poll(fds, 3, 20000) <= 0) {
        signal_tree(s.child, SIGKILL);
        break;
      }
      if (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) notify = -1;
      if (fds[1].revents & POLLIN)
        if (auto d = answer_notification(s.child.notify_fd)) r.denials.push_back(*d);
      if (fds[2].revents & (POLLIN | POLLHUP)) {
        char buf[4096];
        ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n > 0)
          r.out.append(buf, static_cast<size_t>(n));
        else
          out_open = false;
      }
      if ((fds[0].revents & POLLIN) && !out_open) break;
      if ((fds[0].revents & POLLIN) && !(fds[2].revents & POLLIN)) break;
    }
    int status = 0;
    ::waitpid(s.child.pid, &status, 0);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    ::close(s.child.pidfd);
    if (s.child.notify_fd >= 0) ::close(s.child.notify_fd);
    if (s.child.status_fd >= 0) ::close(s.child.status_fd);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
  }
  // Skips when the kernel cannot make namespaces here; otherwise the run must have started.
  bool started(const Outcome& r) {
    if (!r.ok && r.error.find("cannot create the sandbox's namespaces") != std::string::npos) {
      std::printf("SKIP: %s\n", r.error.c_str());
      return false;
    }
    EXPECT_TRUE(r.ok) << r.error;
    return r.ok;
  }
};

TEST_F(SmokeTest, TrueRunsIsolated) {
  Outcome r = run(policy(), {"/bin/true"});
  if (!started(r)) GTEST_SKIP();
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.info.value("isolated", false));
  EXPECT_EQ(r.info["namespaces"].size(), 7u);
  EXPECT_TRUE(r.info.contains("landlock"));
  EXPECT_TRUE(std::filesystem::is_directory(dir / "state/homes/smoke"));
}

TEST_F(SmokeTest, ExitStatusesPropagate) {
  Outcome r = run(policy(), {"/bin/sh", "-c", "exit 7"});
  if (!started(r)) GTEST_SKIP();
  EXPECT_EQ(r.exit_code, 7);
  r = run(policy(), {"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
}

TEST_F(SmokeTest, TheViewFromInside) {
  Outcome r =
      run(policy(), {"/bin/sh", "-c",
                     "cat /proc/self/status | grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):';"
                     "ls /proc | grep -c '^[0-9]';"
                     "hostname; echo HOME=$HOME; ls /run /sys /home 2>&1 | head -3;"
                     "touch /usr/x 2>&1; touch /x 2>&1; touch $HOME/ok && echo home-writable"});
  if (!started(r)) GTEST_SKIP();
  EXPECT_NE(r.out.find("CapEff:\t0000000000000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapBnd:\t0000000000000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NoNewPrivs:\t1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mcpcell\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HOME=" + (dir / "state/homes/smoke").string()), std::string::npos);
  EXPECT_NE(r.out.find("'/run': No such file"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("'/sys': No such file"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Read-only file system"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("home-writable"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "state/homes/smoke/ok"));
}

TEST_F(SmokeTest, RefusedSyscallsAreReportedAndAnswered) {
  // python3 is in /usr: io_uring_setup (ENOSYS), bpf (EPERM), TIOCSTI with high bits (EPERM).
  const char* script =
      "import ctypes, errno\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "libc.syscall.restype = ctypes.c_long\n"
      "def t(*a):\n"
      "  r = libc.syscall(*[ctypes.c_long(x) for x in a]); print(r, ctypes.get_errno())\n"
      "t(425, 1, 0)\n"
      "t(321, 0, 0, 0)\n"
      "t(16, 0, (1 << 32) | 0x5412, 0)\n";
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  Outcome r = run(policy(), {"/usr/bin/python3", "-c", script});
  if (!started(r)) GTEST_SKIP();
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("-1 38\n-1 1\n-1 1\n"), std::string::npos) << r.out;
  std::vector<std::string> names;
  for (const auto& d : r.denials) names.push_back(d.syscall);
  for (const char* want : {"io_uring_setup", "bpf", "ioctl"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  for (const auto& d : r.denials) {
    if (d.syscall == "io_uring_setup") {
      EXPECT_EQ(d.error, ENOSYS);
    }
    if (d.syscall == "bpf") {
      EXPECT_EQ(d.error, EPERM);
      EXPECT_GT(d.pid, 0);
      EXPECT_NE(d.comm, "");
    }
  }
}

TEST_F(SmokeTest, CommandErrors) {
  Outcome r = run(policy(), {"/no/such/binary"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.exit_code, 127);
  // Exists on the host but is masked inside (an empty mode-0 file): not executable.
  std::filesystem::path exe = dir / "tool";
  std::filesystem::copy_file("/bin/true", exe);
  Policy p = policy();
  p.fs_hide = {exe.string()};  // hide wins over the automatic grant
  r = run(p, {exe.string()});
  if (!r.ok && r.error.find("namespaces") != std::string::npos) GTEST_SKIP();
  EXPECT_EQ(r.exit_code, 126) << r.error;
  EXPECT_NE(r.error.find("could not start"), std::string::npos) << r.error;
}

TEST_F(SmokeTest, UnknownSyscallGroupFailsClosed) {
  Policy p = policy();
  p.syscall_groups = {"@mount"};
  Outcome r = run(p, {"/bin/true"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.exit_code, 125);
}

TEST_F(SmokeTest, GrantsAndMasks) {
  std::filesystem::create_directories(dir / "data/secret");
  std::filesystem::create_directories(dir / "out");
  {
    std::FILE* f = std::fopen((dir / "data/readme").c_str(), "w");
    std::fputs("hello", f);
    std::fclose(f);
  }
  {
    std::FILE* f = std::fopen((dir / "data/secret/key").c_str(), "w");
    std::fputs("k", f);
    std::fclose(f);
  }
  Policy p = policy();
  p.fs_read = {(dir / "data").string()};
  p.fs_write = {(dir / "out").string()};
  p.fs_hide = {(dir / "data/secret").string()};
  std::string d = dir.string();
  Outcome r = run(p, {"/bin/sh", "-c",
                      "cat " + d + "/data/readme; echo; cat " + d +
                          "/data/secret/key 2>&1;"
                          "touch " +
                          d + "/data/new 2>&1; echo x > " + d + "/out/file && echo wrote"});
  if (!started(r)) GTEST_SKIP();
  EXPECT_NE(r.out.find("hello\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("k\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Permission denied"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Read-only file system"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "out/file"));
  EXPECT_FALSE(std::filesystem::exists(dir / "data/new"));
}

}  // namespace
}  // namespace mcpcell::sandbox

namespace mcpcell::sandbox {
namespace {

TEST_F(SmokeTest, ServerCannotSignalInit) {
  Outcome r = run(policy(), {"/usr/bin/python3", "-c",
                             "import os\ntry:\n  os.kill(1, 0); print('reached')\n"
                             "except OSError as e: print('errno', e.errno)"});
  if (!started(r)) GTEST_SKIP();
  if (r.info["landlock"].value("abi", 0) < 6) GTEST_SKIP() << "Landlock signal scoping needs ABI 6";
  EXPECT_NE(r.out.find("errno 1"), std::string::npos) << r.out;
}

TEST_F(SmokeTest, ForkBombStopsAtTheTaskLimit) {
  Policy p = policy();
  p.limits.tasks = 40;
  Outcome r = run(p, {"/usr/bin/python3", "-c",
                      "import os, time, sys\nn = 0\n"
                      "for i in range(200):\n"
                      "  try: pid = os.fork()\n"
                      "  except OSError: break\n"
                      "  if pid == 0: time.sleep(5); os._exit(0)\n"
                      "  n += 1\n"
                      "print('started', n); sys.stdout.flush(); os._exit(0)"});
  if (!started(r)) GTEST_SKIP();
  EXPECT_TRUE(r.info["cgroup"].contains("pids_max") || r.info["rlimits"].contains("nproc"));
  size_t at = r.out.find("started ");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_LE(std::atoi(r.out.c_str() + at + 8), 40) << r.out;
}

// Memory is bounded one way or the other: by the sandbox's memory group, which the server is in,
// or, without one (no delegated v2 group; v1 only for root), by RLIMIT_DATA, and session.start says
// which. As root on a v1 host the group is made while the child builds its root and handed over
// on the setup socket, so both ends of that handover are exercised: root's and, in a child that
// becomes `nobody`, the empty one.
std::string memory_bound_problem(const nlohmann::json& info, const std::string& out, uint64_t mem) {
  std::string data = out.substr(0, out.find('\n'));
  const nlohmann::json& cg = info["cgroup"];
  if (cg.contains("memory_max")) {
    if (data != "unlimited") return "in a memory group, yet ulimit -d is " + data;
    if (info["rlimits"].contains("data")) return "in a memory group, yet a data limit is reported";
    for (const auto& d : cg.value("paths", nlohmann::json::array()))
      if (out.find(std::filesystem::path(d.get<std::string>()).filename().string()) ==
          std::string::npos)
        return "not inside " + d.get<std::string>() + ": " + out;
    return "";
  }
  if (data != std::to_string(mem / 1024)) return "no memory group, yet ulimit -d is " + data;
  if (info["rlimits"].value("data", uint64_t{0}) != mem) return "no data limit reported";
  return "";
}

TEST_F(SmokeTest, MemoryIsBoundedByTheGroupOrByTheDataLimit) {
  const uint64_t mem = 1ULL << 30;
  Policy p = policy();
  p.limits.memory_bytes = mem;
  const std::vector<std::string> argv = {"/bin/sh", "-c", "ulimit -d; cat /proc/self/cgroup"};
  Outcome mine = run(p, argv);
  if (!started(mine)) GTEST_SKIP();
  EXPECT_EQ(memory_bound_problem(mine.info, mine.out, mem), "") << mine.info.dump();
  if (::geteuid() != 0) return;
  // As `nobody`: no group can be made, so the child is handed none and limits its data segment.
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    ::lchown(e.path().c_str(), 65534, 65534);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0)
      ::_exit(3);
    // Changing ids left this process undumpable (as an exec'd `nobody` would not be), and its
    // /proc/self/uid_map then belongs to root.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    Outcome theirs = run(p, argv);
    std::string msg = theirs.ok ? memory_bound_problem(theirs.info, theirs.out, mem)
                                : "did not start: " + theirs.error;
    if (!msg.empty()) msg += " " + theirs.info.dump();
    ssize_t n = ::write(pipefd[1], msg.data(), msg.size());
    ::_exit(n == static_cast<ssize_t>(msg.size()) ? 0 : 4);
  }
  ::close(pipefd[1]);
  std::string msg;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(msg, "");
}

// Each sandbox's group is left behind when mcpcell exits and removed by a later sandbox, unless its
// mcpcell still runs (its sandbox may not have joined yet).
TEST_F(SmokeTest, LeftoverGroupsAreRemovedButNotThoseOfARunningMcpcell) {
  Outcome first = run(policy(), {"/bin/true"});
  if (!started(first)) GTEST_SKIP();
  const nlohmann::json& cg = first.info["cgroup"];
  std::vector<std::string> made;
  if (cg.contains("path")) made.push_back(cg["path"]);
  if (cg.contains("paths"))
    for (const auto& d : cg["paths"]) made.push_back(d);
  if (made.empty()) {
    std::printf("SKIP: no cgroup for the sandbox here: %s\n", cg.dump().c_str());
    GTEST_SKIP();
  }
  for (const auto& d : made) ASSERT_TRUE(std::filesystem::is_directory(d)) << d;
  std::filesystem::path base = std::filesystem::path(made[0]).parent_path();
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  std::string of_dead = (base / ("mcpcell." + std::to_string(dead) + ".1")).string();
  std::string of_live = (base / ("mcpcell." + std::to_string(::getppid()) + ".1")).string();
  ASSERT_EQ(::mkdir(of_dead.c_str(), 0755), 0) << of_dead;
  ASSERT_EQ(::mkdir(of_live.c_str(), 0755), 0) << of_live;

  Outcome second = run(policy(), {"/bin/sh", "-c", "cat /proc/self/cgroup"});
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.exit_code, 0);
  for (const auto& d : made) EXPECT_FALSE(std::filesystem::exists(d)) << d;
  EXPECT_FALSE(std::filesystem::exists(of_dead));
  EXPECT_TRUE(std::filesystem::exists(of_live));
  ::rmdir(of_live.c_str());
  // The second sandbox's own groups were kept while it started, and it ran inside them.
  const nlohmann::json& cg2 = second.info["cgroup"];
  std::string own =
      cg2.contains("path") ? cg2["path"].get<std::string>() : cg2["paths"][0].get<std::string>();
  EXPECT_NE(second.out.find(std::filesystem::path(own).filename().string()), std::string::npos)
      << second.out;
}

// The server starts with a descriptor table big enough for its start: one that grows while the
// server's threads share it waits for an RCU grace period, and so does every thread that opens a
// file meanwhile (Node passes fd 64 while its threadpool opens modules: 12-15 ms here).
TEST_F(SmokeTest, TheServerStartsWithARoomyDescriptorTable) {
  for (bool isolate : {true, false}) {
    Policy p = policy();
    p.isolate = isolate;
    Outcome r = run(p, {"/bin/sh", "-c", "grep FDSize /proc/$$/status"});
    if (isolate && !started(r)) GTEST_SKIP();
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_NE(r.out.find("FDSize:\t1024"), std::string::npos)
        << (isolate ? "isolated: " : "plain: ") << r.out;
  }
}

}  // namespace
}  // namespace mcpcell::sandbox
