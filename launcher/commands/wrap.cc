// `mcpcell wrap`, `mcpcell unwrap`, `mcpcell inventory`: the file side of editor integration.
// The text transformations are pure functions in launcher/editors/; this file finds the files,
// reads them (following a symlinked config to its target, as dotfile managers set them up),
// writes them atomically with their mode kept, and keeps the unwrap record and a backup copy under
// $XDG_STATE_HOME/mcpcell/wrap/. The record is not put next to the config: Continue reads every
// JSON file in .continue/mcpServers/, project folders get committed, and a sandboxed server can
// reach neither mcpcell's state directory nor the editors' configs (SPEC "Files"), so it cannot
// tamper with what unwrap will restore.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "core/identity.h"
#include "editors/config.h"
#include "editors/diff.h"
#include "editors/locations.h"
#include "editors/rewrite.h"
#include "io/paths.h"
#include "profiles/resolve.h"

namespace mcpcell {
namespace {

namespace fs = std::filesystem;
namespace ed = editors;
using nlohmann::json;

// The profile wrap writes for a server command: the one `mcpcell --profile` would pick without
// the option (profiles::match_profile). A user profile that does not parse falls back to default.
std::string choose_profile(const std::vector<std::string>& argv, std::string* why) {
  std::string error;
  std::string name = profiles::match_profile(
      argv, profiles::context_from_process(derive_server_name(argv)), why, &error);
  if (name.empty()) {
    std::fprintf(stderr, "mcpcell: warning: %s; using 'default'\n", error.c_str());
    return "default";
  }
  return name;
}

struct EditorOptions {
  std::string editor, config, mcpcell;
  std::vector<std::string> projects;
  bool dry_run = false, json = false, help = false;
};

void usage(const std::string& cmd) {
  if (cmd == "inventory") {
    std::printf(
        "Usage: mcpcell inventory [--project DIR]... [--editor NAME] [--json]\n\n"
        "Lists every MCP server in every editor configuration found for this user, in the\n"
        "project directories given (default: the current directory) and in the projects\n"
        "~/.claude.json knows: editor, scope, server, wrapped or not, profile, pinned or not,\n"
        "when the audit log last saw it, and its command.\n");
    return;
  }
  std::printf(
      "Usage: mcpcell %s [--editor NAME | --config FILE] [--project DIR]... [--dry-run]%s\n\n",
      cmd.c_str(), cmd == "wrap" ? " [--mcpcell PATH]" : "");
  if (cmd == "wrap") {
    std::printf(
        "Rewrites editors' MCP configurations so every local (stdio) server starts through\n"
        "mcpcell with its profile; remote and already wrapped servers are left alone. Only the\n"
        "command and args of each server change; comments, order and other settings stay as\n"
        "they are. `mcpcell unwrap` puts the original entries back byte for byte.\n\n");
  } else {
    std::printf(
        "Restores the server entries that `mcpcell wrap` rewrote, byte for byte where the entry\n"
        "is unchanged since; an entry edited after wrap gets its original command and args back\n"
        "from the arguments after \"--\".\n\n");
  }
  std::printf("  --editor NAME   only this editor's files:");
  for (const std::string& e : ed::editor_names()) std::printf(" %s", e.c_str());
  std::printf(
      "\n  --config FILE   only this file (its format is recognised from its content)\n"
      "  --project DIR   project directory whose configs to include (default: current dir)\n"
      "  --dry-run       print the change as a unified diff on stdout, write nothing\n");
  if (cmd == "wrap")
    std::printf(
        "  --mcpcell PATH  command written into configs (default: this executable's absolute\n"
        "                  path; editors often start servers without your shell's PATH)\n");
}

int parse_options(const std::string& cmd, const Args& args, EditorOptions* o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) -> bool {
      if (i + 1 >= args.size() || args[i + 1].empty()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    bool ok = true;
    if (a == "--help" || a == "-h")
      o->help = true;
    else if (a == "--dry-run" && cmd != "inventory")
      o->dry_run = true;
    else if (a == "--json" && cmd == "inventory")
      o->json = true;
    else if (a == "--editor")
      ok = value(&o->editor);
    else if (a == "--config" && cmd != "inventory")
      ok = value(&o->config);
    else if (a == "--mcpcell" && cmd == "wrap")
      ok = value(&o->mcpcell);
    else if (a == "--project" && (ok = value(&v)))
      o->projects.push_back(v);
    else
      return fail(125, "unknown option '" + a + "' for mcpcell " + cmd,
                  "see 'mcpcell " + cmd + " --help'");
    if (!ok) return fail(125, "option " + a + " needs a value");
  }
  if (!o->editor.empty()) {
    auto names = ed::editor_names();
    if (std::find(names.begin(), names.end(), o->editor) == names.end()) {
      std::string list;
      for (const auto& n : names) list += " " + n;
      return fail(125, "unknown editor '" + o->editor + "'", "known editors:" + list);
    }
  }
  if (!o->editor.empty() && !o->config.empty())
    return fail(125, "--editor and --config cannot be combined");
  return 0;
}

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) out.push_back(it->path().filename().string());
  return out;
}

