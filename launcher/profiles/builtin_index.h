// The `match` section of every shipped profile (not the runtime bases), extracted at build time by
// mcpcell-profile-index with the run-time parser, sorted by name.
#pragma once

#include <string>
#include <vector>

#include "profiles/profile.h"

namespace mcpcell::profiles {

struct BuiltinMatch {
  std::string name;
  Match match;
};

const std::vector<BuiltinMatch>& builtin_matches();

}  // namespace mcpcell::profiles
