// What code a server command actually launched, so a changed package is caught even when its
// descriptions stay the same (the postmark-mcp backdoor changed code, not tool text).
//
// For npx-style commands the resolved version and integrity come from the npm lockfile npx leaves
// in its cache (~/.npm/_npx/<hash>/package-lock.json under the server's HOME); for uvx/pipx from
// the installed dist-info (version, and the SHA-256 of its RECORD, which lists every file's
// hash). Otherwise we hash the executable, and the script for `node x.js` / `python x.py`.
// Hashing a 100 MB interpreter takes ~70 ms, so file hashes are cached by file identity (device,
// inode, size, mtime and ctime: ctime cannot be set back by an unprivileged writer).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcpcell::pins {

struct LaunchContext {
  std::vector<std::string> argv;
  std::filesystem::path cwd;
  std::vector<std::filesystem::path> homes;  // HOMEs the server may have used, most likely first
  std::string path_env;                      // PATH used to find argv[0]
};

// The package pin's item name and value, e.g. {"ecosystem":"npm","name":"x","version":"1.2.3",
// "integrity":"sha512-..."} or {"executable":"/usr/bin/node","sha256":"...","script":...}.
// `resolved` is false when a package manager's result could not be found (yet); such a value
// must not be compared with a pin. `hash_cache` is read and updated.
struct PackageInfo {
  std::string item;
  nlohmann::json value;
  bool resolved = false;
};
PackageInfo describe_launch(const LaunchContext& ctx, nlohmann::json* hash_cache);

// SHA-256 of a file, through the cache; empty when unreadable.
std::string file_sha256(const std::filesystem::path& path, nlohmann::json* hash_cache);

// Finds the entry of `name` in npx caches under `npm_cache_dirs` (each a ~/.npm): the newest
// _npx/*/package-lock.json whose root depends on `name` (and on `version` when given).
nlohmann::json find_npx_package(const std::vector<std::filesystem::path>& npm_cache_dirs,
                                const std::string& name, const std::string& version);

}  // namespace mcpcell::pins
