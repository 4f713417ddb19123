// How mcpcell finds and loads its scan module (module.h). The parts are separate so the unit tests
// can try each check on its own; scan_module() and scan_module_found() put them together.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "scan/module.h"

namespace mcpcell::scan {

// Where the module may be, most likely first, for an executable in `exe_dir`: next to it (the
// build tree), then the install location relative to it (<bindir>/../<libdir>/mcpcell/). Only
// absolute paths derived from the executable's own location: never the environment, the working
// directory or the loader's search path, which whoever starts mcpcell controls.
std::vector<std::string> module_candidates(const std::string& exe_dir);

// Why the module file described by `st` must not be loaded, or empty when it may be.
// `exe_owner` is the owner of mcpcell's executable.
std::string refuse_module_file(const std::string& path, const struct stat& st, uid_t exe_owner);

// Why a module's table is unusable (null, another ABI), or empty when it is fine.
std::string refuse_module_api(const std::string& path, const ModuleApi* api);

// dlopen()s the module at `path` and checks its table. Null and a message on failure. Makes no
// file checks of its own (refuse_module_file() is for that).
const ModuleApi* open_module(const std::string& path, std::string* error);

}  // namespace mcpcell::scan
