#include "sandbox/path_resolver.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace mcpcell::sandbox {
namespace {

// glibc's __eloop_threshold() and the kernel's MAXSYMLINKS: the 41st symlink of one path fails.
constexpr int kMaxSymlinks = 40;

// glibc's suffix_requires_dir_check(): a component followed by "/", "/." or "/.." must be a
// directory although nothing inside it is looked up, so realpath checks that it is one.
bool needs_dir(std::string_view rest) {
  size_t i = 0;
  while (i < rest.size() && rest[i] == '/') {
    while (i < rest.size() && rest[i] == '/') ++i;
    if (i == rest.size()) return true;
    if (rest[i++] != '.') return false;
    if (i == rest.size()) return true;
    if (rest[i] == '.' && (i + 1 == rest.size() || rest[i + 1] == '/')) return true;
  }
  return false;
}

// stat(2) reports these as "no such file" (std::filesystem's not_found); anything else (a loop, a
// permission) is an error that weakly_canonical passes on instead of guessing past.
bool missing(int err) {
  return err == ENOENT || err == ENOTDIR;
}

}  // namespace

PathLookup real_path_lookup() {
  PathLookup l;
  l.entry = [](const std::string& p) {
    PathEntry e;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) {
      e.error = errno;
      return e;
    }
    e.dir = S_ISDIR(st.st_mode);
    if (S_ISLNK(st.st_mode)) {
      e.link = true;
      char buf[PATH_MAX];
      ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
      if (n < 0)
        e.error = errno;
      else if (static_cast<size_t>(n) == sizeof buf)
        e.error = ENAMETOOLONG;
      else
        e.target.assign(buf, static_cast<size_t>(n));
    }
    return e;
  };
  l.cwd = []() -> std::optional<std::string> {
    char buf[PATH_MAX];
    if (!::getcwd(buf, sizeof buf)) return std::nullopt;
    return std::string(buf);
  };
  return l;
}

std::shared_ptr<PathResolver> real_path_resolver() {
  return std::make_shared<PathResolver>(real_path_lookup());
}

const PathEntry& PathResolver::entry(const std::string& physical) {
  auto it = entries_.find(physical);
  if (it != entries_.end()) return it->second;
  ++lookups_;
  PathEntry e;
  if (lookup_.entry)
    e = lookup_.entry(physical);
  else
    e.error = ENOENT;
  return entries_.emplace(physical, std::move(e)).first->second;
}

void PathResolver::forget() {
  entries_.clear();
  cwd_.reset();
}

// glibc's realpath_stk(), with each readlink answered from the cache. `done` is always physical
// (no symlinks, no dot components), which is what makes `..` a plain truncation and what makes
// every lookup key a path the kernel resolves without following anything.
int PathResolver::resolve(std::string_view path, std::string* out) {
  if (path.empty()) return ENOENT;
  std::string done;  // without a trailing slash: "" is the root
  if (path[0] != '/') {
    if (!cwd_) cwd_ = lookup_.cwd ? lookup_.cwd() : std::nullopt;
    if (!*cwd_) return ENOENT;
    if (**cwd_ != "/") done = **cwd_;
  }
  std::string rest(path);
  size_t i = 0;
  int links = 0;
  while (true) {
    while (i < rest.size() && rest[i] == '/') ++i;
    if (i == rest.size()) break;
    size_t j = rest.find('/', i);
    if (j == std::string::npos) j = rest.size();
    std::string_view name(rest.data() + i, j - i);
    if (name == ".") {
      i = j;
      continue;
    }
    if (name == "..") {
      size_t slash = done.rfind('/');
      done.resize(slash == std::string::npos ? 0 : slash);
      i = j;
      continue;
    }
    std::string next = done;
    next += '/';
    next += name;
    const PathEntry& e = entry(next);
    if (e.error) return e.error;
    if (e.link) {
      if (++links > kMaxSymlinks) return ELOOP;
      if (!e.target.empty() && e.target[0] == '/') done.clear();
      rest = e.target + rest.substr(j);
      i = 0;
      continue;
    }
    if (!e.dir && needs_dir(std::string_view(rest).substr(j))) return ENOTDIR;
    done = std::move(next);
    i = j;
  }
  *out = done.empty() ? "/" : std::move(done);
  return 0;
}

std::optional<std::string> PathResolver::canonical(const std::string& path) {
  std::string out;
  if (resolve(path, &out) != 0) return std::nullopt;
  return out;
}

bool PathResolver::exists(const std::string& path) {
  std::string out;
  return resolve(path, &out) == 0;
}

// libstdc++'s weakly_canonical(): stat the whole path; failing that, stat ever longer prefixes
// element by element (std::filesystem::path's elements: a trailing slash is an empty last one),
// canonicalize the longest that exists and append the rest. Every stat and realpath there is one
// resolve() here: the kernel's walk and glibc's realpath agree on which paths exist.
std::string PathResolver::weakly_canonical(const std::string& path) {
  namespace fs = std::filesystem;
  std::string c;
  int err = resolve(path, &c);
  if (err == 0) return c;  // physical, hence already lexically normal
  if (!missing(err)) return path;
  fs::path p(path), result;
  auto it = p.begin();
  std::string result_c;
  for (; it != p.end(); ++it) {
    fs::path tmp = result / *it;
    err = resolve(tmp.native(), &c);
    if (err == 0) {
      result = std::move(tmp);
      result_c = c;
    } else if (missing(err)) {
      break;
    } else {
      return path;
    }
  }
  if (!result.empty()) result = result_c;
  for (; it != p.end(); ++it) result /= *it;
  // The caller's lexically_normal() on top of weakly_canonical's own.
  return result.lexically_normal().lexically_normal().native();
}

}  // namespace mcpcell::sandbox
