// Landlock, as a second wall behind the mount namespace: the sandbox's own filesystem view is
// allowed for reading and executing, only its writable places for writing, and (ABI 6 and later)
// abstract unix sockets and signals are scoped to the sandbox. Debian 12's headers only describe
// ABI 2, so the newer constants are defined here from the kernel's UAPI.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcpcell::sandbox {

// The best ABI this kernel offers, 0 when Landlock is missing or disabled.
int landlock_abi();

struct LandlockRule {
  std::string path;  // inside the sandbox (after pivot_root)
  uint64_t access;
};

struct LandlockPlan {
  int abi = 0;
  uint64_t handled_fs = 0;
  uint64_t scoped = 0;
  std::vector<LandlockRule> rules;
};

enum class Access { Read, ReadWrite, Device };
// Adds the rights for `what` on `path`, masked to what `plan.abi` knows.
void landlock_allow(LandlockPlan* plan, const std::string& path, Access what);
// Fills abi, handled_fs and scoped for `abi`.
LandlockPlan landlock_plan(int abi);
// Names of the scopes in force, for the audit record.
std::vector<std::string> landlock_scope_names(const LandlockPlan& plan);

// Child side (no allocation): applies the plan to the calling process. Needs no_new_privs.
// Returns 0 or an errno value. Paths that do not exist are skipped.
int landlock_apply(const LandlockPlan& plan);

}  // namespace mcpcell::sandbox
