// Symlink resolution that asks the filesystem about each directory entry once. realpath(3) and
// std::filesystem::weakly_canonical() walk and readlink every component again for each path, and
// one start of mcpcell resolves dozens of paths under the same few directories (the home, its
// .config, /etc): hundreds of lstat/readlink calls for a handful of distinct entries.
//
// The resolver gives the answers those functions would give at the moment of the first lookup:
// glibc's realpath algorithm (symlinks substituted textually, `..` applied to the resolved and
// therefore physical prefix, at most 40 symlinks per path, a non-directory followed by `/`, `/.`
// or `/..` refused) replayed over cached lstat/readlink results. It is meant for one planning pass:
// whatever the pass creates or changes on disk afterwards is invisible to it until forget().
// Nothing relies on it for safety against a path changing later: grants are opened without
// following symlinks in the child, which fails the spawn if a path resolved here has changed since.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mcpcell::sandbox {

// What lstat(2), and readlink(2) for a symlink, said about one path.
struct PathEntry {
  int error = 0;  // errno of lstat (or of readlink), 0 when the entry exists
  bool dir = false;
  bool link = false;
  std::string target;  // the symlink's content
};

// The only filesystem questions the resolver asks.
struct PathLookup {
  std::function<PathEntry(const std::string&)> entry;  // never follows the last component
  // The current directory as getcwd(3) gives it (already physical; relative paths are resolved
  // against it without looking at its components), or nullopt when it has none.
  std::function<std::optional<std::string>()> cwd;
};
PathLookup real_path_lookup();

// Not thread-safe: a planning pass runs on one thread.
class PathResolver {
 public:
  explicit PathResolver(PathLookup lookup) : lookup_(std::move(lookup)) {}

  // realpath(3): the physical absolute path, or nullopt when some component is missing, a
  // non-directory is used as one, symlinks loop, or a lookup fails.
  std::optional<std::string> canonical(const std::string& path);
  // std::filesystem::weakly_canonical(path).lexically_normal(): the longest existing prefix
  // resolved, the rest appended and normalized lexically; `path` itself when resolution fails for
  // a reason other than a missing entry (a loop, a permission). A relative path whose first
  // component does not exist stays relative, as it does there.
  std::string weakly_canonical(const std::string& path);
  // Whether stat(2) would succeed (std::filesystem::exists without an exception).
  bool exists(const std::string& path);

  // Drops every cached answer: the next question looks at the filesystem again.
  void forget();
  // How many entries were looked up (for tests and measurements).
  size_t lookups() const { return lookups_; }

 private:
  int resolve(std::string_view path, std::string* out);  // 0 or an errno value
  const PathEntry& entry(const std::string& physical);

  PathLookup lookup_;
  std::unordered_map<std::string, PathEntry> entries_;
  std::optional<std::optional<std::string>> cwd_;
  size_t lookups_ = 0;
};

// A resolver over the real filesystem, shared by the std::function callbacks of one planning pass.
std::shared_ptr<PathResolver> real_path_resolver();

}  // namespace mcpcell::sandbox