ed::Places places(const EditorOptions& o, bool with_claude_projects) {
  ed::Places p;
  p.home = home_dir();
  const char* x = std::getenv("XDG_CONFIG_HOME");
  p.xdg_config = x && *x == '/' ? fs::path(x) : p.home / ".config";
  std::error_code ec;
  if (o.projects.empty()) p.projects.push_back(fs::current_path(ec));
  for (const std::string& d : o.projects) p.projects.push_back(fs::absolute(d, ec));
  if (with_claude_projects) {
    std::string cj;
    if (read_file(p.home / ".claude.json", &cj))
      for (const std::string& d : ed::claude_projects(cj))
        if (fs::is_directory(d, ec)) p.projects.push_back(d);
  }
  return p;
}

struct Target {
  ed::Location where;
  fs::path real;  // the file actually read and written (symlinks followed)
};

// The files a command works on: --config FILE, or every existing candidate.
bool targets(const EditorOptions& o, bool with_claude_projects, std::vector<Target>* out) {
  std::error_code ec;
  if (!o.config.empty()) {
    fs::path real = fs::canonical(o.config, ec);
    if (ec) {
      fail(1, "cannot open " + o.config + ": " + ec.message());
      return false;
    }
    out->push_back({{"config", "file", real, ed::Format::kMcpServers}, real});
    return true;
  }
  for (ed::Location& l :
       ed::candidate_locations(places(o, with_claude_projects), o.editor, list_dir)) {
    if (!fs::is_regular_file(l.path, ec)) continue;
    fs::path real = fs::canonical(l.path, ec);
    if (ec) continue;
    bool dup = false;
    for (const Target& t : *out) dup |= t.real == real;
    if (!dup) out->push_back({std::move(l), real});
  }
  return true;
}

// Reads a target and settles its format (from the content for --config).
bool load(Target* t, bool detect, std::string* text, std::string* error) {
  if (!read_file(t->real, text)) {
    *error = std::string("cannot read it: ") + std::strerror(errno);
    return false;
  }
  if (detect) return ed::detect_format(*text, t->real.filename().string(), &t->where.format, error);
  return true;
}

std::string display(const fs::path& p) {
  std::string s = p.string(), h = home_dir().string();
  if (h.size() > 1 && s.starts_with(h + "/")) return "~" + s.substr(h.size());
  return s;
}

// Where the unwrap record and the backup of `real` live: one name per config path.
fs::path record_base(const fs::path& real) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : real.string()) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return state_dir() / "wrap" / (std::string(hex) + "-" + real.filename().string());
}

bool load_records(const fs::path& real, std::vector<ed::Record>* out, std::string* error) {
  std::string text;
  fs::path file = record_base(real).string() + ".json";
  if (!read_file(file, &text)) return true;  // none yet
  if (!ed::records_from_text(text, out, error)) {
    *error = display(file) + ": " + *error;
    return false;
  }
  return true;
}

// Replaces `path` with `data` atomically, keeping its mode, unless it changed since it was read
// as `expected` (an editor saving at the same moment): then nothing is written.
Status replace_config(const fs::path& path, std::string_view expected, std::string_view data) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return Status::Error("cannot stat " + path.string() + ": " + std::strerror(errno));
  std::string tmp =
      (path.parent_path() / ("." + path.filename().string() + ".mcpcell-" + random_hex(6)))
          .string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Error("cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, st.st_mode & 07777) == 0;
  if (ok && ::geteuid() == 0) ok = ::fchown(fd, st.st_uid, st.st_gid) == 0;
  for (size_t off = 0; ok && off < data.size();) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  int saved = errno;
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  std::string now;
  if (ok && (!read_file(path, &now) || now != expected)) {
    ::unlink(tmp.c_str());
    return Status::Error(path.string() + " changed while mcpcell was working; run it again");
  }
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(tmp.c_str());
    return Status::Error("cannot write " + path.string() + ": " + std::strerror(saved));
  }
  return Status::Ok();
}

