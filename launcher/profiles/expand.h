// Placeholders in profile strings, and the grammar of host entries.
//
// A grant often depends on how the server was started: the filesystem server's allowed
// directories are its arguments, the git server's repository is a `--repository` option, the
// postgres server's host is in a URL argument. Profiles say so with placeholders, expanded per run:
//
//   ~  ~/x           the user's home                 ${home} ${cwd} ${state}
//   ${args}          every argument after the package/script that does not start with '-' and is
//                    not a URL (one grant per argument)
//   ${arg:N}         the Nth such argument (1-based)
//   ${opt:--x|-y}    the value of option --x (or -y), written "--x V" or "--x=V"
//   ${env:NAME}      a variable of mcpcell's environment
//   ${dir:SOURCE}    the parent directory of SOURCE's value (e.g. a database file's directory)
//   ${host:SOURCE}   host[:port] from SOURCE's value, a URL or host:port; in network entries only.
//                    The port is the URL's, else the scheme's default (postgres 5432, ...), else
//                    443 for a bare host name
//
// ${state} is the server's private state directory (the sandbox's private HOME for it). Values of
// args/arg/opt/env used as paths are made absolute (~ expanded, relative to the working directory).
// A placeholder whose source is absent (no such argument, option or variable) expands to nothing:
// the entry grants nothing, and `profile show` says why.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mcpcell::profiles {

enum class PatternKind { kPath, kHost, kValue };

struct Vars {
  std::string home, cwd, state;
  std::vector<std::string> server_args;  // the command's arguments after the package or script
  const std::map<std::string, std::string>* env = nullptr;
};

// Syntax check only (used by the validator): placeholders known, allowed for this kind, at most
// one multi-valued ${args}, path patterns absolute, literal hosts valid.
bool check_pattern(std::string_view pattern, PatternKind kind, std::string* error);

// Expands a checked pattern. Returns zero or more results; when a source is absent the result is
// empty and `missing` says which. Paths come back absolute and lexically normalised; hosts
// canonical (lowercase). A value that does not make a valid result is reported in `missing` too.
std::vector<std::string> expand_pattern(const std::string& pattern, PatternKind kind,
                                        const Vars& vars, std::string* missing);

// The arguments the server itself receives: argv after the package of a package runner (npx,
// npm exec, pnpm/yarn dlx, bunx, uvx, uv tool run, pipx run), after the script or module of an
// interpreter (node, deno, bun, python, ...), else after argv[0].
std::vector<std::string> server_arguments(const std::vector<std::string>& argv);

// host[:port] with an optional "*." prefix, "*" (any host), "*:PORT", IPv4, or [IPv6]; lowercase
// letters, digits and '-' in labels, no trailing dot, port 1-65535. Sets `canonical` (lowercased).
bool valid_host_entry(std::string_view entry, std::string* canonical, std::string* error);

// [A-Za-z_][A-Za-z0-9_]*
bool valid_env_name(std::string_view name);

}  // namespace mcpcell::profiles
