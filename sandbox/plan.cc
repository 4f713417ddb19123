#include "sandbox/plan.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>

#include "sandbox/path_resolver.h"

namespace mcpcell::sandbox {

namespace {

bool make_placeholder(const std::string& p, bool dir, const std::string& content) {
  size_t slash = p.rfind('/');
  if (slash == std::string::npos || slash + 1 >= p.size()) return false;
  std::string parent = slash == 0 ? "/" : p.substr(0, slash);
  const char* leaf = p.c_str() + slash + 1;
  // The parent is a canonical path: a symlink in it now means it was swapped since.
  open_how how{};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int pfd = static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, parent.c_str(), &how, sizeof how));
  if (pfd < 0) return false;
  int fd = -1;
  if (dir) {
    if (::mkdirat(pfd, leaf, 0755) == 0 || errno == EEXIST)
      fd = ::openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  } else {
    fd = ::openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0 && !content.empty() &&
        ::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
      ::close(fd);
      fd = -1;
    } else if (fd < 0 && errno == EEXIST) {
      fd = ::openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
  }
  struct stat pst, st;
  bool ok = fd >= 0 && ::fstat(fd, &st) == 0 && ::fstat(pfd, &pst) == 0 &&
            (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
  // root planning for a user's project: the placeholder belongs to whoever owns the project.
  if (ok && ::geteuid() == 0 && st.st_uid != pst.st_uid)
    ok = ::fchown(fd, pst.st_uid, pst.st_gid) == 0;
  if (fd >= 0) ::close(fd);
  ::close(pfd);
  return ok;
}

}  // namespace

FsOps real_fs() {
  FsOps fs;
  // One resolver for the whole plan: the grants, protected paths and hides share their prefixes.
  std::shared_ptr<PathResolver> paths = real_path_resolver();
  fs.canonical = [paths](const std::string& p) { return paths->canonical(p); };
  fs.kind = [](const std::string& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return FileKind::Missing;
    if (S_ISLNK(st.st_mode)) return FileKind::Symlink;
    return S_ISDIR(st.st_mode) ? FileKind::Directory : FileKind::Other;
  };
  fs.make_placeholder = [paths](const std::string& p, bool dir, const std::string& content) {
    bool ok = make_placeholder(p, dir, content);
    paths->forget();  // the plan changed the filesystem: later answers must see it
    return ok;
  };
  return fs;
}

std::string normalize_path(const std::string& p) {
  if (p.empty() || p[0] != '/') return {};
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string c = p.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& c : parts) out += "/" + c;
  return out.empty() ? "/" : out;
}

bool path_within(const std::string& p, const std::string& root) {
  if (root == "/") return !p.empty() && p[0] == '/';
  if (p.size() < root.size() || p.compare(0, root.size(), root) != 0) return false;
  return p.size() == root.size() || p[root.size()] == '/';
}

