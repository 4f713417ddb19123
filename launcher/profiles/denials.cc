#include "profiles/denials.h"

#include "profiles/resolve.h"

namespace mcpcell::profiles {
namespace {

struct HomeEntry {
  std::string_view rel;
  std::string_view why;
};

constexpr HomeEntry kHomeDenied[] = {
    {".ssh", "credential store (SSH keys)"},
    {".gnupg", "credential store (GnuPG keys)"},
    {".aws", "credential store (AWS)"},
    {".kube", "credential store (Kubernetes)"},
    {".config/gcloud", "credential store (Google Cloud)"},
    {".azure", "credential store (Azure)"},
    {".docker", "credential store (Docker)"},
    {".netrc", "credential store (netrc)"},
    {".git-credentials", "credential store (git)"},
    {".config/git/credentials", "credential store (git)"},
    {".config/gh", "credential store (GitHub CLI)"},
    {".npmrc", "credential store (npm tokens)"},
    {".pypirc", "credential store (PyPI tokens)"},
    {".password-store", "credential store (pass)"},
    {".local/share/keyrings", "keyring"},
    {".gnome2/keyrings", "keyring"},
    {".local/share/kwalletd", "keyring"},
    {".mozilla", "browser profile"},
    {".config/google-chrome", "browser profile"},
    {".config/chromium", "browser profile"},
    {".config/BraveSoftware", "browser profile"},
    {".claude.json", "editor MCP configuration"},
    {".claude", "editor MCP configuration"},
    {".config/Claude", "editor MCP configuration"},
    {".cursor", "editor MCP configuration"},
    {".codeium", "editor MCP configuration"},
    {".config/Code/User", "editor MCP configuration"},
    {".config/Code - Insiders/User", "editor MCP configuration"},
    {".config/VSCodium/User", "editor MCP configuration"},
    {".vscode-server/data/User", "editor MCP configuration"},
    {".config/zed", "editor MCP configuration"},
    {".continue", "editor MCP configuration"},
    {".copilot", "editor MCP configuration"},
    {".gemini", "editor MCP configuration"},
};

const std::vector<std::string_view> kProjectConfigs = {
    ".mcp.json", ".vscode/mcp.json", ".vscode/settings.json", ".cursor", ".zed", ".continue",
    ".claude",   ".gemini",
};

}  // namespace

bool path_within(std::string_view p, std::string_view dir) {
  if (dir == "/") return !p.empty() && p[0] == '/';
  return p == dir || (p.size() > dir.size() && p.starts_with(dir) && p[dir.size()] == '/');
}

const std::vector<std::string_view>& project_config_names() {
  return kProjectConfigs;
}

bool denied_env(std::string_view name) {
  return name == "SSH_AUTH_SOCK" || name == "GPG_AGENT_INFO" || name == "SSH_AGENT_PID";
}

std::vector<Denied> hard_denied_paths(const Context& ctx) {
  std::vector<Denied> out;
  out.push_back({ctx.state_dir.lexically_normal().string(), "mcpcell's state directory"});
  out.push_back({ctx.config_dir.lexically_normal().string(), "mcpcell's configuration directory"});
  std::string home = ctx.home.lexically_normal().string();
  while (home.size() > 1 && home.back() == '/') home.pop_back();
  for (const HomeEntry& e : kHomeDenied)
    out.push_back({home + "/" + std::string(e.rel), std::string(e.why)});
  std::string cwd = ctx.cwd.lexically_normal().string();
  while (cwd.size() > 1 && cwd.back() == '/') cwd.pop_back();
  for (std::string_view rel : kProjectConfigs)
    out.push_back({(cwd == "/" ? "" : cwd) + "/" + std::string(rel), "editor MCP configuration"});
  if (auto it = ctx.env.find("SSH_AUTH_SOCK");
      it != ctx.env.end() && !it->second.empty() && it->second[0] == '/')
    out.push_back({it->second, "SSH agent socket ($SSH_AUTH_SOCK)"});
  for (Denied& d : out) {
    while (d.path.size() > 1 && d.path.back() == '/') d.path.pop_back();
  }
  return out;
}

}  // namespace mcpcell::profiles
