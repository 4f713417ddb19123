// engine.h's entry points, answered by the scan module's table (module.h).
#include "scan/module.h"

namespace mcpcell::scan {

std::unique_ptr<Engine> Engine::build(std::vector<Rule> rules, Status* status,
                                      const std::string& cache_dir, std::vector<uint8_t> places) {
  std::string error;
  const ModuleApi* m = scan_module(&error);
  if (!m) {
    *status = Status::Error(error);
    return nullptr;
  }
  return m->build_engine(std::move(rules), status, cache_dir, std::move(places));
}

std::unique_ptr<Pattern> compile_pattern(const std::string& pattern, std::string* error) {
  const ModuleApi* m = scan_module(error);
  return m ? m->compile_pattern(pattern, error) : nullptr;
}

}  // namespace mcpcell::scan
