// cgroup v2 limits (memory.max, pids.max) for the sandbox, where the user's session delegates a
// writable cgroup with those controllers. mcpcell never asks for privileges: without delegation the
// sandbox falls back to rlimits and `mcpcell doctor` says why.
#pragma once

#include <cstdint>
#include <string>

namespace mcpcell::sandbox {

struct CgroupProbe {
  bool usable = false;
  std::string base;    // the delegated cgroup directory under which sandboxes are created
  std::string reason;  // why not usable
  bool move_self = false;  // mcpcell must first move itself into a leaf below `base`
};
CgroupProbe cgroup_probe();

// Creates a fresh cgroup for one sandbox with the given limits and returns an O_DIRECTORY fd for
// clone3(CLONE_INTO_CGROUP), or -1 with `reason` set. Removes empty leftovers of earlier sandboxes.
int cgroup_create(uint64_t memory_bytes, uint64_t tasks, std::string* path, std::string* reason);

}  // namespace mcpcell::sandbox
