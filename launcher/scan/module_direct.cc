// The scan module's table for binaries that link the implementation itself (tests, benchmarks):
// nothing to find or load, so nothing can fail.
#include "scan/module.h"

namespace mcpcell::scan {

const ModuleApi* scan_module(std::string*) {
  return mcpcell_scan_module();
}

bool scan_module_found(std::string*) {
  return true;
}

std::string scan_module_path() { return "(linked in)"; }

}  // namespace mcpcell::scan
