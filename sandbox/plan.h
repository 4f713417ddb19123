// What the sandbox looks like, decided before anything is forked: the filesystem view (which host
// paths are bound read-only or read-write, which are masked), the environment, and the synthesized
// /etc. Pure logic over a narrow filesystem interface, so the rules are unit-tested with a fake.
//
// The rules, in one sentence each:
//  - every grant is canonicalized once (symlinks followed here, at planning time) and mounted at its
//    canonical path from a file descriptor opened without following symlinks, so a link swapped in
//    later makes the spawn fail instead of redirecting it;
//  - protected locations (mcpcell's state and config, credential stores, editors' MCP configs,
//    $SSH_AUTH_SOCK, the host's shadow files) can never be granted, and are masked when a broader
//    grant contains them; `hide` masks too, and wins over grants;
//  - a write grant that contains a protected or persistence location (shell rc files, autostart,
//    systemd user units, ~/.npmrc...) or the home directory itself is downgraded to read-only;
//  - /proc, /sys, /dev, /run and the host's / and /tmp themselves can never be granted;
//  - empty lists grant nothing.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcpcell::sandbox {

enum class FileKind { Missing, Directory, Symlink, Other };

// The only filesystem questions the planner asks.
struct FsOps {
  std::function<std::optional<std::string>(const std::string&)> canonical;  // realpath; nullopt if missing
  std::function<FileKind(const std::string&)> kind;                          // lstat-like, no following
  // Creates an empty placeholder (directory or file) at a missing path whose parent is a real
  // directory, without following symlinks; true when it now exists as asked. May be unset (a
  // read-only caller): then guarded entries that are missing make their grant read-only.
  std::function<bool(const std::string&, bool dir, const std::string& content)> make_placeholder;
};
FsOps real_fs();

enum class MountKind { ReadOnly, ReadWrite, HideDir, HideFile };

struct PlannedMount {
  MountKind kind;
  std::string path;  // canonical host path == path inside the sandbox
  bool is_dir = true;
};

struct Refusal {
  std::string path;
  std::string reason;
};

struct PlanInput {
  std::string home;          // the user's real home
  std::string state_dir;     // mcpcell's state dir
  std::string config_dir;    // mcpcell's config dir
  std::string private_home;  // state_dir/homes/<name>: bound read-write, becomes HOME
  std::string ssh_auth_sock;
  std::vector<std::string> read, write, hide;
  std::vector<std::string> auto_read;  // installation and script-package grants
};

struct FsPlan {
  std::vector<PlannedMount> mounts;  // in mount order: shallower paths first, masks after grants
  std::vector<Refusal> refused;      // grants dropped, with why
  std::vector<std::string> downgraded;  // write grants mounted read-only
  std::vector<std::string> placeholders;  // created on the host by this plan (see guarded_entries)
};

// Entries at the root of a writable directory grant that editors, shells and git load or run on
// their own (MCP server lists, editor tasks and hooks, direnv, git hooks): always mounted
// read-only. `placeholder`: when missing, an empty one is created on the host first, so that there
// is a mount point and the server cannot create it (Landlock cannot carve a sub-path out of a
// writable tree, and a mount needs an existing target).
struct GuardedEntry {
  const char* name;
  bool dir;
  bool placeholder;
  const char* content = "";  // of a file placeholder
};
const std::vector<GuardedEntry>& guarded_entries();

// Lexically normalized absolute path ("/a/./b/../c/" -> "/a/c"); empty if not absolute.
std::string normalize_path(const std::string& p);
// True when `p` is `root` or lies beneath it (component-wise).
bool path_within(const std::string& p, const std::string& root);

// Locations no grant may reach, for a user whose home is `home`.
std::vector<std::string> protected_paths(const std::string& home, const std::string& state_dir,
                                         const std::string& config_dir,
                                         const std::string& ssh_auth_sock);
// Locations a server must never create or modify (persistence), beyond the protected ones.
std::vector<std::string> persistence_paths(const std::string& home);

FsPlan plan_filesystem(const PlanInput& in, const FsOps& fs);

// Read-only grants that make the command run without a profile: the installation prefix of the
// executable (e.g. ~/.nvm/versions/node/v22 for .../bin/npx), and for interpreters (node, python,
// deno, bun) the package directory of the script argument plus the node_modules trees it resolves
// imports from.
std::vector<std::string> installation_grants(const std::string& resolved_exe,
                                             const std::vector<std::string>& argv,
                                             const std::string& home, const FsOps& fs);

// The server's environment: PATH, LANG, LANGUAGE, LC_*, TZ from mcpcell's environment, the names
// in `pass`, then `set`; HOME, USER, LOGNAME, TMPDIR fixed. Variables that hand over a host
// channel (SSH_AUTH_SOCK, DBUS_*, XDG_RUNTIME_DIR, DISPLAY, ...) are never passed or set; their
// names go to `withheld`.
std::vector<std::string> build_environment(
    const std::vector<std::string>& host_env, const std::vector<std::string>& pass,
    const std::vector<std::pair<std::string, std::string>>& set, const std::string& home,
    const std::string& user, std::vector<std::string>* withheld);
bool env_name_forbidden(const std::string& name);

// Files of the synthesized /etc: relative path (e.g. "passwd") and content.
std::vector<std::pair<std::string, std::string>> synthesize_etc(uid_t uid, gid_t gid,
                                                                const std::string& user,
                                                                const std::string& home);

}  // namespace mcpcell::sandbox
