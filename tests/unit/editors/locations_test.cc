#include <gtest/gtest.h>

#include "editors/locations.h"

namespace mcpcell::editors {
namespace {

TEST(Locations, EveryEditorHasItsFiles) {
  Places p{"/h", "/h/.config", {"/p"}};
  auto list = [](const std::filesystem::path& dir) -> std::vector<std::string> {
    if (dir == "/p/.continue/mcpServers") return {"b.yaml", "a.json", "notes.txt"};
    return {};
  };
  std::vector<std::string> got;
  for (const Location& l : candidate_locations(p, "", list))
    got.push_back(l.editor + " " + l.scope + " " + l.path.string() + " " +
                  std::string(format_name(l.format)));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "claude-desktop user /h/.config/Claude/claude_desktop_config.json mcpServers",
                     "claude-desktop user /h/Library/Application "
                     "Support/Claude/claude_desktop_config.json mcpServers",
                     "claude-code user /h/.claude.json claude-json",
                     "claude-code project /p/.mcp.json mcpServers",
                     "cursor user /h/.cursor/mcp.json mcpServers",
                     "cursor project /p/.cursor/mcp.json mcpServers",
                     "vscode user /h/.config/Code/User/mcp.json vscode",
                     "vscode user /h/.config/Code - Insiders/User/mcp.json vscode",
                     "vscode user /h/.config/Code/User/settings.json vscode-settings",
                     "vscode project /p/.vscode/mcp.json vscode",
                     "windsurf user /h/.codeium/windsurf/mcp_config.json mcpServers",
                     "zed user /h/.config/zed/settings.json zed",
                     "zed project /p/.zed/settings.json zed",
                     "continue user /h/.continue/config.yaml continue",
                     "continue project /p/.continue/mcpServers/a.json mcpServers",
                     "continue project /p/.continue/mcpServers/b.yaml continue",
                 }));
}

TEST(Locations, AProjectThatIsHomeIsListedOnce) {
  Places p{"/h", "/h/.config", {"/h", "/h/"}};
  auto none = [](const std::filesystem::path&) { return std::vector<std::string>{}; };
  auto l = candidate_locations(p, "cursor", none);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].scope, "user");
}

TEST(Locations, ClaudeProjects) {
  EXPECT_EQ(claude_projects(R"({"projects": {"/a": {}, "/b c": {"mcpServers": {}}}})"),
            (std::vector<std::string>{"/a", "/b c"}));
  EXPECT_TRUE(claude_projects("broken").empty());
}

TEST(Inventory, LastSeenIsTheNewestRecordPerServer) {
  std::string audit =
      R"({"ts":"2026-01-02T10:00:00.000000Z","server":"fs","session":"s","event":"session.start"})"
      "\n"
      R"({"ts":"2026-01-03T10:00:00.000000Z","server":"fs","session":"s","event":"message"})"
      "\n"
      "torn line {\"ts\":\n"
      R"({"ts":"2026-01-01T00:00:00.000000Z","server":"mem","session":"t","event":"session.end"})"
      "\n"
      R"({"ts":"2025-12-31T00:00:00.000000Z","server":"fs","session":"u","event":"message"})";
  std::map<std::string, std::string> seen;
  last_seen_from_audit(audit, &seen);
  EXPECT_EQ(seen["fs"], "2026-01-03T10:00:00.000000Z");
  EXPECT_EQ(seen["mem"], "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(seen.size(), 2u);
}

}  // namespace
}  // namespace mcpcell::editors