std::string self_path() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "mcpcell" : p.string();
}

void print_outcomes(const ed::Plan& plan) {
  for (const ed::Outcome& o : plan.outcomes) {
    std::string extra = o.action == ed::Outcome::kWrapped ? " (profile " + o.profile + ")" : "";
    std::fprintf(stderr, "  %s: %s%s\n", o.label.c_str(),
                 std::string(ed::action_word(o.action)).c_str(), extra.c_str());
    for (const std::string& n : o.notes) std::fprintf(stderr, "      note: %s\n", n.c_str());
  }
}

int rewrite(const std::string& cmd, const Args& args) {
  EditorOptions o;
  if (int rc = parse_options(cmd, args, &o)) return rc;
  if (o.help) {
    usage(cmd);
    return 0;
  }
  bool wrap = cmd == "wrap";
  ed::WrapSettings settings;
  settings.mcpcell = o.mcpcell.empty() ? self_path() : o.mcpcell;
  settings.choose_profile = choose_profile;
  std::vector<Target> files;
  if (!targets(o, false, &files)) return 1;
  if (files.empty()) {
    std::fprintf(stderr, "mcpcell: no editor MCP configuration found%s\n",
                 o.editor.empty() ? "" : (" for " + o.editor).c_str());
    return 0;
  }
  int failures = 0, entries_changed = 0, files_changed = 0;
  for (Target& t : files) {
    std::string text, error;
    std::fprintf(stderr, "%s (%s, %s)\n", display(t.real).c_str(), t.where.editor.c_str(),
                 t.where.scope.c_str());
    std::vector<ed::Record> records;
    ed::Plan plan;
    bool ok = load(&t, !o.config.empty(), &text, &error) &&
              load_records(t.real, &records, &error) &&
              (wrap ? ed::plan_wrap(text, t.where.format, settings, records, &plan, &error)
                    : ed::plan_unwrap(text, t.where.format, records, &plan, &error));
    if (!ok) {
      std::fprintf(stderr, "  mcpcell: skipped: %s\n", error.c_str());
      ++failures;
      continue;
    }
    print_outcomes(plan);
    if (plan.outcomes.empty()) std::fprintf(stderr, "  no MCP servers in it\n");
    if (!plan.changed) continue;
    for (const ed::Outcome& x : plan.outcomes)
      entries_changed += x.action == ed::Outcome::kWrapped || x.action == ed::Outcome::kRestored ||
                         x.action == ed::Outcome::kRestoredFromArgs;
    ++files_changed;
    if (o.dry_run) {
      std::string d = ed::unified_diff(text, plan.text, t.real.string(), t.real.string());
      std::fwrite(d.data(), 1, d.size(), stdout);
      continue;
    }
    fs::path base = record_base(t.real);
    fs::path record = base.string() + ".json", backup = base.string() + ".bak";
    Status s = ensure_private_dir(state_dir());
    if (s) s = ensure_private_dir(base.parent_path());
    // The record goes first: if mcpcell dies between the two writes, unwrap still has it.
    if (s) s = write_file_atomic(backup, text);
    if (s && !plan.records.empty())
      s = write_file_atomic(record, ed::records_to_text(t.real.string(), plan.records));
    if (s) s = replace_config(t.real, text, plan.text);
    if (s && plan.records.empty()) ::unlink(record.c_str());
    if (!s) {
      std::fprintf(stderr, "  mcpcell: %s\n", s.message().c_str());
      ++failures;
      continue;
    }
    std::fprintf(stderr, "  written (the previous content is in %s)\n", display(backup).c_str());
  }
  const char* verb = wrap ? "wrapped" : "restored";
  if (o.dry_run)
    std::fprintf(stderr, "dry run: %d server(s) would be %s in %d file(s); nothing written\n",
                 entries_changed, verb, files_changed);
  else
    std::fprintf(
        stderr, "%d server(s) %s in %d file(s)%s\n", entries_changed, verb, files_changed,
        files_changed ? "; restart the editors (or reload their MCP servers) to apply" : "");
  return failures ? 1 : 0;
}

