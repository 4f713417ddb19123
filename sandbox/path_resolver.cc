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

// Whether std::filesystem::path::lexically_normal() would return `p` unchanged: no repeated
// slashes and no "." or ".." element leave none of its rules anything to do. Most missing tails
// are plain names, and the normalization is most of weakly_canonical's cost otherwise.
bool already_normal(std::string_view p) {
  if (p.empty()) return false;
  for (size_t i = 0; i < p.size();) {
    size_t end = p.find('/', i);
    if (end == std::string_view::npos) end = p.size();
    std::string_view name = p.substr(i, end - i);
    if (name == "." || name == ".." || (name.empty() && i != 0 && end != p.size())) return false;
    i = end + 1;
  }
  return true;
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
// element by element (std::filesystem::path's elements: the root, each name, and an empty last one
// after a trailing slash), canonicalize the longest that exists and append the rest, normalized
// lexically. Every stat and realpath there is one resolve() here: the kernel's walk and glibc's
// realpath agree on which paths exist. The prefixes are slices of the input rather than composed
// std::filesystem::paths: resolve() reads repeated slashes as one, and building paths element by
// element cost more than the cached lookups themselves.
std::string PathResolver::weakly_canonical(const std::string& path) {
  std::string c;
  int err = resolve(path, &c);
  if (err == 0) return c;  // physical, hence already lexically normal
  if (!missing(err) || path.empty()) return path;
  std::string result;  // the canonical longest existing prefix; empty when there is none
  size_t rest = 0;     // where the elements not known to exist start in `path`
  size_t i = 0;
  if (path[0] == '/') {  // the root element exists: resolve() needs nothing for it
    result = "/";
    while (i < path.size() && path[i] == '/') ++i;
    rest = i;
  }
  while (i < path.size()) {
    size_t end = path.find('/', i);
    // A name, or the empty element after a trailing slash (its prefix is the whole path).
    std::string_view prefix(path.data(), end == std::string::npos ? path.size() : end);
    err = resolve(prefix, &c);
    if (missing(err)) break;
    if (err != 0) return path;
    result = std::move(c);
    if (end == std::string::npos) {  // no trailing slash: every element existed after all
      rest = path.size();
      break;
    }
    rest = end;
    i = end;
    while (i < path.size() && path[i] == '/') ++i;
    if (i == path.size()) {  // the empty element: the whole path with its trailing slash
      err = resolve(path, &c);
      if (missing(err)) break;
      if (err != 0) return path;
      result = std::move(c);
      rest = path.size();
      break;
    }
    rest = i;
  }
  std::string_view tail(path.data() + rest, path.size() - rest);
  std::string joined;
  if (result.empty())
    joined = tail;
  else if (tail.empty())
    joined = result;
  else
    joined = (result == "/" ? "" : result) + "/" + std::string(tail);
  if (already_normal(joined)) return joined;
  // The caller's lexically_normal() on top of weakly_canonical's own.
  namespace fs = std::filesystem;
  return fs::path(joined).lexically_normal().lexically_normal().native();
}

}  // namespace mcpcell::sandbox