namespace {

std::string dirname_of(const std::string& p) {
  size_t s = p.rfind('/');
  if (s == std::string::npos || s == 0) return "/";
  return p.substr(0, s);
}
std::string basename_of(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}
size_t depth_of(const std::string& p) {
  return p == "/" ? 0 : static_cast<size_t>(std::count(p.begin(), p.end(), '/'));
}

// Relative to HOME. Credential stores, keyrings, mcpcell's and the editors' MCP configuration.
constexpr const char* kHomeProtected[] = {
    ".ssh",
    ".gnupg",
    ".aws",
    ".kube",
    ".config/gcloud",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".local/share/keyrings",
    ".password-store",
    ".npmrc",
    ".pypirc",
    ".config/gh",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".azure",
    ".cursor",
    ".claude",
    ".claude.json",
    ".config/Claude",
    ".codeium",
    ".continue",
    ".gemini",
    ".config/Code/User",
    ".config/Cursor/User",
    ".config/zed",
    ".vscode",
};
// Absolute. The host's password hashes and host keys (a root caller is uid 0 inside too).
constexpr const char* kSystemProtected[] = {
    "/etc/shadow",    "/etc/gshadow", "/etc/shadow-",         "/etc/gshadow-",    "/etc/sudoers",
    "/etc/sudoers.d", "/etc/ssh",     "/var/run/docker.sock", "/etc/ssl/private",
};
// Relative to HOME: places whose contents run later, outside the sandbox.
constexpr const char* kHomePersistence[] = {
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".zlogin",
    ".xprofile",
    ".xsessionrc",
    ".pam_environment",
    ".config/systemd",
    ".config/autostart",
    ".config/environment.d",
    ".config/fish",
    ".gitconfig",
    ".config/git",
    ".local/bin",
    ".local/share/applications",
    ".config/mcpcell",
};
// At the root of a writable grant: what editors, agents, direnv and git load or run by themselves
// when the user opens or enters the project. Placeholders only where a missing entry is harmless to
// the tools that read it (an empty directory, invisible to git; a .mcp.json listing no servers);
// the rest are guarded when they exist. A new .envrc gets no placeholder: direnv refuses to load an
// .envrc it has not been allowed to, and an empty one would print "blocked" at every cd.
const std::vector<GuardedEntry> kGuarded = {
    {".mcp.json", false, true, "{\"mcpServers\": {}}\n"},  // Claude Code's project servers
    {".envrc", false, false},                              // direnv, on cd (once allowed)
    {".vscode", true, true},         // tasks.json runOn folderOpen, mcp.json, settings
    {".cursor", true, true},         // mcp.json, rules
    {".claude", true, true},         // settings.json hooks run commands
    {".gemini", true, true},         // settings.json mcpServers
    {".continue", true, false},      // mcpServers/
    {".zed", true, false},           // settings.json, tasks.json
    {".windsurf", true, false},      // rules and workflows
    {".amazonq", true, false},       // mcp.json
    {".devcontainer", true, false},  // postCreateCommand, run on reopen in a container
    {".husky", true, false},         // git hooks when core.hooksPath points here
};
// Host trees that are never granted, whatever the profile says.
constexpr const char* kNeverWithin[] = {"/proc", "/sys", "/dev", "/run"};
constexpr const char* kNeverExactly[] = {"/", "/tmp", "/var/tmp", "/var", "/etc", "/home"};
constexpr const char* kSystemDirs[] = {"/usr",   "/bin",   "/sbin",  "/lib",
                                       "/lib32", "/lib64", "/libx32"};

}  // namespace

std::vector<std::string> protected_paths(const std::string& home, const std::string& state_dir,
                                         const std::string& config_dir,
                                         const std::string& ssh_auth_sock) {
  std::vector<std::string> out;
  if (!home.empty())
    for (const char* rel : kHomeProtected) out.push_back(normalize_path(home + "/" + rel));
  for (const char* abs : kSystemProtected) out.emplace_back(abs);
  for (const std::string& p : {state_dir, config_dir, ssh_auth_sock}) {
    std::string n = normalize_path(p);
    if (!n.empty() && n != "/") out.push_back(n);
  }
  return out;
}

const std::vector<GuardedEntry>& guarded_entries() {
  return kGuarded;
}

std::vector<std::string> persistence_paths(const std::string& home) {
  std::vector<std::string> out;
  if (home.empty()) return out;
  for (const char* rel : kHomePersistence) out.push_back(normalize_path(home + "/" + rel));
  return out;
}

