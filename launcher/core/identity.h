// The server's identity for pins and logs, derived from its command when --name is not given:
// the npm or PyPI package name without its version (npx, npm exec, pnpm dlx, bunx, uvx, pipx run),
// the module of `python -m`, the script of `node x.js` / `python x.py`, else the executable's name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mcpcell {

std::string derive_server_name(const std::vector<std::string>& argv);

// The package a launcher command fetches, e.g. {"npm", "@scope/pkg", "1.2.3"} for
// `npx -y @scope/pkg@1.2.3`; ecosystem is empty when the command runs no package manager.
struct PackageRef {
  std::string ecosystem;  // "npm" or "pypi"
  std::string name;
  std::string version;    // as written; empty when unpinned
};
PackageRef package_of(const std::vector<std::string>& argv);

// A name is usable as an identity: 1-128 chars of [A-Za-z0-9@/._+-], not starting with '.' or '-',
// and no ".." (it names files under the state directory, with '/' mapped).
bool valid_server_name(std::string_view name);

// The name with characters that cannot appear in a file name replaced, e.g. "@a/b" -> "@a__b".
std::string server_name_to_filename(std::string_view name);

}  // namespace mcpcell
