// Answering the sandbox's refused system calls. The filter's default action is
// SECCOMP_RET_USER_NOTIF, so every call outside the allowlist (and every foreign-architecture
// call) blocks until mcpcell answers here. The answer is always a refusal: EPERM, or ENOSYS for
// calls runtimes probe for. Arguments are recorded as raw numbers and never dereferenced — memory
// behind them can change after we look (the USER_NOTIF TOCTOU), so it decides nothing.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "sandbox/internal.h"
#include "sandbox/syscalls.h"

namespace mcpcell::sandbox {
namespace {

std::string read_small(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[2048];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// The kernel's notification structs may be larger than this program's headers: ask once.
size_t notif_size() {
  static size_t size = [] {
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return sizeof(seccomp_notif);
    return std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif));
  }();
  return size;
}
size_t resp_size() {
  static size_t size = [] {
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
      return sizeof(seccomp_notif_resp);
    return std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp));
  }();
  return size;
}

}  // namespace

std::optional<Denial> answer_notification(int notify_fd) {
  std::vector<unsigned char> buf(notif_size(), 0);
  auto* req = reinterpret_cast<seccomp_notif*>(buf.data());
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) return std::nullopt;

  Denial d;
  d.nr = req->data.nr;
  d.arch = req->data.arch;
  d.syscall = syscall_name(req->data.arch, req->data.nr);
  d.host_pid = static_cast<pid_t>(req->pid);
  d.pid = d.host_pid;
  for (int i = 0; i < 6; ++i) d.args[i] = req->data.args[i];
  if (req->pid > 0) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%u/comm", req->pid);
    d.comm = read_small(path);
    while (!d.comm.empty() && d.comm.back() == '\n') d.comm.pop_back();
    std::snprintf(path, sizeof path, "/proc/%u/status", req->pid);
    std::string status = read_small(path);
    // NSpid lists the pid in every namespace from ours inward; the last is the sandbox's.
    size_t at = status.find("\nNSpid:");
    if (at != std::string::npos) {
      size_t end = status.find('\n', at + 1);
      std::string line = status.substr(at + 7, end == std::string::npos ? end : end - at - 7);
      size_t last = line.find_last_of(" \t");
      if (last != std::string::npos) d.pid = static_cast<pid_t>(std::atoi(line.c_str() + last + 1));
    }
    // The pid may have been reused between RECV and reading /proc: then drop what we read.
    uint64_t id = req->id;
    if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) {
      d.comm.clear();
      d.pid = -1;
    }
  }
  d.error = refuse_with_enosys(d.syscall) ? ENOSYS : EPERM;

  std::vector<unsigned char> rbuf(resp_size(), 0);
  auto* resp = reinterpret_cast<seccomp_notif_resp*>(rbuf.data());
  resp->id = req->id;
  resp->val = 0;
  resp->error = -d.error;
  resp->flags = 0;  // never SECCOMP_USER_NOTIF_FLAG_CONTINUE
  // ENOENT here means the task died or was interrupted meanwhile: nothing to answer.
  ::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
  return d;
}

}  // namespace mcpcell::sandbox
