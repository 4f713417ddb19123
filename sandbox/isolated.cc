// Isolated spawn: not yet implemented (sandbox issue). Fails closed with exit 125.
#include "sandbox/internal.h"

namespace mcpcell::sandbox {

SpawnResult spawn_isolated(const Policy&, const std::vector<std::string>&, const Stdio&) {
  SpawnResult r;
  r.exit_code = 125;
  r.error = "the sandbox is not implemented yet in this build; run with --no-sandbox to relay "
            "without isolation";
  return r;
}

std::optional<Denial> answer_notification(int) { return std::nullopt; }

}  // namespace mcpcell::sandbox
