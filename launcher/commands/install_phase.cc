#include "commands/install_phase.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>

#include "commands/network.h"

namespace mcpcell {

namespace {

using enum PrefetchShape;

// The options that take a value matter only to find the package operand; one missing here makes
// its value look like the package, and the prefetch then fails loudly (exit 125) rather than
// opening anything.
constexpr std::string_view kNpmValues =
    "--cache --userconfig -c --call --registry -w --workspace --prefix";
constexpr std::string_view kUvValues =
    "--with -w --with-editable --with-requirements --python -p --index --default-index "
    "--index-url -i --extra-index-url --find-links -f --constraints -c --overrides "
    "--build-constraints -b --cache-dir --config-file --directory --project --resolution "
    "--prerelease --index-strategy --keyring-provider --exclude-newer --python-platform "
    "--refresh-package --reinstall-package --upgrade-package -P --link-mode --color "
    "--allow-insecure-host --env-file";
constexpr std::string_view kPnpmValues = "--package --allow-build --reporter";
// npm reads npm_config_* from the environment, and so does pnpm 10 (npm's config format): with
// `offline` they resolve from their cache and metadata alone and send no registry request (pnpm:
// ERR_PNPM_NO_OFFLINE_META for what is not cached). pnpm_config_offline is for later pnpm
// releases, which read pnpm_config_*; pnpm 10 ignores it. uv documents UV_OFFLINE as its
// --offline switch: only cached data is used.
constexpr std::string_view kNpmOffline = "npm_config_offline=true npm_config_prefer_online=false";
constexpr std::string_view kPnpmOffline = "npm_config_offline=true pnpm_config_offline=true";
constexpr std::string_view kUvOffline = "UV_OFFLINE=1";

// clang-format off
constexpr RunnerSpec kRunners[] = {
  // name         tool    sub         value opts   package opts    prefetch      offline
  {"npx",         "npx",  "",         kNpmValues,  "-p --package", kNpmPackage,  kNpmOffline,  ""},
  {"npm exec",    "npm",  "exec",     kNpmValues,  "-p --package", kNpmPackage,  kNpmOffline,  ""},
  {"npm exec",    "npm",  "x",        kNpmValues,  "-p --package", kNpmPackage,  kNpmOffline,  ""},
  {"uvx",         "uvx",  "",         kUvValues,   "--from",       kUvFrom,      kUvOffline,   ""},
  {"uv tool run", "uv",   "tool run", kUvValues,   "--from",       kUvFrom,      kUvOffline,   ""},
  {"pnpm dlx",    "pnpm", "dlx",      kPnpmValues, "--package",    kPnpmPackage, kPnpmOffline, ""},
  {"pnpx",        "pnpx", "",         kPnpmValues, "--package",    kPnpmPackage, kPnpmOffline, ""},
  {"pipx run",    "pipx", "run",      "--python --pip-args --index-url -i --spec --backend",
                                                   "--spec",       kNone,        "",
   "pipx has no step that builds its run environment without running the package, and no "
   "offline switch of its own"},
  {"yarn dlx",    "yarn", "dlx",      "-p --package", "-p --package", kNone,     "",
   "yarn dlx resolves a new temporary project on every run, which Yarn cannot do from its "
   "cache alone"},
  {"bunx",        "bunx", "",         "-p --package", "-p --package", kNone,     "",
   "bunx has no switch that forbids the registry"},
};
// clang-format on

}  // namespace

std::span<const RunnerSpec> package_runners() {
  return kRunners;
}

std::vector<std::string_view> words(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    size_t sp = list.find(' ');
    if (sp != 0) out.push_back(list.substr(0, sp));
    list = sp == std::string_view::npos ? std::string_view() : list.substr(sp + 1);
  }
  return out;
}

