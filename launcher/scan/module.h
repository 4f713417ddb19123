// The scan module: the engine's implementation (engine.cc, Hyperscan and RE2) built as a shared
// object of its own, mcpcell-scan.so, which exports one entry that returns this table. mcpcell
// loads it when it first builds an engine, which in a session is while the sandboxed child sets
// itself up, so mapping and relocating the two libraries is off the start's critical path.
// Tests and benchmarks link the implementation directly instead (module_direct.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "scan/engine.h"
#include "scan/rules.h"

namespace mcpcell::scan {

// Bumped whenever this table or anything it passes across (Engine, Pattern, Rule, Span, Status)
// changes shape: a module from another build would misread mcpcell's objects rather than fail.
inline constexpr uint32_t kModuleAbi = 1;

struct ModuleApi {
  uint32_t abi;   // kModuleAbi of the module's build
  uint32_t size;  // sizeof(ModuleApi) there: a second guard against a forgotten bump
  std::unique_ptr<Engine> (*build_engine)(std::vector<Rule> rules, Status* status,
                                          const std::string& cache_dir,
                                          std::vector<uint8_t> places);
  std::unique_ptr<Pattern> (*compile_pattern)(const std::string& pattern, std::string* error);
};

// The module's one exported symbol, a function returning its table.
inline constexpr char kModuleEntry[] = "mcpcell_scan_module";
using ModuleEntry = const ModuleApi* (*)();

// The table, from whichever provider the binary links: module_loader.cc (mcpcell: loads the
// module once per process, thread-safe) or module_direct.cc (tests, benchmarks). Null and a
// message saying what was tried and what to do when the module cannot be used.
const ModuleApi* scan_module(std::string* error);

// Whether scan_module() can be expected to work, without loading anything: the module file is
// there and passes the checks a load makes first. Cheap enough to run before the server starts,
// so that a missing module stops the session before the server runs rather than after.
bool scan_module_found(std::string* error);

// The module file scan_module() loads (or would load), for `mcpcell doctor`; empty when there is
// none it may use.
std::string scan_module_path();

}  // namespace mcpcell::scan

extern "C" const mcpcell::scan::ModuleApi* mcpcell_scan_module();
