// mcpcell: runs an untrusted stdio MCP server in a sandbox, pins what it advertises, scans what it
// says, and records everything. main() only picks the command; each lives in commands/.
#include <cstring>
#include <string>
#include <string_view>

#include "commands/commands.h"

namespace {

struct Command {
  std::string_view name;
  int (*run)(const mcpcell::Args&);
};

constexpr Command kCommands[] = {
    {"log", mcpcell::cmd_log},
    {"pins", mcpcell::cmd_pins},
    {"profile", mcpcell::cmd_profile},
    {"doctor", mcpcell::cmd_doctor},
    {"wrap", mcpcell::cmd_wrap},
    {"unwrap", mcpcell::cmd_unwrap},
    {"inventory", mcpcell::cmd_inventory},
    {"report", mcpcell::cmd_report},
    {"help", mcpcell::cmd_help},
};

}  // namespace

int main(int argc, char** argv) {
  mcpcell::Args args(argv + 1, argv + argc);
  // A command word comes first; anything else (options, "--") is a server run.
  if (!args.empty()) {
    for (const Command& c : kCommands) {
      if (args[0] == c.name) return c.run(mcpcell::Args(args.begin() + 1, args.end()));
    }
  }
  return mcpcell::cmd_run(args);
}
