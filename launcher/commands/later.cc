// Commands whose issues have not landed yet. Each answers "not yet supported" (exit 125) rather than
// doing something half-way; the issue that implements one moves it into its own file.
#include "commands/commands.h"

namespace mcpcell {


}  // namespace mcpcell
