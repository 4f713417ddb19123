// What this kernel and system allow, for `mcpcell doctor`: each check says what it found and, when
// something is missing, exactly what to do. The decisive check is a trial: a real isolated spawn of
// /bin/true with an empty policy.
#pragma once

#include <string>
#include <vector>

namespace mcpcell::sandbox {

struct Check {
  std::string name;    // "user namespaces"
  enum Level { Ok, Warn, Fail } level = Ok;
  std::string detail;  // what was found
  std::string fix;     // what to do, when not Ok
};

// Every check except the trial spawn.
std::vector<Check> probe_system();

// Spawns /bin/true isolated with state under `state_dir`; Ok when it ran and exited 0.
Check probe_trial(const std::string& state_dir, const std::string& config_dir);

}  // namespace mcpcell::sandbox
