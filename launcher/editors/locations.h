// Where each editor keeps its MCP configuration on Linux (and, for Claude Desktop, macOS paths a
// synced home may carry). A table, not code: adding an editor is one line.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "editors/config.h"

namespace mcpcell::editors {

struct Location {
  std::string editor;  // "claude-desktop", "claude-code", "cursor", "vscode", "windsurf", "zed",
                       // "continue"
  std::string scope;   // "user" or "project"
  std::filesystem::path path;
  Format format;
};

struct Places {
  std::filesystem::path home;
  std::filesystem::path xdg_config;  // $XDG_CONFIG_HOME or ~/.config
  std::vector<std::filesystem::path> projects;
};

// The editor names known, in table order.
std::vector<std::string> editor_names();

// Candidate files for `editor` (all editors when empty), existing or not, without duplicates.
// Directories of block files (Continue's mcpServers/) are listed with `list_dir`, which returns
// file names in a directory (empty when it does not exist).
std::vector<Location> candidate_locations(
    const Places& places, std::string_view editor,
    const std::function<std::vector<std::string>(const std::filesystem::path&)>& list_dir);

// Project directories that ~/.claude.json knows about (its "projects" keys), in file order.
std::vector<std::string> claude_projects(std::string_view claude_json);

// The newest "ts" per "server" in audit log text (JSON lines); damaged lines are skipped.
void last_seen_from_audit(std::string_view audit, std::map<std::string, std::string>* out);

}  // namespace mcpcell::editors
