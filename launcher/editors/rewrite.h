// wrap and unwrap as pure text transformations of one configuration file.
//
// wrap turns each local (stdio) server entry into a launch of mcpcell:
//   "command": MCPCELL, "args": ["--name", N, "--profile", P, "--allow-env", K..., "--", CMD,
//   ARGS...]
// by replacing only the bytes of the `command` and `args` values (or inserting `args` next to
// `command` when it had none). The original tokens are copied verbatim, so `${VAR}`, `${env:X}`,
// `${input:id}` and `${workspaceFolder}` stay unexpanded and escapes stay as written.
//
// unwrap must give back the file byte for byte. A wrap therefore returns, per entry, a Record: the
// entry's exact text before and after. unwrap puts the old text back wherever the entry still
// reads exactly as mcpcell left it (found by container path and name, not by offset, so edits
// elsewhere in the file do not matter). An entry that was changed after wrapping, or whose record
// is lost, is restored from its own arguments after "--" (same command and args, formatting may
// differ), and the outcome says so.
//
// Both re-read their output and check every rewritten entry launches what it should before they
// report success, so a bug here cannot silently corrupt an editor's configuration.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "editors/config.h"

namespace mcpcell::editors {

struct Record {
  std::vector<std::string> container;
  std::string name;
  int ordinal = 0;
  std::string original;  // entry text before wrap
  std::string wrapped;   // entry text right after wrap
};

// The sidecar file that keeps Records between wrap and unwrap.
std::string records_to_text(const std::string& config_path, const std::vector<Record>& records);
bool records_from_text(std::string_view text, std::vector<Record>* out, std::string* error);

struct WrapSettings {
  std::string mcpcell = "mcpcell";  // the command written into the config
  // The profile for a server command (argv[0] is the command); "default" when none matches.
  // `why` may say how it was chosen.
  std::function<std::string(const std::vector<std::string>& argv, std::string* why)> choose_profile;
};

// An entry that already launches mcpcell, read back.
struct Wrapped {
  std::string name, profile;
  std::vector<std::string> allow_env;
  std::vector<std::string> inner;  // the server's own command and args
  size_t separator = 0;            // index of "--" in the entry's args
};
bool is_mcpcell_command(std::string_view command);
std::optional<Wrapped> read_wrapped(const ServerEntry& e);

// The identity wrap gives a server: the config's name when usable as an identity, else the name
// derived from its command (identity.h).
std::string identity_for(const std::string& config_name, const std::vector<std::string>& argv);

struct Outcome {
  enum Action {
    kWrapped,           // rewritten to launch through mcpcell
    kAlreadyWrapped,    // skipped: launches mcpcell already
    kRemote,            // skipped: http/sse entry, nothing to launch
    kNoCommand,         // skipped: no command (e.g. a Zed extension's server)
    kRestored,          // unwrap: original text put back exactly
    kRestoredFromArgs,  // unwrap: rebuilt from the args after "--"
    kNotWrapped,        // unwrap: nothing to do
    kUnrestorable,      // unwrap: launches mcpcell but no command after "--"
  };
  std::string label;  // entry_label()
  std::string name;
  Action action;
  std::string profile;             // wrap: the profile chosen
  std::vector<std::string> notes;  // things the user should know
};
std::string_view action_word(Outcome::Action a);

struct Plan {
  std::string text;  // the new file content
  bool changed = false;
  std::vector<Outcome> outcomes;
  std::vector<Record> records;  // all records to keep for this file after the change
};

bool plan_wrap(std::string_view text, Format f, const WrapSettings& settings,
               const std::vector<Record>& existing, Plan* out, std::string* error);
bool plan_unwrap(std::string_view text, Format f, const std::vector<Record>& records, Plan* out,
                 std::string* error);

// A JSON string literal for `s` (also a valid YAML double-quoted scalar).
std::string json_quote(std::string_view s);

}  // namespace mcpcell::editors