namespace {

bool is_option(const std::string& a) {
  return a.size() > 1 && a[0] == '-';
}

bool listed(std::string_view list, std::string_view name) {
  for (std::string_view x : words(list))
    if (x == name) return true;
  return false;
}

const RunnerSpec* runner_of(const std::vector<std::string>& argv) {
  if (argv.empty()) return nullptr;
  std::string_view tool = argv[0];
  tool = tool.substr(tool.rfind('/') + 1);  // npos + 1 == 0: no slash, the whole word
  for (const RunnerSpec& r : package_runners()) {
    std::vector<std::string_view> sub = words(r.sub);
    if (r.tool != tool || argv.size() < 1 + sub.size()) continue;
    bool match = true;
    for (size_t i = 0; i < sub.size(); ++i) match &= argv[1 + i] == sub[i];
    if (match) return &r;
  }
  return nullptr;
}

// The runner's own options before the package operand (as written), and the package as written:
// the first package option's value, else the operand.
struct Scanned {
  std::vector<std::string> options;
  std::string spec;
  bool spec_from_option = false;
};

Scanned scan(const RunnerSpec& r, const std::vector<std::string>& argv) {
  Scanned s;
  for (size_t i = 1 + words(r.sub).size(); i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--" || !is_option(a)) {
      size_t operand = a == "--" ? i + 1 : i;
      if (s.spec.empty() && operand < argv.size()) s.spec = argv[operand];
      break;
    }
    size_t eq = a.find('=');
    std::string_view name = std::string_view(a).substr(0, eq);
    bool package = listed(r.package_options, name);
    bool takes_value = eq == std::string::npos && (package || listed(r.value_options, name));
    std::string value = eq != std::string::npos              ? a.substr(eq + 1)
                        : takes_value && i + 1 < argv.size() ? argv[i + 1]
                                                             : std::string();
    if (package && s.spec.empty()) {
      s.spec = value;
      s.spec_from_option = true;
    }
    s.options.push_back(a);
    if (takes_value && i + 1 < argv.size()) s.options.push_back(argv[++i]);
  }
  return s;
}

}  // namespace

InstallPlan plan_install(const std::vector<std::string>& argv,
                         const std::vector<std::string>& install_hosts, bool isolated) {
  InstallPlan plan;
  const RunnerSpec* r = runner_of(argv);
  if (!r || install_hosts.empty() || !isolated) return plan;
  plan.runner = std::string(r->name);
  plan.hosts = install_hosts;
  Scanned s = scan(*r, argv);
  plan.spec = s.spec;
  if (r->prefetch == PrefetchShape::kNone || s.spec.empty()) {
    plan.mode = InstallPlan::Mode::kUntilReady;
    plan.why = r->prefetch == PrefetchShape::kNone ? std::string(r->fallback_why)
                                                   : "no package named in the command";
    return plan;
  }
  plan.mode = InstallPlan::Mode::kSeparate;
  // The subcommand words as the command writes them.
  std::vector<std::string> sub(argv.begin() + 1, argv.begin() + 1 + words(r->sub).size());
  plan.argv = {argv[0]};
  switch (r->prefetch) {
    case PrefetchShape::kNpmPackage:
      // npm keys its npx cache directory by the package specs as written, so the step names the
      // package exactly as the server's command does; `true` runs instead of the package's bin.
      plan.argv.insert(plan.argv.end(), sub.begin(), sub.end());
      plan.argv.insert(plan.argv.end(), {"--yes", "--package=" + s.spec, "--", "true"});
      break;
    case PrefetchShape::kUvFrom:
      // uv caches a tool run's environment by its requirements (the package, --with, the
      // Python), not by the command, so the same options with `--from SPEC true` build the very
      // environment the server's run then finds; uv runs any command with --from, so `true`
      // stands in for the package's executable and none of its code runs here.
      plan.argv.insert(plan.argv.end(), sub.begin(), sub.end());
      plan.argv.insert(plan.argv.end(), s.options.begin(), s.options.end());
      if (!s.spec_from_option) plan.argv.insert(plan.argv.end(), {"--from", s.spec});
      plan.argv.push_back("true");
      break;
    case PrefetchShape::kPnpmPackage:
      // pnpm keys its dlx cache by the package list; `--package=SPEC` gives the same list as the
      // server's `dlx SPEC`, and then `true` runs instead of the package's bin.
      plan.argv.push_back("--package=" + s.spec);
      plan.argv.insert(plan.argv.end(), sub.begin(), sub.end());
      plan.argv.push_back("true");
      break;
    case PrefetchShape::kNone:
      break;
  }
  for (std::string_view kv : words(r->offline_env)) {
    size_t eq = kv.find('=');
    plan.offline_env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
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
  audit.event("install.start",
              {{"runner", plan.runner}, {"command", command}, {"hosts", plan.hosts}});
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
  *summary = {{"phase", "separate"}, {"runner", plan.runner},
              {"command", command},  {"hosts", plan.hosts},
              {"exit", code},        {"offline_env", nlohmann::json::object()}};
  for (const auto& [k, v] : plan.offline_env) (*summary)["offline_env"][k] = v;
  if (code != 0)
    return Status::Error(
        "the package install step (" + plan.runner + " prefetch of '" + plan.spec + "') failed" +
        (reason.empty() ? " with exit status " + std::to_string(code) : ": " + reason));
  return Status::Ok();
}

}  // namespace mcpcell
