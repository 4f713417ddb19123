// Commands whose issues have not landed yet. Each answers "not yet supported" (exit 125) rather than
// doing something half-way; the issue that implements one moves it into its own file.
#include "commands/commands.h"

namespace mcpcell {

int cmd_profile(const Args&) { return not_yet_supported("mcpcell profile"); }
int cmd_wrap(const Args&) { return not_yet_supported("mcpcell wrap"); }
int cmd_unwrap(const Args&) { return not_yet_supported("mcpcell unwrap"); }
int cmd_inventory(const Args&) { return not_yet_supported("mcpcell inventory"); }

}  // namespace mcpcell
