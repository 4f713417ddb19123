// Options of a server run (`mcpcell [OPTIONS] -- COMMAND [ARG...]`), parsed strictly: an unknown or
// malformed option is an error (exit 125) that says what was wrong, never silently ignored.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "commands/commands.h"

namespace mcpcell {

struct RunOptions {
  std::string profile;  // --profile NAME|FILE
  std::string name;     // --name NAME
  std::vector<std::string> allow_read, allow_write, allow_net, allow_env;
  bool no_sandbox = false;
  size_t max_line_bytes = 16u << 20;
  bool quiet = false;   // --quiet: no banner lines on stderr (warnings still shown)
  std::vector<std::string> argv;  // the server command
  bool show_help = false, show_version = false;
};

// Parses `args` (everything after the program name). On error returns false with `error` set.
bool parse_run_options(const Args& args, RunOptions* out, std::string* error);

extern const char* const kVersion;
void print_usage();

}  // namespace mcpcell
