#include "commands/cli.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace mcpcell {

#ifndef MCPCELL_VERSION
#define MCPCELL_VERSION "dev"
#endif
const char* const kVersion = MCPCELL_VERSION;

namespace {

// Option table: name, whether it takes a value, and where the value goes. Data, not an if-ladder.
struct OptionSpec {
  std::string_view name;
  bool takes_value;
  void (*apply)(RunOptions&, const std::string&);
  std::string_view help;
};

bool parse_size(const std::string& s, size_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  std::string_view unit(end);
  unsigned long long mul = 1;
  if (unit == "" || unit == "B") mul = 1;
  else if (unit == "K" || unit == "KiB") mul = 1ull << 10;
  else if (unit == "M" || unit == "MiB") mul = 1ull << 20;
  else if (unit == "G" || unit == "GiB") mul = 1ull << 30;
  else return false;
  if (v == 0 || v > (1ull << 40) / mul) return false;
  *out = static_cast<size_t>(v * mul);
  return true;
}

const OptionSpec kOptions[] = {
    {"--profile", true, [](RunOptions& o, const std::string& v) { o.profile = v; },
     "NAME|FILE  profile to apply (default: the shipped profile matching COMMAND, else 'default')"},
    {"--name", true, [](RunOptions& o, const std::string& v) { o.name = v; },
     "NAME       server identity for pins and logs (default: derived from COMMAND)"},
    {"--allow-read", true, [](RunOptions& o, const std::string& v) { o.allow_read.push_back(v); },
     "PATH       also grant read access to PATH for this run (repeatable)"},
    {"--allow-write", true, [](RunOptions& o, const std::string& v) { o.allow_write.push_back(v); },
     "PATH       also grant read-write access to PATH for this run (repeatable)"},
    {"--allow-net", true, [](RunOptions& o, const std::string& v) { o.allow_net.push_back(v); },
     "HOST[:PORT] also allow connections to HOST (repeatable)"},
    {"--allow-env", true, [](RunOptions& o, const std::string& v) { o.allow_env.push_back(v); },
     "NAME       pass environment variable NAME to the server (repeatable)"},
    {"--no-sandbox", false, [](RunOptions& o, const std::string&) { o.no_sandbox = true; },
     "           relay, pin, scan and log, but run the server WITHOUT isolation"},
    {"--max-line-bytes", true, nullptr,
     "SIZE       largest JSON-RPC line relayed (default 16MiB; K, M, G suffixes)"},
    {"--quiet", false, [](RunOptions& o, const std::string&) { o.quiet = true; },
     "           no informational lines on stderr (warnings are still shown)"},
    {"--help", false, [](RunOptions& o, const std::string&) { o.show_help = true; },
     "           this help"},
    {"--version", false, [](RunOptions& o, const std::string&) { o.show_version = true; },
     "           print the version"},
};

}  // namespace

bool parse_run_options(const Args& args, RunOptions* out, std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out->argv.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a == "-h") {
      out->show_help = true;
      continue;
    }
    if (a.empty() || a[0] != '-') {
      // The command starts at the first operand, as with env(1).
      out->argv.assign(args.begin() + static_cast<long>(i), args.end());
      break;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (size_t eq = a.find('='); eq != std::string::npos && a.starts_with("--")) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& o : kOptions)
      if (o.name == name) spec = &o;
    if (!spec) {
      *error = "unknown option '" + name + "'";
      return false;
    }
    if (spec->takes_value && !inline_value) {
      if (i + 1 >= args.size()) {
        *error = "option " + name + " needs a value";
        return false;
      }
      value = args[++i];
    } else if (!spec->takes_value && inline_value) {
      *error = "option " + name + " takes no value";
      return false;
    }
    if (spec->takes_value && value.empty()) {
      *error = "option " + name + " needs a non-empty value";
      return false;
    }
    if (name == "--max-line-bytes") {
      if (!parse_size(value, &out->max_line_bytes) || out->max_line_bytes < 1024) {
        *error = "--max-line-bytes wants a size of at least 1024 bytes, like 16M (got '" + value +
                 "')";
        return false;
      }
      continue;
    }
    spec->apply(*out, value);
  }
  if (!out->show_help && !out->show_version && out->argv.empty()) {
    *error = "no server command given";
    return false;
  }
  return true;
}

void print_usage() {
  std::printf(
      "mcpcell %s - run an untrusted stdio MCP server in a sandbox, pin what it advertises, scan\n"
      "what it says, and record everything.\n\n"
      "Usage:\n"
      "  mcpcell [OPTIONS] -- COMMAND [ARG...]   run a server (put this in the editor's config)\n"
      "  mcpcell log [--server NAME] [--event PREFIX] [--since TIME] [--follow] [--json]\n"
      "  mcpcell pins list | show NAME | diff NAME | approve NAME [ITEM...] | forget NAME\n"
      "  mcpcell profile list | show NAME | check FILE\n"
      "  mcpcell doctor\n"
      "  mcpcell wrap | unwrap | inventory\n"
      "  mcpcell report --html FILE\n"
      "  mcpcell help COMMAND\n\n"
      "Options for a run:\n",
      kVersion);
  for (const OptionSpec& o : kOptions)
    std::printf("  %-18s %s\n", std::string(o.name).c_str(), std::string(o.help).c_str());
  std::printf(
      "\nstdout carries only the server's MCP messages; mcpcell speaks on stderr and in the audit\n"
      "log ($XDG_STATE_HOME/mcpcell/audit.jsonl; review it with 'mcpcell log').\n"
      "Exit status: the server's, 128+N if it died from signal N; 125 bad option or sandbox\n"
      "unavailable, 126 command not executable, 127 command not found.\n");
}

}  // namespace mcpcell