FsPlan plan_filesystem(const PlanInput& in, const FsOps& fs) {
  FsPlan plan;
  // Protected locations in both spellings: as written, and where their symlinks lead today.
  std::vector<std::string> prot =
      protected_paths(in.home, in.state_dir, in.config_dir, in.ssh_auth_sock);
  std::vector<std::string> prot_canon;
  for (const auto& p : prot) {
    prot_canon.push_back(p);
    if (auto c = fs.canonical(p)) prot_canon.push_back(*c);
  }
  std::vector<std::string> persist = persistence_paths(in.home);
  std::string home_n = normalize_path(in.home);
  if (!home_n.empty() && home_n != "/") persist.push_back(home_n);
  std::string priv = normalize_path(in.private_home);

  struct Grant {
    std::string path;
    bool write;
    bool is_dir;
  };
  std::vector<Grant> grants;
  auto consider = [&](const std::string& raw, bool write, bool automatic) {
    std::string n = normalize_path(raw);
    if (n.empty()) {
      plan.refused.push_back({raw, "not an absolute path"});
      return;
    }
    std::optional<std::string> c = fs.canonical(n);
    if (!c) {
      if (!automatic) plan.refused.push_back({raw, "does not exist"});
      return;
    }
    const std::string& p = *c;
    for (const char* never : kNeverWithin)
      if (path_within(p, never)) {
        plan.refused.push_back({raw, std::string("nothing under ") + never + " can be granted"});
        return;
      }
    for (const char* never : kNeverExactly)
      if (p == never) {
        plan.refused.push_back({raw, "too broad: grant a directory below " + p});
        return;
      }
    for (const auto& q : prot_canon)
      if (path_within(p, q)) {
        plan.refused.push_back({raw, "protected location " + q + " cannot be granted"});
        return;
      }
    if (!priv.empty() && path_within(p, priv)) return;  // already the server's own HOME
    bool w = write;
    if (w) {
      for (const auto& q : prot_canon)
        if (path_within(q, p)) w = false;
      for (const auto& q : persist)
        if (path_within(q, p)) w = false;
      if (!w) plan.downgraded.push_back(p);
    }
    bool dir = fs.kind(p) == FileKind::Directory;
    for (auto& g : grants)
      if (g.path == p) {
        g.write = g.write || w;
        return;
      }
    grants.push_back({p, w, dir});
  };
  for (const auto& r : in.auto_read) consider(r, false, true);
  for (const auto& r : in.read) consider(r, false, false);
  for (const auto& r : in.write) consider(r, true, false);

  // Masks: protected locations and `hide` entries that some grant would show. Hide wins: a grant
  // inside a hidden tree is dropped.
  std::vector<PlannedMount> masks;
  std::set<std::string> masked;
  auto mask = [&](const std::string& p) {
    if (masked.count(p)) return;
    bool shown = false;
    for (const auto& g : grants)
      if (path_within(p, g.path) && p != g.path) shown = true;
    if (!shown) return;
    FileKind k = fs.kind(p);
    if (k == FileKind::Missing) return;
    masked.insert(p);
    masks.push_back({k == FileKind::Directory ? MountKind::HideDir : MountKind::HideFile, p,
                     k == FileKind::Directory});
  };
  for (const auto& q : prot_canon) mask(q);
  std::vector<std::string> hides;
  for (const auto& h : in.hide) {
    std::string n = normalize_path(h);
    if (n.empty()) {
      plan.refused.push_back({h, "hide: not an absolute path"});
      continue;
    }
    hides.push_back(n);
    if (auto c = fs.canonical(n)) {
      hides.push_back(*c);
      mask(*c);
    }
  }
  grants.erase(std::remove_if(grants.begin(), grants.end(),
                              [&](const Grant& g) {
                                for (const auto& h : hides)
                                  if (path_within(g.path, h)) {
                                    plan.refused.push_back({g.path, "inside hidden " + h});
                                    return true;
                                  }
                                return false;
                              }),
               grants.end());

  // Writable directory grants: their auto-executed entries stay read-only (see kGuarded). A mount
  // point also pins the entry: rename and rmdir of a mount point fail, so the server cannot move
  // it aside and create a fresh one. An entry that cannot be pinned (a symlink, a special file, a
  // placeholder that could not be made) makes the whole grant read-only: fail closed.
  std::vector<PlannedMount> pinned;
  for (auto& g : grants) {
    if (!g.write || !g.is_dir) continue;
    std::vector<PlannedMount> mine;
    bool ok = true;
    for (const GuardedEntry& e : kGuarded) {
      std::string p = g.path + "/" + e.name;
      FileKind k = fs.kind(p);
      if (k == FileKind::Missing) {
        if (!e.placeholder) continue;
        if (!fs.make_placeholder || !fs.make_placeholder(p, e.dir, e.content)) {
          ok = false;
          break;
        }
        plan.placeholders.push_back(p);
        k = e.dir ? FileKind::Directory : FileKind::Other;
      }
      if (k == FileKind::Symlink || (k == FileKind::Directory) != e.dir) {
        ok = false;
        break;
      }
      mine.push_back({MountKind::ReadOnly, p, e.dir});
    }
    // Git: hooks and config read-only (core.hooksPath or core.fsmonitor in .git/config run code),
    // .git itself pinned so it cannot be swapped for a fresh repository with hooks; without a hooks
    // directory all of .git is read-only. A worktree's .git file (a gitdir: pointer) is read-only.
    std::string git = g.path + "/.git";
    FileKind gk = fs.kind(git);
    if (gk == FileKind::Directory) {
      FileKind hk = fs.kind(git + "/hooks"), ck = fs.kind(git + "/config");
      if (hk == FileKind::Directory && ck == FileKind::Other) {
        mine.push_back({MountKind::ReadWrite, git, true});
        mine.push_back({MountKind::ReadOnly, git + "/hooks", true});
        mine.push_back({MountKind::ReadOnly, git + "/config", false});
      } else {
        // No hooks directory or no config file to pin (either could be created with code in it).
        mine.push_back({MountKind::ReadOnly, git, true});
      }
    } else if (gk == FileKind::Other) {
      mine.push_back({MountKind::ReadOnly, git, false});
    } else if (gk == FileKind::Symlink) {
      ok = false;
    }
    if (!ok) {
      g.write = false;
      plan.downgraded.push_back(g.path);
      continue;
    }
    pinned.insert(pinned.end(), mine.begin(), mine.end());
  }
  for (const auto& g : grants)
    plan.mounts.push_back({g.write ? MountKind::ReadWrite : MountKind::ReadOnly, g.path, g.is_dir});
  for (auto& m : pinned) plan.mounts.push_back(m);
  if (!priv.empty()) plan.mounts.push_back({MountKind::ReadWrite, priv, true});
  for (auto& m : masks) plan.mounts.push_back(m);
  std::stable_sort(plan.mounts.begin(), plan.mounts.end(),
                   [](const PlannedMount& a, const PlannedMount& b) {
                     return depth_of(a.path) < depth_of(b.path);
                   });
  return plan;
}

