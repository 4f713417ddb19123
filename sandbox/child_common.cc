#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sandbox/internal.h"

namespace mcpcell::sandbox {

ChildReport read_child_report(int fd) {
  ChildReport rep;
  StepFailure sf{};
  size_t got = 0;
  while (got < sizeof sf) {
    ssize_t n = ::read(fd, reinterpret_cast<char*>(&sf) + got, sizeof sf - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got == sizeof sf) {
    rep.ok = false;
    sf.step[sizeof sf.step - 1] = '\0';
    rep.step = sf.step;
    rep.err = sf.err;
  }
  return rep;
}

int die_with_parent(pid_t parent) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return errno;
  // The parent may have died between fork and prctl; then we were reparented already.
  if (::getppid() != parent) return ESRCH;
  return 0;
}

int attach_stdio(const Stdio& stdio, int keep_fd) {
  // Move the sources out of the 0..2 range first so a dup2 cannot clobber a later source.
  int fds[3] = {stdio.in, stdio.out, stdio.err};
  for (int i = 0; i < 3; ++i) {
    if (fds[i] >= 0 && fds[i] <= 2) {
      int moved = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
      if (moved < 0) return errno;
      if (moved == keep_fd) return EBADF;
      fds[i] = moved;
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (fds[i] < 0) {
      int null = ::open("/dev/null", O_RDWR);
      if (null < 0) return errno;
      fds[i] = null;
    }
    if (::dup2(fds[i], i) < 0) return errno;
  }
  return 0;
}

int reset_signals() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    ::sigaction(s, &sa, nullptr);  // some numbers are reserved by libc: ignore their errors
  }
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return errno;
  return 0;
}

int close_fds_except(int keep_fd) {
  // close_range(2) closes everything in one call (Linux 5.9); keep_fd survives until exec, which
  // closes it through O_CLOEXEC.
  if (keep_fd > 3 && ::syscall(SYS_close_range, 3, keep_fd - 1, 0) != 0) return errno;
  if (keep_fd == 3) {
    // nothing below keep_fd to close
  } else if (keep_fd < 3) {
    return EBADF;
  }
  if (::syscall(SYS_close_range, keep_fd + 1, ~0U, 0) != 0) return errno;
  return 0;
}

void grow_fd_table() {
  // The descriptor table starts with 64 slots and grows on demand. Growing it while threads share
  // it waits for an RCU grace period (expand_fdtable), 12-15 ms on a busy VM, and every thread
  // that opens a file meanwhile waits too: Node passes fd 64 during its start while its threadpool
  // opens modules. Grown here, single-threaded, it costs nothing, and exec keeps the table (it is
  // not shared). A low RLIMIT_NOFILE makes this fail: the table then grows later, as before.
  int fd = ::fcntl(0, F_DUPFD, kFdTableSlots - 1);
  if (fd >= 0) ::close(fd);
}

}  // namespace mcpcell::sandbox
