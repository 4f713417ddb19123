// A scan module as another build of mcpcell would make it: the right entry, another ABI number.
// The loader must refuse it before using anything else in its table.
#include "scan/module.h"

namespace {
constexpr mcpcell::scan::ModuleApi kApi = {mcpcell::scan::kModuleAbi + 1,
                                           sizeof(mcpcell::scan::ModuleApi), nullptr, nullptr};
}  // namespace

extern "C" __attribute__((visibility("default"))) const mcpcell::scan::ModuleApi*
mcpcell_scan_module() {
  return &kApi;
}