namespace {

bool is_interpreter(const std::string& base) {
  auto starts = [&](const char* pre) { return base.rfind(pre, 0) == 0; };
  return base == "node" || base == "nodejs" || base == "deno" || base == "bun" ||
         starts("python") || starts("pypy");
}

}  // namespace

std::vector<std::string> installation_grants(const std::string& resolved_exe,
                                             const std::vector<std::string>& argv,
                                             const std::string& home, const FsOps& fs) {
  std::vector<std::string> out;
  std::vector<std::string> prot = protected_paths(home, "", "", "");
  std::vector<std::string> persist = persistence_paths(home);
  std::string home_n = normalize_path(home);
  // A candidate that is the home (or above it) or holds something protected is too broad.
  auto too_broad = [&](const std::string& c) {
    if (c == "/" || (!home_n.empty() && path_within(home_n, c))) return true;
    for (const char* never : kNeverExactly)
      if (c == never) return true;
    for (const char* never : kNeverWithin)
      if (path_within(c, never)) return true;
    for (const auto& q : prot)
      if (path_within(q, c)) return true;
    for (const auto& q : persist)
      if (path_within(q, c) && q != c) return true;
    return false;
  };
  auto add = [&](const std::string& p) {
    if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  auto system = [&](const std::string& p) {
    for (const char* s : kSystemDirs)
      if (path_within(p, s)) return true;
    return false;
  };
  auto grant_exe = [&](const std::string& x) {
    if (x.empty() || system(x)) return;
    std::string d = dirname_of(x);
    std::string cand = basename_of(d) == "bin" ? dirname_of(d) : d;
    if (too_broad(cand)) cand = d;
    if (too_broad(cand)) cand = x;
    add(cand);
  };
  std::string exe = normalize_path(resolved_exe);
  std::optional<std::string> exe_c = fs.canonical(exe);
  grant_exe(exe);
  if (exe_c) grant_exe(*exe_c);

  std::string base = basename_of(exe_c ? *exe_c : exe);
  if (!is_interpreter(base) && !is_interpreter(basename_of(exe))) return out;
  bool python = base.rfind("py", 0) == 0 || basename_of(exe).rfind("py", 0) == 0;
  std::string script;
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (python && (a == "-m" || a == "-c")) break;
    if (a.empty() || a[0] == '-') continue;
    if ((base == "deno" || base == "bun") && (a == "run" || a == "x")) continue;
    script = a;
    break;
  }
  if (script.empty() || script[0] != '/') return out;  // relative scripts: under cwd, not granted
  std::optional<std::string> s = fs.canonical(script);
  if (!s || fs.kind(*s) == FileKind::Directory) return out;

  std::string pkg;
  size_t nm = s->find("/node_modules/");
  if (nm != std::string::npos) {
    pkg = s->substr(0, nm) + "/node_modules";
  } else {
    for (std::string d = dirname_of(*s); d != "/" && d != home_n; d = dirname_of(d)) {
      for (const char* marker : {"package.json", "pyproject.toml", "setup.py", "deno.json"})
        if (fs.kind(d + "/" + marker) == FileKind::Other ||
            fs.kind(d + "/" + marker) == FileKind::Symlink)
          pkg = d;
      if (!pkg.empty()) break;
    }
    if (pkg.empty()) pkg = dirname_of(*s);
  }
  add(too_broad(pkg) ? *s : pkg);
  // node resolves bare imports through node_modules of every ancestor directory.
  if (!python) {
    for (std::string d = dirname_of(pkg);; d = dirname_of(d)) {
      std::string cand = (d == "/" ? "" : d) + "/node_modules";
      if (fs.kind(cand) == FileKind::Directory && !too_broad(cand)) add(cand);
      if (d == "/") break;
    }
  }
  return out;
}

