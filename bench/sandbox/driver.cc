// sandbox-driver: spawns one command through sandbox::spawn() exactly as the relay does (answering
// seccomp notifications while it runs) but without the relay, so the sandbox's start-up cost can be
// measured alone and its behaviour tried by hand. Stdio is inherited.
//
//   sandbox-driver [--no-sandbox] [--read P] [--write P] [--hide P] [--env NAME] [--group @G]
//                  [--name NAME] [--state DIR] [--info] [--denials] -- COMMAND [ARG...]
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "sandbox/sandbox.h"

using namespace mcpcell::sandbox;

int main(int argc, char** argv) {
  Policy p;
  p.server_name = "sandbox-driver";
  const char* xdg = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  p.state_dir = std::string(xdg ? xdg : std::string(home ? home : "/tmp") + "/.local/state") +
                "/mcpcell";
  p.config_dir = std::string(home ? home : "/tmp") + "/.config/mcpcell";
  bool info = false, denials = false;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--") {
      ++i;
      break;
    } else if (a == "--no-sandbox") {
      p.isolate = false;
    } else if (a == "--read") {
      p.fs_read.push_back(next());
    } else if (a == "--write") {
      p.fs_write.push_back(next());
    } else if (a == "--hide") {
      p.fs_hide.push_back(next());
    } else if (a == "--env") {
      p.env_pass.push_back(next());
    } else if (a == "--group") {
      p.syscall_groups.push_back(next());
    } else if (a == "--name") {
      p.server_name = next();
    } else if (a == "--state") {
      p.state_dir = next();
    } else if (a == "--info") {
      info = true;
    } else if (a == "--denials") {
      denials = true;
    } else {
      std::fprintf(stderr, "sandbox-driver: unknown option %s\n", a.c_str());
      return 125;
    }
  }
  if (i >= argc) {
    std::fprintf(stderr, "sandbox-driver: no command\n");
    return 125;
  }
  std::vector<std::string> cmd(argv + i, argv + argc);
  prepare_supervisor();
  Stdio io{0, 1, 2};
  SpawnResult r = spawn(p, cmd, io);
  if (!r.ok) {
    std::fprintf(stderr, "sandbox-driver: %s\n", r.error.c_str());
    return r.exit_code;
  }
  if (info) std::fprintf(stderr, "%s\n", r.child.info.dump().c_str());
  int notify = r.child.notify_fd;
  for (;;) {
    pollfd fds[2] = {{r.child.pidfd, POLLIN, 0}, {notify, POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0) continue;
    // POLLHUP: every task under the filter is gone; stop watching (it would stay ready).
    if (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) notify = -1;
    if (fds[1].revents & POLLIN) {
      auto d = answer_notification(r.child.notify_fd);
      if (d && denials)
        std::fprintf(stderr, "sandbox.denied syscall=%s pid=%d comm=%s errno=%d\n",
                     d->syscall.c_str(), d->pid, d->comm.c_str(), d->error);
    }
    if (fds[0].revents & POLLIN) break;
  }
  int status = 0;
  ::waitpid(r.child.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
