#include "sandbox/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace mcpcell::sandbox {
namespace {

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool has_word(const std::string& text, const std::string& w) {
  std::istringstream in(text);
  std::string t;
  while (in >> t)
    if (t == w) return true;
  return false;
}

bool write_str(const std::string& path, const std::string& v) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, v.data(), v.size()) == static_cast<ssize_t>(v.size());
  ::close(fd);
  return ok;
}

// Mount point of the cgroup2 hierarchy: the usual places by statfs, else from mountinfo (which the
// kernel formats for every mount of the namespace: slow on hosts with many mounts).
std::string cgroup2_mount() {
  for (const char* p : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs sf;
    if (::statfs(p, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) return p;
  }
  std::istringstream in(slurp("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, devno, root, mnt;
    head >> id >> parent >> devno >> root >> mnt;
    if (root == "/") return mnt;
  }
  return {};
}

// A sandbox's group is named mcpcell.<pid>.<time> after the mcpcell that made it. Leftovers
// are removed by the next sandbox, except those of another mcpcell that still runs: one may be
// empty only because its sandbox has not joined yet (both starting at the same moment). Our own
// earlier ones are leftovers (a process spawns one sandbox at a time); rmdir spares busy groups.
// Builds before this check named theirs mcpcell-<pid>-<time> and removed every empty mcpcell-*
// group, a live one included: the new separator keeps them away from ours, and we still clean
// up their leftovers.
bool sandbox_group(const std::string& n) {
  return (n.rfind("mcpcell.", 0) == 0 || n.rfind("mcpcell-", 0) == 0) && n != "mcpcell-supervisor";
}

bool owner_alive(const char* name) {
  long pid = std::strtol(name + 8, nullptr, 10);
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace

CgroupProbe cgroup_probe() {
  CgroupProbe p;
  std::string mnt = cgroup2_mount();
  if (mnt.empty()) {
    p.reason = "no cgroup v2 hierarchy is mounted";
    return p;
  }
  std::string own;
  std::istringstream in(slurp("/proc/self/cgroup"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  if (own.empty()) {
    p.reason = "mcpcell is in no cgroup v2 group";
    return p;
  }
  std::string dir = mnt + (own == "/" ? "" : own);
  // A previous sandbox moved mcpcell into its supervisor leaf: the delegated base is one up.
  if (dir.size() > 19 && dir.compare(dir.size() - 19, 19, "/mcpcell-supervisor") == 0)
    dir.resize(dir.size() - 19);
  std::string controllers = slurp(dir + "/cgroup.controllers");
  while (!controllers.empty() && (controllers.back() == '\n' || controllers.back() == ' '))
    controllers.pop_back();
  if (!has_word(controllers, "memory") || !has_word(controllers, "pids")) {
    p.reason = "the memory and pids controllers are not available in " + dir +
               " (cgroup v1 or a hybrid hierarchy owns them, or the session does not delegate them;"
               " available: " +
               (controllers.empty() ? std::string("none") : controllers) + ")";
    return p;
  }
  if (::access(dir.c_str(), W_OK) != 0 ||
      ::access((dir + "/cgroup.subtree_control").c_str(), W_OK) != 0) {
    p.reason = dir + " is not delegated to this user (not writable)";
    return p;
  }
  std::string subtree = slurp(dir + "/cgroup.subtree_control");
  p.move_self = !(has_word(subtree, "memory") && has_word(subtree, "pids"));
  p.usable = true;
  p.base = dir;
  return p;
}

int cgroup_create(uint64_t memory_bytes, uint64_t tasks, std::string* path, std::string* reason,
                  std::vector<std::string>* leftovers) {
  CgroupProbe p = cgroup_probe();
  if (!p.usable) {
    *reason = p.reason;
    return -1;
  }
  if (p.move_self) {
    // "No internal processes": mcpcell leaves the delegated group for a leaf of its own before
    // the group can hand controllers to its children.
    std::string sup = p.base + "/mcpcell-supervisor";
    if ((::mkdir(sup.c_str(), 0755) != 0 && errno != EEXIST) ||
        !write_str(sup + "/cgroup.procs", std::to_string(::getpid())) ||
        !write_str(p.base + "/cgroup.subtree_control", "+memory +pids")) {
      *reason =
          "could not enable memory and pids controllers in " + p.base + ": " + std::strerror(errno);
      return -1;
    }
  }
  if (leftovers) leftovers->push_back(p.base);
  char name[48];
  std::snprintf(name, sizeof name, "mcpcell.%d.%ld", ::getpid(),
                static_cast<long>(::time(nullptr)));
  std::string dir = p.base + "/" + name;
  for (int i = 0; ::mkdir(dir.c_str(), 0755) != 0; ++i) {
    if (errno != EEXIST || i > 100) {
      *reason = "mkdir " + dir + ": " + std::strerror(errno);
      return -1;
    }
    dir = p.base + "/" + name + "." + std::to_string(i);
  }
  if (!write_str(dir + "/memory.max", std::to_string(memory_bytes)) ||
      !write_str(dir + "/pids.max", std::to_string(tasks))) {
    *reason = "could not set limits in " + dir + ": " + std::strerror(errno);
    ::rmdir(dir.c_str());
    return -1;
  }
  write_str(dir + "/memory.swap.max", "0");  // optional: absent without swap accounting
  int fd = ::open(dir.c_str(), O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *reason = "open " + dir + ": " + std::strerror(errno);
    ::rmdir(dir.c_str());
    return -1;
  }
  *path = dir;
  return fd;
}

bool cgroup_v1_create(uint64_t memory_bytes, uint64_t tasks, std::vector<std::string>* task_files,
                      std::vector<std::string>* dirs, std::string* reason,
                      std::vector<std::string>* leftovers) {
  struct Want {
    const char* controller;
    const char* file;
    uint64_t value;
  } wants[] = {{"pids", "pids.max", tasks}, {"memory", "memory.limit_in_bytes", memory_bytes}};
  std::string info, own = slurp("/proc/self/cgroup");
  std::vector<std::string> made;
  auto undo = [&] {
    for (const auto& d : made) ::rmdir(d.c_str());
    task_files->clear();
    dirs->clear();
  };
  for (const Want& w : wants) {
    // Mount point: a "cgroup" filesystem whose super options name the controller; where systemd
    // puts it, else from mountinfo (read only then: the kernel formats every mount for it).
    std::string mnt = std::string("/sys/fs/cgroup/") + w.controller;
    struct statfs sf;
    if (::statfs(mnt.c_str(), &sf) != 0 || sf.f_type != CGROUP_SUPER_MAGIC) {
      mnt.clear();
      if (info.empty()) info = slurp("/proc/self/mountinfo");
    }
    std::istringstream in(mnt.empty() ? info : std::string());
    std::string line;
    while (std::getline(in, line)) {
      size_t dash = line.find(" - ");
      if (dash == std::string::npos) continue;
      std::istringstream tail(line.substr(dash + 3));
      std::string fstype, source, opts;
      tail >> fstype >> source >> opts;
      if (fstype != "cgroup") continue;
      std::string o = "," + opts + ",";
      if (o.find(std::string(",") + w.controller + ",") == std::string::npos) continue;
      std::istringstream head(line.substr(0, dash));
      std::string id, parent, devno, root;
      head >> id >> parent >> devno >> root >> mnt;
      if (root != "/") mnt.clear();
      break;
    }
    // Own group in that hierarchy: "N:<controllers>:<path>".
    std::string path;
    std::istringstream cg(own);
    while (std::getline(cg, line)) {
      size_t a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      std::string ctl = "," + line.substr(a + 1, b - a - 1) + ",";
      if (ctl.find(std::string(",") + w.controller + ",") != std::string::npos)
        path = line.substr(b + 1);
    }
    if (mnt.empty() || path.empty()) {
      *reason = std::string("no cgroup v1 ") + w.controller + " hierarchy";
      undo();
      return false;
    }
    std::string base = mnt + (path == "/" ? "" : path);
    if (leftovers) leftovers->push_back(base);
    char name[48];
    std::snprintf(name, sizeof name, "/mcpcell.%d.%ld", ::getpid(),
                  static_cast<long>(::time(nullptr)));
    std::string dir = base + name;
    for (int i = 0; ::mkdir(dir.c_str(), 0755) != 0; ++i) {
      if (errno != EEXIST || i > 100) {
        *reason = "cgroup v1 " + base + " is not writable: " + std::strerror(errno);
        undo();
        return false;
      }
      dir = base + name + "." + std::to_string(i);  // a busy group of ours from this second
    }
    made.push_back(dir);
    if (!write_str(dir + "/" + w.file, std::to_string(w.value))) {
      *reason = "cannot set " + dir + "/" + w.file + ": " + std::strerror(errno);
      undo();
      return false;
    }
    task_files->push_back(dir + "/tasks");
    dirs->push_back(dir);
  }
  return true;
}

void remove_leftover_groups(const std::vector<std::string>& bases,
                            const std::vector<std::string>& keep) {
  for (const std::string& base : bases) {
    DIR* d = ::opendir(base.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      if (!sandbox_group(e->d_name) || owner_alive(e->d_name)) continue;
      std::string dir = base + "/" + e->d_name;
      if (std::find(keep.begin(), keep.end(), dir) == keep.end())
        ::rmdir(dir.c_str());  // busy ones stay
    }
    ::closedir(d);
  }
}

}  // namespace mcpcell::sandbox
