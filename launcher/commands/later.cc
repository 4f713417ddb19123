// Commands whose issues have not landed yet. Each answers "not yet supported" (exit 125) rather than
// doing something half-way; the issue that implements one moves it into its own file.
#include "commands/commands.h"

namespace mcpcell {

int cmd_doctor(const Args&) { return not_yet_supported("mcpcell doctor"); }

}  // namespace mcpcell
