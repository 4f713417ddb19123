// One entry point per mcpcell command. Each takes the arguments after the command word and returns
// the process exit status. Commands print to stdout only what the user asked for (records, lists);
// everything else goes to stderr.
#pragma once

#include <string>
#include <vector>

namespace mcpcell {

using Args = std::vector<std::string>;

int cmd_run(const Args& args);        // mcpcell [OPTIONS] -- COMMAND [ARG...]
int cmd_log(const Args& args);        // mcpcell log ...
int cmd_pins(const Args& args);       // mcpcell pins ...
int cmd_profile(const Args& args);    // mcpcell profile ...
int cmd_doctor(const Args& args);     // mcpcell doctor
int cmd_wrap(const Args& args);       // mcpcell wrap ...
int cmd_unwrap(const Args& args);     // mcpcell unwrap ...
int cmd_inventory(const Args& args);  // mcpcell inventory ...
int cmd_report(const Args& args);     // mcpcell report --html FILE
int cmd_help(const Args& args);       // mcpcell help [COMMAND]

// Shared by commands: prints "mcpcell: <what>" (and a hint line) to stderr, returns `code`.
int fail(int code, const std::string& what, const std::string& hint = "");

// Commands that a later issue implements answer with this (exit 125) instead of pretending to work.
int not_yet_supported(const std::string& what);

}  // namespace mcpcell
