// mcpcell's provider of the scan module's table: found by absolute path from mcpcell's own
// executable, checked, dlopen()ed once per process.
#include "scan/module_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace mcpcell::scan {
namespace {

constexpr char kReinstall[] = "reinstall mcpcell (the scan module is part of it)";

struct Found {
  std::string path;  // the module to load, when error is empty
  std::string error;
};

// Looked up once: neither the executable's location nor its module move while it runs.
const Found& found() {
  static const Found f = [] {
    Found r;
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
    if (n == static_cast<ssize_t>(sizeof buf)) errno = ENAMETOOLONG;
    struct stat exe {};
    if (n <= 0 || n == static_cast<ssize_t>(sizeof buf) || ::stat("/proc/self/exe", &exe) != 0) {
      r.error = std::string("cannot find the scan module: /proc/self/exe: ") +
                std::strerror(errno) + " (mcpcell finds its module next to its own executable)";
      return r;
    }
    std::string self(buf, static_cast<size_t>(n));
    std::string tried;
    for (const std::string& p : module_candidates(self.substr(0, self.rfind('/')))) {
      struct stat st {};
      if (::stat(p.c_str(), &st) != 0) {
        tried += (tried.empty() ? "" : ", ") + p;
        if (errno != ENOENT) tried += std::string(" (") + std::strerror(errno) + ")";
        continue;
      }
      // The first one that exists is the one: a refused module is not silently passed over.
      r.error = refuse_module_file(p, st, exe.st_uid);
      if (r.error.empty()) r.path = p;
      return r;
    }
    r.error = "the scan module " MCPCELL_SCAN_MODULE_FILE " is missing (looked for " + tried +
              "); " + kReinstall;
    return r;
  }();
  return f;
}

}  // namespace

std::vector<std::string> module_candidates(const std::string& exe_dir) {
  namespace fs = std::filesystem;
  fs::path dir(exe_dir.empty() ? "/" : exe_dir);
  return {(dir / MCPCELL_SCAN_MODULE_FILE).string(),
          (dir / MCPCELL_SCAN_MODULE_INSTALL_DIR / MCPCELL_SCAN_MODULE_FILE)
              .lexically_normal()
              .string()};
}

std::string refuse_module_file(const std::string& path, const struct stat& st, uid_t exe_owner) {
  const std::string refused = "refusing the scan module " + path + ": ";
  if (!S_ISREG(st.st_mode)) return refused + "not a regular file; " + kReinstall;
  // The module runs as mcpcell, outside the sandbox, next to the audit key: whoever can change it
  // has every session. So it may be no easier to change than mcpcell itself normally is: not
  // writable by group or others, and owned by root (an install) or by the executable's owner (a
  // user's own build). A cheap look at the file alone: it catches a loosened or misplaced module,
  // not someone who can already write the executable's directory (they could replace mcpcell).
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return refused + "it is writable by group or others (mode " + mode + "); " +
           "chmod go-w it if it is genuine, or " + kReinstall;
  }
  if (st.st_uid != 0 && st.st_uid != exe_owner)
    return refused + "it is owned by uid " + std::to_string(st.st_uid) +
           ", neither root nor the owner of mcpcell (uid " + std::to_string(exe_owner) + "); " +
           kReinstall;
  return {};
}

std::string refuse_module_api(const std::string& path, const ModuleApi* api) {
  if (api == nullptr) return "the scan module " + path + " gave no entry table; " + kReinstall;
  // abi and size lead the table in every version, so they can be read before trusting the rest.
  if (api->abi != kModuleAbi || api->size != sizeof(ModuleApi))
    return "the scan module " + path + " is from another build of mcpcell (its ABI " +
           std::to_string(api->abi) + ", this mcpcell needs " + std::to_string(kModuleAbi) + "); " +
           kReinstall;
  return {};
}

const ModuleApi* open_module(const std::string& path, std::string* error) {
  // RTLD_NOW: a missing symbol fails here, not in the middle of a session. RTLD_LOCAL: the
  // module's libraries stay out of mcpcell's global namespace.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    *error = "cannot load the scan module " + path + ": " + (why ? why : "unknown error") + "; " +
             kReinstall;
    return nullptr;
  }
  auto entry = reinterpret_cast<ModuleEntry>(::dlsym(handle, kModuleEntry));
  if (entry == nullptr) {
    *error = "the scan module " + path + " has no " + kModuleEntry + " entry; " + kReinstall;
    ::dlclose(handle);
    return nullptr;
  }
  const ModuleApi* api = entry();
  if (std::string why = refuse_module_api(path, api); !why.empty()) {
    *error = why;
    ::dlclose(handle);
    return nullptr;
  }
  return api;  // never closed: engines built from it live until the process exits
}

const ModuleApi* scan_module(std::string* error) {
  struct Loaded {
    const ModuleApi* api = nullptr;
    std::string error;
  };
  // Once per process, failures included: nothing that made a load fail changes within a session.
  static const Loaded loaded = [] {
    Loaded l;
    const Found& f = found();
    if (!f.error.empty())
      l.error = f.error;
    else
      l.api = open_module(f.path, &l.error);
    return l;
  }();
  if (loaded.api == nullptr && error) *error = loaded.error;
  return loaded.api;
}

std::string scan_module_path() { return found().path; }

bool scan_module_found(std::string* error) {
  const Found& f = found();
  if (!f.error.empty() && error) *error = f.error;
  return f.error.empty();
}

}  // namespace mcpcell::scan
