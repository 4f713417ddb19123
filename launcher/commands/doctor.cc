// mcpcell doctor: what this kernel and system support for the sandbox, what mcpcell will use, and
// for anything missing the exact fix. Ends with a trial (a real isolated /bin/true); exits 0 when a
// sandbox can be made and the scan module loads (without it no session starts), 1 otherwise.
// `--json` prints the same as one JSON object.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "io/paths.h"
#include "sandbox/probe.h"
#include "scan/module.h"

namespace mcpcell {

namespace {

// Hyperscan and RE2 come from mcpcell's scan module (scan/module.h); a session cannot start
// without it, so the check loads it for real.
sandbox::Check scan_module_check() {
  sandbox::Check c{"scan module", sandbox::Check::Ok, "", ""};
  std::string error;
  if (scan::scan_module(&error) == nullptr) {
    c.level = sandbox::Check::Fail;
    c.detail = error;
    c.fix = "reinstall mcpcell: its scan module (mcpcell-scan.so) belongs next to the binary or "
            "in <prefix>/lib/mcpcell/";
    return c;
  }
  c.detail = scan::scan_module_path() + " loads (Hyperscan and RE2)";
  return c;
}

}  // namespace

int cmd_doctor(const Args& args) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json") {
      json = true;
    } else if (a == "--help" || a == "-h") {
      std::fprintf(stdout, "usage: mcpcell doctor [--json]\n\n"
                           "Checks user namespaces, seccomp user notification, Landlock, cgroup v2 "
                           "delegation, and starts a trial sandbox; then loads the scan module.\n"
                           "Exit 0 when a sandbox can be made and the scan module loads.\n");
      return 0;
    } else {
      return fail(125, "doctor: unknown option " + a, "usage: mcpcell doctor [--json]");
    }
  }
  std::vector<sandbox::Check> checks = sandbox::probe_system();
  checks.push_back(sandbox::probe_trial(state_dir().string(), config_dir().string()));
  bool usable = checks.back().level != sandbox::Check::Fail;
  checks.push_back(scan_module_check());
  bool scans = checks.back().level != sandbox::Check::Fail;

  if (json) {
    nlohmann::json out = {{"sandbox_available", usable},
                          {"scan_module", scans},
                          {"checks", nlohmann::json::array()}};
    for (const auto& c : checks) {
      const char* level = c.level == sandbox::Check::Ok ? "ok"
                          : c.level == sandbox::Check::Warn ? "warn" : "fail";
      nlohmann::json j = {{"name", c.name}, {"level", level}, {"detail", c.detail}};
      if (!c.fix.empty()) j["fix"] = c.fix;
      out["checks"].push_back(j);
    }
    std::fprintf(stdout, "%s\n", out.dump(2).c_str());
    return usable && scans ? 0 : 1;
  }
  for (const auto& c : checks) {
    const char* tag = c.level == sandbox::Check::Ok ? "ok  " : c.level == sandbox::Check::Warn
                                                                   ? "warn"
                                                                   : "FAIL";
    std::fprintf(stdout, "[%s] %-17s %s\n", tag, c.name.c_str(), c.detail.c_str());
    if (!c.fix.empty()) std::fprintf(stdout, "       fix: %s\n", c.fix.c_str());
  }
  if (usable) {
    std::fprintf(stdout,
                 "\nmcpcell will run servers in new user, mount, pid, net, ipc, uts and cgroup "
                 "namespaces on a tmpfs root, with all capabilities dropped, no_new_privs, a seccomp "
                 "allowlist (refused calls logged as sandbox.denied), Landlock where listed above, "
                 "and cgroup limits where delegated (else rlimits).\n");
  } else {
    std::fprintf(stdout,
                 "\nA sandbox cannot be made here: fix the failing item above. `mcpcell "
                 "--no-sandbox -- ...` relays without isolation (loudly; not advised).\n");
  }
  if (!scans)
    std::fprintf(stdout,
                 "\nNo session can start until the scan module loads (it scans every message).\n");
  return usable && scans ? 0 : 1;
}

}  // namespace mcpcell
