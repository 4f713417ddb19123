// SPEC's hard denials as data: paths no profile, user file or --allow flag can open to a
// sandboxed server. The sandbox enforces them too; resolving enforces them first so that the user
// gets a clear warning naming the dropped grant instead of a server that fails mysteriously.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mcpcell::profiles {

struct Context;

struct Denied {
  std::string path;  // absolute
  std::string why;   // "credential store", ...
};

// Absolute paths for this machine: mcpcell's state and config directories, credential stores and
// browser profiles under home, editors' MCP configurations (user-level and in the working
// directory), and $SSH_AUTH_SOCK.
std::vector<Denied> hard_denied_paths(const Context& ctx);

// Names, relative to any granted directory, of project-level editor configuration (".mcp.json",
// ".vscode/mcp.json", ...): a server granted a project must not rewrite how editors start servers.
const std::vector<std::string_view>& project_config_names();

// Environment variables never passed or set (they lead to credential agents).
bool denied_env(std::string_view name);

// `p` is `dir` or inside it (both absolute and normalised).
bool path_within(std::string_view p, std::string_view dir);

}  // namespace mcpcell::profiles
