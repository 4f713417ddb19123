// plan_install(): which package runners get a separate install step, and the step's command.
#include <gtest/gtest.h>

#include "commands/install_phase.h"

namespace mcpcell {
namespace {

using Mode = InstallPlan::Mode;
using V = std::vector<std::string>;
const V kHosts = {"registry.npmjs.org:443"};

TEST(InstallPlan, NpxGetsASeparateStepNamingThePackageAsWritten) {
  InstallPlan p =
      plan_install({"/usr/bin/npx", "-y", "@scope/server@1.2.3", "--flag"}, kHosts, true);
  EXPECT_EQ(p.mode, Mode::kSeparate);
  EXPECT_EQ(p.argv, (V{"/usr/bin/npx", "--yes", "--package=@scope/server@1.2.3", "--", "true"}));
  EXPECT_EQ(p.hosts, kHosts);
  ASSERT_FALSE(p.offline_env.empty());
  EXPECT_EQ(p.offline_env[0], (std::pair<std::string, std::string>{"npm_config_offline", "true"}));
  EXPECT_EQ(plan_install({"npx", "-y", "srv"}, kHosts, true).argv,
            (V{"npx", "--yes", "--package=srv", "--", "true"}));
}

TEST(InstallPlan, NpmExec) {
  InstallPlan p =
      plan_install({"npm", "exec", "--yes", "--package=srv@2", "--", "srv"}, kHosts, true);
  EXPECT_EQ(p.mode, Mode::kSeparate);
  EXPECT_EQ(p.argv, (V{"npm", "exec", "--yes", "--package=srv@2", "--", "true"}));
}

TEST(InstallPlan, OtherRunnersKeepTheInstallHostsForTheRun) {
  for (const V& argv :
       {V{"uvx", "mcp-server-fetch"}, V{"pipx", "run", "x"}, V{"bunx", "x"}, V{"pnpm", "dlx", "x"}})
    EXPECT_EQ(plan_install(argv, kHosts, true).mode, Mode::kWholeRun) << argv[0];
}

TEST(InstallPlan, NothingToDo) {
  EXPECT_EQ(plan_install({"node", "server.js"}, kHosts, true).mode, Mode::kNone);
  EXPECT_EQ(plan_install({"npx", "-y", "srv"}, {}, true).mode, Mode::kNone);
  EXPECT_EQ(plan_install({"npx", "-y", "srv"}, kHosts, false).mode, Mode::kNone);  // --no-sandbox
}

}  // namespace
}  // namespace mcpcell
