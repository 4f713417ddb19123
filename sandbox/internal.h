// Pieces shared by the plain and the isolated spawn paths. Everything that runs in the child
// between fork/clone and exec must be async-signal-safe: no allocation, no locks, no exceptions.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sandbox.h"

namespace mcpcell::sandbox {

// What the child reports through the close-on-exec pipe when a setup step fails. If exec succeeds
// the pipe closes with nothing written.
struct StepFailure {
  char step[96];
  int err;
};

// Runs named setup steps in the child; the first failure is written to the report pipe and the
// child exits 127 (the parent turns the report into a precise error message).
class ChildSteps {
 public:
  explicit ChildSteps(int report_fd) : fd_(report_fd) {}
  template <typename F>
  void run(const char* step, F&& f) {
    int err = f();
    if (err != 0) fail(step, err);
  }
  [[noreturn]] void fail(const char* step, int err) {
    StepFailure sf{};
    std::strncpy(sf.step, step, sizeof sf.step - 1);
    sf.err = err;
    ssize_t n = ::write(fd_, &sf, sizeof sf);
    (void)n;
    ::_exit(127);
  }

 private:
  int fd_;
};

// What the sandbox's init reports over the same socket once the server runs: kStarted after the
// server's exec (vfork returned), then kExited with the server's wait status when it ends. The size
// tells these apart from a StepFailure and from the listener fd's one-byte message.
struct InitNote {
  static constexpr char kStarted = 'S';
  static constexpr char kExited = 'X';
  char tag;
  int32_t value;
};
static_assert(sizeof(InitNote) != sizeof(StepFailure) && sizeof(InitNote) != 1);

struct ChildReport {
  bool ok = true;
  std::string step;
  int err = 0;
};

// Parent side: reads the pipe until EOF (exec happened) or a StepFailure arrives.
ChildReport read_child_report(int fd);

// Child-side steps; each returns 0 or an errno value.
int die_with_parent(pid_t parent);  // PR_SET_PDEATHSIG(SIGKILL), then checks the race
int attach_stdio(const Stdio& stdio, int keep_fd);  // dup2 onto 0/1/2
int reset_signals();                                // default dispositions, empty mask
int close_fds_except(int keep_fd);                  // closes every fd >= 3 but keep_fd (CLOEXEC)
constexpr int kFdTableSlots = 1024;
void grow_fd_table();  // to kFdTableSlots, right before exec, while single-threaded

SpawnResult spawn_plain(const Policy& policy, const std::vector<std::string>& argv,
                        const Stdio& stdio, const std::function<void()>& meanwhile);
SpawnResult spawn_isolated(const Policy& policy, const std::vector<std::string>& argv,
                           const Stdio& stdio, const std::function<void()>& meanwhile);

}  // namespace mcpcell::sandbox