bool env_name_forbidden(const std::string& name) {
  static const char* exact[] = {"SSH_AUTH_SOCK",   "SSH_AGENT_PID", "XDG_RUNTIME_DIR", "DISPLAY",
                                "WAYLAND_DISPLAY", "XAUTHORITY",    "GPG_AGENT_INFO",  "LD_PRELOAD",
                                "LD_AUDIT",        "HOME",          "KRB5CCNAME"};
  for (const char* e : exact)
    if (name == e) return true;
  return name.rfind("DBUS_", 0) == 0;
}

std::vector<std::string> build_environment(
    const std::vector<std::string>& host_env, const std::vector<std::string>& pass,
    const std::vector<std::pair<std::string, std::string>>& set, const std::string& home,
    const std::string& user, std::vector<std::string>* withheld) {
  std::vector<std::pair<std::string, std::string>> vars;
  auto put = [&](const std::string& k, const std::string& v) {
    for (auto& kv : vars)
      if (kv.first == k) {
        kv.second = v;
        return;
      }
    vars.emplace_back(k, v);
  };
  auto base = [](const std::string& k) {
    return k == "PATH" || k == "LANG" || k == "LANGUAGE" || k == "TZ" || k.rfind("LC_", 0) == 0;
  };
  for (const auto& kv : host_env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string k = kv.substr(0, eq);
    bool wanted = base(k) || std::find(pass.begin(), pass.end(), k) != pass.end();
    if (!wanted) continue;
    if (env_name_forbidden(k)) {
      if (withheld) withheld->push_back(k);
      continue;
    }
    put(k, kv.substr(eq + 1));
  }
  for (const auto& [k, v] : set) {
    if (k.empty() || k.find('=') != std::string::npos) continue;
    if (env_name_forbidden(k)) {
      if (withheld) withheld->push_back(k);
      continue;
    }
    put(k, v);
  }
  bool has_path = false;
  for (const auto& kv : vars) has_path |= kv.first == "PATH";
  if (!has_path) put("PATH", "/usr/local/bin:/usr/bin:/bin");
  put("HOME", home);
  put("USER", user);
  put("LOGNAME", user);
  put("TMPDIR", "/tmp");
  std::vector<std::string> out;
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

std::vector<std::pair<std::string, std::string>> synthesize_etc(uid_t uid, gid_t gid,
                                                                const std::string& user,
                                                                const std::string& home) {
  std::string u = std::to_string(uid), g = std::to_string(gid);
  std::string passwd, group;
  if (uid != 0) passwd += "root:x:0:0:root:/root:/usr/sbin/nologin\n";
  passwd += user + ":x:" + u + ":" + g + "::" + home + ":/bin/sh\n";
  passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
  if (gid != 0) group += "root:x:0:\n";
  group += user + ":x:" + g + ":\n";
  group += "nogroup:x:65534:\n";
  return {
      {"passwd", passwd},
      {"group", group},
      {"hostname", "mcpcell\n"},
      {"hosts", "127.0.0.1 localhost mcpcell\n::1 localhost ip6-localhost ip6-loopback\n"},
      // No network yet: the resolver has nowhere to go, and fails fast.
      {"resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"},
      {"nsswitch.conf",
       "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
       "networks: files\nprotocols: files\nservices: files\n"},
  };
}

}  // namespace mcpcell::sandbox
