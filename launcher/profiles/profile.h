// One profile file, parsed and validated but not yet expanded: every string keeps the line it was
// written on so that `profile show` can say where each grant came from and errors can point at it.
//
// The format (docs/profiles.md, profiles/schema.json) is JSON with comments:
//   schema 1 (required), description, extends, match{npm,pypi,executables}, filesystem{read,write,
//   hide}, network{allow,install}, env{pass,set}, limits{memory,processes,files}, syscalls{allow},
//   cwd, pins{...}, scan{...}. Unknown keys are errors. Absent or empty lists grant nothing; an
//   absent `network` section means no network at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiles/jsonc.h"

namespace mcpcell::profiles {

// A string from a profile and where it was written.
struct Entry {
  std::string text;
  int line = 0;
};

struct Match {
  std::vector<std::string> npm;          // npm package names, e.g. "@scope/pkg"
  std::vector<std::string> pypi;         // PyPI project names (compared normalized, PEP 503)
  std::vector<std::string> executables;  // basenames of the command, e.g. "mcp-server-git"
  bool empty() const { return npm.empty() && pypi.empty() && executables.empty(); }
};

struct LimitValue {
  uint64_t value = 0;
  int line = 0;
};

struct Profile {
  std::string name;    // "filesystem", "runtime:node", or a file's stem
  std::string source;  // "builtin:filesystem" or a file path
  std::string description;
  std::vector<Entry> extends;
  Match match;
  std::vector<Entry> fs_read, fs_write, fs_hide;
  bool has_network = false;
  std::vector<Entry> net_allow, net_install;
  std::vector<Entry> env_pass;
  std::vector<std::pair<std::string, Entry>> env_set;  // name -> value pattern
  std::optional<LimitValue> memory, processes, files;
  std::vector<Entry> syscalls;
  std::optional<Entry> cwd;
  nlohmann::json pins;  // null when absent
  nlohmann::json scan;  // null when absent
};

// Parses and validates one profile. On error returns false and sets `error` to
// "SOURCE:LINE:COL: KEY: what was expected" (SOURCE is `source` as given).
bool parse_profile(std::string_view text, const std::string& name, const std::string& source,
                   Profile* out, std::string* error);

// Size with an optional binary unit: 1048576, "512MiB", "1GiB", "64K" (K/M/G/T are powers of 1024).
bool parse_size(const std::string& text, uint64_t* out);

// The systemd-style syscall groups a profile may name, and those it may name but that mcpcell
// never grants (they are dropped with a warning at resolve time).
bool known_syscall_group(std::string_view group);
bool forbidden_syscall_group(std::string_view group);

}  // namespace mcpcell::profiles
