// The MCP server entries of one editor configuration file, found in its span tree (tree.h).
//
// Every editor stores a stdio server as some object with `command`, `args` and `env`, but they
// disagree on where the servers live (`mcpServers`, `servers`, `context_servers`, a YAML list, a
// map per project inside ~/.claude.json) and on how a remote server is marked. Formats are data:
// each lists the paths of its server containers, and one extractor reads them all.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "editors/tree.h"

namespace mcpcell::editors {

enum class Format {
  kMcpServers,      // {"mcpServers": {NAME: entry}}: Claude Desktop, .mcp.json, Cursor, Windsurf
  kClaudeJson,      // ~/.claude.json: user "mcpServers" plus "projects": {DIR: {"mcpServers"}}
  kVsCode,          // VS Code mcp.json: {"servers": {NAME: entry}, "inputs": [...]} (JSONC)
  kVsCodeSettings,  // VS Code settings.json: {"mcp": {"servers": {...}}} (JSONC)
  kZed,             // Zed settings.json: {"context_servers": {NAME: entry}} (JSONC)
  kContinue,        // Continue YAML: {"mcpServers": [ {name: NAME, ...} ]}
};

std::string_view format_name(Format f);
std::optional<Format> format_from_name(std::string_view name);
bool format_is_yaml(Format f);

// Parses `text` in the syntax of `f` (JSONC or YAML).
bool parse_document(std::string_view text, Format f, Node* out, std::string* error);

// Recognises the format of a file from its content (and its name only to choose JSON or YAML
// syntax when the content does not say). Returns false, with a reason, when it has no known key.
bool detect_format(std::string_view text, std::string_view file_name, Format* out,
                   std::string* error);

struct ServerEntry {
  // Where it is: the container's path (e.g. {"projects", "/home/u/p", "mcpServers"}) and its name
  // (the member name, or a YAML list item's `name`). `ordinal` tells apart equal names in a list.
  std::vector<std::string> container;
  std::string name;
  int ordinal = 0;
  Span span;  // the whole entry value

  std::string transport;  // "stdio", or what `type` / `url` / `serverUrl` says
  bool remote = false;
  bool has_command = false;
  std::string command;                // decoded
  std::vector<std::string> args;      // decoded (non-strings as written)
  std::vector<std::string> env_keys;  // names in `env`
  bool env_file = false;              // `envFile` present (its variables are unknown here)

  // For editing, relative to nothing: absolute spans in the document.
  Span command_span;  // the command value token
  bool has_args = false;
  Span args_span;           // args value (a block sequence: see args_block)
  bool args_block = false;  // YAML block sequence: replace from args_colon_end
  size_t args_colon_end = 0;
  std::vector<Span> arg_spans;   // each element token
  std::vector<bool> arg_quoted;  // element written quoted (JSON: always)
  bool command_quoted = true;
  size_t command_key_begin = 0;  // for inserting an `args` member next to `command`
  bool yaml = false;
};

// All entries of all containers of `f` in document order.
std::vector<ServerEntry> find_servers(const Node& doc, std::string_view text, Format f);

// "mcpServers.fs", "projects[/home/u/p].mcpServers.fs" — for messages.
std::string entry_label(const ServerEntry& e);

}  // namespace mcpcell::editors
