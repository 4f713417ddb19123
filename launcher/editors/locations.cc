#include "editors/locations.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace mcpcell::editors {
namespace {

enum class Base { kHome, kXdgConfig, kProject };

struct Spec {
  std::string_view editor;
  Base base;
  std::string_view rel;
  Format format;
  bool block_dir = false;  // a directory of block files (YAML, or JSON in the mcpServers shape)
};

// Sources: reference/protocol.md Part C (each editor's documentation as of 2026).
const Spec kSpecs[] = {
    {"claude-desktop", Base::kXdgConfig, "Claude/claude_desktop_config.json", Format::kMcpServers},
    {"claude-desktop", Base::kHome, "Library/Application Support/Claude/claude_desktop_config.json",
     Format::kMcpServers},
    {"claude-code", Base::kHome, ".claude.json", Format::kClaudeJson},
    {"claude-code", Base::kProject, ".mcp.json", Format::kMcpServers},
    {"cursor", Base::kHome, ".cursor/mcp.json", Format::kMcpServers},
    {"cursor", Base::kProject, ".cursor/mcp.json", Format::kMcpServers},
    {"vscode", Base::kXdgConfig, "Code/User/mcp.json", Format::kVsCode},
    {"vscode", Base::kXdgConfig, "Code - Insiders/User/mcp.json", Format::kVsCode},
    {"vscode", Base::kXdgConfig, "Code/User/settings.json", Format::kVsCodeSettings},
    {"vscode", Base::kProject, ".vscode/mcp.json", Format::kVsCode},
    {"windsurf", Base::kHome, ".codeium/windsurf/mcp_config.json", Format::kMcpServers},
    {"zed", Base::kXdgConfig, "zed/settings.json", Format::kZed},
    {"zed", Base::kProject, ".zed/settings.json", Format::kZed},
    {"continue", Base::kHome, ".continue/config.yaml", Format::kContinue},
    {"continue", Base::kHome, ".continue/mcpServers", Format::kContinue, true},
    {"continue", Base::kProject, ".continue/mcpServers", Format::kContinue, true},
};

}  // namespace

std::vector<std::string> editor_names() {
  std::vector<std::string> out;
  for (const Spec& s : kSpecs)
    if (std::find(out.begin(), out.end(), s.editor) == out.end()) out.emplace_back(s.editor);
  return out;
}

std::vector<Location> candidate_locations(
    const Places& places, std::string_view editor,
    const std::function<std::vector<std::string>(const std::filesystem::path&)>& list_dir) {
  std::vector<Location> out;
  auto add = [&](Location l) {
    l.path = l.path.lexically_normal();
    for (const Location& o : out)
      if (o.path == l.path) return;  // a project that is the home directory
    out.push_back(std::move(l));
  };
  for (const Spec& s : kSpecs) {
    if (!editor.empty() && s.editor != editor) continue;
    std::vector<std::filesystem::path> bases;
    if (s.base == Base::kHome)
      bases = {places.home};
    else if (s.base == Base::kXdgConfig)
      bases = {places.xdg_config};
    else
      bases = places.projects;
    std::string scope = s.base == Base::kProject ? "project" : "user";
    for (const auto& base : bases) {
      std::filesystem::path p = base / s.rel;
      if (!s.block_dir) {
        add({std::string(s.editor), scope, p, s.format});
        continue;
      }
      std::vector<std::string> names = list_dir(p);
      std::sort(names.begin(), names.end());
      for (const std::string& n : names) {
        if (n.ends_with(".yaml") || n.ends_with(".yml"))
          add({std::string(s.editor), scope, p / n, Format::kContinue});
        else if (n.ends_with(".json"))
          add({std::string(s.editor), scope, p / n, Format::kMcpServers});
      }
    }
  }
  return out;
}

std::vector<std::string> claude_projects(std::string_view claude_json) {
  std::vector<std::string> out;
  Node doc;
  std::string error;
  if (!parse_jsonc(claude_json, &doc, &error)) return out;
  if (const Node* p = doc.get("projects"); p && p->kind == Node::kObject) out = p->keys;
  return out;
}

void last_seen_from_audit(std::string_view audit, std::map<std::string, std::string>* out) {
  size_t b = 0;
  while (b < audit.size()) {
    size_t e = audit.find('\n', b);
    if (e == std::string_view::npos) e = audit.size();
    std::string_view line = audit.substr(b, e - b);
    b = e + 1;
    // The audit writer puts ts and server first; read them without parsing the whole record.
    auto field = [&](std::string_view key) -> std::string {
      std::string pat = "\"" + std::string(key) + "\":\"";
      size_t at = line.find(pat);
      if (at == std::string_view::npos || at > 200) return "";
      size_t start = at + pat.size();
      size_t end = line.find('"', start);
      if (end == std::string_view::npos) return "";
      std::string v(line.substr(start, end - start));
      return v.find('\\') == std::string::npos ? v : "";
    };
    std::string ts = field("ts"), server = field("server");
    if (ts.empty() || server.empty()) continue;
    std::string& best = (*out)[server];
    if (ts > best) best = ts;  // RFC 3339 UTC with fixed precision sorts as text
  }
}

}  // namespace mcpcell::editors