std::string join_argv(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& a : v) {
    if (!s.empty()) s += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\"'\\$`") == std::string::npos;
    s += plain ? a : ed::json_quote(a);
  }
  return s;
}

}  // namespace

int cmd_wrap(const Args& args) {
  return rewrite("wrap", args);
}
int cmd_unwrap(const Args& args) {
  return rewrite("unwrap", args);
}

int cmd_inventory(const Args& args) {
  EditorOptions o;
  if (int rc = parse_options("inventory", args, &o)) return rc;
  if (o.help) {
    usage("inventory");
    return 0;
  }
  std::vector<Target> files;
  targets(o, true, &files);
  std::map<std::string, std::string> last_seen;
  std::string audit;
  if (read_file(state_dir() / "audit.jsonl", &audit)) ed::last_seen_from_audit(audit, &last_seen);
  json rows = json::array();
  int failures = 0;
  for (Target& t : files) {
    std::string text, error;
    ed::Node doc;
    if (!load(&t, false, &text, &error) ||
        !ed::parse_document(text, t.where.format, &doc, &error)) {
      std::fprintf(stderr, "mcpcell: %s: %s\n", display(t.real).c_str(), error.c_str());
      ++failures;
      continue;
    }
    for (const ed::ServerEntry& e : ed::find_servers(doc, text, t.where.format)) {
      json r;
      r["editor"] = t.where.editor;
      r["scope"] = e.container.size() == 3 && e.container[0] == "projects"
                       ? "local " + e.container[1]
                       : t.where.scope;
      r["file"] = t.real.string();
      r["server"] = e.name;
      r["transport"] = e.transport;
      auto w = ed::read_wrapped(e);
      std::vector<std::string> launch{e.command};
      launch.insert(launch.end(), e.args.begin(), e.args.end());
      if (w) launch = w->inner;
      r["wrapped"] = w.has_value();
      r["command"] = e.has_command && !e.remote ? json(launch) : json();
      std::string identity, profile, why;
      if (w) {
        identity = w->name.empty() && !launch.empty() ? derive_server_name(launch) : w->name;
        profile = w->profile.empty() ? "(chosen at launch)" : w->profile;
      } else if (e.has_command && !e.remote) {
        identity = ed::identity_for(e.name, launch);
        profile = choose_profile(launch, &why) + " (if wrapped)";
      }
      r["identity"] = identity.empty() ? json() : json(identity);
      r["profile"] = profile.empty() ? json() : json(profile);
      std::error_code ec;
      bool pinned =
          !identity.empty() &&
          fs::exists(state_dir() / "pins" / (server_name_to_filename(identity) + ".json"), ec);
      r["pinned"] = pinned;
      auto seen = last_seen.find(identity);
      r["last_seen"] = seen == last_seen.end() ? json() : json(seen->second);
      rows.push_back(std::move(r));
    }
  }
  if (o.json) {
    for (const json& r : rows)
      std::printf("%s\n", r.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    return failures ? 1 : 0;
  }
  if (rows.empty()) {
    std::printf("no MCP servers found in any known editor configuration\n");
    return failures ? 1 : 0;
  }
  std::string last_file;
  std::printf("%-15s %-8s %-20s %-8s %-22s %-7s %-28s %s\n", "EDITOR", "SCOPE", "SERVER", "WRAPPED",
              "PROFILE", "PINNED", "LAST SEEN", "COMMAND");
  for (const json& r : rows) {
    std::string file = r["file"].get<std::string>();
    if (file != last_file) {
      std::printf("# %s\n", display(file).c_str());
      last_file = file;
    }
    std::string scope = r["scope"].get<std::string>();
    if (scope.starts_with("local ")) scope = "local";
    std::string command = r["command"].is_array()
                              ? join_argv(r["command"].get<std::vector<std::string>>())
                              : "(" + r["transport"].get<std::string>() + ")";
    std::printf("%-15s %-8s %-20s %-8s %-22s %-7s %-28s %s\n",
                r["editor"].get<std::string>().c_str(), scope.c_str(),
                r["server"].get<std::string>().c_str(), r["wrapped"].get<bool>() ? "yes" : "no",
                r["profile"].is_string() ? r["profile"].get<std::string>().c_str() : "-",
                r["pinned"].get<bool>() ? "yes" : "no",
                r["last_seen"].is_string() ? r["last_seen"].get<std::string>().c_str() : "never",
                command.c_str());
  }
  return failures ? 1 : 0;
}

}  // namespace mcpcell
