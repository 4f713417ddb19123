// cgroup v2 limits (memory.max, pids.max) for the sandbox, where the user's session delegates a
// writable cgroup with those controllers. mcpcell never asks for privileges: without delegation the
// sandbox falls back to rlimits and `mcpcell doctor` says why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcpcell::sandbox {

struct CgroupProbe {
  bool usable = false;
  std::string base;        // the delegated cgroup directory under which sandboxes are created
  std::string reason;      // why not usable
  bool move_self = false;  // mcpcell must first move itself into a leaf below `base`
};
CgroupProbe cgroup_probe();

// Creates a fresh cgroup for one sandbox with the given limits and returns an O_DIRECTORY fd for
// clone3(CLONE_INTO_CGROUP), or -1 with `reason` set. Adds the directory it made the group in to
// `leftovers` (see remove_leftover_groups).
int cgroup_create(uint64_t memory_bytes, uint64_t tasks, std::string* path, std::string* reason,
                  std::vector<std::string>* leftovers = nullptr);

// The cgroup v1 fallback for hybrid hosts (where v1 owns the pids and memory controllers; writable
// in practice only for root, which RLIMIT_NPROC does not bind): creates one group per controller
// and returns their `tasks` files. mcpcell makes them once the sandbox's first process exists and
// hands it the files' descriptors; that process joins them itself before its limits and the
// server, by writing "0" (itself) to each: moving the calling thread alone is the one v1 migration
// that does not take cgroup_threadgroup_rwsem for writing, whose rcu_sync costs a full RCU grace
// period (4-11 ms measured) per spawn; that process is single-threaded, so its thread is all of it.
// False with `reason` when unavailable.
bool cgroup_v1_create(uint64_t memory_bytes, uint64_t tasks, std::vector<std::string>* task_files,
                      std::vector<std::string>* dirs, std::string* reason,
                      std::vector<std::string>* leftovers = nullptr);

// Removes the empty groups that earlier sandboxes left in `bases`, except those in `keep` (this
// sandbox's own, which its first process may not have joined yet) and those of another mcpcell
// that still runs. Called once the sandbox's child exists, so that its setup, not mcpcell's
// start, waits on nothing here: removing a memory group costs the kernel ~0.1 ms each.
void remove_leftover_groups(const std::vector<std::string>& bases,
                            const std::vector<std::string>& keep);

}  // namespace mcpcell::sandbox
