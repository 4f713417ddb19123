// A server's identity keys its pins and its private home, so the same package must get the same
// name however it is launched, and nothing from the command line that could be a secret or a path
// trick may end up in it.
#include "core/identity.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mcpcell {
namespace {

using Argv = std::vector<std::string>;

TEST(Identity, DerivedNames) {
  struct Case {
    Argv argv;
    const char* name;
  } cases[] = {
      {{"npx", "-y", "@scope/pkg@1.2.3"}, "@scope/pkg"},
      {{"npx", "-y", "@modelcontextprotocol/server-filesystem", "/home/u/project"},
       "@modelcontextprotocol/server-filesystem"},
      {{"/usr/bin/npx", "--yes", "plain-pkg@latest", "--token", "sk-secret"}, "plain-pkg"},
      {{"npx", "-p", "@a/b@2", "b-cli"}, "@a/b"},
      {{"npx", "--package=@a/b@2", "b-cli"}, "@a/b"},
      {{"npm", "exec", "--", "pkg@1"}, "pkg"},
      {{"pnpm", "dlx", "pkg@3"}, "pkg"},
      {{"bunx", "pkg"}, "pkg"},
      {{"uvx", "mcp-server-git==1.0"}, "mcp-server-git"},
      {{"uvx", "pkg==1"}, "pkg"},
      {{"uvx", "--from", "mcp-server-fetch>=2", "mcp-fetch"}, "mcp-server-fetch"},
      {{"uv", "tool", "run", "pkg[extra]>=1"}, "pkg"},
      {{"pipx", "run", "pkg"}, "pkg"},
      {{"pipx", "run", "--spec", "pkg==2", "cmd"}, "pkg"},
      {{"node", "path/to/node_modules/pkg/dist/index.js"}, "pkg"},
      {{"node", "/x/node_modules/@modelcontextprotocol/server-everything/dist/index.js"},
       "@modelcontextprotocol/server-everything"},
      {{"node", "--max-old-space-size=100", "build/weather.mjs"}, "weather"},
      {{"node", "dist/index.js"}, "index"},
      {{"node", "/x/node_modules/exa-mcp-server/dist/stdio.cjs"}, "exa-mcp-server"},
      {{"node", "/x/node_modules/figma-developer-mcp/dist/bin.js"}, "figma-developer-mcp"},
      {{"node", "/x/node_modules/@scope/pkg/build/tool.mjs"}, "@scope/pkg"},
      {{"node", "/x/my_node_modules/pkg/tool.js"}, "tool"},
      {{"python", "-m", "mcp_server_time"}, "mcp_server_time"},
      {{"python3", "-u", "-m", "mod.sub"}, "mod.sub"},
      {{"python3", "/srv/tools/my_server.py", "--api-key", "sk-123"}, "my_server"},
      {{"deno", "run", "-A", "main.ts"}, "main"},
      {{"/opt/bin/mcp-server-git", "--repository", "/r"}, "mcp-server-git"},
      {{"./echo"}, "echo"},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const auto& a : c.argv) joined += a + " ";
    EXPECT_EQ(derive_server_name(c.argv), c.name) << joined;
    EXPECT_TRUE(valid_server_name(derive_server_name(c.argv))) << joined;
  }
}

TEST(Identity, PackageRefs) {
  PackageRef a = package_of({"npx", "-y", "@scope/pkg@1.2.3"});
  EXPECT_EQ(a.ecosystem, "npm");
  EXPECT_EQ(a.name, "@scope/pkg");
  EXPECT_EQ(a.version, "1.2.3");
  PackageRef b = package_of({"npx", "-y", "@scope/pkg"});
  EXPECT_EQ(b.name, "@scope/pkg");
  EXPECT_EQ(b.version, "");
  PackageRef c = package_of({"uvx", "pkg==1"});
  EXPECT_EQ(c.ecosystem, "pypi");
  EXPECT_EQ(c.name, "pkg");
  EXPECT_EQ(c.version, "1");
  PackageRef d = package_of({"pipx", "run", "--spec", "tool==2.0.1", "cmd"});
  EXPECT_EQ(d.ecosystem, "pypi");
  EXPECT_EQ(d.name, "tool");
  EXPECT_EQ(d.version, "2.0.1");
  EXPECT_EQ(package_of({"node", "x.js"}).ecosystem, "");
  EXPECT_EQ(package_of({"python", "-m", "mod"}).ecosystem, "");
  EXPECT_EQ(package_of({}).ecosystem, "");
}

TEST(Identity, HostileCommandsGiveSafeNames) {
  const Argv hostile[] = {
      {"node", "../../../.ssh/id_rsa.js"},
      {"npx", "-y", "../../etc/passwd"},
      {"/tmp/.hidden"},
      {"-rf"},
      {"python", "-m", "..x"},
      {"node", "a b;rm -rf ~.js"},
      {"npx", std::string(5000, 'a')},
      {""},
      {},
  };
  for (const Argv& argv : hostile) {
    std::string n = derive_server_name(argv);
    EXPECT_TRUE(valid_server_name(n)) << "'" << n << "'";
    EXPECT_EQ(n.find(".."), std::string::npos) << n;
    EXPECT_LE(n.size(), 128u);
  }
}

TEST(Identity, ValidServerNames) {
  for (std::string ok : {std::string("a"), std::string("@scope/pkg"),
                         std::string("mcp-server.git_2+x"), std::string(128, 'n')})
    EXPECT_TRUE(valid_server_name(ok)) << ok;
  for (std::string bad :
       {std::string(""), std::string(".hidden"), std::string("-flag"), std::string("a..b"),
        std::string("a b"), std::string("a\nb"), std::string("a\\b"), std::string(129, 'n'),
        std::string("x\0y", 3), std::string("caf\xc3\xa9")})
    EXPECT_FALSE(valid_server_name(bad)) << bad;
}

TEST(Identity, FileNamesHaveNoSlash) {
  EXPECT_EQ(server_name_to_filename("@a/b"), "@a__b");
  EXPECT_EQ(server_name_to_filename("plain"), "plain");
  EXPECT_EQ(server_name_to_filename("@modelcontextprotocol/server-everything").find('/'),
            std::string::npos);
}

}  // namespace
}  // namespace mcpcell
