#include "commands/install_phase.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>

#include "commands/network.h"
#include "core/identity.h"

namespace mcpcell {

InstallPlan plan_install(const std::vector<std::string>& argv,
                         const std::vector<std::string>& install_hosts, bool isolated) {
  InstallPlan plan;
  PackageRef ref = package_of(argv);
  if (ref.ecosystem.empty() || install_hosts.empty() || !isolated || argv.empty()) return plan;
  plan.hosts = install_hosts;
  std::string tool = argv[0].substr(argv[0].rfind('/') + 1);
  bool npx = tool == "npx",
       npm_exec = tool == "npm" && argv.size() > 1 && (argv[1] == "exec" || argv[1] == "x");
  if (ref.ecosystem != "npm" || (!npx && !npm_exec) || ref.name.empty()) {
    plan.mode = InstallPlan::Mode::kWholeRun;
    return plan;
  }
  // npm keys its npx cache directory by the package specs as written, so the step names the
  // package exactly as the server's command does; `true` runs instead of the package's binary.
  std::string spec = ref.name + (ref.version.empty() ? "" : "@" + ref.version);
  plan.mode = InstallPlan::Mode::kSeparate;
  plan.argv = {argv[0]};
  if (npm_exec) plan.argv.push_back("exec");
  plan.argv.insert(plan.argv.end(), {"--yes", "--package=" + spec, "--", "true"});
  // The server then resolves the package from the cache alone: no registry request at all.
  plan.offline_env = {{"npm_config_offline", "true"}, {"npm_config_prefer_online", "false"}};
  return plan;
}

namespace {

// Waits for the step, answering the sandbox's syscall notifications meanwhile (an unanswered
// one would block the step forever). -1 when it ran out of time.
int wait_step(const sandbox::Child& child, AuditLog& audit, int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (true) {
    pollfd p[2] = {{child.pidfd, POLLIN, 0}, {child.notify_fd, POLLIN, 0}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    int n = ::poll(p, child.notify_fd >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) return -1;
    if (n > 0 && child.notify_fd >= 0 && (p[1].revents & POLLIN)) {
      if (auto d = sandbox::answer_notification(child.notify_fd))
        audit.event(
            "sandbox.denied",
            {{"what", "syscall"}, {"syscall", d->syscall}, {"pid", d->pid}, {"phase", "install"}});
    }
    if (n > 0 && (p[0].revents & (POLLIN | POLLHUP))) {
      int status = 0;
      while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
}

}  // namespace

Status run_install_phase(const InstallPlan& plan, const sandbox::Policy& server_policy,
                         AuditLog& audit, nlohmann::json* summary, int timeout_s) {
  sandbox::Policy policy = server_policy;
  Network network;
  if (Status s = network.prepare(plan.hosts, true, &policy); !s)
    return Status::Error("network.install: " + s.message());
  nlohmann::json command = nlohmann::json::array();
  for (const std::string& a : plan.argv) command.push_back(a);
  audit.event("install.start", {{"command", command}, {"hosts", plan.hosts}});
  auto t0 = std::chrono::steady_clock::now();
  int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = ::fcntl(2, F_DUPFD_CLOEXEC, 3), err = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
  sandbox::SpawnResult spawned = sandbox::spawn(policy, plan.argv, {in, out, err});
  for (int fd : {in, out, err})
    if (fd >= 0) ::close(fd);
  int code = spawned.exit_code;
  std::string reason = spawned.error;
  if (spawned.ok) {
    if (Status s = network.start(audit, "install"); !s) {
      sandbox::signal_tree(spawned.child, SIGKILL);
      reason = s.message();
    }
    code = wait_step(spawned.child, audit, timeout_s);
    if (code < 0) reason = "timed out after " + std::to_string(timeout_s) + " s";
    if (code < 0) {  // still running (an exit ends its whole pid namespace)
      sandbox::signal_tree(spawned.child, SIGKILL);
      int status;
      ::waitpid(spawned.child.pid, &status, 0);
    }
    for (int fd : {spawned.child.pidfd, spawned.child.notify_fd})
      if (fd >= 0) ::close(fd);
  }
  // Revokes the install hosts: every connection still open is closed (and recorded) here.
  network.stop();
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  nlohmann::json end = {{"exit", code}, {"ms", ms.count()}, {"hosts_revoked", plan.hosts}};
  if (!reason.empty()) end["reason"] = reason;
  audit.event("install.end", end);
  *summary = {{"phase", "separate"},
              {"command", command},
              {"hosts", plan.hosts},
              {"exit", code},
              {"offline_env", nlohmann::json::object()}};
  for (const auto& [k, v] : plan.offline_env) (*summary)["offline_env"][k] = v;
  if (code != 0)
    return Status::Error(
        "the package install step (" + plan.argv[0] + " --package) failed" +
        (reason.empty() ? " with exit status " + std::to_string(code) : ": " + reason));
  return Status::Ok();
}

}  // namespace mcpcell
