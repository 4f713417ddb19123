// The profile in force for one run: which profile fits the command, its `extends` chain, the
// --allow-* flags of the run, and SPEC's hard denials, merged into a sandbox::Policy plus the
// filter and network policy, with the origin of every grant recorded for `mcpcell profile show`.
//
// Precedence, lowest first: runtime bases and profiles named in `extends` (depth first, in list
// order) < the profile itself < the --allow-* flags. Lists (paths, hosts, env names, syscall
// groups) are unions: a later layer adds, never removes. Scalars (limits, cwd) and env.set values:
// the later layer wins. pins/scan: merged key by key (JSON merge patch), later wins. Profile
// lookup by name: the user's $XDG_CONFIG_HOME/mcpcell/profiles/NAME.json shadows the shipped one;
// --profile FILE names a file directly. Finally the hard denials (state and config directories of
// mcpcell, editors' MCP configurations, credential stores, $SSH_AUTH_SOCK) always win: a grant
// inside one is dropped with a warning, a grant containing one gets it added to fs_hide.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"

namespace mcpcell::profiles {

struct Overrides {  // repeatable --allow-* flags of one run
  std::vector<std::string> allow_read, allow_write, allow_net, allow_env;
};

struct Context {  // where things are on this machine
  std::filesystem::path home, cwd, state_dir, config_dir;
  std::string server_name;  // --name or derived (identity.h)
  // mcpcell's environment, for ${env:NAME}, "LC_*" in env.pass and $SSH_AUTH_SOCK.
  std::map<std::string, std::string> env;
  // Resolves symlinks for the hard-denial check (default: weakly_canonical's answers, from lookups
  // cached as long as the Context lives, so make a new one after changing the filesystem; tests
  // may fake it).
  std::function<std::string(const std::string&)> canonical;
  // Whether a path exists (default: always). A profile's read/write entry naming a missing path
  // (an optional runtime location such as ~/.nvm) grants nothing instead of failing the spawn;
  // a missing path given with --allow-read/--allow-write is left for the sandbox to report.
  std::function<bool(const std::string&)> exists;
};

// home_dir(), current directory, state_dir(), config_dir() and the process environment.
Context context_from_process(const std::string& server_name);

struct Resolved {
  std::string name;              // profile in force ("default" when nothing matched)
  std::string source;            // file (or "builtin:<name>.json") it came from
  sandbox::Policy policy;        // fs/env/limits/syscalls/cwd filled; run.cc sets isolate,
                                 // server_name, state_dir, config_dir
  nlohmann::json filter_policy;  // {"pins": {...}, "scan": {...}} passed to the filters as-is
  std::vector<std::string> net_allow, net_install;  // host[:port] entries for the network issue
  nlohmann::json provenance;  // for `profile show`: each grant and where it came from
  // Added fields:
  std::filesystem::path private_dir;  // ${state}: state_dir/homes/<server_name_to_filename>
  bool network = false;               // some layer has a `network` section or --allow-net given
  std::vector<std::string> warnings;  // dropped grants and similar; run.cc prints them to stderr
  std::string chosen_by;              // "--profile", "match: npm @scope/pkg", "default"
};

// --profile NAME|FILE (empty: pick the shipped/user profile whose `match` fits argv, else
// "default"), load + extends + precedence, then SPEC's hard denials. Errors name file, line, key
// and what was expected. Never throws.
bool resolve(const std::string& profile_arg, const std::vector<std::string>& argv,
             const Overrides& overrides, const Context& ctx, Resolved* out, std::string* error);

// Creates the server's private state directory (0700) so that grants and env values pointing
// into it work before the server first writes there. run.cc calls it before spawning.
bool prepare(const Resolved& resolved, std::string* error);

// What `match` a profile would be chosen by for argv, best first (used by `profile list`/tests):
// returns the chosen profile's name, or "default".
std::string match_profile(const std::vector<std::string>& argv, const Context& ctx,
                          std::string* why, std::string* error);

// Human-readable rendering of Resolved::provenance.
std::string render_provenance(const nlohmann::json& provenance);

}  // namespace mcpcell::profiles
