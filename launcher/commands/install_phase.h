// The package download phase of a package runner (`npx -y PKG`, `npm exec`), apart from the
// server: the profile's `network.install` hosts are reachable only by a separate sandboxed step
// that fills the server's own private cache, and the server then runs offline from that cache
// with only `network.allow` (docs/network.md, "Install phase").
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "io/audit.h"
#include "sandbox/sandbox.h"

namespace mcpcell {

struct InstallPlan {
  enum class Mode {
    kNone,      // not a package runner, no install hosts, or not sandboxed
    kSeparate,  // a separate install step; the server gets no install hosts
    kWholeRun,  // a runner with no separate step yet (uvx, pipx, pnpm/yarn dlx, bunx): the
                // install hosts stay reachable for the whole run, and session.start says so
  } mode = Mode::kNone;
  std::vector<std::string> argv;  // the install step's command (kSeparate)
  std::vector<std::pair<std::string, std::string>> offline_env;  // set for the server (kSeparate)
  std::vector<std::string> hosts;                                // network.install
};

// Pure: what to do for `argv` with these install hosts.
InstallPlan plan_install(const std::vector<std::string>& argv,
                         const std::vector<std::string>& install_hosts, bool isolated);

// Runs the install step under `policy` (the server's: same private HOME and cache) with only the
// install hosts reachable, waits for it (at most `timeout_s`), and records install.start, its
// net.* records (phase "install") and install.end. Its output goes to mcpcell's stderr. An error
// when it could not run or did not succeed. *summary gets what session.start reports.
Status run_install_phase(const InstallPlan& plan, const sandbox::Policy& policy, AuditLog& audit,
                         nlohmann::json* summary, int timeout_s = 600);

}  // namespace mcpcell
